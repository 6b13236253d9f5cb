//! The HeatCrew field rules as pure functions of a job, its template, what was recorded and "now":
//! no storage, no network, no clock of its own. The device checks every action with them before
//! recording it; the office applies the same rules to re-check what devices send, so nothing here
//! may assume a device store.
//!
//! - [`template`]: checklist templates (versioned data in `templates/`), zh-CN and English texts.
//! - [`checklist`]: the rules: step order, evidence, signatures or refusals, locked ratings.
//! - [`progress`]: a job's records folded from its events (the projection).
//! - [`sla`]: the 4-hour resolution clock, arrival against the window.
//! - [`rounds`]: patrol rounds, judged by one rule on the phone and in the office's figures.
//! - [`outage`]: which outage notices cover a customer's address now.
//! - [`readiness`]: the day's shift readiness (uniform, badge, tools, protective equipment).
//! - [`field_jobs`]: which jobs a device may open itself (emergencies reported at the time).
//! - [`error`]: why the rules refused an action, in words a technician understands.
//! - [`lang`]: the two languages the app speaks.
//! - [`opinion`]: the customer's opinion form (维修意见征询表): its questions and answers.
//! - [`correction`]: what a correction of a text, reading or finding may carry.
//! - [`phrases`]: the standard phrases filled with the company's and the technician's details.
//! - [`time`]: the clock offset each record was made with, so that its time reads true after the
//!   device's clock jumped (the office for every pushed event, the phone for what it shows).
//!
//! The field rules themselves are described in `docs/domain.md`.

pub mod checklist;
pub mod correction;
pub mod error;
pub mod field_jobs;
pub mod lang;
pub mod opinion;
pub mod outage;
pub mod phrases;
pub mod progress;
pub mod readiness;
pub mod rounds;
pub mod sla;
pub mod template;
pub mod time;

pub use error::RuleError;
pub use lang::{Lang, Localized};
