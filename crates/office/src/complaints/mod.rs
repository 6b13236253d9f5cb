//! Complaints (投诉) and reports (举报) taken at the office (issue 13, point 5; `docs/domain.md`,
//! "Complaints and reports"). The service standard: complaints answered within 5 days, reports
//! within 7 (calendar days); whoever took the call first owns it (首问责任制) until a recorded
//! handover to another person or a department; the handler calls the customer back (回访).
//!
//! - [`due_at`]: the deadline, defined in the company's time zone ([`company_tz`], Asia/Shanghai):
//!   the day of receipt is day 0; the answer is due by 24:00 of day 5 (complaints) or day 7
//!   (reports) there. Received 1 Dec 10:00 (Shanghai) → due before 7 Dec 00:00 (Shanghai).
//! - [`input`]: bounds and checks of everything a person types (the same for every backend).
//! - [`rules`]: who may hand over, answer and call back, and in which order (decided inside the
//!   store's transaction, on the complaint as it is then).
//! - [`figures`]: the counts the KPI dashboard shows, B ÷ A as plain numerator/denominator.
//!
//! The HTTP side is `crate::api::console::complaints`; storage is
//! [`ComplaintStore`](crate::store::complaints::ComplaintStore). Every change is an audit entry
//! ([`crate::audit`]) written in the same transaction, with the complaint's id as its subject.

pub mod figures;
pub mod input;
pub mod rules;

use chrono::{DateTime, Days, FixedOffset, NaiveTime, TimeZone, Utc};
use heatcrew_protocol::Customer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Complaint (投诉, 5 days) or report (举报, 7 days).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintKind {
    Complaint,
    Report,
}

impl ComplaintKind {
    /// Calendar days to answer in (投诉电话应在5日内,举报电话应在7日内给予答复).
    pub fn days_to_answer(self) -> u64 {
        match self {
            ComplaintKind::Complaint => 5,
            ComplaintKind::Report => 7,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintKind::Complaint => "complaint",
            ComplaintKind::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Option<ComplaintKind> {
        [ComplaintKind::Complaint, ComplaintKind::Report]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The number's prefix: TS (投诉) or JB (举报).
    pub fn prefix(self) -> &'static str {
        match self {
            ComplaintKind::Complaint => "TS",
            ComplaintKind::Report => "JB",
        }
    }
}

/// How it reached the office.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A call to a dispatcher's line.
    Phone,
    /// The service hotline (服务热线).
    Hotline,
    /// In person at the office (来访).
    Visit,
    /// A letter (来信).
    Letter,
    /// Web, app, mini-program, e-mail (网上).
    Online,
    /// Forwarded by a government line such as 12345, or anything else.
    Other,
}

impl Channel {
    pub const ALL: &[Channel] = &[
        Channel::Phone,
        Channel::Hotline,
        Channel::Visit,
        Channel::Letter,
        Channel::Online,
        Channel::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Hotline => "hotline",
            Channel::Visit => "visit",
            Channel::Letter => "letter",
            Channel::Online => "online",
            Channel::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// What the customer said on the callback (回访).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 满意
    Satisfied,
    /// 基本满意
    FairlySatisfied,
    /// 不满意
    Dissatisfied,
}

impl Satisfaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::FairlySatisfied => "fairly_satisfied",
            Satisfaction::Dissatisfied => "dissatisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Satisfaction> {
        [
            Satisfaction::Satisfied,
            Satisfaction::FairlySatisfied,
            Satisfaction::Dissatisfied,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Where a complaint stands at a given moment (computed, never stored).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintState {
    /// Not answered; the deadline has not passed.
    Open,
    /// Not answered; the deadline has passed.
    Overdue,
    /// Answered; the callback is still to be made.
    Answered,
    /// Answered and called back.
    Closed,
}

/// A staff member as a complaint names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct StaffRef {
    pub id: Uuid,
    pub display_name: String,
    pub badge_no: String,
}

/// Who owns it now: a person or a department, never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Owner {
    pub person: Option<StaffRef>,
    pub department: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Reply {
    pub text: String,
    pub by: StaffRef,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Callback {
    pub satisfaction: Satisfaction,
    pub note: String,
    pub by: StaffRef,
    pub at: DateTime<Utc>,
}

/// A complaint or report as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Complaint {
    pub id: Uuid,
    /// What people quote: TS2026-00007 (投诉) or JB2026-00008 (举报).
    pub number: String,
    pub kind: ComplaintKind,
    pub channel: Channel,
    /// Empty: anonymous (a report may be).
    pub caller_name: String,
    pub caller_phone: String,
    pub subject: String,
    pub text: String,
    pub job_id: Option<Uuid>,
    pub customer: Option<Customer>,
    pub received_at: DateTime<Utc>,
    /// [`due_at`] of `received_at`: answered in time means replied before this.
    pub due_at: DateTime<Utc>,
    /// 首问: who took it first.
    pub received_by: StaffRef,
    pub owner: Owner,
    pub reply: Option<Reply>,
    pub callback: Option<Callback>,
    pub created_at: DateTime<Utc>,
}

impl Complaint {
    pub fn state(&self, now: DateTime<Utc>) -> ComplaintState {
        match (&self.reply, &self.callback) {
            (Some(_), Some(_)) => ComplaintState::Closed,
            (Some(_), None) => ComplaintState::Answered,
            (None, _) if now >= self.due_at => ComplaintState::Overdue,
            (None, _) => ComplaintState::Open,
        }
    }

