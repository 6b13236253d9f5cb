//! What the field app's screens show, built from the store: the view types of the UI contract
//! (`ui/src/lib/backend/CONTRACT.md`: snake_case fields, tagged unions). Pure reads over [`Store`],
//! the templates, the projection and the SLA clocks; no Tauri, no writes.
//!
//! `ui/src/lib/backend/types.ts` is generated from these types (and those they embed) by ts-rs;
//! `tests/bindings.rs` fails when it is out of date. After changing a type here, regenerate it:
//! `UPDATE_BINDINGS=1 cargo test -p heatcrew-core --test bindings`.

use crate::error::Result;
use crate::store::{OutboxState, Store, StoredJob};
use crate::sync::{SyncError, SyncStatus};
use chrono::{DateTime, NaiveDate, Utc};
use heatcrew_protocol::sync::UserInfo;
use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, CheckpointKind, Customer, DeclineKind, EventBody,
    FindingCategory, JobKind, JobStatus, OutageNotice, Position, ReadingSpec, Remedy, Severity,
    Witness,
};
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::progress::{JobProgress, SignatureRecord, StepRecord};
use heatcrew_rules::sla::{self, Arrival, CheckpointState, Sla};
use heatcrew_rules::template::Evidence;
use heatcrew_rules::{Lang, Localized, RuleError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CheckpointView {
    pub id: String,
    pub name: String,
    pub kind: CheckpointKind,
    pub state: CheckpointState,
    pub next_due_at: DateTime<Utc>,
    pub last_visit_at: Option<DateTime<Utc>>,
    pub missed_rounds: u32,
    pub readings: Vec<ReadingSpec>,
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
    pub job_title: String,
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    pub state: OutboxState,
    pub reason: Option<String>,
    #[ts(type = "number")]
    pub bytes_total: u64,
    #[ts(type = "number")]
    pub bytes_sent: u64,
}

/// The signed-in user, if any.
pub fn session(store: &Store) -> Result<Option<SessionView>> {
    Ok(store.session()?.map(|s| SessionView {
        user: s.user,
        office_url: s.office_url,
        device_code: s.device_code,
    }))
}

/// Records per job that the office has not acknowledged yet (queued or uploading).
fn pending_by_job(store: &Store) -> Result<HashMap<Uuid, u32>> {
    let mut pending = HashMap::new();
    for entry in store.outbox()? {
        if matches!(entry.state, OutboxState::Queued | OutboxState::Uploading) {
            *pending.entry(entry.job_id).or_insert(0) += 1;
        }
    }
    Ok(pending)
}

/// Today's jobs (open ones first, urgent ones at the very top) and outage notices.
pub fn today(store: &Store) -> Result<Today> {
    let now = store.now();
    let pending = pending_by_job(store)?;
    let mut jobs = store
        .jobs()?
        .iter()
        .map(|j| summary(j, now, pending.get(&j.job.id).copied().unwrap_or(0)))
        .collect::<Result<Vec<_>>>()?;
    // Stable sort keeps the store's appointment order within each group.
    jobs.sort_by_key(|j| (j.closed || j.cancelled || j.revoked, !j.urgent));
    Ok(Today {
        now,
        jobs,
        outages: store.outages()?,
    })
}

fn context(job: &StoredJob) -> Result<JobContext<'_>> {
    Ok(JobContext {
        job: &job.job,
        template: job.template()?,
        progress: &job.progress,
        revoked: job.revoked_reason.is_some(),
    })
}

fn summary(job: &StoredJob, now: DateTime<Utc>, pending_records: u32) -> Result<JobSummary> {
    let ctx = context(job)?;
    let steps: Vec<_> = ctx.steps().collect();
    let done = steps
        .iter()
        .filter(|s| job.progress.steps.contains_key(&s.id))
        .count();
    Ok(JobSummary {
        id: job.job.id,
        kind: job.job.kind,
        title: job.job.title.clone(),
        customer: job.job.customer.clone(),
        site: job.job.site.clone(),
        window: job.job.window,
        reported_at: job.job.reported_at,
        sla: sla::resolution(&job.job, &job.progress, now),
        arrival: sla::arrival(&job.job, &job.progress),
        steps_done: done as u32,
        steps_total: steps.len() as u32,
        closed: job.progress.closed.is_some(),
        cancelled: job.job.status == JobStatus::Cancelled,
        revoked: job.revoked_reason.is_some(),
        pending_records,
        urgent: job.job.kind == JobKind::EmergencyRepair || !job.progress.accidents.is_empty(),
    })
}

