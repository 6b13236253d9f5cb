//! The views: what the field app's screens show, as the UI contract has them.

use crate::store::OutboxState;
use chrono::{DateTime, NaiveDate, Utc};
use heatcrew_protocol::sync::UserInfo;
use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, CheckpointKind, CodeEntry, Customer, DeclineKind, JobKind,
    NoEntryKind, OutageNotice, Position, ReadingSpec, RequestChannel, Resolution, Severity,
    SignatureRefusal, Signer, Witness,
};
use heatcrew_rules::Localized;
use heatcrew_rules::opinion::OpinionQuestion;
use heatcrew_rules::sla::{Arrival, CheckpointState, Sla};
use heatcrew_rules::template::Evidence;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;
use uuid::Uuid;

/// Who is signed in on this device (`Session` in the contract; no tokens cross to the UI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(rename = "Session")]
pub struct SessionView {
    pub user: UserInfo,
    pub office_url: String,
    pub device_code: String,
}

/// The job list screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Today {
    pub now: DateTime<Utc>,
    pub jobs: Vec<JobSummary>,
    pub outages: Vec<OutageNotice>,
}

/// One row of the job list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JobSummary {
    pub id: Uuid,
    pub kind: JobKind,
    pub title: String,
    pub customer: Option<Customer>,
    pub site: Option<String>,
    pub window: Option<AppointmentWindow>,
    pub reported_at: Option<DateTime<Utc>>,
    pub sla: Sla,
    pub arrival: Arrival,
    pub steps_done: u32,
    pub steps_total: u32,
    pub closed: bool,
    pub cancelled: bool,
    pub revoked: bool,
    /// Records of this job not yet acknowledged by the office.
    pub pending_records: u32,
    /// Emergency work and accident reports, shown first and pushed first.
    pub urgent: bool,
    /// Photos and signatures of this job not yet at the office, and their bytes still to go: a
    /// record the office acknowledged is not all there until these are 0 ("photos pending").
    #[serde(default)]
    pub photos_pending: u32,
    #[serde(default)]
    #[ts(type = "number")]
    pub photo_bytes_pending: u64,
    /// The office's acknowledgements of this job's urgent records, for the job card (the job page
    /// has them in [`JobView::office_acks`] too).
    #[serde(default)]
    pub office_acks: Vec<OfficeAckView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Done,
    Skipped,
    Current,
    Pending,
}

/// One step of a visit, one screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StepView {
    pub id: String,
    pub title: Localized,
    pub phrase: Option<Localized>,
    pub hint: Option<Localized>,
    pub evidence: Vec<Evidence>,
    pub status: StepStatus,
    pub skippable: bool,
    pub skip_reason: Option<String>,
    pub photos: Vec<AttachmentRef>,
}

