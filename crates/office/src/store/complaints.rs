//! Storage of the complaints tracker ([`crate::complaints`]): one row per complaint, each change
//! checked by [`crate::complaints::rules`] and written together with its audit entry in one
//! transaction.

use super::StoreResult;
use crate::audit::{AuditEntry, NewAudit};
use crate::complaints::figures::KindCounts;
use crate::complaints::input::HandoverTo;
use crate::complaints::{Channel, Complaint, ComplaintKind, Satisfaction};
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
