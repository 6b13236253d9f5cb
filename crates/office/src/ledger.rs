//! The office's rules for a device's ledger that need no database: how a push batch is applied
//! ([`push`], over a backend's [`LedgerTx`]: sequence, retries, chain links, receipts) and what a
//! pushed event that passed the chain and signature checks may do ([`judge`]). Every
//! [`crate::store::OfficeStore`] backend implements [`LedgerTx`] over one write transaction and
//! calls [`push`], so the rules are the same on every backend.
//!
//! Ledger policy: an event that breaks the chain (edited, wrongly signed, wrongly linked) is not
//! stored and does not advance the device's ledger, because storing it would make the office's copy
//! of the chain unverifiable. An event whose chain is intact but whose content is refused (another
//! technician's job, a malformed payload) is stored flagged `rejected` and does advance the ledger:
//! it is part of the device's signed history, and without it every later event of the device would
//! be stuck behind a hole that the device cannot fill. Rejected events never touch jobs, reports or
//! attachments.
//!
//! What [`judge`] refuses, in order (docs/domain.md, "What the office accepts"):
//! - a known kind whose payload does not parse (`bad_payload`);
//! - a time, number, length or count outside [`heatcrew_protocol::bounds`] (`out_of_range`), so
//!   nothing stored can make a read fail;
//! - a `job_created` the field may not make ([`heatcrew_rules::field_jobs`]:
//!   `field_job_not_allowed`), for another user (`forbidden_job`) or for an existing job
//!   (`job_exists`); an accepted one is opened by the office with status `open`, assigned to the
//!   pusher, marked field-created and left out of the KPIs until a dispatcher accepts it;
//! - an event for an unknown job (`unknown_job`) or one never assigned to the user (`forbidden_job`);
//!   the user is the one who held the phone when the event was made, whoever pushes it: [`push`]
//!   asks [`makers`] (a crew's shared phone, a phone moved to someone else: records queued before
//!   the handover go up with the next user's token);
//! - a `job_closed` on a cancelled job (`job_cancelled`) or from a user the job was reassigned away
//!   from (`job_not_yours_anymore`): the job stays open. Other records of a former assignee are
//!   still taken (work done before the revocation reached the device is evidence).

pub mod makers;
mod push;

pub use push::{Checked, LedgerTx, NewEvent, Pushed, Settle, StoredVerdict, check, push};

use heatcrew_protocol::{ErrorCode, JobStatus, bounds};
use heatcrew_protocol::{Event, EventBody, Job};
use uuid::Uuid;

/// Event kinds this office understands. Events of other kinds (from newer devices) are verified and
/// stored but not interpreted.
pub const KNOWN_KINDS: &[&str] = &[
    "job_created",
    "step_completed",
    "step_skipped",
    "photo_added",
    "signature_captured",
    "signature_declined",
    "rating_given",
    "opinion_given",
    "damage_recorded",
    "network_damage_recorded",
    "finding_recorded",
    "notice_issued",
    "reading_recorded",
    "defect_reported",
    "accident_reported",
    "job_closed",
    "correction",
    "no_entry_recorded",
    "reschedule_requested",
    "checkpoint_confirmed",
    "shift_readiness_confirmed",
];

/// What the office knows about the job an event names, from the pushing user's point of view.
#[derive(Debug, Clone, Default)]
pub struct JobFacts {
    pub exists: bool,
    /// The user is the job's assignee now, or was before a reassignment (work done before the
    /// revocation reached the device is still evidence).
    pub user_is_or_was_assignee: bool,
    /// The user is the job's assignee now (only the current assignee may close it).
    pub user_is_assignee: bool,
    /// The office cancelled the job (it cannot be closed any more).
    pub cancelled: bool,
}

impl JobFacts {
    /// A job the user just opened (or is assigned now), open.
    pub fn assigned_to_user() -> JobFacts {
        JobFacts {
            exists: true,
            user_is_or_was_assignee: true,
            user_is_assignee: true,
            cancelled: false,
        }
    }
}

/// A refusal with a stable code and a reason the device shows to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub reason: String,
}

/// What an acceptable event does at the office.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Creates a job, assigned to the pushing user.
    CreateJob(Box<Job>),
    /// Recorded on an existing job; `body` is `None` for kinds this office does not know.
    Record(Option<Box<EventBody>>),
}