/// One job with its steps and records, or `UnknownJob`.
pub fn job(store: &Store, job_id: Uuid) -> Result<JobView> {
    let job = store.job(job_id)?.ok_or(RuleError::UnknownJob(job_id))?;
    let pending = pending_by_job(store)?.get(&job_id).copied().unwrap_or(0);
    job_view(&job, store.now(), pending)
}

/// The view of a stored job at `now` (pure: what [`job`] returns, without the store).
pub fn job_view(job: &StoredJob, now: DateTime<Utc>, pending_records: u32) -> Result<JobView> {
    let ctx = context(job)?;
    let p = &job.progress;
    let current = ctx.current_step().map(|s| s.id.clone());
    let closed = p.closed.is_some();
    let steps = ctx
        .steps()
        .map(|s| {
            let record = p.steps.get(&s.id);
            let status = match record {
                Some(StepRecord::Done { .. }) => StepStatus::Done,
                Some(StepRecord::Skipped { .. }) => StepStatus::Skipped,
                None if current.as_deref() == Some(s.id.as_str()) && !closed => StepStatus::Current,
                None => StepStatus::Pending,
            };
            StepView {
                id: s.id.clone(),
                title: s.title.clone(),
                phrase: s.phrase.clone(),
                hint: s.hint.clone(),
                evidence: s.evidence.clone(),
                status,
                skippable: s.skippable,
                skip_reason: match record {
                    Some(StepRecord::Skipped { reason, .. }) => Some(reason.clone()),
                    _ => None,
                },
                photos: p.photos.get(&s.id).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let close_blockers = ctx.close_blockers();
    Ok(JobView {
        summary: summary(job, now, pending_records)?,
        steps,
        current_step: if closed { None } else { current },
        signature: signature(p),
        rating: p.rating.as_ref().map(|r| RatingView {
            stars: r.stars,
            comment: r.comment.clone(),
        }),
        damages: p
            .damages
            .iter()
            .map(|d| DamageView {
                id: d.id,
                item: d.item.clone(),
                description: d.description.clone(),
                remedy: match d.remedy {
                    Some(r) => enum_str(&r),
                    None => "customer_caused".into(),
                },
                remedy_detail: d.remedy_detail.clone(),
                photos: d.photos.clone(),
            })
            .collect(),
        findings: p
            .findings
            .iter()
            .map(|f| FindingView {
                id: f.id,
                category: enum_str(&f.category),
                description: f.description.clone(),
                states: f.states.clone(),
                photos: f.photos.clone(),
            })
            .collect(),
        notices: p
            .notices
            .iter()
            .map(|n| NoticeView {
                number: n.number.clone(),
                deadline: n.deadline,
                requirements: n.requirements.clone(),
            })
            .collect(),
        checkpoints: checkpoints(job, now),
        defects: p
            .defects
            .iter()
            .map(|d| DefectView {
                id: d.id,
                checkpoint: d.checkpoint.clone(),
                category: d.category.clone(),
                severity: d.severity,
                description: d.description.clone(),
                position: d.position.clone(),
                photos: d.photos.clone(),
            })
            .collect(),
        can_close: !closed && close_blockers.is_empty(),
        close_blockers,
    })
}

/// The job's customer signature: the first step that holds one (templates have one signature step).
fn signature(p: &JobProgress) -> Option<SignatureView> {
    p.signatures.values().next().map(|s| match s {
        SignatureRecord::Signed {
            signer_name, image, ..
        } => SignatureView::Signed {
            signer_name: signer_name.clone(),
            image: image.clone(),
        },
        SignatureRecord::Declined {
            outcome,
            reason,
            witness,
            ..
        } => SignatureView::Declined {
            outcome: *outcome,
            reason: reason.clone(),
            witness: witness.clone(),
        },
    })
}

fn checkpoints(job: &StoredJob, now: DateTime<Utc>) -> Vec<CheckpointView> {
    let start = sla::round_start(&job.job).unwrap_or(now);
    job.job
        .checkpoints
        .iter()
        .map(|cp| {
            let last = job
                .progress
                .visits
                .get(&cp.id)
                .and_then(|v| v.last())
                .map(|v| v.at);
            let clock = sla::checkpoint(cp, last, start, now);
            CheckpointView {
                id: cp.id.clone(),
                name: cp.name.clone(),
                kind: cp.kind,
                state: clock.state,
                next_due_at: clock.next_due_at,
                last_visit_at: clock.last_visit_at,
                missed_rounds: clock.missed_rounds,
                readings: cp.readings.clone(),
            }
        })
        .collect()
}

/// The wire name of a unit enum (`FindingCategory::TamperedSeal` → `tampered_seal`).
fn enum_str<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The outbox, oldest first, with the job titles and photo upload progress.
pub fn outbox(store: &Store) -> Result<Vec<OutboxEntryView>> {
    let titles: HashMap<Uuid, String> = store
        .jobs()?
        .into_iter()
        .map(|j| (j.job.id, j.job.title))
        .collect();
    let uploads = attachment_progress(store)?;
    // Only records that carry photos or signatures have bytes to show progress for.
    let events: HashMap<u64, EventBody> = store
        .events()?
        .into_iter()
        .filter(|e| ATTACHMENT_KINDS.contains(&e.unsigned.kind.as_str()))
        .filter_map(|e| {
            let body = EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload).ok()?;
            Some((e.unsigned.device_seq, body))
        })
        .collect();
    store
        .outbox()?
        .into_iter()
        .map(|e| {
            let (bytes_total, bytes_sent) = events
                .get(&e.seq)
                .map(|body| {
                    body.attachments()
                        .iter()
                        .filter_map(|a| uploads.get(&a.sha256.to_hex()))
                        .fold((0, 0), |(t, s), (bt, bs)| (t + bt, s + bs))
                })
                .unwrap_or((0, 0));
            Ok(OutboxEntryView {
                event_id: e.event_id,
                device_seq: e.seq,
                job_title: titles.get(&e.job_id).cloned().unwrap_or_default(),
                job_id: e.job_id,
                kind: e.kind,
                recorded_at: e.recorded_at,
                state: e.state,
                reason: e.reason,
                bytes_total,
                bytes_sent,
            })
        })
        .collect()
}

const ATTACHMENT_KINDS: &[&str] = &[
    "photo_added",
    "signature_captured",
    "damage_recorded",
    "network_damage_recorded",
    "finding_recorded",
    "defect_reported",
];

/// Bytes and uploaded bytes of every attachment the device knows, by hex SHA-256.
fn attachment_progress(store: &Store) -> Result<HashMap<String, (u64, u64)>> {
    let mut stmt = store
        .connection()
        .prepare("SELECT sha256, bytes, uploaded_bytes FROM attachments")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
        ))
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The sync badge when no sync loop is running (signed out): what is waiting, nothing moving.
pub fn idle_sync_status(store: &Store) -> Result<SyncStatus> {
    let b = store.backlog()?;
    Ok(SyncStatus {
        online: false,
        syncing: false,
        queued: b.queued,
        rejected: b.rejected,
        events_sent: 0,
        events_total: 0,
        bytes_sent: 0,
        bytes_total: b.attachment_bytes,
        last_sync_at: b.last_sync_at,
        oldest_pending_at: b.oldest_pending_at,
        last_error: None,
    })
}

/// A damage record as the form sends it (`record_damage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DamageInput {
    pub item: String,
    pub description: String,
    pub remedy: Remedy,
    #[serde(default)]
    pub remedy_detail: String,
    #[serde(default)]
    pub photos: Vec<AttachmentRef>,
    pub customer_signature: AttachmentRef,
}

