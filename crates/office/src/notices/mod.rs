//! The rectification notice register (整改通知, issue 13.6): every notice an inspector issued in
//! the field, followed up at the office.
//!
//! - A notice enters the register from its accepted `notice_issued` event ([`NoticeStore::import_notices`];
//!   the event stays the evidence, the register row is the office's follow-up of it).
//! - It is due at the end of its deadline day in the office's time zone ([`due_at`]): the customer
//!   has the whole deadline day to comply.
//! - From then on [`run_due`] (the office's periodic task, [`crate::schedule`]) opens one
//!   re-inspection job for the issuing inspector, or for the one a dispatcher chose. Exactly one per
//!   notice, however many runs or processes race: the store links the job in the transaction that
//!   creates it, only while the notice has none, and the job's id is derived from the notice.
//! - The re-inspection's outcome closes or escalates the notice: read from the re-inspection job when
//!   it is closed (a new notice issued on it → `new_notice`, a finding recorded → `not_complied`,
//!   resolved without either → `complied`), or recorded by a dispatcher. The first outcome stays.
//!
//! [`register`] shapes the rows for the console and for documents (the printable notice).

pub mod register;

use crate::store::{OfficeStore, StoreError, StoreResult};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use heatcrew_protocol::{
    ErrorCode, EventBody, Job, JobKind, JobStatus, Resolution, bounds::add_saturating,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a re-inspection ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum NoticeOutcome {
    /// 已整改: the customer complied; the notice is closed.
    Complied,
    /// 未整改: the violation is still there; the notice is escalated.
    NotComplied,
    /// 重新下达: a new notice was issued at the re-inspection (it has its own deadline).
    NewNotice,
}

impl NoticeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeOutcome::Complied => "complied",
            NoticeOutcome::NotComplied => "not_complied",
            NoticeOutcome::NewNotice => "new_notice",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeOutcome> {
        [
            NoticeOutcome::Complied,
            NoticeOutcome::NotComplied,
            NoticeOutcome::NewNotice,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// A notice as the register holds it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct NoticeRecord {
    /// The `notice_issued` event's id.
    pub id: Uuid,
    /// `ZG-<device code>-<yyyymmdd>-<nnn>`, unique across devices (docs/domain.md).
    pub number: String,
    /// The inspection job it was issued on.
    pub job_id: Uuid,
    pub issued_by: Uuid,
    /// Device time corrected by the device's clock offset when the office imported it.
    pub issued_at: DateTime<Utc>,
    #[schema(value_type = String, format = Date)]
    pub deadline: NaiveDate,
    pub requirements: String,
    /// Chosen by a dispatcher; `None`: the issuing inspector re-inspects.
    pub reinspector: Option<Uuid>,
    pub reinspection_job_id: Option<Uuid>,
    pub reinspection_created_at: Option<DateTime<Utc>>,
    pub outcome: Option<NoticeOutcome>,
    pub outcome_note: Option<String>,
    /// The dispatcher who recorded the outcome; `None` when it was read from the re-inspection job.
    pub outcome_by: Option<Uuid>,
    pub outcome_at: Option<DateTime<Utc>>,
    /// The notice issued at the re-inspection (outcome `new_notice`).
    pub next_notice: Option<Uuid>,
    /// The follow-up inspection the inspector set (复查日期, on or after the deadline): the
    /// re-inspection opens that day. `None`: the day after the deadline ([`reinspection_at`]).
    #[schema(value_type = Option<String>, format = Date)]
    pub follow_up_on: Option<NaiveDate>,
}

/// A stored follow-up date (`YYYY-MM-DD`, or none).
pub fn parse_follow_up(s: Option<&str>) -> StoreResult<Option<NaiveDate>> {
    s.map(|d| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("notice follow-up {d:?}: {e}")))
    })
    .transpose()
}

/// An outcome to record on a notice.
#[derive(Debug, Clone)]
pub struct OutcomeEntry {
    pub outcome: NoticeOutcome,
    pub note: Option<String>,
    pub by: Option<Uuid>,
    pub next_notice: Option<Uuid>,
}

