//! Who may do what to a complaint, and in which order (首问责任制). Decided on the complaint as the
//! store holds it inside the transaction that changes it, so two consoles cannot both answer.
//!
//! - The owner acts on it: the person who holds it, or anyone on staff while a department holds it
//!   (the department's handler takes it from there). An admin (a manager) may always act.
//! - Handover: to an active dispatcher or admin other than the owner, or to a department, with a
//!   note. Field staff do not take complaints.
//! - The reply is given once; the callback comes after the reply, once; then the complaint is closed
//!   and nothing more changes.

use super::Complaint;
use super::input::HandoverTo;
use crate::store::StoreError;
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{Role, UserInfo};

/// What is being done.
#[derive(Debug, Clone)]
pub enum Action<'a> {
    /// `target`: the receiving person as stored with whether they are active (`None`: unknown).
    Handover {
        to: &'a HandoverTo,
        target: Option<(&'a UserInfo, bool)>,
    },
    Reply,
    Callback,
}

fn conflict(code: ErrorCode, message: impl Into<String>) -> StoreError {
    StoreError::Conflict {
        code,
        message: message.into(),
    }
}

fn invalid(code: ErrorCode, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        code,
        message: message.into(),
    }
}

/// May `actor` act on `c` at all: the person owning it, anyone while a department holds it, an admin.
pub fn may_act(c: &Complaint, actor: &UserInfo) -> bool {
    actor.role == Role::Admin
        || c.owner.department.is_some()
        || c.owner.person.as_ref().is_some_and(|p| p.id == actor.id)
}

pub fn check(c: &Complaint, actor: &UserInfo, action: &Action<'_>) -> Result<(), StoreError> {
    if c.callback.is_some() {
        return Err(conflict(
            ErrorCode::ComplaintClosed,
            format!("{} was answered and called back; it is closed", c.number),
        ));
    }
    if !may_act(c, actor) {
        let owner = c
            .owner
            .person
            .as_ref()
            .map(|p| p.display_name.clone())
            .unwrap_or_default();
        return Err(conflict(
            ErrorCode::NotComplaintOwner,
            format!(
                "{} is {owner}'s (首问); they hand it over, or a manager does",
                c.number
            ),
        ));
    }
    match action {
        Action::Reply if c.reply.is_some() => Err(conflict(
            ErrorCode::ComplaintAlreadyReplied,
            format!(
                "{} was already answered; a reply is never changed",
                c.number
            ),
        )),
        Action::Reply => Ok(()),
        Action::Callback if c.reply.is_none() => Err(conflict(
            ErrorCode::ComplaintNotReplied,
            format!(
                "{} has no reply yet: answer it before calling back",
                c.number
            ),
        )),
        Action::Callback => Ok(()),
        Action::Handover { to, target } => match to {
            HandoverTo::Person(id) => {
                let Some((user, active)) = target else {
                    return Err(invalid(
                        ErrorCode::UnknownUser,
                        format!("there is no user {id}"),
                    ));
                };
                if !active {
                    return Err(invalid(
                        ErrorCode::HandoverInactiveUser,
                        format!(
                            "{} is deactivated and cannot take it over",
                            user.display_name
                        ),
                    ));
                }
                if !matches!(user.role, Role::Dispatcher | Role::Admin) {
                    return Err(invalid(
                        ErrorCode::HandoverTarget,
                        format!(
                            "{} is field staff; hand it to office staff or a department",
                            user.display_name
                        ),
                    ));
                }
                if c.owner.person.as_ref().is_some_and(|p| p.id == user.id) {
                    return Err(invalid(
                        ErrorCode::HandoverTarget,
                        format!("{} already owns it", user.display_name),
                    ));
                }
                Ok(())
            }
            HandoverTo::Department(d) if c.owner.department.as_deref() == Some(d.as_str()) => Err(
                invalid(ErrorCode::HandoverTarget, format!("{d} already owns it")),
            ),
            HandoverTo::Department(_) => Ok(()),
        },
    }
}
