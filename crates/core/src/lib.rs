//! The device side of HeatCrew: everything the field app does, without any UI or Tauri.
//!
//! The field rules (templates, the checklist engine, the projection fold, SLA clocks) live in the
//! pure crate heatcrew-rules, so that the office can apply the same rules; they are re-exported here under their old
//! paths (`heatcrew_core::checklist`, …) so that the app and the tests need not care.
//!
//! - [`store`]: the signed, hash-chained event log in SQLite, its outbox and projections.
//! - [`field`]: actions that need more than one rule check (notice numbers, accident reports).
//! - [`shared_phone`]: one phone, several users: each sees and works only their own jobs.
//! - [`readiness`]: the day's shift readiness, checkpoint codes, outages at the customer's door.
//! - [`audit`]: verifying a log and naming the first tampered event.
//! - [`keys`]: where the device's signing key lives (never in the database), with the database's
//!   secrets: its encryption key and the office session's tokens.
//! - [`clock`]: honest time: the office-corrected now, clock jumps seen by the monotonic clock.
//! - [`cipher`]: the database encrypted at rest (SQLCipher); plain databases converted in place.
//! - [`evidence`]: a device database checked and exported read-only (`heatcrew-device verify`).
//! - [`files`]: content-addressed photo and signature files; `photos` runs them through heatcrew-media.
//! - [`photo_worker`]: photos processed in the background; records wait for them, not people.
//! - [`views`]: what the app's screens show and its forms send, built from the store.
//! - [`sync`]: the sync client: outbox up, photos after their records, dispatched work down.
//! - [`app_error`]: refusals at the app's edge (not signed in, sign-out with records waiting).
//! - [`error`]: what can go wrong on the device: rule, storage and media errors, in zh-CN and English.

pub mod app_error;
pub mod audit;
pub mod cipher;
pub mod clock;
pub mod demo;
pub mod error;
pub mod evidence;
pub mod field;
pub mod files;
pub mod keys;
#[doc(hidden)]
pub mod legacy;
mod migrations;
pub mod photo_worker;
mod photos;
pub mod readiness;
pub mod shared_phone;
pub mod store;
pub mod sync;
pub mod views;

pub use error::{CoreError, Result};
pub use heatcrew_rules::{Lang, Localized, RuleError};
pub use heatcrew_rules::{checklist, progress, sla, template};
pub use store::{OutboxEntry, OutboxState, Store, StoredJob};