/// Where the register lives (`store/sqlite/notices.rs`).
pub trait NoticeStore {
    /// Bring every accepted `notice_issued` event not yet in the register into it (idempotent);
    /// returns how many were new.
    fn import_notices(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Every notice, deadline first.
    fn notices(&self) -> StoreResult<Vec<NoticeRecord>>;
    fn notice(&self, id: Uuid) -> StoreResult<Option<NoticeRecord>>;
    /// Choose who re-inspects (an active user); `notice_settled` once a re-inspection job exists.
    fn set_reinspector(&self, id: Uuid, user: Uuid) -> StoreResult<NoticeRecord>;
    /// Create `job` and link it as the notice's re-inspection in one transaction, unless the
    /// notice already has one: `None` then, and nothing is written.
    fn open_reinspection(&self, id: Uuid, job: Job, now: DateTime<Utc>)
    -> StoreResult<Option<Job>>;
    /// Record the outcome unless one is recorded: the first stays (`Conflict` when a different
    /// one is asked for later; the same one again answers the notice).
    fn record_outcome(
        &self,
        id: Uuid,
        entry: OutcomeEntry,
        now: DateTime<Utc>,
    ) -> StoreResult<NoticeRecord>;
}

/// When a notice falls due: the start of the day after its deadline, in the office's time zone.
pub fn due_at(deadline: NaiveDate, tz: FixedOffset) -> DateTime<Utc> {
    let next = deadline.succ_opt().unwrap_or(deadline);
    tz.from_local_datetime(&next.and_time(chrono::NaiveTime::MIN))
        .single()
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.with_timezone(&Utc))
}

/// When the re-inspection of `notice` opens: when it falls due ([`due_at`]), or the start of the
/// follow-up day the inspector set if that is later (the customer keeps the whole deadline either
/// way; an overdue notice is overdue from [`due_at`]).
pub fn reinspection_at(notice: &NoticeRecord, tz: FixedOffset) -> DateTime<Utc> {
    let due = due_at(notice.deadline, tz);
    notice
        .follow_up_on
        .and_then(|day| day.pred_opt())
        .map_or(due, |before| due.max(due_at(before, tz)))
}

