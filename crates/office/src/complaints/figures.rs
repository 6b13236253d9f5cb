//! The tracker's figures for the KPI dashboard, for a period `[from, to)` of received times, as
//! plain counts (each rate is B ÷ A with B and A given, so the dashboard shows 0 ÷ 0 honestly):
//!
//! - complaints received: complaints (投诉) with `received_at` in the period.
//! - complaints answered in time: A = complaints received in the period that are decided at `now`
//!   (answered, or past their deadline unanswered); B = those of A answered before their deadline.
//!   A complaint neither answered nor due yet is in neither (it is `pending`).
//! - reports answered in time: the same for reports (举报).
//! - overdue open: complaints and reports received in the period, unanswered, past their deadline
//!   at `now`.

use crate::store::OfficeStore;
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// B ÷ A as counts.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
pub struct Ratio {
    #[ts(type = "number")]
    pub numerator: u64,
    #[ts(type = "number")]
    pub denominator: u64,
}

/// One kind's counts over a period (what the store answers).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
pub struct KindCounts {
    /// Received in the period.
    #[ts(type = "number")]
    pub received: u64,
    /// Answered before the deadline.
    #[ts(type = "number")]
    pub answered_in_time: u64,
    /// Answered at or after the deadline.
    #[ts(type = "number")]
    pub answered_late: u64,
    /// Unanswered and past the deadline at `now`.
    #[ts(type = "number")]
    pub overdue: u64,
}

impl KindCounts {
    /// Neither answered nor due yet.
    pub fn pending(&self) -> u64 {
        self.received - self.answered_in_time - self.answered_late - self.overdue
    }

    /// B ÷ A of "answered in time" (module docs).
    pub fn in_time(&self) -> Ratio {
        Ratio {
            numerator: self.answered_in_time,
            denominator: self.answered_in_time + self.answered_late + self.overdue,
        }
    }
}

/// The figures of a period (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ComplaintFigures {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The moment the figures were taken at (office clock).
    pub now: DateTime<Utc>,
    #[ts(type = "number")]
    pub complaints_received: u64,
    pub complaints_answered_in_time: Ratio,
    #[ts(type = "number")]
    pub reports_received: u64,
    pub reports_answered_in_time: Ratio,
    #[ts(type = "number")]
    pub overdue_open: u64,
    /// Received in the period, neither answered nor due yet.
    #[ts(type = "number")]
    pub pending: u64,
}

/// The figures of `[from, to)` at `now` (the KPI dashboard calls this).
pub fn figures(
    store: &dyn OfficeStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<ComplaintFigures> {
    let (complaints, reports) = store.complaint_counts(from, to, now)?;
    Ok(ComplaintFigures {
        from,
        to,
        now,
        complaints_received: complaints.received,
        complaints_answered_in_time: complaints.in_time(),
        reports_received: reports.received,
        reports_answered_in_time: reports.in_time(),
        overdue_open: complaints.overdue + reports.overdue,
        pending: complaints.pending() + reports.pending(),
    })
}