/// Decide whether `user_id` may record `event` (whose chain and signature already verified).
pub fn judge(event: &Event, user_id: Uuid, facts: &JobFacts) -> Result<Effect, Refusal> {
    let e = &event.unsigned;
    let known = KNOWN_KINDS.contains(&e.kind.as_str());
    let body = if known {
        match EventBody::from_parts(&e.kind, &e.payload) {
            Ok(b) => Some(b),
            Err(err) => {
                return Err(Refusal {
                    code: ErrorCode::BadPayload,
                    reason: format!("the {} payload does not match its schema: {err}", e.kind),
                });
            }
        }
    } else {
        None
    };
    let in_range = bounds::check_envelope(e).and_then(|()| match &body {
        Some(b) => bounds::check_body(b),
        None => Ok(()),
    });
    if let Err(r) = in_range {
        return Err(Refusal {
            code: ErrorCode::OutOfRange,
            reason: r.to_string(),
        });
    }
    if let Some(EventBody::JobCreated { job }) = &body {
        if job.id != e.job_id {
            return Err(Refusal {
                code: ErrorCode::BadPayload,
                reason: format!(
                    "job_created names job {} but the event is for job {}",
                    job.id, e.job_id
                ),
            });
        }
        if let Err(why) = heatcrew_rules::field_jobs::check(job, e.recorded_at) {
            return Err(Refusal {
                code: why.code(),
                reason: why.to_string(),
            });
        }
        if facts.exists {
            return Err(Refusal {
                code: ErrorCode::JobExists,
                reason: format!(
                    "job {} already exists at the office; a device may only create new jobs",
                    job.id
                ),
            });
        }
        if job.assignee.is_some_and(|a| a != user_id) {
            return Err(Refusal {
                code: ErrorCode::ForbiddenJob,
                reason: "a device may only create jobs for its own user".into(),
            });
        }
        // The office decides a new job's status and revision, whatever the device said.
        let mut job = job.clone();
        job.assignee = Some(user_id);
        job.status = JobStatus::Open;
        job.revision = 1;
        return Ok(Effect::CreateJob(Box::new(job)));
    }
    if !facts.exists {
        return Err(Refusal {
            code: ErrorCode::UnknownJob,
            reason: format!("job {} is not known at the office", e.job_id),
        });
    }
    if !facts.user_is_or_was_assignee {
        return Err(Refusal {
            code: ErrorCode::ForbiddenJob,
            reason: format!("job {} is not assigned to you", e.job_id),
        });
    }
    if let Some(EventBody::NoticeIssued {
        deadline,
        follow_up_on,
        ..
    }) = &body
        && let Err(e) = heatcrew_rules::checklist::follow_up(*deadline, *follow_up_on)
    {
        return Err(Refusal {
            code: e.code(),
            reason: e.to_string(),
        });
    }
    if let Some(EventBody::JobClosed { .. }) = &body {
        if facts.cancelled {
            return Err(Refusal {
                code: ErrorCode::JobCancelled,
                reason: format!(
                    "job {} was cancelled by the office; it stays open",
                    e.job_id
                ),
            });
        }
        if !facts.user_is_assignee {
            return Err(Refusal {
                code: ErrorCode::JobNotYoursAnymore,
                reason: format!(
                    "job {} was reassigned to someone else; only its assignee can close it",
                    e.job_id
                ),
            });
        }
    }
    Ok(Effect::Record(body.map(Box::new)))
}

