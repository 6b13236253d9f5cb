//! What a person types into the tracker, bounded and checked before anything is stored: every text
//! trimmed, counted in characters (a Chinese character is one), control characters refused (line
//! breaks and tabs allowed in the long texts). A refusal is 422 with the code
//! `complaint_field` and the field named; nothing is stored.

use super::{Channel, ComplaintKind, Satisfaction};
use crate::store::StoreError;
use chrono::{DateTime, TimeDelta, Utc};
use heatcrew_protocol::{Customer, ErrorCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MAX_NAME: usize = 40;
pub const MAX_PHONE: usize = 30;
/// Digits a phone number needs (a short extension is not a number to call back).
pub const MIN_PHONE_DIGITS: usize = 5;
pub const MAX_SUBJECT: usize = 100;
pub const MAX_TEXT: usize = 4000;
pub const MAX_NOTE: usize = 1000;
pub const MAX_DEPARTMENT: usize = 40;
pub const MAX_ADDRESS: usize = 200;
pub const MAX_ACCOUNT: usize = 40;
/// A letter may be entered after it arrived: its received time may be this far back, never ahead.
pub const MAX_BACKDATE: TimeDelta = TimeDelta::days(30);
/// Clocks differ a little: a received time this far ahead of the office clock is taken as now.
pub const FUTURE_SLACK: TimeDelta = TimeDelta::minutes(5);

/// A complaint or report as taken at the console.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CreateComplaintRequest {
    /// Chosen by the console once per form: a submit retried after a lost answer stores it once.
    pub id: Option<Uuid>,
    pub kind: ComplaintKind,
    pub channel: Channel,
    /// Up to 40 characters; empty for an anonymous report (a complaint needs a phone number).
    #[serde(default)]
    pub caller_name: String,
    /// Up to 30 characters, at least 5 digits; required for a complaint (to answer and call back).
    #[serde(default)]
    pub caller_phone: String,
    /// 1–100 characters.
    pub subject: String,
    /// What the caller said, 1–4000 characters.
    pub text: String,
    /// A job it concerns (must exist).
    pub job_id: Option<Uuid>,
    /// The customer it concerns (from the customer lookup); taken from the job when absent.
    pub customer: Option<Customer>,
    /// When it reached the office (a letter's arrival); default now. Up to 30 days back, never
    /// ahead. The deadline counts from it.
    pub received_at: Option<DateTime<Utc>>,
}

/// Hand a complaint over to a person (an active dispatcher or admin) or to a department.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct HandoverRequest {
    pub to_user: Option<Uuid>,
    /// 1–40 characters (e.g. 维修部, 稽查科).
    pub to_department: Option<String>,
    /// Why and what was agreed, 1–1000 characters.
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ReplyRequest {
    /// The answer given to the caller, 1–4000 characters.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CallbackRequest {
    pub satisfaction: Satisfaction,
    /// What the customer said, up to 1000 characters.
    #[serde(default)]
    pub note: String,
}

fn refuse(message: String) -> StoreError {
    StoreError::Invalid {
        code: ErrorCode::ComplaintField,
        message,
    }
}

/// `value` trimmed, `min..=max` characters, no control characters (`multiline`: line breaks and
/// tabs allowed).
pub fn text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, StoreError> {
    let v = value.trim();
    if let Some(c) = v
        .chars()
        .find(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(refuse(format!(
            "{field} contains the control character U+{:04X}",
            c as u32
        )));
    }
    let n = v.chars().count();
    if n < min {
        return Err(refuse(format!("{field} is required")));
    }
    if n > max {
        return Err(refuse(format!(
            "{field} is {n} characters long; at most {max} are kept"
        )));
    }
    Ok(v.to_owned())
}

/// A phone number: digits, spaces, `+ - ( )`, at least [`MIN_PHONE_DIGITS`] digits; empty
/// unless `required`.
pub fn phone(field: &str, value: &str, required: bool) -> Result<String, StoreError> {
    let v = text(field, value, usize::from(required), MAX_PHONE, false)?;
    if v.is_empty() {
        return Ok(v);
    }
    if v.chars()
        .any(|c| !(c.is_ascii_digit() || " +-()".contains(c)))
    {
        return Err(refuse(format!(
            "{field} may hold digits, spaces and + - ( ) only"
        )));
    }
    if v.chars().filter(char::is_ascii_digit).count() < MIN_PHONE_DIGITS {
        return Err(refuse(format!(
            "{field} needs at least {MIN_PHONE_DIGITS} digits"
        )));
    }
    Ok(v)
}

