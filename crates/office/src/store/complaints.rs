//! Storage of the complaints tracker ([`crate::complaints`]): one row per complaint, each change
//! checked by [`crate::complaints::rules`] and written together with its audit entry in one
//! transaction.

use super::convert::{json, parse_ts, parse_uuid};
use super::{StoreError, StoreResult};
use crate::audit::{AuditEntry, NewAudit};
use crate::complaints::figures::KindCounts;
use crate::complaints::input::HandoverTo;
use crate::complaints::{
    Callback, Channel, Complaint, ComplaintKind, Owner, Reply, Satisfaction, StaffRef,
};
use chrono::{DateTime, Utc};
use heatcrew_protocol::Customer;
use heatcrew_protocol::sync::UserInfo;
use uuid::Uuid;

/// A complaint to store, checked ([`crate::complaints::input::check_create`]); the store gives it
/// its number, and its owner is `received_by` (首问).
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub id: Uuid,
    pub kind: ComplaintKind,
    pub channel: Channel,
    pub caller_name: String,
    pub caller_phone: String,
    pub subject: String,
    pub text: String,
    pub job_id: Option<Uuid>,
    pub customer: Option<Customer>,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub received_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A change, checked for its texts; the rules are applied by the store.
#[derive(Debug, Clone)]
pub enum ComplaintChange {
    Handover {
        to: HandoverTo,
        note: String,
    },
    Reply {
        text: String,
    },
    Callback {
        satisfaction: Satisfaction,
        note: String,
    },
}

/// Which complaints to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplaintFilter {
    /// Unanswered (overdue ones included), the nearest deadline first.
    Open,
    /// Unanswered and past the deadline at `now`, the oldest deadline first.
    Overdue,
    /// Answered (called back or not), the latest answer first.
    Answered,
    /// All, the latest received first.
    All,
}

#[derive(Debug, Clone)]
pub struct ComplaintQuery {
    pub filter: ComplaintFilter,
    pub kind: Option<ComplaintKind>,
    /// Owned by this person now.
    pub owner: Option<Uuid>,
    pub now: DateTime<Utc>,
    pub limit: u32,
}

pub trait ComplaintStore {
    /// Store a new complaint and its `complaint_received` audit entry (subject: its id) in one
    /// transaction. An unknown `job_id` is `Invalid` (`unknown_job`); an id taken is `Conflict`
    /// (`complaint_exists`).
    fn create_complaint(&self, c: &NewComplaint, audit: &NewAudit) -> StoreResult<Complaint>;
    /// Apply `change` by `actor` if [`crate::complaints::rules::check`] allows it on the complaint
    /// as stored, with `audit` (its detail filled in here) in the same transaction.
    fn change_complaint(
        &self,
        id: Uuid,
        change: &ComplaintChange,
        actor: &UserInfo,
        audit: &NewAudit,
    ) -> StoreResult<Complaint>;
    fn complaint(&self, id: Uuid) -> StoreResult<Option<Complaint>>;
    fn complaints(&self, query: &ComplaintQuery) -> StoreResult<Vec<Complaint>>;
    /// The audit entries of a complaint, oldest first.
    fn complaint_trail(&self, id: Uuid) -> StoreResult<Vec<AuditEntry>>;
    /// (complaints, reports) received in `[from, to)`, counted at `now`
    /// ([`crate::complaints::figures`]).
    fn complaint_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<(KindCounts, KindCounts)>;
}

// The row both backends read a complaint as: the same columns, each as text (`ComplaintRow`),
// decoded the same way.

pub(crate) const COMPLAINT_COLS: usize = 31;