/// A correction (already accepted by [`judge`]) names an accepted record of the same job
/// (`original`; `None` if there is none) and never the customer's rating or opinion form
/// (`rating_locked`); its values fit that record ([`heatcrew_rules::correction::check_shape`]).
/// The device checks the same before recording; this holds for a device that does not.
pub fn judge_correction(body: &EventBody, original: Option<&EventBody>) -> Result<(), Refusal> {
    let EventBody::Correction {
        reason,
        replacement,
        ..
    } = body
    else {
        return Ok(());
    };
    let refuse = |e: heatcrew_rules::RuleError| Refusal {
        code: e.code(),
        reason: e.to_string(),
    };
    let Some(original) = original else {
        return Err(Refusal {
            code: ErrorCode::BadCorrection,
            reason: "a correction must name an accepted record of the same job".into(),
        });
    };
    if reason.trim().is_empty() {
        return Err(refuse(heatcrew_rules::RuleError::BadCorrection));
    }
    let values =
        heatcrew_rules::correction::Replacement::parse(replacement.as_ref()).map_err(refuse)?;
    heatcrew_rules::correction::check_shape(original, values.as_ref()).map_err(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use ed25519_dalek::SigningKey;
    use heatcrew_protocol::{Digest, JobKind, JobStatus, Resolution, TemplateRef, UnsignedEvent};

    fn event(job_id: Uuid, body: &EventBody) -> Event {
        let (kind, payload) = body.to_parts();
        UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: Uuid::from_u128(1),
            device_seq: 1,
            job_id,
            kind,
            payload,
            recorded_at: Utc::now(),
            elapsed_ms: 0,
            prev_hash: Digest::GENESIS,
            format: heatcrew_protocol::Format::V2,
        }
        .seal(&SigningKey::from_bytes(&[1; 32]))
    }

    fn job(id: Uuid, assignee: Option<Uuid>) -> Job {
        Job {
            id,
            kind: JobKind::EmergencyRepair,
            template: TemplateRef {
                id: "emergency_repair".into(),
                version: 1,
            },
            title: "抢修".into(),
            customer: None,
            site: Some("3号换热站".into()),
            reported_at: Some(Utc::now()),
            window: None,
            assignee,
            street_work: false,
            checkpoints: vec![],
            status: JobStatus::Open,
            utc_offset_minutes: None,
            revision: 0,
        }
    }

    #[test]
    fn table_of_verdicts() {
        let me = Uuid::from_u128(10);
        let other = Uuid::from_u128(11);
        let j = Uuid::from_u128(20);
        let close = EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: String::new(),
        };
        let mine = JobFacts::assigned_to_user();
        let theirs = JobFacts {
            exists: true,
            ..JobFacts::default()
        };
        let was_mine = JobFacts {
            exists: true,
            user_is_or_was_assignee: true,
            ..JobFacts::default()
        };
        let cancelled = JobFacts {
            cancelled: true,
            ..JobFacts::assigned_to_user()
        };
        let none = JobFacts::default();
        let cases: Vec<(&str, Event, JobFacts, Result<&str, ErrorCode>)> = vec![
            ("my job", event(j, &close), mine.clone(), Ok("record")),
            (
                "closing a job reassigned away from me",
                event(j, &close),
                was_mine.clone(),
                Err(ErrorCode::JobNotYoursAnymore),
            ),
            (
                "a step on a job reassigned away from me (evidence of work before the revocation)",
                event(
                    j,
                    &EventBody::StepSkipped {
                        step: "arrive".into(),
                        reason: "已改派".into(),
                    },
                ),
                was_mine.clone(),
                Ok("record"),
            ),
            (
                "closing a cancelled job",
                event(j, &close),
                cancelled.clone(),
                Err(ErrorCode::JobCancelled),
            ),
            (
                "someone else's job",
                event(j, &close),
                theirs.clone(),
                Err(ErrorCode::ForbiddenJob),
            ),
            (
                "a job the office never heard of",
                event(j, &close),
                none.clone(),
                Err(ErrorCode::UnknownJob),
            ),
            (
                "a new emergency job",
                event(j, &EventBody::JobCreated { job: job(j, None) }),
                none.clone(),
                Ok("create"),
            ),
            (
                "re-creating an existing job",
                event(j, &EventBody::JobCreated { job: job(j, None) }),
                mine.clone(),
                Err(ErrorCode::JobExists),
            ),
            (
                "creating a job for someone else",
                event(
                    j,
                    &EventBody::JobCreated {
                        job: job(j, Some(other)),
                    },
                ),
                none.clone(),
                Err(ErrorCode::ForbiddenJob),
            ),
            (
                "a job_created naming another job",
                event(
                    j,
                    &EventBody::JobCreated {
                        job: job(Uuid::from_u128(21), None),
                    },
                ),
                none.clone(),
                Err(ErrorCode::BadPayload),
            ),
        ];
        for (why, e, facts, want) in cases {
            let got = match judge(&e, me, &facts) {
                Ok(Effect::CreateJob(job)) => {
                    assert_eq!(
                        job.assignee,
                        Some(me),
                        "{why}: a device-created job belongs to its user"
                    );
                    Ok("create")
                }
                Ok(Effect::Record(_)) => Ok("record"),
                Err(r) => Err(r.code),
            };
            assert_eq!(got, want, "{why}");
        }
    }

    #[test]
    fn malformed_payloads_of_known_kinds_are_refused_but_unknown_kinds_pass() {
        let me = Uuid::from_u128(10);
        let facts = JobFacts::assigned_to_user();
        let mut e = event(
            Uuid::from_u128(20),
            &EventBody::RatingGiven {
                stars: 5,
                comment: String::new(),
            },
        );
        e.unsigned.payload = serde_json::json!({"stars": "five"});
        assert_eq!(
            judge(&e, me, &facts).err().map(|r| r.code),
            Some(ErrorCode::BadPayload),
            "a rating that is not a number cannot be projected into reports"
        );
        e.unsigned.kind = "thermal_image_added".into();
        assert!(
            matches!(judge(&e, me, &facts), Ok(Effect::Record(None))),
            "a newer device's event kind must still be stored, or its chain would stall"
        );
    }
}
