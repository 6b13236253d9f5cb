//! Typed event payloads: what was recorded. Frozen and versioned (see crate docs): add optional
//! fields with `#[serde(default)]` or new variants; never change an existing field's meaning.
//!
//! An [`crate::Event`] carries `kind` and `payload` as plain JSON so that any office can verify any
//! event, even one of a kind it does not yet understand; [`EventBody`] is the typed view.

use crate::{Digest, Job};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A photo or signature image, referenced by the SHA-256 of its stored bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttachmentRef {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub sha256: Digest,
    // JSON numbers: a photo is far below 2^53 bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
    pub mime: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    /// Capture time from the camera's EXIF, if it had one (evidence).
    #[serde(default)]
    pub taken_at: Option<DateTime<Utc>>,
    /// Capture position from EXIF, if any (evidence).
    #[serde(default)]
    pub gps: Option<Position>,
}

/// A place: coordinates where known, and words where not (a basement has no GPS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Position {
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub description: String,
    /// How far off the fix may be, in metres, as the device's geolocation reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub accuracy_m: Option<f64>,
    /// When the device got the fix (a cached fix is older than the record it goes with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub fixed_at: Option<DateTime<Utc>>,
    /// Why there are no coordinates, when the device tried and got none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub no_fix: Option<NoFix>,
}

/// Why a record has no coordinates: said, so that a missing position is never mistaken for a lost one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum NoFix {
    /// The user did not allow location.
    Denied,
    /// No signal (a basement, a pipe trench).
    Unavailable,
    /// No fix within the wait.
    Timeout,
    /// The device has no location service (a desktop without one).
    Unsupported,
}

/// How a checkpoint's code got into the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CodeEntry {
    /// Scanned with the phone's camera (the barcode plugin).
    Scanned,
    /// Typed from the plate at the station.
    Typed,
}

/// A measured value at a checkpoint or step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reading {
    pub key: String,
    pub value: f64,
    pub unit: String,
}

/// The evidence that completes a checklist step. Which parts are required is the template's business.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StepEvidence {
    /// Named free-text fields, e.g. `fault_found`, `work_done`, `parts_used`.
    #[serde(default)]
    pub text: BTreeMap<String, String>,
    /// Named equipment states, e.g. `meter` → `running`, `seal` → `broken`, `valve` → `open`.
    #[serde(default)]
    pub states: BTreeMap<String, String>,
    #[serde(default)]
    pub readings: Vec<Reading>,
    #[serde(default)]
    pub position: Option<Position>,
}

/// Who signed, stored as such: the customer, the contractor whose work an acceptance inspection
/// judges, a witness, or the technician.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Signer {
    #[default]
    Customer,
    Witness,
    Technician,
    /// 施工方: signs an acceptance inspection's result.
    Contractor,
}

/// Why there is no customer signature: a normal outcome, never a dead end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DeclineKind {
    /// 拒绝签字.
    Refused,
    /// 客户不在场.
    Absent,
}

/// Someone present who can confirm what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Witness {
    pub name: String,
    #[serde(default)]
    pub phone: String,
}

/// A co-signature that was not given (on a damage record), with the reason and a witness where
/// there is one: as for the visit's signature ([`EventBody::SignatureDeclined`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignatureRefusal {
    pub outcome: DeclineKind,
    pub reason: String,
    #[serde(default)]
    pub witness: Option<Witness>,
}

/// Why the technician could not get in, recorded at the door before entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum NoEntryKind {
    /// 客户不在家: nobody answered.
    NotHome,
    /// 客户拒绝入户: the customer would not let the technician in.
    EntryRefused,
}

/// How a reschedule request reached the technician.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RequestChannel {
    /// At the door (a note, a neighbour, the customer on the way out).
    Door,
    /// The customer phoned.
    Phone,
}

/// What was agreed for property the technician damaged (恢复原貌 / 等价处理 / 赔偿).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    RestoreOriginal,
    Equivalent,
    Compensation,
}

/// What an inspector found (违约或窃热行为).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FindingCategory {
    /// 私接/旁通管: a bypass or unauthorized connection.
    UnauthorizedConnection,
    /// 破坏铅封.
    TamperedSeal,
    /// 擅自改动计量表.
    TamperedMeter,
    /// 擅自开启已关闭阀门.
    ValveOpenedWithoutPermission,
    /// 擅自增加散热面积.
    AddedRadiators,
    Other,
}

