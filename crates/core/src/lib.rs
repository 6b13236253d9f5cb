//! The device side of HeatCrew: everything the field app does, without any UI or Tauri.
//!
//! - [`template`]: checklist templates (versioned data in `templates/`), zh-CN and English texts.
//! - [`checklist`]: the rules: step order, evidence, signatures or refusals, locked ratings.
//! - [`progress`]: a job's records folded from its events (the projection).
//! - [`sla`]: the 4-hour resolution clock, arrival against the window, patrol checkpoint clocks.
//! - [`store`]: the signed, hash-chained event log in SQLite, its outbox and projections.
//! - [`field`]: actions that need more than one rule check (notice numbers, accident reports).
//! - [`audit`]: verifying a log and naming the first tampered event.
//! - [`files`]: content-addressed photo and signature files; `photos` runs them through heatcrew-media.
//! - [`error`]: rule errors a technician understands, in zh-CN and English.

pub mod audit;
pub mod checklist;
pub mod demo;
pub mod error;
pub mod field;
pub mod files;
mod migrations;
mod photos;
pub mod progress;
pub mod sla;
pub mod store;
pub mod sync;
pub mod template;
pub mod views;

pub use error::{CoreError, Result, RuleError};
pub use store::{OutboxEntry, OutboxState, Store, StoredJob};
pub use template::{Lang, Localized};