/// A stable id derived from `label` and `parts`: the same inputs give the same id in every process.
pub fn derived_id(label: &str, parts: &[&str]) -> Uuid {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    for p in parts {
        h.update(b"\0");
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The re-inspection job of `notice` at the same customer or site, for `assignee`, on the board at
/// the notice's due time: an acceptance inspection again (复验) for a notice left at an acceptance,
/// a heat-theft inspection (复查) otherwise.
pub fn reinspection_job(
    notice: &NoticeRecord,
    original: Option<&Job>,
    assignee: Uuid,
    due: DateTime<Utc>,
) -> Job {
    let (kind, title) = match original.map(|j| j.kind) {
        Some(JobKind::AcceptanceInspection) => (
            JobKind::AcceptanceInspection,
            format!("整改复验 {} / Re-inspection", notice.number),
        ),
        _ => (
            JobKind::HeatTheftInspection,
            format!("整改复查 {} / Re-inspection", notice.number),
        ),
    };
    Job {
        id: derived_id("heatcrew-reinspection", &[&notice.id.to_string()]),
        kind,
        template: crate::api::jobs::template_for(kind),
        title,
        customer: original.and_then(|j| j.customer.clone()),
        site: original.and_then(|j| j.site.clone()),
        reported_at: Some(due),
        window: None,
        assignee: Some(assignee),
        street_work: false,
        checkpoints: Vec::new(),
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

/// What one run of [`run_due`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NoticeRun {
    pub imported: u64,
    pub reinspections_opened: u64,
    pub outcomes_read: u64,
}

/// The periodic follow-up: import new notices, open the re-inspection of every notice due by `now`
/// that has none, and read the outcome of every closed re-inspection. Idempotent.
pub fn run_due(
    store: &dyn OfficeStore,
    now: DateTime<Utc>,
    tz: FixedOffset,
) -> StoreResult<NoticeRun> {
    let mut run = NoticeRun {
        imported: store.import_notices(now)?,
        ..NoticeRun::default()
    };
    for n in store.notices()? {
        if n.outcome.is_some() {
            continue;
        }
        match n.reinspection_job_id {
            None => {
                let due = reinspection_at(&n, tz);
                if due > now {
                    continue;
                }
                let original = store.job(n.job_id)?.map(|r| r.job);
                let assignee = n.reinspector.unwrap_or(n.issued_by);
                let job = reinspection_job(&n, original.as_ref(), assignee, due);
                if store.open_reinspection(n.id, job, now)?.is_some() {
                    run.reinspections_opened += 1;
                }
            }
            Some(job_id) => {
                if let Some(entry) = outcome_from_job(store, job_id)? {
                    match store.record_outcome(n.id, entry, now) {
                        Ok(_) => run.outcomes_read += 1,
                        // Another process recorded one first: that one stays.
                        Err(StoreError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(run)
}

/// The outcome a closed re-inspection job shows, if it is closed and shows one: a notice issued on
/// it → `new_notice`; a finding, or an acceptance inspected `failed` → `not_complied`; closed
/// `resolved` with neither → `complied`.
/// Closed otherwise (no entry, another visit needed) or still open: `None` (a dispatcher decides).
pub fn outcome_from_job(
    store: &dyn OfficeStore,
    job_id: Uuid,
) -> StoreResult<Option<OutcomeEntry>> {
    let (mut new_notice, mut finding, mut resolved) = (None, false, false);
    for e in store.job_events(job_id)?.iter().filter(|e| e.accepted) {
        let u = &e.event.unsigned;
        match EventBody::from_parts(&u.kind, &u.payload) {
            Ok(EventBody::NoticeIssued { .. }) => new_notice = Some(u.id),
            Ok(EventBody::FindingRecorded { .. }) => finding = true,
            Ok(EventBody::StepCompleted { step, evidence })
                if step == "inspect"
                    && evidence.states.get("result").map(String::as_str) == Some("failed") =>
            {
                finding = true;
            }
            Ok(EventBody::JobClosed { resolution, .. }) => {
                resolved = resolution == Resolution::Resolved;
            }
            _ => {}
        }
    }
    let outcome = match (new_notice, finding, resolved) {
        (_, _, false) => return Ok(None),
        (Some(_), _, true) => NoticeOutcome::NewNotice,
        (None, true, true) => NoticeOutcome::NotComplied,
        (None, false, true) => NoticeOutcome::Complied,
    };
    Ok(Some(OutcomeEntry {
        outcome,
        note: None,
        by: None,
        next_notice: new_notice,
    }))
}

/// A KPI figure as counts: `numerator` of `denominator`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Ratio {
    #[ts(type = "number")]
    pub numerator: u64,
    #[ts(type = "number")]
    pub denominator: u64,
}

/// 整改按期完成: of the notices whose deadline lies in `from..=to` (dates) and that are due by
/// `now` (the denominator), those whose re-inspection found them complied with (the numerator). A
/// notice still awaiting its re-inspection counts as not complied: compliance is shown, not
/// assumed. For the KPI dashboard.
pub fn notices_complied_by_deadline(
    notices: &[NoticeRecord],
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
    tz: FixedOffset,
) -> Ratio {
    let mut r = Ratio::default();
    for n in notices
        .iter()
        .filter(|n| (from..=to).contains(&n.deadline) && due_at(n.deadline, tz) <= now)
    {
        r.denominator += 1;
        r.numerator += u64::from(n.outcome == Some(NoticeOutcome::Complied));
    }
    r
}

/// A notice is overdue once it is due and no outcome is recorded.
pub fn is_overdue(n: &NoticeRecord, now: DateTime<Utc>, tz: FixedOffset) -> bool {
    n.outcome.is_none() && due_at(n.deadline, tz) <= now
}

/// Whole days since the notice fell due (0 before).
pub fn days_overdue(n: &NoticeRecord, now: DateTime<Utc>, tz: FixedOffset) -> i64 {
    let due = due_at(n.deadline, tz);
    if now < due { 0 } else { (now - due).num_days() }
}

/// `now` plus a week, saturating (the "due this week" filter's end).
pub fn week_after(now: DateTime<Utc>) -> DateTime<Utc> {
    add_saturating(now, Duration::days(7))
}

/// `Conflict` for a notice whose state forbids the change.
pub(crate) fn settled(message: impl Into<String>) -> StoreError {
    StoreError::Conflict {
        code: ErrorCode::InvalidValue,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("UTC+8")
    }

    fn notice(deadline: NaiveDate, outcome: Option<NoticeOutcome>) -> NoticeRecord {
        NoticeRecord {
            id: Uuid::now_v7(),
            number: "ZG-D0001-20261201-001".into(),
            job_id: Uuid::now_v7(),
            issued_by: Uuid::now_v7(),
            issued_at: Utc::now(),
            deadline,
            requirements: "拆除旁通管".into(),
            reinspector: None,
            reinspection_job_id: None,
            reinspection_created_at: None,
            outcome,
            outcome_note: None,
            outcome_by: None,
            outcome_at: None,
            next_notice: None,
            follow_up_on: None,
        }
    }

    #[test]
    fn the_reinspection_opens_on_the_follow_up_day_the_inspector_set_never_before_the_deadline_ends()
     {
        let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).expect("date");
        let mut n = notice(d(10), None);
        assert_eq!(
            reinspection_at(&n, cst()),
            due_at(d(10), cst()),
            "none set: when due"
        );
        n.follow_up_on = Some(d(11));
        assert_eq!(
            reinspection_at(&n, cst()),
            due_at(d(10), cst()),
            "the day after the deadline is when it falls due anyway"
        );
        n.follow_up_on = Some(d(14));
        assert_eq!(
            reinspection_at(&n, cst()).to_rfc3339(),
            "2026-12-13T16:00:00+00:00",
            "the start of 14 December in Beijing"
        );
        assert!(
            !is_overdue(&n, due_at(d(10), cst()) - Duration::seconds(1), cst())
                && is_overdue(&n, due_at(d(10), cst()), cst()),
            "overdue from the deadline, whatever the follow-up day"
        );
        n.follow_up_on = Some(d(10));
        assert_eq!(
            reinspection_at(&n, cst()),
            due_at(d(10), cst()),
            "on the deadline day itself: the customer keeps that day"
        );
    }

    #[test]
    fn a_notice_falls_due_at_the_end_of_its_deadline_day_in_office_time() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 10).expect("date");
        assert_eq!(
            due_at(d, cst()).to_rfc3339(),
            "2026-12-10T16:00:00+00:00",
            "midnight after 10 December in Beijing is 16:00 UTC on the 10th"
        );
    }

    #[test]
    fn the_compliance_figure_counts_only_due_notices_and_only_complied_ones_on_top() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).expect("date");
        let now = due_at(d(10), cst());
        let list = [
            notice(d(3), Some(NoticeOutcome::Complied)),
            notice(d(5), Some(NoticeOutcome::NotComplied)),
            notice(d(8), None), // due, never re-inspected
            notice(d(10), Some(NoticeOutcome::Complied)), // due exactly now
            notice(d(11), None), // not due yet
            notice(d(1), Some(NoticeOutcome::Complied)), // before the period
        ];
        let r = notices_complied_by_deadline(&list, d(2), d(31), now, cst());
        assert_eq!(
            (r.numerator, r.denominator),
            (2, 4),
            "four notices fell due in the period; two were found complied with"
        );
        assert!(is_overdue(&list[2], now, cst()), "due without an outcome");
        assert!(!is_overdue(&list[4], now, cst()), "not due yet");
        assert!(!is_overdue(&list[1], now, cst()), "an outcome settles it");
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derived_id("a", &["x"]), derived_id("a", &["x"]));
        assert_ne!(derived_id("a", &["x"]), derived_id("a", &["y"]));
        assert_ne!(derived_id("a", &["x", "y"]), derived_id("a", &["xy"]));
    }

    #[test]
    fn outcomes_parse_back() {
        for o in [
            NoticeOutcome::Complied,
            NoticeOutcome::NotComplied,
            NoticeOutcome::NewNotice,
        ] {
            assert_eq!(NoticeOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(NoticeOutcome::parse("maybe"), None);
    }
}