/// The SELECT of a complaint with the names of its staff, then `tail` (WHERE, ORDER BY…).
pub(crate) fn complaint_sql(tail: &str) -> String {
    format!(
        "SELECT c.id, c.number, c.kind, c.channel, c.caller_name, c.caller_phone, c.subject, c.body,
                c.job_id, c.customer, c.received_at, c.due_at, c.created_at,
                c.received_by, r.display_name, r.badge_no,
                c.owner_id, o.display_name, o.badge_no, c.owner_department,
                c.reply_text, c.replied_by, p.display_name, p.badge_no, c.replied_at,
                c.callback_satisfaction, c.callback_note, c.called_back_by, b.display_name,
                b.badge_no, c.called_back_at
         FROM complaints c
         JOIN users r ON r.id = c.received_by
         LEFT JOIN users o ON o.id = c.owner_id
         LEFT JOIN users p ON p.id = c.replied_by
         LEFT JOIN users b ON b.id = c.called_back_by
         {tail}"
    )
}

/// A complaint's columns as [`complaint_sql`] selects them.
pub(crate) type ComplaintRow = [Option<String>; COMPLAINT_COLS];

/// A complaint from its row.
pub(crate) fn complaint_from_row(mut r: ComplaintRow) -> StoreResult<Complaint> {
    let mut take = |i: usize| r[i].take();
    let need = |v: Option<String>, what: &str| {
        v.ok_or_else(|| StoreError::Corrupt(format!("complaint without {what}")))
    };
    let staff = |id: Option<String>, name: Option<String>, badge: Option<String>| {
        id.map(|id| {
            Ok::<_, StoreError>(StaffRef {
                id: parse_uuid(&id)?,
                display_name: name.unwrap_or_default(),
                badge_no: badge.unwrap_or_default(),
            })
        })
        .transpose()
    };
    let id = parse_uuid(&need(take(0), "id")?)?;
    let number = need(take(1), "number")?;
    let kind = take(2).as_deref().and_then(ComplaintKind::parse);
    let channel = take(3).as_deref().and_then(Channel::parse);
    let (Some(kind), Some(channel)) = (kind, channel) else {
        return Err(StoreError::Corrupt(format!(
            "complaint {id}: kind or channel"
        )));
    };
    let caller_name = take(4).unwrap_or_default();
    let caller_phone = take(5).unwrap_or_default();
    let subject = take(6).unwrap_or_default();
    let text = take(7).unwrap_or_default();
    let job_id = take(8).as_deref().map(parse_uuid).transpose()?;
    let customer = take(9).as_deref().map(json).transpose()?;
    let received_at = parse_ts(&need(take(10), "received_at")?)?;
    let due_at = parse_ts(&need(take(11), "due_at")?)?;
    let created_at = parse_ts(&need(take(12), "created_at")?)?;
    let received_by = staff(take(13), take(14), take(15))?
        .ok_or_else(|| StoreError::Corrupt(format!("complaint {id}: received_by")))?;
    let owner = Owner {
        person: staff(take(16), take(17), take(18))?,
        department: take(19),
    };
    let reply_text = take(20);
    let replied_by = staff(take(21), take(22), take(23))?;
    let replied_at = take(24).as_deref().map(parse_ts).transpose()?;
    let reply = match (reply_text, replied_by, replied_at) {
        (Some(text), Some(by), Some(at)) => Some(Reply { text, by, at }),
        _ => None,
    };
    let satisfaction = take(25).as_deref().and_then(Satisfaction::parse);
    let note = take(26).unwrap_or_default();
    let called_by = staff(take(27), take(28), take(29))?;
    let called_at = take(30).as_deref().map(parse_ts).transpose()?;
    let callback = match (satisfaction, called_by, called_at) {
        (Some(satisfaction), Some(by), Some(at)) => Some(Callback {
            satisfaction,
            note,
            by,
            at,
        }),
        _ => None,
    };
    Ok(Complaint {
        id,
        number,
        kind,
        channel,
        caller_name,
        caller_phone,
        subject,
        text,
        job_id,
        customer,
        received_at,
        due_at,
        received_by,
        owner,
        reply,
        callback,
        created_at,
    })
}