/// How bad a patrol defect is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Major,
    Critical,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Resolved,
    /// Needs another visit (parts, access, a bigger repair).
    FollowUpNeeded,
    /// Nobody home, or entry refused, before entry: the office reschedules
    /// ([`EventBody::NoEntryRecorded`] says why).
    NoEntry,
}

/// The typed payload of an event. The serde tag is the event `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum EventBody {
    /// A job created on the device (an urgent accident report opens an emergency job offline).
    JobCreated { job: Job },
    /// A step of the job's checklist done, with its evidence.
    StepCompleted {
        step: String,
        #[serde(default)]
        evidence: StepEvidence,
    },
    /// A step skipped, always with a reason.
    StepSkipped { step: String, reason: String },
    /// A photo taken for a step (before/after, cleaned site, evidence).
    PhotoAdded {
        step: String,
        photo: AttachmentRef,
        #[serde(default)]
        caption: String,
    },
    /// A signature drawn on the screen for a step.
    SignatureCaptured {
        step: String,
        signer: Signer,
        #[serde(default)]
        signer_name: String,
        image: AttachmentRef,
    },
    /// No signature: refused or absent, with the reason and a witness where there is one.
    SignatureDeclined {
        step: String,
        outcome: DeclineKind,
        reason: String,
        #[serde(default)]
        witness: Option<Witness>,
    },
    /// The customer's satisfaction rating, entered by the customer; cannot be changed afterwards.
    RatingGiven {
        stars: u8,
        #[serde(default)]
        comment: String,
    },
    /// The customer's opinion form (维修意见征询表), filled in by the customer in customer mode:
    /// overall stars, a comment and one answer per question of
    /// `heatcrew_rules::opinion::QUESTIONS` (question key → option value). Locked like a rating:
    /// one per job, and no correction may name it. Added in protocol 1 by addition.
    OpinionGiven {
        stars: u8,
        #[serde(default)]
        comment: String,
        #[serde(default)]
        answers: BTreeMap<String, String>,
    },
    /// Damage to the customer's property, the agreed remedy, co-signed by the customer.
    DamageRecorded {
        damage_id: Uuid,
        item: String,
        description: String,
        remedy: Remedy,
        #[serde(default)]
        remedy_detail: String,
        #[serde(default)]
        photos: Vec<AttachmentRef>,
        /// The customer's co-signature, or (when absent) `signature_refused` says why not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        customer_signature: Option<AttachmentRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature_refused: Option<SignatureRefusal>,
    },
    /// Damage to the network caused by the customer, confirmed and signed by the customer.
    NetworkDamageRecorded {
        damage_id: Uuid,
        equipment: String,
        cause: String,
        #[serde(default)]
        photos: Vec<AttachmentRef>,
        /// The customer's co-signature, or (when absent) `signature_refused` says why not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        customer_signature: Option<AttachmentRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature_refused: Option<SignatureRefusal>,
    },
    /// A heat-theft finding.
    FindingRecorded {
        finding_id: Uuid,
        category: FindingCategory,
        description: String,
        #[serde(default)]
        states: BTreeMap<String, String>,
        #[serde(default)]
        photos: Vec<AttachmentRef>,
    },
    /// A written rectification notice (整改通知书); `number` is unique across devices.
    NoticeIssued {
        number: String,
        deadline: NaiveDate,
        requirements: String,
        #[serde(default)]
        follow_up_on: Option<NaiveDate>,
    },
    /// Readings at a patrol checkpoint (运行日志).
    ReadingRecorded {
        checkpoint: String,
        readings: Vec<Reading>,
        #[serde(default)]
        note: String,
    },
    /// A defect found on patrol.
    DefectReported {
        defect_id: Uuid,
        #[serde(default)]
        checkpoint: Option<String>,
        category: String,
        severity: Severity,
        position: Position,
        description: String,
        #[serde(default)]
        photos: Vec<AttachmentRef>,
    },
    /// An accident or hazard: emergency measures taken, reported at once. Jumps the sync queue.
    AccidentReported {
        description: String,
        measures_taken: String,
        position: Position,
        #[serde(default)]
        injuries: bool,
    },
    /// The job is closed on the device.
    JobClosed {
        resolution: Resolution,
        #[serde(default)]
        summary: String,
    },
    /// Nobody home, or entry refused, at the door before entry: the reason, a photo of the door,
    /// a witness where there is one; the event's time is when. The visit then closes as
    /// [`Resolution::NoEntry`].
    NoEntryRecorded {
        outcome: NoEntryKind,
        reason: String,
        door_photo: AttachmentRef,
        #[serde(default)]
        witness: Option<Witness>,
    },
    /// The customer asks for another appointment (at the door or by phone), with the window they
    /// prefer; the office reschedules.
    RescheduleRequested {
        channel: RequestChannel,
        preferred: crate::AppointmentWindow,
        #[serde(default)]
        note: String,
    },
    /// A correction of an earlier event (nothing is edited in place).
    Correction {
        corrects: Uuid,
        reason: String,
        #[serde(default)]
        replacement: Option<Value>,
    },
    /// Presence at a patrol checkpoint, shown by the code posted at the station (scanned or
    /// typed); the office checks the code again against its own.
    CheckpointConfirmed {
        checkpoint: String,
        code: String,
        method: CodeEntry,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<Position>,
    },
    /// Ready for the day's work (上岗前准备): uniform, badge, tools and protective equipment
    /// checked, once per day before the first job; recorded on the job it opens.
    ShiftReadinessConfirmed { day: NaiveDate, checks: Vec<String> },
}