    /// Answered before the deadline (`None` while unanswered).
    pub fn answered_in_time(&self) -> Option<bool> {
        self.reply.as_ref().map(|r| r.at < self.due_at)
    }
}

/// The company's time zone: Asia/Shanghai. China has kept UTC+8 all year since 1991 (no daylight
/// saving), so a fixed offset is exact for every time the office accepts.
pub fn company_tz() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// When the answer to a complaint (or report) received at `received_at` is due: the calendar day of
/// receipt in the company's time zone is day 0; the answer is due by the end (24:00) of day 5
/// (complaint) or day 7 (report) there. The returned instant is that 24:00 — the first moment that
/// is late: a reply at `due_at - 1 ms` is in time, one at `due_at` is not.
pub fn due_at(kind: ComplaintKind, received_at: DateTime<Utc>) -> DateTime<Utc> {
    let tz = company_tz();
    let day = received_at.with_timezone(&tz).date_naive();
    let first_late_day = day
        .checked_add_days(Days::new(kind.days_to_answer() + 1))
        .expect("received times are bounded (input::received_at)");
    tz.from_local_datetime(&first_late_day.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset has exactly one instant per local time")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn deadlines_count_calendar_days_in_shanghai() {
        let cases = [
            // (kind, received, due): the due instant is 24:00 Shanghai of day 5 / day 7.
            (
                ComplaintKind::Complaint,
                "2026-12-01T10:00:00+08:00",
                "2026-12-07T00:00:00+08:00",
            ),
            (
                ComplaintKind::Report,
                "2026-12-01T10:00:00+08:00",
                "2026-12-09T00:00:00+08:00",
            ),
            // Month end: 31 Jan + 5 days is 5 Feb.
            (
                ComplaintKind::Complaint,
                "2026-01-31T23:59:00+08:00",
                "2026-02-06T00:00:00+08:00",
            ),
            // February of a common year, and of a leap year (29 Feb counts).
            (
                ComplaintKind::Complaint,
                "2027-02-26T09:00:00+08:00",
                "2027-03-04T00:00:00+08:00",
            ),
            (
                ComplaintKind::Complaint,
                "2028-02-26T09:00:00+08:00",
                "2028-03-03T00:00:00+08:00",
            ),
            // Year end: 28 Dec + 5 is 2 Jan; a report on 30 Dec is due by the end of 6 Jan.
            (
                ComplaintKind::Complaint,
                "2026-12-28T08:00:00+08:00",
                "2027-01-03T00:00:00+08:00",
            ),
            (
                ComplaintKind::Report,
                "2026-12-30T16:00:00+08:00",
                "2027-01-07T00:00:00+08:00",
            ),
            // 31 Dec 16:30 UTC is already 1 Jan in Shanghai: day 0 is 1 Jan, not 31 Dec.
            (
                ComplaintKind::Complaint,
                "2026-12-31T16:30:00Z",
                "2027-01-07T00:00:00+08:00",
            ),
            // …and 15:59 UTC is still 31 Dec there.
            (
                ComplaintKind::Complaint,
                "2026-12-31T15:59:59Z",
                "2027-01-06T00:00:00+08:00",
            ),
            // Midnight exactly belongs to the new day.
            (
                ComplaintKind::Complaint,
                "2026-03-01T00:00:00+08:00",
                "2026-03-07T00:00:00+08:00",
            ),
        ];
        for (kind, received, due) in cases {
            assert_eq!(
                due_at(kind, at(received)),
                at(due),
                "{kind:?} received {received}"
            );
        }
    }

    #[test]
    fn the_state_follows_the_deadline_and_the_answers() {
        let staff = StaffRef {
            id: Uuid::nil(),
            display_name: "调度员".into(),
            badge_no: String::new(),
        };
        let received = at("2026-01-31T10:00:00+08:00");
        let mut c = Complaint {
            id: Uuid::nil(),
            number: "TS2026-00001".into(),
            kind: ComplaintKind::Complaint,
            channel: Channel::Phone,
            caller_name: "王".into(),
            caller_phone: "13800138000".into(),
            subject: "s".into(),
            text: "t".into(),
            job_id: None,
            customer: None,
            received_at: received,
            due_at: due_at(ComplaintKind::Complaint, received),
            received_by: staff.clone(),
            owner: Owner {
                person: Some(staff.clone()),
                department: None,
            },
            reply: None,
            callback: None,
            created_at: received,
        };
        let due = c.due_at;
        assert_eq!(
            c.state(due - chrono::TimeDelta::milliseconds(1)),
            ComplaintState::Open
        );
        assert_eq!(c.state(due), ComplaintState::Overdue);
        c.reply = Some(Reply {
            text: "已处理".into(),
            by: staff.clone(),
            at: due - chrono::TimeDelta::milliseconds(1),
        });
        assert_eq!(
            c.answered_in_time(),
            Some(true),
            "the last millisecond is in time"
        );
        assert_eq!(c.state(due), ComplaintState::Answered);
        c.reply.as_mut().expect("reply").at = due;
        assert_eq!(c.answered_in_time(), Some(false), "24:00 of day 5 is late");
    }
}
