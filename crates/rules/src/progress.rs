//! The projection of one job's events: what has been recorded so far. A pure fold, so that the
//! store can rebuild it from the event log at any time and get exactly the live value.

use chrono::{DateTime, NaiveDate, Utc};
use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, CodeEntry, DeclineKind, EventBody, FindingCategory,
    NoEntryKind, Position, Reading, Remedy, RequestChannel, Resolution, Severity, SignatureRefusal,
    Signer, StepEvidence, Witness,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where and when an event happened, as the fold needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMeta {
    pub id: Uuid,
    pub seq: u64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepRecord {
    Done {
        at: DateTime<Utc>,
        evidence: StepEvidence,
    },
    Skipped {
        at: DateTime<Utc>,
        reason: String,
    },
}

impl StepRecord {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            StepRecord::Done { at, .. } | StepRecord::Skipped { at, .. } => *at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SignatureRecord {
    Signed {
        /// Who signed (projections kept before roles were stored read as the customer).
        #[serde(default)]
        signer: Signer,
        signer_name: String,
        image: AttachmentRef,
        at: DateTime<Utc>,
    },
    Declined {
        outcome: DeclineKind,
        reason: String,
        witness: Option<Witness>,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingRecord {
    /// The event that gave it: corrections may not name it (the rating is the customer's).
    pub event_id: Uuid,
    pub stars: u8,
    pub comment: String,
    pub at: DateTime<Utc>,
    /// The opinion form's answers (question key → option value); empty for a stars-only rating.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DamageRecord {
    pub id: Uuid,
    /// `property` (the customer's, caused by us) or `network` (ours, caused by the customer).
    pub whose: String,
    pub item: String,
    pub description: String,
    pub remedy: Option<Remedy>,
    pub remedy_detail: String,
    pub photos: Vec<AttachmentRef>,
    /// The customer's co-signature, or `signature_refused` says why there is none.
    pub customer_signature: Option<AttachmentRef>,
    #[serde(default)]
    pub signature_refused: Option<SignatureRefusal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub id: Uuid,
    pub category: FindingCategory,
    pub description: String,
    pub states: BTreeMap<String, String>,
    pub photos: Vec<AttachmentRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeRecord {
    pub number: String,
    pub deadline: NaiveDate,
    pub requirements: String,
    /// The follow-up inspection the inspector set (复查日期); `None`: the day after the deadline.
    #[serde(default)]
    pub follow_up_on: Option<NaiveDate>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointVisit {
    pub at: DateTime<Utc>,
    pub readings: Vec<Reading>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefectRecord {
    pub id: Uuid,
    pub checkpoint: Option<String>,
    pub category: String,
    pub severity: Severity,
    pub position: Position,
    pub description: String,
    pub photos: Vec<AttachmentRef>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccidentRecord {
    pub description: String,
    pub measures_taken: String,
    pub position: Position,
    pub injuries: bool,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedRecord {
    pub resolution: Resolution,
    pub summary: String,
    pub at: DateTime<Utc>,
}

/// Not home / no entry, recorded at the door.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoEntryRecord {
    pub outcome: NoEntryKind,
    pub reason: String,
    pub door_photo: AttachmentRef,
    pub witness: Option<Witness>,
    pub at: DateTime<Utc>,
}

/// The customer's request for another appointment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RescheduleRecord {
    pub channel: RequestChannel,
    pub preferred: AppointmentWindow,
    pub note: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrectionRecord {
    pub corrects: Uuid,
    pub reason: String,
    pub at: DateTime<Utc>,
    /// The corrected values ([`crate::correction::Replacement`]), if the correction carries any.
    #[serde(default)]
    pub replacement: Option<serde_json::Value>,
    /// The correction's own event.
    #[serde(default)]
    pub event_id: Option<Uuid>,
}

/// Everything recorded on one job, folded from its events in `device_seq` order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobProgress {
    pub steps: BTreeMap<String, StepRecord>,
    pub photos: BTreeMap<String, Vec<AttachmentRef>>,
    pub signatures: BTreeMap<String, SignatureRecord>,
    pub rating: Option<RatingRecord>,
    pub damages: Vec<DamageRecord>,
    pub findings: Vec<FindingRecord>,
    pub notices: Vec<NoticeRecord>,
    pub visits: BTreeMap<String, Vec<CheckpointVisit>>,
    pub defects: Vec<DefectRecord>,
    pub accidents: Vec<AccidentRecord>,
    pub closed: Option<ClosedRecord>,
    pub corrections: Vec<CorrectionRecord>,
    /// Ids of this job's events, in order (corrections must name one of them).
    pub event_ids: Vec<Uuid>,
    #[serde(default)]
    pub no_entry: Option<NoEntryRecord>,
    /// Reschedule requests, oldest first (the last is the one that stands).
    #[serde(default)]
    pub reschedule_requests: Vec<RescheduleRecord>,
    /// Presence confirmed by the station's code, per checkpoint (when, how).
    #[serde(default)]
    pub confirmations: BTreeMap<String, Vec<CheckpointConfirmation>>,
    /// The day's shift readiness, when it was recorded on this job.
    #[serde(default)]
    pub readiness: Option<ReadinessRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointConfirmation {
    pub at: DateTime<Utc>,
    pub method: CodeEntry,
    pub position: Option<Position>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadinessRecord {
    pub day: NaiveDate,
    pub checks: Vec<String>,
    pub at: DateTime<Utc>,
}

impl JobProgress {
    /// Fold one event in. Never fails: events are facts that already passed the rules.
    pub fn apply(&mut self, meta: EventMeta, body: &EventBody) {
        let at = meta.at;
        self.event_ids.push(meta.id);
        match body {
            EventBody::JobCreated { .. } => {}
            EventBody::StepCompleted { step, evidence } => {
                self.steps.insert(
                    step.clone(),
                    StepRecord::Done {
                        at,
                        evidence: evidence.clone(),
                    },
                );
            }
            EventBody::StepSkipped { step, reason } => {
                self.steps.insert(
                    step.clone(),
                    StepRecord::Skipped {
                        at,
                        reason: reason.clone(),
                    },
                );
            }
            EventBody::PhotoAdded { step, photo, .. } => {
                self.photos
                    .entry(step.clone())
                    .or_default()
                    .push(photo.clone());
            }
            EventBody::SignatureCaptured {
                step,
                signer,
                signer_name,
                image,
            } => {
                self.signatures.insert(
                    step.clone(),
                    SignatureRecord::Signed {
                        signer: *signer,
                        signer_name: signer_name.clone(),
                        image: image.clone(),
                        at,
                    },
                );
            }
            EventBody::SignatureDeclined {
                step,
                outcome,
                reason,
                witness,
            } => {
                self.signatures.insert(
                    step.clone(),
                    SignatureRecord::Declined {
                        outcome: *outcome,
                        reason: reason.clone(),
                        witness: witness.clone(),
                        at,
                    },
                );
            }
            EventBody::RatingGiven { stars, comment } => {
                self.rating = Some(RatingRecord {
                    event_id: meta.id,
                    stars: *stars,
                    comment: comment.clone(),
                    at,
                    answers: BTreeMap::new(),
                });
            }
            EventBody::OpinionGiven {
                stars,
                comment,
                answers,
            } => {
                self.rating = Some(RatingRecord {
                    event_id: meta.id,
                    stars: *stars,
                    comment: comment.clone(),
                    at,
                    answers: answers.clone(),
                });
            }
            EventBody::DamageRecorded {
                damage_id,
                item,
                description,
                remedy,
                remedy_detail,
                photos,
                customer_signature,
                signature_refused,
            } => self.damages.push(DamageRecord {
                id: *damage_id,
                whose: "property".into(),
                item: item.clone(),
                description: description.clone(),
                remedy: Some(*remedy),
                remedy_detail: remedy_detail.clone(),
                photos: photos.clone(),
                customer_signature: customer_signature.clone(),
                signature_refused: signature_refused.clone(),
            }),
            EventBody::NetworkDamageRecorded {
                damage_id,
                equipment,
                cause,
                photos,
                customer_signature,
                signature_refused,
            } => self.damages.push(DamageRecord {
                id: *damage_id,
                whose: "network".into(),
                item: equipment.clone(),
                description: cause.clone(),
                remedy: None,
                remedy_detail: String::new(),
                photos: photos.clone(),
                customer_signature: customer_signature.clone(),
                signature_refused: signature_refused.clone(),
            }),
            EventBody::FindingRecorded {
                finding_id,
                category,
                description,
                states,
                photos,
            } => self.findings.push(FindingRecord {
                id: *finding_id,
                category: *category,
                description: description.clone(),
                states: states.clone(),
                photos: photos.clone(),
            }),
            EventBody::NoticeIssued {
                number,
                deadline,
                requirements,
                follow_up_on,
            } => self.notices.push(NoticeRecord {
                number: number.clone(),
                deadline: *deadline,
                requirements: requirements.clone(),
                follow_up_on: *follow_up_on,
                at,
            }),
            EventBody::ReadingRecorded {
                checkpoint,
                readings,
                note,
            } => self
                .visits
                .entry(checkpoint.clone())
                .or_default()
                .push(CheckpointVisit {
                    at,
                    readings: readings.clone(),
                    note: note.clone(),
                }),
            EventBody::DefectReported {
                defect_id,
                checkpoint,
                category,
                severity,
                position,
                description,
                photos,
            } => self.defects.push(DefectRecord {
                id: *defect_id,
                checkpoint: checkpoint.clone(),
                category: category.clone(),
                severity: *severity,
                position: position.clone(),
                description: description.clone(),
                photos: photos.clone(),
                at,
            }),
            EventBody::AccidentReported {
                description,
                measures_taken,
                position,
                injuries,
            } => self.accidents.push(AccidentRecord {
                description: description.clone(),
                measures_taken: measures_taken.clone(),
                position: position.clone(),
                injuries: *injuries,
                at,
            }),
            EventBody::JobClosed {
                resolution,
                summary,
            } => {
                self.closed = Some(ClosedRecord {
                    resolution: *resolution,
                    summary: summary.clone(),
                    at,
                })
            }
            EventBody::NoEntryRecorded {
                outcome,
                reason,
                door_photo,
                witness,
            } => {
                self.no_entry = Some(NoEntryRecord {
                    outcome: *outcome,
                    reason: reason.clone(),
                    door_photo: door_photo.clone(),
                    witness: witness.clone(),
                    at,
                })
            }
            EventBody::RescheduleRequested {
                channel,
                preferred,
                note,
            } => self.reschedule_requests.push(RescheduleRecord {
                channel: *channel,
                preferred: *preferred,
                note: note.clone(),
                at,
            }),
            EventBody::Correction {
                corrects,
                reason,
                replacement,
            } => self.corrections.push(CorrectionRecord {
                corrects: *corrects,
                reason: reason.clone(),
                at,
                replacement: replacement.clone(),
                event_id: Some(meta.id),
            }),
            EventBody::CheckpointConfirmed {
                checkpoint,
                method,
                position,
                ..
            } => self
                .confirmations
                .entry(checkpoint.clone())
                .or_default()
                .push(CheckpointConfirmation {
                    at,
                    method: *method,
                    position: position.clone(),
                }),
            EventBody::ShiftReadinessConfirmed { day, checks } => {
                self.readiness = Some(ReadinessRecord {
                    day: *day,
                    checks: checks.clone(),
                    at,
                })
            }
        }
    }

    /// The office is asked for another appointment: the visit closed as not-home / no entry, or
    /// the customer asked for one.
    pub fn reschedule_wanted(&self) -> bool {
        self.closed
            .as_ref()
            .is_some_and(|c| c.resolution == Resolution::NoEntry)
            || !self.reschedule_requests.is_empty()
    }

    pub fn photo_count(&self, step: &str) -> usize {
        self.photos.get(step).map_or(0, Vec::len)
    }
}
