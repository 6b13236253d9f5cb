//! The feedback record (信息反馈) of every closed visit: who served (name and badge), the customer,
//! when the fault was reported, when the technician arrived and when it was resolved (office-corrected
//! times), the result, the customer's rating, comment and opinion-form answers.
//!
//! A record is written when a job's `job_closed` arrives and rewritten whenever a later event of the
//! closed job arrives ([`refresh`], called after every push), and backfilled at start for visits
//! closed before the table existed ([`backfill`]). The console's list and the monthly workbook then
//! read one stored row per visit ([`FeedbackStore`]), whatever the number of events behind it.
//! Patrol rounds have no customer and get no record; cancelled jobs neither.

use crate::readback::corrected;
use crate::store::{JobRecord, OfficeStore, StoreError, StoreResult, StoredEvent};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{ErrorCode, EventBody, JobKind, JobStatus, Resolution};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One closed visit as the feedback record reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct FeedbackRecord {
    pub job_id: Uuid,
    /// `home_repair`, `emergency_repair`, `heat_theft_inspection`, `acceptance_inspection`.
    pub job_kind: String,
    pub title: String,
    /// Who closed the visit (recorded the `job_closed`).
    pub staff_id: Option<Uuid>,
    pub staff_name: String,
    pub staff_badge: String,
    pub customer_name: String,
    /// Digits only.
    pub customer_phone: String,
    pub customer_account: String,
    pub address: String,
    /// When the customer reported the fault (dispatch's time).
    #[ts(type = "string | null")]
    pub reported_at: Option<DateTime<Utc>>,
    /// The `arrive` step, office-corrected.
    #[ts(type = "string | null")]
    pub arrived_at: Option<DateTime<Utc>>,
    /// The closing with result `resolved`, office-corrected (none for other results).
    #[ts(type = "string | null")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The last `job_closed`, office-corrected.
    #[ts(type = "string")]
    pub closed_at: DateTime<Utc>,
    /// `resolved`, `follow_up_needed` or `no_entry`.
    pub result: String,
    /// The technician's closing summary.
    pub summary: String,
    /// The customer's stars (1–5), if given.
    pub rating: Option<u8>,
    pub comment: String,
    /// The opinion form's answers as stored (question key → option value).
    pub opinions: BTreeMap<String, String>,
}

/// What the console searches the records by. Every field narrows; `None` leaves it open.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct FeedbackQuery {
    /// Closed at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Closed before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// The staff member's user id.
    pub staff: Option<Uuid>,
    /// A customer's name (part of it), phone (leading digits) or account number (its start).
    pub customer: Option<String>,
    /// `resolved`, `follow_up_needed` or `no_entry`.
    pub result: Option<String>,
    /// Rated at least this many stars (1–5).
    pub rating_min: Option<u8>,
    /// Rated at most this many stars (1–5).
    pub rating_max: Option<u8>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
}

impl FeedbackQuery {
    /// A query the store can answer: a known result, rating bounds of 1–5 stars, a cursor this
    /// office wrote. Checked before a download starts, so a bad query is a clear error, not a
    /// cut-off file.
    pub fn check(&self) -> StoreResult<()> {
        let invalid = |message: &str| StoreError::Invalid {
            code: ErrorCode::InvalidValue,
            message: message.to_owned(),
        };
        if let Some(r) = &self.result
            && !["resolved", "follow_up_needed", "no_entry"].contains(&r.as_str())
        {
            return Err(invalid(
                "result is one of resolved, follow_up_needed, no_entry",
            ));
        }
        if [self.rating_min, self.rating_max]
            .into_iter()
            .flatten()
            .any(|r| !(1..=5).contains(&r))
        {
            return Err(invalid("a rating bound is 1 to 5 stars"));
        }
        if let Some(a) = &self.after
            && parse_cursor(a).is_none()
        {
            return Err(bad_cursor());
        }
        Ok(())
    }
}

pub fn bad_cursor() -> StoreError {
    StoreError::Invalid {
        code: ErrorCode::InvalidValue,
        message: "after is the `next` of an earlier page".into(),
    }
}

/// A page of records, newest closing first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct FeedbackPage {
    pub records: Vec<FeedbackRecord>,
    /// How many records match the query in all.
    #[ts(type = "number")]
    pub total: u64,
    /// Pass as `after` for the next page; none on the last.
    pub next: Option<String>,
}

/// The keyset position after a record: its closing time and job id.
pub fn cursor_of(r: &FeedbackRecord) -> String {
    format!(
        "{}_{}",
        r.closed_at.timestamp_millis(),
        r.job_id.as_simple()
    )
}

/// A cursor read back; `None` for anything [`cursor_of`] did not write.
pub fn parse_cursor(s: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (ms, id) = s.split_once('_')?;
    let at = DateTime::from_timestamp_millis(ms.parse().ok()?)?;
    Some((at, Uuid::try_parse(id).ok()?))
}