/// The customer's signature, or the recorded reason there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SignatureView {
    Signed {
        // Who signed: the customer, or the contractor on an acceptance inspection.
        #[serde(default)]
        signer: Signer,
        signer_name: String,
        image: AttachmentRef,
    },
    Declined {
        outcome: DeclineKind,
        reason: String,
        witness: Option<Witness>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RatingView {
    pub stars: u8,
    pub comment: String,
    /// The opinion form's answers (question key → option value); empty for a stars-only rating.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CheckpointView {
    pub id: String,
    pub name: String,
    pub kind: CheckpointKind,
    pub state: CheckpointState,
    /// The round to visit next (the running one, or the next once this one is visited): when it
    /// opens and when it ends — the deadline to be on time. Rounds are cut as the office counts
    /// them (`heatcrew_rules::rounds`).
    pub opens_at: DateTime<Utc>,
    pub next_due_at: DateTime<Utc>,
    pub last_visit_at: Option<DateTime<Utc>>,
    /// Rounds of this job judged missed so far.
    pub missed_rounds: u32,
    pub readings: Vec<ReadingSpec>,
    /// The office gave the station a code to confirm presence with.
    #[serde(default)]
    pub has_code: bool,
    /// The last time presence here was confirmed by the station's code, and how.
    #[serde(default)]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub confirmed_by: Option<CodeEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DefectView {
    pub id: Uuid,
    pub checkpoint: Option<String>,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    pub position: Position,
    pub photos: Vec<AttachmentRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FindingView {
    pub id: Uuid,
    pub category: String,
    pub description: String,
    pub states: BTreeMap<String, String>,
    pub photos: Vec<AttachmentRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NoticeView {
    pub number: String,
    pub deadline: NaiveDate,
    pub requirements: String,
    /// The follow-up inspection the inspector set (复查日期); `null`: the day after the deadline,
    /// when the office opens the re-inspection.
    pub follow_up_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DamageView {
    pub id: Uuid,
    pub item: String,
    pub description: String,
    /// `restore_original` | `equivalent` | `compensation`, or `customer_caused` for network damage.
    pub remedy: String,
    pub remedy_detail: String,
    pub photos: Vec<AttachmentRef>,
    /// Co-signed by the customer; otherwise `signature_refused` says why not.
    #[serde(default)]
    pub signed: bool,
    #[serde(default)]
    pub signature_refused: Option<SignatureRefusal>,
}

/// Not home / no entry, as recorded at the door.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NoEntryView {
    pub outcome: NoEntryKind,
    pub reason: String,
    pub door_photo: AttachmentRef,
    pub witness: Option<Witness>,
    pub at: DateTime<Utc>,
}

/// The customer's standing request for another appointment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RescheduleView {
    pub channel: RequestChannel,
    pub preferred: AppointmentWindow,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// A job with everything the visit screens need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JobView {
    pub summary: JobSummary,
    pub steps: Vec<StepView>,
    pub current_step: Option<String>,
    pub signature: Option<SignatureView>,
    pub rating: Option<RatingView>,
    pub damages: Vec<DamageView>,
    pub findings: Vec<FindingView>,
    pub notices: Vec<NoticeView>,
    pub checkpoints: Vec<CheckpointView>,
    pub defects: Vec<DefectView>,
    pub can_close: bool,
    pub close_blockers: Vec<Localized>,
    /// The office's acknowledgements of this job's urgent records (an accident report): who at
    /// the office took the alert, and when; empty until a pull brings one.
    #[serde(default)]
    pub office_acks: Vec<OfficeAckView>,
    /// How the job closed (`resolved`, `follow_up_needed`, `no_entry`), once it has.
    #[serde(default)]
    pub closed_as: Option<Resolution>,
    /// Not home / no entry may be recorded now: a visit to a home, open, not yet entered.
    #[serde(default)]
    pub can_record_no_entry: bool,
    #[serde(default)]
    pub no_entry: Option<NoEntryView>,
    /// The last reschedule request, if the customer made one.
    #[serde(default)]
    pub reschedule: Option<RescheduleView>,
    /// The customer's opinion form (维修意见征询表): its questions, when the job has a rating
    /// step; empty otherwise.
    #[serde(default)]
    pub opinion_form: Vec<OpinionQuestion>,
    /// Corrections recorded on this job, oldest first; the originals stay as they were.
    #[serde(default)]
    pub corrections: Vec<CorrectionView>,
    /// The day's shift readiness, when this job waits for it (the first repair or inspection
    /// of the day): the checks to confirm before the first step. `None` once done today.
    #[serde(default)]
    pub readiness: Option<ReadinessView>,
    /// Outage notices in force that cover the customer's address, soonest restoration first.
    #[serde(default)]
    pub outages: Vec<OutageNotice>,
    /// Photos taken and still being processed, or that could not be (take them again), oldest
    /// first. The steps above already count them; `steps[].photos` holds only processed ones.
    #[serde(default)]
    pub processing_photos: Vec<super::queued::ProcessingPhotoView>,
    /// Actions on this job waiting for those photos before they are recorded.
    #[serde(default)]
    pub held_records: u32,
}

/// Shift readiness (上岗前准备): the checks to tick, all of them, once per day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReadinessView {
    pub checks: Vec<ReadinessCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReadinessCheck {
    pub key: String,
    pub label: Localized,
}

pub use super::records::{CorrectableRecord, CorrectionView};

/// The office acknowledged an urgent record (调度已确认).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OfficeAckView {
    /// The urgent event acknowledged.
    pub event_id: Uuid,
    /// The name of the person at the office.
    pub acknowledged_by: String,
    /// The office's clock.
    pub acknowledged_at: DateTime<Utc>,
}

/// One record in the outbox screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(rename = "OutboxEntry")]
pub struct OutboxEntryView {
    // Counters cross as JSON numbers, far below 2^53 (ts-rs would say `bigint` for u64).
    pub event_id: Uuid,
    #[ts(type = "number")]
    pub device_seq: u64,
    pub job_id: Uuid,
    /// Empty for another user's record.
    pub job_title: String,
    /// A record another user of this phone made (a crew's shared phone): still queued or kept
    /// here, but its job's title and step are theirs to see, not the signed-in user's.
    #[serde(default)]
    pub others: bool,
    pub kind: String,
    /// The checklist step the record belongs to (its id and title), if it names one.
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub step_title: Option<Localized>,
    /// When it was recorded, in office time: the device's time moved by the clock offset the
    /// record was made with (`views::offsets`).
    pub recorded_at: DateTime<Utc>,
    pub state: OutboxState,
    pub reason: Option<String>,
    #[ts(type = "number")]
    pub bytes_total: u64,
    #[ts(type = "number")]
    pub bytes_sent: u64,
}
