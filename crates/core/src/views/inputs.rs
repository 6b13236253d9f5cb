//! What the field app's forms send, and the events they become (each with a new record id).

use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, EventBody, FindingCategory, NoEntryKind, Position, Remedy,
    RequestChannel, Severity, SignatureRefusal, Witness,
};
use heatcrew_rules::correction::Replacement;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;
use uuid::Uuid;

/// A damage record as the form sends it (`record_damage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DamageInput {
    pub item: String,
    pub description: String,
    pub remedy: Remedy,
    #[serde(default)]
    pub remedy_detail: String,
    #[serde(default)]
    pub photos: Vec<AttachmentRef>,
    /// The customer's co-signature, or (refused / absent) `signature_refused` with the reason.
    #[serde(default)]
    #[ts(optional)]
    pub customer_signature: Option<AttachmentRef>,
    #[serde(default)]
    #[ts(optional)]
    pub signature_refused: Option<SignatureRefusal>,
}

/// Damage to the network caused by the customer (`record_network_damage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NetworkDamageInput {
    pub equipment: String,
    pub cause: String,
    #[serde(default)]
    pub photos: Vec<AttachmentRef>,
    /// The customer's co-signature, or (refused / absent) `signature_refused` with the reason.
    #[serde(default)]
    #[ts(optional)]
    pub customer_signature: Option<AttachmentRef>,
    #[serde(default)]
    #[ts(optional)]
    pub signature_refused: Option<SignatureRefusal>,
}

/// A heat-theft finding (`record_finding`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FindingInput {
    pub category: FindingCategory,
    pub description: String,
    #[serde(default)]
    pub states: BTreeMap<String, String>,
    #[serde(default)]
    pub photos: Vec<AttachmentRef>,
}

/// A patrol defect (`report_defect`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DefectInput {
    pub checkpoint: Option<String>,
    pub category: String,
    pub severity: Severity,
    pub position: Position,
    pub description: String,
    #[serde(default)]
    pub photos: Vec<AttachmentRef>,
}

/// An urgent accident or hazard report (`report_accident`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AccidentInput {
    pub description: String,
    #[serde(default)]
    pub measures_taken: String,
    pub position: Position,
    #[serde(default)]
    pub injuries: bool,
}

/// Not home / no entry at the door (`close_not_home`): recorded, then the visit closes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NoEntryInput {
    pub outcome: NoEntryKind,
    pub reason: String,
    pub door_photo: AttachmentRef,
    #[serde(default)]
    pub witness: Option<Witness>,
    /// The customer's preferred window, if they gave one (a note on the door, a call).
    #[serde(default)]
    pub reschedule: Option<RescheduleInput>,
}

/// The customer's request for another appointment (`request_reschedule`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RescheduleInput {
    pub channel: RequestChannel,
    pub preferred: AppointmentWindow,
    #[serde(default)]
    pub note: String,
}

impl RescheduleInput {
    pub fn into_body(self) -> EventBody {
        EventBody::RescheduleRequested {
            channel: self.channel,
            preferred: self.preferred,
            note: self.note,
        }
    }
}

impl DamageInput {
    /// The event, with a new id for the damage record.
    pub fn into_body(self) -> EventBody {
        EventBody::DamageRecorded {
            damage_id: Uuid::now_v7(),
            item: self.item,
            description: self.description,
            remedy: self.remedy,
            remedy_detail: self.remedy_detail,
            photos: self.photos,
            customer_signature: self.customer_signature,
            signature_refused: self.signature_refused,
        }
    }
}

impl NetworkDamageInput {
    pub fn into_body(self) -> EventBody {
        EventBody::NetworkDamageRecorded {
            damage_id: Uuid::now_v7(),
            equipment: self.equipment,
            cause: self.cause,
            photos: self.photos,
            customer_signature: self.customer_signature,
            signature_refused: self.signature_refused,
        }
    }
}

impl FindingInput {
    pub fn into_body(self) -> EventBody {
        EventBody::FindingRecorded {
            finding_id: Uuid::now_v7(),
            category: self.category,
            description: self.description,
            states: self.states,
            photos: self.photos,
        }
    }
}

impl DefectInput {
    pub fn into_body(self) -> EventBody {
        EventBody::DefectReported {
            defect_id: Uuid::now_v7(),
            checkpoint: self.checkpoint,
            category: self.category,
            severity: self.severity,
            position: self.position,
            description: self.description,
            photos: self.photos,
        }
    }
}

/// The customer's opinion form as customer mode sends it (`give_opinion`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OpinionInput {
    pub stars: u8,
    #[serde(default)]
    pub comment: String,
    /// Question key → the chosen option's value (`heatcrew_rules::opinion::questions`).
    pub answers: BTreeMap<String, String>,
}

impl OpinionInput {
    pub fn into_body(self) -> EventBody {
        EventBody::OpinionGiven {
            stars: self.stars,
            comment: self.comment,
            answers: self.answers,
        }
    }
}

/// A correction of one of the job's records (`correct_record`): which record, why, and the
/// corrected values (none: a note of what was wrong).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CorrectionInput {
    pub corrects: Uuid,
    pub reason: String,
    #[serde(default)]
    pub replacement: Option<Replacement>,
}

impl CorrectionInput {
    pub fn into_body(self) -> EventBody {
        EventBody::Correction {
            corrects: self.corrects,
            reason: self.reason,
            replacement: self.replacement.map(|r| r.to_value()),
        }
    }
}