/// The received time: now if not given; refused when more than [`MAX_BACKDATE`] back or more than
/// [`FUTURE_SLACK`] ahead (a later time would stretch the deadline).
pub fn received_at(
    given: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, StoreError> {
    let Some(t) = given else { return Ok(now) };
    if t > now + FUTURE_SLACK {
        return Err(refuse(
            "received_at is in the future; the deadline counts from when it reached the office"
                .into(),
        ));
    }
    if t < now - MAX_BACKDATE {
        return Err(refuse(format!(
            "received_at is more than {} days back",
            MAX_BACKDATE.num_days()
        )));
    }
    Ok(t.min(now))
}

/// The intake, checked: every text bounded; a complaint needs a phone number to answer.
pub fn check_create(req: &CreateComplaintRequest) -> Result<CreateComplaintRequest, StoreError> {
    let customer = match &req.customer {
        None => None,
        Some(c) => Some(Customer {
            name: text("customer.name", &c.name, 0, MAX_NAME, false)?,
            phone: phone("customer.phone", &c.phone, false)?,
            address: text("customer.address", &c.address, 0, MAX_ADDRESS, false)?,
            account_no: text("customer.account_no", &c.account_no, 0, MAX_ACCOUNT, false)?,
        }),
    };
    Ok(CreateComplaintRequest {
        id: req.id,
        kind: req.kind,
        channel: req.channel,
        caller_name: text("caller_name", &req.caller_name, 0, MAX_NAME, false)?,
        caller_phone: phone(
            "caller_phone",
            &req.caller_phone,
            req.kind == ComplaintKind::Complaint,
        )?,
        subject: text("subject", &req.subject, 1, MAX_SUBJECT, false)?,
        text: text("text", &req.text, 1, MAX_TEXT, true)?,
        job_id: req.job_id,
        customer,
        received_at: req.received_at,
    })
}

/// Where a handover goes, checked: exactly one of a person and a department, and a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverTo {
    Person(Uuid),
    Department(String),
}

pub fn check_handover(req: &HandoverRequest) -> Result<(HandoverTo, String), StoreError> {
    let to = match (&req.to_user, &req.to_department) {
        (Some(u), None) => HandoverTo::Person(*u),
        (None, Some(d)) => {
            HandoverTo::Department(text("to_department", d, 1, MAX_DEPARTMENT, false)?)
        }
        _ => {
            return Err(StoreError::Invalid {
                code: ErrorCode::HandoverTarget,
                message: "hand over to one person (to_user) or one department (to_department)"
                    .into(),
            });
        }
    };
    Ok((to, text("note", &req.note, 1, MAX_NOTE, true)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<impl std::fmt::Debug, StoreError>) -> String {
        match r {
            Err(StoreError::Invalid { message, .. }) => message,
            other => panic!("refused expected, got {other:?}"),
        }
    }

    #[test]
    fn texts_are_bounded_in_characters_and_refuse_control_characters() {
        assert_eq!(
            text("subject", "  暖气不热  ", 1, 4, false).expect("ok"),
            "暖气不热"
        );
        assert!(code(text("subject", "暖气不热了", 1, 4, false)).contains("at most 4"));
        assert!(code(text("subject", "   ", 1, 4, false)).contains("required"));
        assert!(code(text("subject", "a\u{0}b", 0, 9, false)).contains("U+0000"));
        assert!(code(text("subject", "a\nb", 0, 9, false)).contains("U+000A"));
        assert_eq!(
            text("text", "a\nb", 0, 9, true).expect("line breaks in long texts"),
            "a\nb"
        );
        assert!(code(text("text", "a\u{1b}[2J", 0, 9, true)).contains("U+001B"));
    }

    #[test]
    fn phones_need_digits_and_a_complaint_needs_one() {
        assert_eq!(
            phone("p", "138 0013-8000", true).expect("ok"),
            "138 0013-8000"
        );
        assert_eq!(phone("p", "", false).expect("anonymous"), "");
        assert!(code(phone("p", "", true)).contains("required"));
        assert!(code(phone("p", "1234", false)).contains("5 digits"));
        assert!(code(phone("p", "13800138000; DROP", false)).contains("digits"));
    }

    #[test]
    fn a_received_time_is_never_ahead_nor_far_back() {
        let now = Utc::now();
        assert_eq!(received_at(None, now).expect("now"), now);
        let ahead = now + TimeDelta::minutes(3);
        assert_eq!(received_at(Some(ahead), now).expect("clock slack"), now);
        assert!(code(received_at(Some(now + TimeDelta::hours(1)), now)).contains("future"));
        assert!(code(received_at(Some(now - TimeDelta::days(31)), now)).contains("30 days"));
        let letter = now - TimeDelta::days(3);
        assert_eq!(received_at(Some(letter), now).expect("a letter"), letter);
    }
}