/// One job of a month for the workbook's job sheet, with what its feedback record says.
#[derive(Debug, Clone)]
pub struct MonthJob {
    pub record: JobRecord,
    pub assignee_name: String,
    pub feedback: Option<FeedbackRecord>,
}

/// A printable document's SHA-256 as the office made it for a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DocumentDigest {
    /// `service_record` or `notice:<number>`.
    pub document: String,
    pub sha256: String,
    #[ts(type = "number")]
    pub bytes: u64,
    #[ts(type = "string")]
    pub first_made_at: DateTime<Utc>,
}

/// Where the feedback records and the documents' digests are kept.
pub trait FeedbackStore {
    /// Insert or replace the record of its job.
    fn save_feedback(&self, record: &FeedbackRecord, now: DateTime<Utc>) -> StoreResult<()>;
    /// One page of the records matching `query`, newest closing first, with the total.
    fn feedback_page(&self, query: &FeedbackQuery) -> StoreResult<FeedbackPage>;
    /// Hand `f` every record matching `query` (its `after` and `limit` ignored), newest closing
    /// first, from one read; `f` returns false to stop. Memory stays flat in the number of rows.
    fn each_feedback(
        &self,
        query: &FeedbackQuery,
        f: &mut dyn FnMut(FeedbackRecord) -> bool,
    ) -> StoreResult<()>;
    /// Jobs with an accepted `job_closed` and no record yet.
    fn closed_jobs_without_feedback(&self) -> StoreResult<Vec<Uuid>>;
    /// Hand `f` every job created in `[from, to)` in creation order, from one read.
    fn each_job_created(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(MonthJob) -> bool,
    ) -> StoreResult<()>;
    /// Keep a document's digest (once per distinct digest); returns every digest kept for the job.
    fn keep_document_digest(
        &self,
        job_id: Uuid,
        digest: &DocumentDigest,
    ) -> StoreResult<Vec<DocumentDigest>>;
    fn document_digests(&self, job_id: Uuid) -> StoreResult<Vec<DocumentDigest>>;
}

/// The record of a job from its stored events: `None` while it is not closed, for a patrol round
/// and for a cancelled job. `name` gives a user's display name and badge.
pub fn record_of(
    rec: &JobRecord,
    events: &[StoredEvent],
    name: &dyn Fn(Uuid) -> StoreResult<(String, String)>,
) -> StoreResult<Option<FeedbackRecord>> {
    let job = &rec.job;
    if job.kind == JobKind::PatrolRound || job.status == JobStatus::Cancelled {
        return Ok(None);
    }
    let mut closed: Option<(&StoredEvent, Resolution, String)> = None;
    let mut arrived_at = None;
    let mut rating: Option<(u8, String, BTreeMap<String, String>)> = None;
    for e in events.iter().filter(|e| e.accepted) {
        let u = &e.event.unsigned;
        match EventBody::from_parts(&u.kind, &u.payload) {
            // The rules' fold: the last closing counts (a follow-up closes the job again).
            Ok(EventBody::JobClosed {
                resolution,
                summary,
            }) => closed = Some((e, resolution, summary)),
            Ok(EventBody::StepCompleted { step, .. }) if step == "arrive" => {
                arrived_at.get_or_insert(corrected(e));
            }
            // The customer's form or stars: one per job, locked once given.
            Ok(EventBody::OpinionGiven {
                stars,
                comment,
                answers,
            }) if rating.is_none() => rating = Some((stars, comment, answers)),
            Ok(EventBody::RatingGiven { stars, comment }) if rating.is_none() => {
                rating = Some((stars, comment, BTreeMap::new()))
            }
            _ => {}
        }
    }
    let Some((closing, resolution, summary)) = closed else {
        return Ok(None);
    };
    let closed_at = corrected(closing);
    let staff_id = Some(closing.user_id);
    let (staff_name, staff_badge) = match staff_id {
        Some(id) => name(id)?,
        None => (String::new(), String::new()),
    };
    let customer = job.customer.clone().unwrap_or_default();
    let (stars, comment, opinions) = match rating {
        Some((s, c, a)) => (Some(s), c, a),
        None => (None, String::new(), BTreeMap::new()),
    };
    Ok(Some(FeedbackRecord {
        job_id: job.id,
        job_kind: job.kind.as_str().to_owned(),
        title: job.title.clone(),
        staff_id,
        staff_name,
        staff_badge,
        customer_name: customer.name,
        customer_phone: crate::store::sqlite::phone_key(&customer.phone),
        customer_account: customer.account_no.trim().to_owned(),
        address: customer.address,
        reported_at: job.reported_at,
        arrived_at,
        resolved_at: (resolution == Resolution::Resolved).then_some(closed_at),
        closed_at,
        result: resolution_str(resolution).to_owned(),
        summary,
        rating: stars,
        comment,
        opinions,
    }))
}

