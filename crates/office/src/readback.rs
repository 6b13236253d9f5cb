//! A job read back: its stored events projected as visit steps, photos, signatures, ratings,
//! notices, readings and defects, with the repair deadline and the patrol checkpoints. Computed from
//! the stored events on each read, so it can never drift from the evidence. Every sum over stored
//! times saturates, so an event stored with an absurd time (before ingest checked ranges) shows an
//! absurd time and never fails the read.

use crate::store::{JobRecord, OfficeStore, StoreResult, StoredEvent};
use chrono::{DateTime, Utc};
use heatcrew_protocol::bounds::{add_millis_saturating, add_saturating};
use heatcrew_protocol::{AttachmentRef, Digest, EventBody, JobKind, JobStatus};
use heatcrew_rules::rounds::{self, RoundState, Rounds};
use heatcrew_rules::sla::{self, Sla};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Who recorded an event and when (device clock, and corrected by the device's known offset).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Recorded {
    pub event_id: Uuid,
    pub device_id: Uuid,
    #[ts(type = "number")]
    pub device_seq: u64,
    pub user_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// `recorded_at` plus the device's clock offset at the office (server minus device).
    pub corrected_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AttachmentView {
    pub sha256: String,
    pub mime: String,
    #[ts(type = "number")]
    pub bytes: u64,
    /// The file arrived and its hash matched.
    pub received: bool,
}

/// A checklist step as the device recorded it: completed with its evidence, or skipped with a reason.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RecordedStep {
    #[serde(flatten)]
    pub at: Recorded,
    pub step: String,
    /// `completed` or `skipped`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub skip_reason: Option<String>,
    #[schema(value_type = Object)]
    #[ts(type = "unknown")]
    pub evidence: Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct PhotoView {
    #[serde(flatten)]
    pub at: Recorded,
    pub step: String,
    pub caption: String,
    pub photo: AttachmentView,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SignatureView {
    #[serde(flatten)]
    pub at: Recorded,
    pub step: String,
    /// `customer`, `witness`, `technician`; or `declined`.
    pub signer: String,
    pub signer_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub image: Option<AttachmentView>,
    /// For a declined signature: `refused` or `absent`, the reason and the witness.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    #[ts(optional, type = "unknown")]
    pub declined: Option<Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RecordView {
    #[serde(flatten)]
    pub at: Recorded,
    pub kind: String,
    #[schema(value_type = Object)]
    #[ts(type = "unknown")]
    pub payload: Value,
    /// Attachments this record references, with whether each arrived.
    pub attachments: Vec<AttachmentView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RejectedView {
    #[serde(flatten)]
    pub at: Recorded,
    pub kind: String,
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SlaView {
    pub reported_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Corrected time of the `job_closed` with resolution `resolved` (the rules' fold: the last
    /// closing counts).
    pub resolved_at: Option<DateTime<Utc>>,
    /// `None` while still open and within the deadline.
    pub within_sla: Option<bool>,
}

/// A job as the office reads it back.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct JobDetail {
    #[schema(value_type = Object)]
    pub job: heatcrew_protocol::Job,
    pub created_at: DateTime<Utc>,
    pub cancel_reason: Option<String>,
    /// Opened by a device in the field rather than by dispatch.
    pub field_created: bool,
    /// Field-created and not yet accepted by a dispatcher: left out of the KPIs.
    pub awaiting_acceptance: bool,
    pub steps: Vec<RecordedStep>,
    pub photos: Vec<PhotoView>,
    pub signatures: Vec<SignatureView>,
    /// `rating_given` and `opinion_given` records (the customer's stars, comment and, for the
    /// opinion form, the answers).
    pub ratings: Vec<RecordView>,
    /// `notice_issued` records (整改通知书).
    pub notices: Vec<RecordView>,
    /// `reading_recorded` records (运行日志).
    pub readings: Vec<RecordView>,
    /// `defect_reported` records.
    pub defects: Vec<RecordView>,
    /// Findings, damage, accidents, corrections, closings and kinds this office does not know.
    pub other_records: Vec<RecordView>,
    pub closed: Option<RecordView>,
    /// Not home / no entry at the door (`no_entry_recorded`: reason, witness, door photo).
    pub no_entry: Option<RecordView>,
    /// The customer's requests for another appointment (`reschedule_requested`), oldest first.
    pub reschedule_requests: Vec<RecordView>,
    /// The office is asked to reschedule: closed as no entry, or the customer asked.
    pub reschedule_requested: bool,
    /// Events refused for this job (kept in the device ledger, not applied).
    pub rejected: Vec<RejectedView>,
    pub sla: Option<SlaView>,
    pub patrol: Option<PatrolView>,
}

/// Late and missed checkpoint visits of a patrol round.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, Default, ts_rs::TS)]
pub struct PatrolView {
    pub checkpoints: Vec<CheckpointStatus>,
    #[ts(type = "number")]
    pub late: u64,
    #[ts(type = "number")]
    pub missed: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CheckpointStatus {
    pub id: String,
    pub name: String,
    pub interval_minutes: u32,
    #[ts(type = "number")]
    pub visits: u64,
    /// Rounds visited only in the grace after their end (a quarter interval).
    #[ts(type = "number")]
    pub late: u64,
    /// Rounds that ended, grace and all, with no visit.
    #[ts(type = "number")]
    pub missed: u64,
    pub last_visit: Option<DateTime<Utc>>,
    /// Presence confirmed with the station's code, checked again here against the office's own
    /// digest: only these are evidence of presence.
    #[serde(default)]
    #[ts(type = "number")]
    pub confirmed_by_code: u64,
    /// Confirmations whose code does not match the station's (a device that skipped its check).
    #[serde(default)]
    #[ts(type = "number")]
    pub code_mismatches: u64,
    /// The last confirmation by code (corrected time).
    #[serde(default)]
    pub last_confirmed: Option<DateTime<Utc>>,
}

fn recorded(e: &StoredEvent) -> Recorded {
    let u = &e.event.unsigned;
    Recorded {
        event_id: u.id,
        device_id: u.device_id,
        device_seq: u.device_seq,
        user_id: e.user_id,
        recorded_at: u.recorded_at,
        corrected_at: corrected(e),
    }
}

/// Device time corrected by the office's last known offset for the device.
pub fn corrected(e: &StoredEvent) -> DateTime<Utc> {
    add_millis_saturating(
        e.event.unsigned.recorded_at,
        e.device_clock_offset_ms.unwrap_or(0),
    )
}

/// Looks up whether attachments arrived (cached per view).
struct Arrivals<'a> {
    store: &'a dyn OfficeStore,
    known: HashMap<Digest, bool>,
}

impl Arrivals<'_> {
    fn view(&mut self, a: &AttachmentRef) -> StoreResult<AttachmentView> {
        let received = match self.known.get(&a.sha256) {
            Some(r) => *r,
            None => {
                let r = self
                    .store
                    .attachment(a.sha256)?
                    .is_some_and(|row| row.complete);
                self.known.insert(a.sha256, r);
                r
            }
        };
        Ok(AttachmentView {
            sha256: a.sha256.to_hex(),
            mime: a.mime.clone(),
            bytes: a.bytes,
            received,
        })
    }
}

/// Project a job's stored events.
pub fn job_detail(
    store: &dyn OfficeStore,
    rec: JobRecord,
    now: DateTime<Utc>,
) -> StoreResult<JobDetail> {
    let events = store.job_events(rec.job.id)?;
    let mut arrivals = Arrivals {
        store,
        known: HashMap::new(),
    };
    let mut d = JobDetail {
        job: rec.job.clone(),
        created_at: rec.created_at,
        cancel_reason: rec.cancel_reason.clone(),
        field_created: rec.field_created,
        awaiting_acceptance: rec.awaiting_acceptance(),
        steps: vec![],
        photos: vec![],
        signatures: vec![],
        ratings: vec![],
        notices: vec![],
        readings: vec![],
        defects: vec![],
        other_records: vec![],
        closed: None,
        no_entry: None,
        reschedule_requests: vec![],
        reschedule_requested: false,
        rejected: vec![],
        sla: None,
        patrol: None,
    };
    for e in &events {
        let u = &e.event.unsigned;
        if !e.accepted {
            d.rejected.push(RejectedView {
                at: recorded(e),
                kind: u.kind.clone(),
                code: e.reject_code.clone().unwrap_or_default(),
                reason: e.reject_reason.clone().unwrap_or_default(),
            });
            continue;
        }
        let body = EventBody::from_parts(&u.kind, &u.payload).ok();
        let record = |arrivals: &mut Arrivals<'_>| -> StoreResult<RecordView> {
            let attachments = body
                .as_ref()
                .map(|b| {
                    b.attachments()
                        .into_iter()
                        .map(|a| arrivals.view(a))
                        .collect::<StoreResult<Vec<_>>>()
                })
                .transpose()?
                .unwrap_or_default();
            Ok(RecordView {
                at: recorded(e),
                kind: u.kind.clone(),
                payload: u.payload.clone(),
                attachments,
            })
        };
        match &body {
            Some(EventBody::StepCompleted { step, evidence }) => d.steps.push(RecordedStep {
                at: recorded(e),
                step: step.clone(),
                status: "completed".into(),
                skip_reason: None,
                evidence: serde_json::to_value(evidence).unwrap_or(Value::Null),
            }),
            Some(EventBody::StepSkipped { step, reason }) => d.steps.push(RecordedStep {
                at: recorded(e),
                step: step.clone(),
                status: "skipped".into(),
                skip_reason: Some(reason.clone()),
                evidence: Value::Null,
            }),
            Some(EventBody::PhotoAdded {
                step,
                photo,
                caption,
            }) => d.photos.push(PhotoView {
                at: recorded(e),
                step: step.clone(),
                caption: caption.clone(),
                photo: arrivals.view(photo)?,
            }),
            Some(EventBody::SignatureCaptured {
                step,
                signer,
                signer_name,
                image,
            }) => d.signatures.push(SignatureView {
                at: recorded(e),
                step: step.clone(),
                signer: serde_json::to_value(signer)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                signer_name: signer_name.clone(),
                image: Some(arrivals.view(image)?),
                declined: None,
            }),
            Some(EventBody::SignatureDeclined { step, .. }) => d.signatures.push(SignatureView {
                at: recorded(e),
                step: step.clone(),
                signer: "declined".into(),
                signer_name: String::new(),
                image: None,
                declined: Some(u.payload.clone()),
            }),
            Some(EventBody::RatingGiven { .. } | EventBody::OpinionGiven { .. }) => {
                d.ratings.push(record(&mut arrivals)?)
            }
            Some(EventBody::NoticeIssued { .. }) => d.notices.push(record(&mut arrivals)?),
            Some(EventBody::ReadingRecorded { .. }) => d.readings.push(record(&mut arrivals)?),
            Some(EventBody::DefectReported { .. }) => d.defects.push(record(&mut arrivals)?),
            Some(EventBody::JobClosed { .. }) => {
                let r = record(&mut arrivals)?;
                d.closed.get_or_insert(r);
            }
            Some(EventBody::NoEntryRecorded { .. }) => {
                let r = record(&mut arrivals)?;
                d.no_entry.get_or_insert(r);
            }
            Some(EventBody::RescheduleRequested { .. }) => {
                d.reschedule_requests.push(record(&mut arrivals)?)
            }
            _ => d.other_records.push(record(&mut arrivals)?),
        }
    }
    // The 4-hour clock is the field rules' (`heatcrew_rules::sla::resolution`), folded from the
    // same accepted events the board folds.
    let progress = crate::board::progress_of(&events);
    d.reschedule_requested = progress.reschedule_wanted();
    if let Some(reported_at) = rec.job.reported_at {
        let (deadline, resolved_at, within_sla) = match sla::resolution(&rec.job, &progress, now) {
            Sla::Met {
                due_at,
                resolved_at,
            } => (due_at, Some(resolved_at), Some(true)),
            Sla::MetLate {
                due_at,
                resolved_at,
            } => (due_at, Some(resolved_at), Some(false)),
            Sla::Breached { due_at } => (due_at, None, Some(false)),
            Sla::OnTrack { due_at } | Sla::AtRisk { due_at } => (due_at, None, None),
            Sla::None => (
                add_saturating(reported_at, sla::RESOLUTION_TARGET),
                None,
                None,
            ),
        };
        d.sla = Some(SlaView {
            reported_at,
            deadline,
            resolved_at,
            within_sla,
        });
    }
    if rec.job.kind == JobKind::PatrolRound {
        d.patrol = Some(patrol_status(&rec, &events, now));
    }
    Ok(d)
}

/// Judge each checkpoint's rounds as the phone does ([`rounds`]): the rounds starting in the
/// job's window (without one: from its report, or its dispatch, up to now), on time, late or
/// missed; rounds still in their grace are not counted yet, nor any of a cancelled job's.
pub fn patrol_status(rec: &JobRecord, events: &[StoredEvent], now: DateTime<Utc>) -> PatrolView {
    // The phone does not know when a windowless round was dispatched and shows its running round;
    // the office counts from the dispatch.
    let mut job = rec.job.clone();
    job.reported_at = job.reported_at.or(Some(rec.created_at));
    let mut visits: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    // Per checkpoint: (confirmed by the right code, wrong codes, last confirmed).
    let mut confirmations: BTreeMap<&str, (u64, u64, Option<DateTime<Utc>>)> = BTreeMap::new();
    for e in events.iter().filter(|e| e.accepted) {
        let body = EventBody::from_parts(&e.event.unsigned.kind, &e.event.unsigned.payload);
        if let Ok(EventBody::CheckpointConfirmed {
            checkpoint, code, ..
        }) = &body
            && let Some(cp) = rec.job.checkpoints.iter().find(|c| &c.id == checkpoint)
        {
            let entry = confirmations.entry(cp.id.as_str()).or_default();
            if cp.code_matches(code) {
                entry.0 += 1;
                entry.2 = entry.2.max(Some(corrected(e)));
            } else {
                entry.1 += 1;
            }
        }
        if let Ok(EventBody::ReadingRecorded { checkpoint, .. }) = body {
            let at = corrected(e);
            let id = rec
                .job
                .checkpoints
                .iter()
                .find(|c| c.id == checkpoint)
                .map(|c| c.id.as_str());
            if let Some(id) = id {
                visits.entry(id).or_default().push(at);
            }
        }
    }
    let mut view = PatrolView::default();
    for cp in &rec.job.checkpoints {
        let mut times = visits.remove(cp.id.as_str()).unwrap_or_default();
        times.sort();
        let (mut late, mut missed) = (0u64, 0u64);
        if rec.job.status != JobStatus::Cancelled {
            for r in rounds::grade(&Rounds::of(cp, &job).owed(&job, now), &times, now) {
                match r.state {
                    RoundState::Late => late += 1,
                    RoundState::Missed => missed += 1,
                    RoundState::OnTime | RoundState::Pending => {}
                }
            }
        }
        view.late = view.late.saturating_add(late);
        view.missed = view.missed.saturating_add(missed);
        view.checkpoints.push(CheckpointStatus {
            id: cp.id.clone(),
            name: cp.name.clone(),
            interval_minutes: cp.interval_minutes(),
            visits: times.len() as u64,
            late,
            missed,
            last_visit: times.last().copied(),
            confirmed_by_code: confirmations.get(cp.id.as_str()).map_or(0, |c| c.0),
            code_mismatches: confirmations.get(cp.id.as_str()).map_or(0, |c| c.1),
            last_confirmed: confirmations.get(cp.id.as_str()).and_then(|c| c.2),
        });
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use ed25519_dalek::SigningKey;
    use heatcrew_protocol::{
        AppointmentWindow, Checkpoint, CheckpointKind, Job, JobKind, TemplateRef, UnsignedEvent,
    };

    fn reading_at(at: DateTime<Utc>, checkpoint: &str, offset_ms: Option<i64>) -> StoredEvent {
        let (kind, payload) = EventBody::ReadingRecorded {
            checkpoint: checkpoint.into(),
            readings: vec![],
            note: String::new(),
        }
        .to_parts();
        let event = UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: Uuid::from_u128(1),
            device_seq: 1,
            job_id: Uuid::from_u128(2),
            kind,
            payload,
            recorded_at: at,
            elapsed_ms: 0,
            prev_hash: Digest::GENESIS,
            format: heatcrew_protocol::Format::V2,
        }
        .seal(&SigningKey::from_bytes(&[3; 32]));
        StoredEvent {
            event,
            user_id: Uuid::from_u128(4),
            accepted: true,
            reject_code: None,
            reject_reason: None,
            received_at: at,
            device_clock_offset_ms: offset_ms,
        }
    }

    #[test]
    fn head_station_visits_are_late_or_missed_against_the_hourly_interval() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let h = |m: i64| t0 + Duration::minutes(m);
        let rec = JobRecord {
            job: Job {
                id: Uuid::from_u128(2),
                kind: JobKind::PatrolRound,
                template: TemplateRef {
                    id: "patrol_round".into(),
                    version: 1,
                },
                title: "巡检".into(),
                customer: None,
                site: None,
                reported_at: None,
                window: Some(AppointmentWindow {
                    start: t0,
                    end: h(300),
                }),
                assignee: None,
                street_work: false,
                checkpoints: vec![Checkpoint {
                    id: "hs".into(),
                    name: "首站".into(),
                    kind: CheckpointKind::HeadStation,
                    readings: vec![],
                    interval_minutes: None,
                    code_sha256: None,
                }],
                status: JobStatus::Open,
                utc_offset_minutes: None,
                revision: 1,
            },
            created_at: t0,
            cancel_reason: None,
            field_created: false,
            accepted_at: None,
        };
        // Hourly rounds 0–1 … 4–5. The device clock is 10 minutes slow: corrected by the offset,
        // the visits are at 0:30 (on time), 2:00 (the 1–2 round's grace: late) and 4:30 (on time).
        let slow = Some(10 * 60 * 1000);
        let events = [h(20), h(110), h(260)].map(|t| reading_at(t, "hs", slow));
        let view = patrol_status(&rec, &events, h(360));
        assert_eq!(view.checkpoints[0].visits, 3, "every reading is a visit");
        assert_eq!(
            (view.late, view.missed),
            (1, 2),
            "1–2 late; 2–3 and 3–4 missed: the 2:00 visit serves one round"
        );
        let none = patrol_status(&rec, &[], h(360));
        assert_eq!(
            (none.late, none.missed),
            (0, 5),
            "no visit in a 5-hour window misses 5 hourly rounds"
        );
        let unknown = [reading_at(h(20), "somewhere-else", None)];
        assert_eq!(
            patrol_status(&rec, &unknown, h(30)).checkpoints[0].visits,
            0,
            "a reading at a checkpoint not on the round does not count"
        );
    }
}