/// Damage to the network caused by the customer (`record_network_damage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NetworkDamageInput {
    pub equipment: String,
    pub cause: String,
    #[serde(default)]
    pub photos: Vec<AttachmentRef>,
    pub customer_signature: AttachmentRef,
}

/// A heat-theft finding (`record_finding`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FindingInput {
    pub category: FindingCategory,
    pub description: String,
    #[serde(default)]
    pub states: BTreeMap<String, String>,
    #[serde(default)]
    pub photos: Vec<AttachmentRef>,
}

/// A patrol defect (`report_defect`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DefectInput {
    pub checkpoint: Option<String>,
    pub category: String,
    pub severity: Severity,
    pub position: Position,
    pub description: String,
    #[serde(default)]
    pub photos: Vec<AttachmentRef>,
}

/// An urgent accident or hazard report (`report_accident`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AccidentInput {
    pub description: String,
    #[serde(default)]
    pub measures_taken: String,
    pub position: Position,
    #[serde(default)]
    pub injuries: bool,
}

impl DamageInput {
    /// The event, with a new id for the damage record.
    pub fn into_body(self) -> EventBody {
        EventBody::DamageRecorded {
            damage_id: Uuid::now_v7(),
            item: self.item,
            description: self.description,
            remedy: self.remedy,
            remedy_detail: self.remedy_detail,
            photos: self.photos,
            customer_signature: self.customer_signature,
        }
    }
}