pub fn resolution_str(r: Resolution) -> &'static str {
    match r {
        Resolution::Resolved => "resolved",
        Resolution::FollowUpNeeded => "follow_up_needed",
        Resolution::NoEntry => "no_entry",
    }
}

/// Write (or rewrite) the record of each of `job_ids` that is closed; returns how many were written.
pub fn refresh(
    store: &dyn OfficeStore,
    job_ids: impl IntoIterator<Item = Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let name = |id: Uuid| -> StoreResult<(String, String)> {
        Ok(store
            .user(id)?
            .map(|u| (u.display_name, u.badge_no))
            .unwrap_or_default())
    };
    let mut written = 0;
    for id in job_ids {
        let Some(rec) = store.job(id)? else { continue };
        // Patrol rounds and cancelled jobs never get a record ([`record_of`]): their events (a
        // round's hundreds of readings) are not read back after every push.
        if rec.job.kind == JobKind::PatrolRound || rec.job.status == JobStatus::Cancelled {
            continue;
        }
        let events = store.job_events(id)?;
        if let Some(record) = record_of(&rec, &events, &name)? {
            store.save_feedback(&record, now)?;
            written += 1;
        }
    }
    Ok(written)
}

/// Write the record of every closed job that has none (visits closed before migration 0018, or a
/// push whose refresh was cut short); returns how many were written.
pub fn backfill(store: &dyn OfficeStore, now: DateTime<Utc>) -> StoreResult<u64> {
    let missing = store.closed_jobs_without_feedback()?;
    if missing.is_empty() {
        return Ok(0);
    }
    refresh(store, missing, now)
}

/// The opinion form's answers in the customer's words (`问题：答案；…`), question order.
pub fn opinions_text(opinions: &BTreeMap<String, String>) -> String {
    let questions = heatcrew_rules::opinion::questions();
    let mut parts = Vec::new();
    for q in &questions {
        if let Some(v) = opinions.get(&q.key) {
            let label = q
                .options
                .iter()
                .find(|o| &o.value == v)
                .map_or(v.as_str(), |o| o.label.zh.as_str());
            parts.push(format!("{}：{}", q.text.zh, label));
        }
    }
    // Answers to questions this office does not know are kept as stored.
    for (k, v) in opinions {
        if !questions.iter().any(|q| &q.key == k) {
            parts.push(format!("{k}：{v}"));
        }
    }
    parts.join("；")
}

/// A result in the users' words.
pub fn result_zh(result: &str) -> &str {
    match result {
        "resolved" => "已解决",
        "follow_up_needed" => "需再次上门",
        "no_entry" => "未能入户",
        other => other,
    }
}

/// A job kind in the users' words.
pub fn kind_zh(kind: &str) -> &str {
    match kind {
        "home_repair" => "上门维修",
        "emergency_repair" => "抢修",
        "heat_theft_inspection" => "用热稽查",
        "acceptance_inspection" => "工程验收",
        "patrol_round" => "巡回检查",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_garbage_is_no_cursor() {
        let r = FeedbackRecord {
            job_id: Uuid::from_u128(7),
            job_kind: "home_repair".into(),
            title: String::new(),
            staff_id: None,
            staff_name: String::new(),
            staff_badge: String::new(),
            customer_name: String::new(),
            customer_phone: String::new(),
            customer_account: String::new(),
            address: String::new(),
            reported_at: None,
            arrived_at: None,
            resolved_at: None,
            closed_at: DateTime::from_timestamp_millis(1_800_000_000_123).expect("time"),
            result: "resolved".into(),
            summary: String::new(),
            rating: None,
            comment: String::new(),
            opinions: BTreeMap::new(),
        };
        assert_eq!(
            parse_cursor(&cursor_of(&r)),
            Some((r.closed_at, r.job_id)),
            "the next page starts exactly after this record"
        );
        for bad in ["", "_", "x_y", "1_notauuid", "99999999999999999999_00"] {
            assert_eq!(parse_cursor(bad), None, "{bad:?} is no cursor");
        }
    }

    #[test]
    fn opinions_print_in_the_customers_words_in_form_order() {
        let q = heatcrew_rules::opinion::questions();
        let first = &q[0];
        let mut answers = BTreeMap::new();
        answers.insert(first.key.clone(), first.options[0].value.clone());
        answers.insert("unknown_q".into(), "x".into());
        let text = opinions_text(&answers);
        assert!(
            text.starts_with(&format!("{}：{}", first.text.zh, first.options[0].label.zh)),
            "{text}"
        );
        assert!(
            text.ends_with("unknown_q：x"),
            "an unknown answer is kept: {text}"
        );
    }
}
