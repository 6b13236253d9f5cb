//! What the field app's screens show and what its forms send: the types of the UI contract
//! (`ui/src/lib/backend/CONTRACT.md`: snake_case fields, tagged unions), and the functions that build
//! the views from the store. No Tauri, no writes.
//!
//! - [`types`]: the views, what screens show (`Today`, `JobView`, `OutboxEntryView`, …).
//! - [`inputs`]: what forms send (`DamageInput`, `FindingInput`, …) and the events they become.
//! - [`queued`]: photos being processed and the actions held behind them.
//! - [`records`]: corrections of a job's records, and the standard phrases filled with the
//!   technician's and the company's details.
//! - [`offsets`]: the clock offset each record was made with, for showing it in office time.
//! - [`from_store`]: pure reads over [`Store`](crate::Store), the templates, the
//!   projection and the SLA clocks that build the views.
//!
//! `ui/src/lib/backend/types.ts` is generated from these types (and those they embed) by ts-rs;
//! `tests/bindings.rs` fails when it is out of date. After changing a type here, regenerate it:
//! `UPDATE_BINDINGS=1 cargo test -p heatcrew-core --test bindings`.

pub mod from_store;
pub mod inputs;
pub mod offsets;
pub mod queued;
pub mod records;
pub mod types;

pub use from_store::{idle_sync_status, job, job_view, outbox, session, today};
pub use inputs::{
    AccidentInput, CorrectionInput, DamageInput, DefectInput, FindingInput, NetworkDamageInput,
    NoEntryInput, OpinionInput, RescheduleInput,
};
pub use records::{CorrectableRecord, CorrectionView, correctable};
pub use types::{
    CheckpointView, DamageView, DefectView, FindingView, JobSummary, JobView, NoEntryView,
    NoticeView, OfficeAckView, OutboxEntryView, RatingView, ReadinessCheck, ReadinessView,
    RescheduleView, SessionView, SignatureView, StepStatus, StepView, Today,
};
// The app's edge refusals, where the shell has always found them.
pub use crate::app_error::{AppError, sign_out_refusal};