/// The event kinds that are always urgent: the device pushes them before everything else queued,
/// and the office raises an alert for each on every open console. A kind added here needs the
/// office's `urgent_kinds` table to learn it too (a migration; its test compares the two). A
/// critical defect is urgent too ([`is_urgent_record`]).
pub const URGENT_KINDS: &[&str] = &["accident_reported"];

/// Whether a record is urgent, from its wire form: a kind in [`URGENT_KINDS`], or a defect of
/// severity `critical` (a hazard: 发现安全隐患时应及时报告, 规章制度 2.3). The office's
/// `alerts_raise` trigger says the same in SQL on both backends.
pub fn is_urgent_record(kind: &str, payload: &Value) -> bool {
    URGENT_KINDS.contains(&kind)
        || (kind == "defect_reported"
            && payload.get("severity").and_then(Value::as_str) == Some("critical"))
}

impl EventBody {
    /// The `kind` string this body is stored under.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::JobCreated { .. } => "job_created",
            EventBody::StepCompleted { .. } => "step_completed",
            EventBody::StepSkipped { .. } => "step_skipped",
            EventBody::PhotoAdded { .. } => "photo_added",
            EventBody::SignatureCaptured { .. } => "signature_captured",
            EventBody::SignatureDeclined { .. } => "signature_declined",
            EventBody::RatingGiven { .. } => "rating_given",
            EventBody::OpinionGiven { .. } => "opinion_given",
            EventBody::DamageRecorded { .. } => "damage_recorded",
            EventBody::NetworkDamageRecorded { .. } => "network_damage_recorded",
            EventBody::FindingRecorded { .. } => "finding_recorded",
            EventBody::NoticeIssued { .. } => "notice_issued",
            EventBody::ReadingRecorded { .. } => "reading_recorded",
            EventBody::DefectReported { .. } => "defect_reported",
            EventBody::AccidentReported { .. } => "accident_reported",
            EventBody::JobClosed { .. } => "job_closed",
            EventBody::Correction { .. } => "correction",
            EventBody::NoEntryRecorded { .. } => "no_entry_recorded",
            EventBody::RescheduleRequested { .. } => "reschedule_requested",
            EventBody::CheckpointConfirmed { .. } => "checkpoint_confirmed",
            EventBody::ShiftReadinessConfirmed { .. } => "shift_readiness_confirmed",
        }
    }

    /// Split into the envelope's `kind` and `payload`.
    pub fn to_parts(&self) -> (String, Value) {
        let mut v = serde_json::to_value(self).expect("event bodies always serialize");
        let payload = v
            .get_mut("payload")
            .map(Value::take)
            .unwrap_or(Value::Object(Default::default()));
        (self.kind().to_owned(), payload)
    }

    /// Rebuild from the envelope's `kind` and `payload`.
    pub fn from_parts(kind: &str, payload: &Value) -> Result<EventBody, serde_json::Error> {
        serde_json::from_value(serde_json::json!({"kind": kind, "payload": payload}))
    }

    /// Attachments this event refers to; they are uploaded after the event itself.
    pub fn attachments(&self) -> Vec<&AttachmentRef> {
        match self {
            EventBody::PhotoAdded { photo, .. } => vec![photo],
            EventBody::SignatureCaptured { image, .. } => vec![image],
            EventBody::DamageRecorded {
                photos,
                customer_signature,
                ..
            }
            | EventBody::NetworkDamageRecorded {
                photos,
                customer_signature,
                ..
            } => photos.iter().chain(customer_signature).collect(),
            EventBody::NoEntryRecorded { door_photo, .. } => vec![door_photo],
            EventBody::FindingRecorded { photos, .. }
            | EventBody::DefectReported { photos, .. } => photos.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Urgent records (accidents, critical defects) are pushed ahead of everything else, and raise
    /// an alert at the office: the kinds in [`URGENT_KINDS`] and a defect of severity critical.
    pub fn is_urgent(&self) -> bool {
        URGENT_KINDS.contains(&self.kind())
            || matches!(
                self,
                EventBody::DefectReported {
                    severity: Severity::Critical,
                    ..
                }
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_critical_defect_is_urgent_on_the_device_and_on_the_wire_alike() {
        let defect = |severity| EventBody::DefectReported {
            defect_id: Uuid::from_u128(1),
            checkpoint: None,
            category: "leak".into(),
            severity,
            position: Position::default(),
            description: "主管道焊口漏水，蒸汽外冒".into(),
            photos: vec![],
        };
        let cases = [
            (defect(Severity::Critical), true),
            (defect(Severity::Major), false),
            (defect(Severity::Minor), false),
            (
                EventBody::AccidentReported {
                    description: "井盖缺失".into(),
                    measures_taken: "设置围挡".into(),
                    position: Position::default(),
                    injuries: false,
                },
                true,
            ),
            (
                EventBody::StepSkipped {
                    step: "arrive".into(),
                    reason: "测试".into(),
                },
                false,
            ),
        ];
        for (body, urgent) in cases {
            let (kind, payload) = body.to_parts();
            assert_eq!(body.is_urgent(), urgent, "{kind}: {payload}");
            assert_eq!(
                is_urgent_record(&kind, &payload),
                urgent,
                "{kind} on the wire"
            );
        }
    }

    #[test]
    fn parts_round_trip_for_every_shape() {
        let body = EventBody::SignatureDeclined {
            step: "signature".into(),
            outcome: DeclineKind::Refused,
            reason: "对维修结果有异议".into(),
            witness: Some(Witness {
                name: "王物业".into(),
                phone: "13800000000".into(),
            }),
        };
        let (kind, payload) = body.to_parts();
        assert_eq!(kind, "signature_declined", "kind is the serde tag");
        assert_eq!(
            EventBody::from_parts(&kind, &payload).expect("parse"),
            body,
            "an event body must survive the envelope split unchanged"
        );
        let empty = EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: String::new(),
        };
        let (k, p) = empty.to_parts();
        assert_eq!(
            EventBody::from_parts(&k, &p).expect("parse"),
            empty,
            "unit-like bodies too"
        );
    }

    #[test]
    fn damage_records_signed_before_refusals_existed_still_read() {
        let sig = serde_json::json!({"sha256": "00".repeat(32), "bytes": 10, "mime": "image/png"});
        let old = serde_json::json!({
            "damage_id": Uuid::nil(), "item": "地板", "description": "划痕",
            "remedy": "compensation", "customer_signature": sig,
        });
        let body =
            EventBody::from_parts("damage_recorded", &old).expect("an old damage record parses");
        let EventBody::DamageRecorded {
            customer_signature,
            signature_refused,
            ..
        } = &body
        else {
            panic!("kind is damage_recorded");
        };
        assert!(customer_signature.is_some(), "the old signature is kept");
        assert!(signature_refused.is_none(), "and no refusal is invented");
        let re = body.to_parts().1;
        assert!(
            re.get("signature_refused").is_none(),
            "re-encoding an old record adds no refusal key"
        );
        let refused =
            serde_json::json!({"outcome": "refused", "reason": "不认可", "witness": null});
        let signed_old =
            serde_json::json!({"step": "signature", "signer": "customer", "image": sig});
        assert!(
            EventBody::from_parts("signature_captured", &signed_old).is_ok(),
            "an old signature event is still readable"
        );
        assert!(
            serde_json::from_value::<SignatureRefusal>(refused).is_ok(),
            "a refusal without a witness parses"
        );
    }
}