impl NetworkDamageInput {
    pub fn into_body(self) -> EventBody {
        EventBody::NetworkDamageRecorded {
            damage_id: Uuid::now_v7(),
            equipment: self.equipment,
            cause: self.cause,
            photos: self.photos,
            customer_signature: self.customer_signature,
        }
    }
}

impl FindingInput {
    pub fn into_body(self) -> EventBody {
        EventBody::FindingRecorded {
            finding_id: Uuid::now_v7(),
            category: self.category,
            description: self.description,
            states: self.states,
            photos: self.photos,
        }
    }
}

impl DefectInput {
    pub fn into_body(self) -> EventBody {
        EventBody::DefectReported {
            defect_id: Uuid::now_v7(),
            checkpoint: self.checkpoint,
            category: self.category,
            severity: self.severity,
            position: self.position,
            description: self.description,
            photos: self.photos,
        }
    }
}

impl SyncError {
    /// What to tell the technician, in their language (the code stays the same).
    pub fn message(&self, lang: Lang) -> String {
        let zh = matches!(lang, Lang::Zh);
        match self {
            SyncError::Offline(_) if zh => "连不上单位服务器。首次登录需要网络连接,请到有信号的地方重试。".into(),
            SyncError::Offline(_) => {
                "Cannot reach the office. The first sign-in needs a connection; try again where there is signal.".into()
            }
            SyncError::Refused { code, .. } if code == "bad_credentials" && zh => "用户名或密码不正确。".into(),
            SyncError::Refused { code, .. } if code == "bad_credentials" => {
                "Wrong user name or password.".into()
            }
            SyncError::Unavailable { .. } if zh => "单位服务器暂时不可用,稍后自动重试。".into(),
            SyncError::Unauthorized(_) if zh => "登录已过期,请重新登录。".into(),
            SyncError::ProtocolMismatch(_) if zh => "应用版本与单位服务器不匹配,请更新应用。".into(),
            SyncError::Refused { message, .. } if zh => format!("单位服务器拒绝了请求:{message}"),
            other if zh => format!("同步出错:{other}"),
            other => other.to_string(),
        }
    }
}

/// Refusals at the app's edge that are not checklist rules: no session, sign-out with records
/// still waiting, a malformed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    NotSignedIn,
    /// Another user's token could not push these records, so signing out would strand them.
    #[error("{0} records not yet synced")]
    UnsyncedRecords(u64),
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotSignedIn => "not_signed_in",
            AppError::UnsyncedRecords(_) => "unsynced_records",
            AppError::BadRequest(_) => "bad_request",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AppError::NotSignedIn, Lang::Zh) => "请先登录。".into(),
            (AppError::NotSignedIn, Lang::En) => "Please sign in first.".into(),
            (AppError::UnsyncedRecords(n), Lang::Zh) => {
                format!("还有 {n} 条记录未同步。请先同步再退出:换成其他人登录后,这些记录无法上传。")
            }
            (AppError::UnsyncedRecords(n), Lang::En) => format!(
                "{n} records are not synced yet. Sync first: after another user signs in, they could not be uploaded."
            ),
            (AppError::BadRequest(m), Lang::Zh) => format!("请求有误:{m}"),
            (AppError::BadRequest(m), Lang::En) => format!("Bad request: {m}"),
        }
    }
}

