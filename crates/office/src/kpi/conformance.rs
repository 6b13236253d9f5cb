//! The office re-checks the checklist rules (issue 13 point 1). A device runs
//! [`heatcrew_rules::checklist::JobContext::check`] before it records anything; a modified app need
//! not. So the office folds a job's accepted events in the order it received them and checks each
//! one against the job's template version with the same function, before applying it. An event that
//! breaks a rule is kept (it is evidence, already signed into the device's chain and the office
//! log) and still applied to the fold, so the record reads back as it was made; the job is
//! non-conforming, with the rule and the event, and never counts as a conforming closure in a KPI.
//!
//! What the device's check knows that the office does not is left out, never guessed:
//! - the job's status on the device when it recorded: the office's cancel and reassignment rules
//!   are [`crate::ledger::judge`]'s, so the check sees the job open and not revoked;
//! - the device's local date (for a notice's deadline): the event's UTC wall date, which is never
//!   later than the device's local date east of UTC, so a deadline it accepted is accepted here.
//!
//! `job_created` (judged by [`heatcrew_rules::field_jobs`] at ingest) and kinds this office does not
//! know are not checked. A job whose template this office does not have cannot be checked and
//! counts as conforming.

use crate::store::StoredEvent;
use heatcrew_protocol::{EventBody, Job, JobStatus};
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::progress::{EventMeta, JobProgress};
use heatcrew_rules::{Lang, template};
use serde::Serialize;
use uuid::Uuid;

/// A rule an accepted event broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Violation {
    pub event_id: Uuid,
    pub device_id: Uuid,
    #[ts(type = "number")]
    pub device_seq: u64,
    /// The event's kind, e.g. `signature_captured`.
    pub kind: String,
    /// The rule's stable code (`step_out_of_order`, `cannot_close`, `evidence_missing`, …).
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// Check `events` (one job's, in office receipt order) against `job`'s template; the violations
/// in order (empty: conforming).
pub fn check(job: &Job, events: &[StoredEvent]) -> Vec<Violation> {
    let Ok(template) = template::for_job(job) else {
        return vec![];
    };
    let mut as_sent = job.clone();
    as_sent.status = JobStatus::Open;
    let mut progress = JobProgress::default();
    let mut out = vec![];
    for e in events.iter().filter(|e| e.accepted) {
        let u = &e.event.unsigned;
        let Ok(body) = EventBody::from_parts(&u.kind, &u.payload) else {
            continue;
        };
        if !matches!(body, EventBody::JobCreated { .. }) {
            let ctx = JobContext {
                job: &as_sent,
                template,
                progress: &progress,
                revoked: false,
            };
            if let Err(rule) = ctx.check(&body, u.recorded_at.date_naive()) {
                out.push(Violation {
                    event_id: u.id,
                    device_id: u.device_id,
                    device_seq: u.device_seq,
                    kind: u.kind.clone(),
                    code: rule.code().as_str().to_owned(),
                    message_zh: rule.message(Lang::Zh),
                    message_en: rule.message(Lang::En),
                });
            }
        }
        progress.apply(
            EventMeta {
                id: u.id,
                seq: u.device_seq,
                at: crate::readback::corrected(e),
            },
            &body,
        );
    }
    out
}