/// Whether this device may sign out: never while records wait for the office, unless forced
/// (the records stay on the device either way; signing out only forgets the tokens).
/// Returns the refusal, if any.
pub fn sign_out_refusal(store: &Store, force: bool) -> Result<Option<AppError>> {
    let queued = store.backlog()?.queued;
    Ok((queued > 0 && !force).then_some(AppError::UnsyncedRecords(queued)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use heatcrew_protocol::StepEvidence;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("device.db")).expect("open store");
        (dir, store)
    }

    fn done(step: &str) -> EventBody {
        EventBody::StepCompleted {
            step: step.into(),
            evidence: StepEvidence::default(),
        }
    }

    #[test]
    fn a_new_home_repair_job_shows_its_first_step_as_current() {
        let (_dir, mut store) = store();
        let job = demo::home_repair_job(0, None);
        store.add_office_job(&job).expect("add job");
        let view = super::job(&store, job.id).expect("job view");
        assert_eq!(
            view.current_step.as_deref(),
            Some("appointment"),
            "the visit starts at the appointment call"
        );
        assert_eq!(
            view.steps[0].status,
            StepStatus::Current,
            "the first step is the one to do"
        );
        assert!(
            view.steps[1..]
                .iter()
                .all(|s| s.status == StepStatus::Pending),
            "later steps wait their turn"
        );
        assert!(!view.can_close, "nothing done yet, so the job cannot close");
        assert_eq!(view.summary.steps_done, 0, "no step done yet");
        assert_eq!(
            view.summary.pending_records, 0,
            "an office job has no records of ours yet"
        );
    }

    #[test]
    fn recorded_steps_move_the_current_step_and_wait_in_the_outbox() {
        let (_dir, mut store) = store();
        let job = demo::home_repair_job(0, None);
        store.add_office_job(&job).expect("add job");
        store
            .record(job.id, done("appointment"))
            .expect("appointment");
        store.record(job.id, done("arrive")).expect("arrive");
        let view = super::job(&store, job.id).expect("job view");
        assert_eq!(
            view.steps[0].status,
            StepStatus::Done,
            "the appointment was confirmed"
        );
        assert_eq!(
            view.current_step.as_deref(),
            Some("identify"),
            "after arriving, the technician shows the badge"
        );
        assert_eq!(view.summary.steps_done, 2, "two steps are behind us");
        assert_eq!(
            view.summary.pending_records, 2,
            "both records wait for the office until it acknowledges them"
        );
        let outbox = outbox(&store).expect("outbox");
        assert_eq!(outbox.len(), 2, "every record is in the outbox");
        assert_eq!(outbox[0].job_title, job.title, "the outbox names the job");
        assert_eq!(outbox[0].state, OutboxState::Queued, "nothing was sent yet");
    }

    #[test]
    fn views_serialize_as_the_ui_contract_says() {
        let (_dir, mut store) = store();
        let job = demo::patrol_job(None);
        store.add_office_job(&job).expect("add job");
        let view = serde_json::to_value(super::job(&store, job.id).expect("job view")).unwrap();
        assert!(
            view["summary"]["sla"]["state"].is_string(),
            "Sla is tagged by `state`"
        );
        assert!(
            view["summary"]["arrival"]["state"].is_string(),
            "Arrival is tagged by `state`"
        );
        assert!(
            view["steps"][0]["evidence"]
                .as_array()
                .is_some_and(|e| e.iter().all(|x| x["type"].is_string())),
            "EvidenceSpec is tagged by `type`"
        );
        let cp = &view["checkpoints"][0];
        assert!(
            cp["state"].is_string() && cp["next_due_at"].is_string(),
            "checkpoints carry their clock"
        );
        let today = serde_json::to_value(today(&store).expect("today")).unwrap();
        assert_eq!(
            today["jobs"].as_array().map(Vec::len),
            Some(1),
            "the one job is listed"
        );
        assert!(today["outages"].is_array(), "outages are always a list");
    }

    #[test]
    fn sign_out_is_refused_while_records_wait() {
        let (_dir, mut store) = store();
        let job = demo::home_repair_job(0, None);
        store.add_office_job(&job).expect("add job");
        assert_eq!(
            sign_out_refusal(&store, false).unwrap(),
            None,
            "nothing waits, sign-out is fine"
        );
        store
            .record(job.id, done("appointment"))
            .expect("appointment");
        assert_eq!(
            sign_out_refusal(&store, false).unwrap(),
            Some(AppError::UnsyncedRecords(1)),
            "another user's token could not push this record"
        );
        assert_eq!(
            sign_out_refusal(&store, true).unwrap(),
            None,
            "forced sign-out keeps the records anyway"
        );
        assert!(
            AppError::UnsyncedRecords(1)
                .message(Lang::Zh)
                .contains("同步"),
            "the Chinese message says to sync first"
        );
    }
}
