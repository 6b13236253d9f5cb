//! The views built from the store: pure reads over [`Store`], the templates, the projection and the
//! SLA clocks.

use super::offsets::{PhoneClock, RecordOffsets};
use super::types::{
    CheckpointView, DamageView, DefectView, FindingView, JobSummary, JobView, NoEntryView,
    NoticeView, OutboxEntryView, RatingView, RescheduleView, SessionView, SignatureView,
    StepStatus, StepView, Today,
};
use crate::error::Result;
use crate::store::{OutboxState, Store, StoredJob};
use crate::sync::SyncStatus;
use chrono::{DateTime, Duration, Utc};
use heatcrew_protocol::{EventBody, JobKind, JobStatus};
use heatcrew_rules::RuleError;
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::progress::{JobProgress, SignatureRecord, StepRecord};
use heatcrew_rules::{rounds, sla};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// The signed-in user, if any.
pub fn session(store: &Store) -> Result<Option<SessionView>> {
    Ok(store.session()?.map(|s| SessionView {
        user: s.user,
        office_url: s.office_url,
        device_code: s.device_code,
    }))
}

/// Records per job that the office has not acknowledged yet (queued or uploading).
fn pending_by_job(store: &Store) -> Result<HashMap<Uuid, u32>> {
    let mut pending = HashMap::new();
    for entry in store.outbox()? {
        if matches!(entry.state, OutboxState::Queued | OutboxState::Uploading) {
            *pending.entry(entry.job_id).or_insert(0) += 1;
        }
    }
    Ok(pending)
}

/// Photos and signatures of each job not yet at the office: how many, and their bytes to go.
fn photos_pending_by_job(store: &Store) -> Result<HashMap<Uuid, (u32, u64)>> {
    let mut stmt = store.connection().prepare_cached(
        "SELECT e.job_id, COUNT(*), IFNULL(SUM(a.bytes - a.uploaded_bytes), 0)
         FROM attachments a JOIN events e ON e.seq = a.first_seq
         WHERE a.uploaded = 0 GROUP BY e.job_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    rows.map(|r| {
        let (job, n, bytes) = r?;
        Ok((
            crate::store::parse_uuid(&job)?,
            (n.max(0) as u32, bytes.max(0) as u64),
        ))
    })
    .collect()
}

/// What the office has of a job beyond its records: photos still to go, acknowledgements.
fn fill_from_office(store: &Store, summary: &mut JobSummary, photos: (u32, u64)) -> Result<()> {
    (summary.photos_pending, summary.photo_bytes_pending) = photos;
    summary.office_acks = store.office_acks(summary.id)?;
    Ok(())
}

/// Today's jobs (open ones first, urgent ones at the very top) and outage notices. Countdowns
/// run on the office-corrected now (`crate::clock`), which `Today::now` hands to the UI.
pub fn today(store: &Store) -> Result<Today> {
    let now = store.now() + office_offset(store);
    let clock = PhoneClock::read(store)?;
    let pending = pending_by_job(store)?;
    let photos = photos_pending_by_job(store)?;
    let mut jobs = store
        .their_jobs()?
        .iter()
        .map(|j| {
            let queued = pending.get(&j.job.id).copied().unwrap_or(0);
            let mut s = summary(j, now, &clock.job(store, j.job.id)?, queued)?;
            fill_from_office(
                store,
                &mut s,
                photos.get(&j.job.id).copied().unwrap_or((0, 0)),
            )?;
            Ok(s)
        })
        .collect::<Result<Vec<_>>>()?;
    // Stable sort keeps the store's appointment order within each group.
    jobs.sort_by_key(|j| (j.closed || j.cancelled || j.revoked, !j.urgent));
    Ok(Today {
        now,
        jobs,
        outages: store.outages()?,
    })
}

fn context(job: &StoredJob) -> Result<JobContext<'_>> {
    Ok(JobContext {
        job: &job.job,
        template: job.template()?,
        progress: &job.progress,
        revoked: job.revoked_reason.is_some(),
    })
}

fn summary(
    job: &StoredJob,
    now: DateTime<Utc>,
    offsets: &RecordOffsets,
    pending_records: u32,
) -> Result<JobSummary> {
    let ctx = context(job)?;
    let (sla, arrival) = clocks(job, now, offsets);
    let steps: Vec<_> = ctx.steps().collect();
    let done = steps
        .iter()
        .filter(|s| job.progress.steps.contains_key(&s.id))
        .count();
    Ok(JobSummary {
        id: job.job.id,
        kind: job.job.kind,
        title: job.job.title.clone(),
        customer: job.job.customer.clone(),
        site: job.job.site.clone(),
        window: job.job.window,
        reported_at: job.job.reported_at,
        sla,
        arrival,
        steps_done: done as u32,
        steps_total: steps.len() as u32,
        closed: job.progress.closed.is_some(),
        cancelled: job.job.status == JobStatus::Cancelled,
        revoked: job.revoked_reason.is_some(),
        pending_records,
        urgent: job.job.kind == JobKind::EmergencyRepair || !job.progress.accidents.is_empty(),
        photos_pending: 0,
        photo_bytes_pending: 0,
        office_acks: Vec::new(),
    })
}

/// One job with its steps and records, or `UnknownJob`.
pub fn job(store: &Store, job_id: Uuid) -> Result<JobView> {
    store.check_theirs(job_id)?;
    // As it will stand once the photos being processed and the actions held behind them are
    // recorded (super::queued): the technician goes on while the record waits.
    let (job, held) = store
        .job_as_queued(job_id)?
        .ok_or(RuleError::UnknownJob(job_id))?;
    let pending = pending_by_job(store)?.get(&job_id).copied().unwrap_or(0);
    let offsets = PhoneClock::read(store)?.job(store, job_id)?;
    let mut view = job_view(&job, store.now() + office_offset(store), &offsets, pending)?;
    super::queued::show(&mut view, &held);
    let photos = photos_pending_by_job(store)?
        .get(&job_id)
        .copied()
        .unwrap_or((0, 0));
    fill_from_office(store, &mut view.summary, photos)?;
    view.office_acks = view.summary.office_acks.clone();
    super::records::fill_details(store, &job, &mut view)?;
    view.readiness = store.readiness_for(&job)?;
    view.outages = store.outages_at(&job)?;
    Ok(view)
}

/// The view of a stored job at `now` (office time; pure: what [`job`] returns, without the store).
/// `offsets` turn the device times of records into office time, each record's its own.
pub fn job_view(
    job: &StoredJob,
    now: DateTime<Utc>,
    offsets: &RecordOffsets,
    pending_records: u32,
) -> Result<JobView> {
    let ctx = context(job)?;
    let p = &job.progress;
    let current = ctx.current_step().map(|s| s.id.clone());
    let closed = p.closed.is_some();
    let steps = ctx
        .steps()
        .map(|s| {
            let record = p.steps.get(&s.id);
            let status = match record {
                Some(StepRecord::Done { .. }) => StepStatus::Done,
                Some(StepRecord::Skipped { .. }) => StepStatus::Skipped,
                None if current.as_deref() == Some(s.id.as_str()) && !closed => StepStatus::Current,
                None => StepStatus::Pending,
            };
            StepView {
                id: s.id.clone(),
                title: s.title.clone(),
                phrase: s.phrase.clone(),
                hint: s.hint.clone(),
                evidence: s.evidence.clone(),
                status,
                skippable: s.skippable && ctx.skip_allowed(s),
                skip_reason: match record {
                    Some(StepRecord::Skipped { reason, .. }) => Some(reason.clone()),
                    _ => None,
                },
                photos: p.photos.get(&s.id).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let close_blockers = ctx.close_blockers();
    Ok(JobView {
        summary: summary(job, now, offsets, pending_records)?,
        steps,
        current_step: if closed { None } else { current },
        signature: signature(p),
        rating: p.rating.as_ref().map(|r| RatingView {
            stars: r.stars,
            comment: r.comment.clone(),
            answers: r.answers.clone(),
        }),
        damages: p
            .damages
            .iter()
            .map(|d| DamageView {
                id: d.id,
                item: d.item.clone(),
                description: d.description.clone(),
                remedy: match d.remedy {
                    Some(r) => enum_str(&r),
                    None => "customer_caused".into(),
                },
                remedy_detail: d.remedy_detail.clone(),
                photos: d.photos.clone(),
                signed: d.customer_signature.is_some(),
                signature_refused: d.signature_refused.clone(),
            })
            .collect(),
        findings: p
            .findings
            .iter()
            .map(|f| FindingView {
                id: f.id,
                category: enum_str(&f.category),
                description: f.description.clone(),
                states: f.states.clone(),
                photos: f.photos.clone(),
            })
            .collect(),
        notices: p
            .notices
            .iter()
            .map(|n| NoticeView {
                number: n.number.clone(),
                deadline: n.deadline,
                requirements: n.requirements.clone(),
                follow_up_on: n.follow_up_on,
            })
            .collect(),
        checkpoints: checkpoints(job, now, offsets),
        defects: p
            .defects
            .iter()
            .map(|d| DefectView {
                id: d.id,
                checkpoint: d.checkpoint.clone(),
                category: d.category.clone(),
                severity: d.severity,
                description: d.description.clone(),
                position: d.position.clone(),
                photos: d.photos.clone(),
            })
            .collect(),
        can_close: !closed && close_blockers.is_empty(),
        close_blockers,
        office_acks: Vec::new(),
        closed_as: p.closed.as_ref().map(|c| c.resolution),
        can_record_no_entry: !closed
            && job.revoked_reason.is_none()
            && job.job.status != JobStatus::Cancelled
            && p.no_entry.is_none()
            && ctx
                .template
                .entry_step
                .as_ref()
                .is_some_and(|entry| !p.steps.contains_key(entry)),
        no_entry: p.no_entry.as_ref().map(|n| NoEntryView {
            outcome: n.outcome,
            reason: n.reason.clone(),
            door_photo: n.door_photo.clone(),
            witness: n.witness.clone(),
            at: n.at,
        }),
        reschedule: p.reschedule_requests.last().map(|r| RescheduleView {
            channel: r.channel,
            preferred: r.preferred,
            note: r.note.clone(),
            at: r.at,
        }),
        opinion_form: super::records::opinion_form(ctx.template),
        corrections: super::records::corrections(p),
        readiness: None,
        outages: Vec::new(),
        processing_photos: Vec::new(),
        held_records: 0,
    })
}

/// The job's customer signature: the first step that holds one (templates have one signature step).
fn signature(p: &JobProgress) -> Option<SignatureView> {
    p.signatures.values().next().map(|s| match s {
        SignatureRecord::Signed {
            signer,
            signer_name,
            image,
            ..
        } => SignatureView::Signed {
            signer: *signer,
            signer_name: signer_name.clone(),
            image: image.clone(),
        },
        SignatureRecord::Declined {
            outcome,
            reason,
            witness,
            ..
        } => SignatureView::Declined {
            outcome: *outcome,
            reason: reason.clone(),
            witness: witness.clone(),
        },
    })
}

/// Office clock minus device clock ([`Store::office_offset_ms`]; none if it cannot be read):
/// records carry the device's clock, the clocks judge them on the office's, as the office will.
fn office_offset(store: &Store) -> Duration {
    Duration::milliseconds(store.office_offset_ms().unwrap_or(0))
}

/// The 4-hour clock and the arrival at `now` (office time), with the close and the arrival moved
/// from the device's clock to the office's, each by the offset it was recorded with: a slow phone
/// does not make a late arrival look on time, nor a clock set right since make it look 72 h late.
fn clocks(
    job: &StoredJob,
    now: DateTime<Utc>,
    offsets: &RecordOffsets,
) -> (sla::Sla, sla::Arrival) {
    let mut progress = job.progress.clone();
    if let Some(c) = progress.closed.as_mut() {
        c.at = offsets.office_time(c.at);
    }
    if let Some(StepRecord::Done { at, .. } | StepRecord::Skipped { at, .. }) =
        progress.steps.get_mut("arrive")
    {
        *at = offsets.office_time(*at);
    }
    (
        sla::resolution(&job.job, &progress, now),
        sla::arrival(&job.job, &progress),
    )
}

/// Each checkpoint's clock: the rounds the office will judge ([`rounds::checkpoint`]), with the
/// visits moved to office time.
fn checkpoints(
    job: &StoredJob,
    now: DateTime<Utc>,
    offsets: &RecordOffsets,
) -> Vec<CheckpointView> {
    job.job
        .checkpoints
        .iter()
        .map(|cp| {
            let visits: Vec<_> = job
                .progress
                .visits
                .get(&cp.id)
                .map(|v| v.iter().map(|v| offsets.office_time(v.at)).collect())
                .unwrap_or_default();
            let clock = rounds::checkpoint(cp, &job.job, &visits, now);
            let confirmed = job
                .progress
                .confirmations
                .get(&cp.id)
                .and_then(|c| c.last());
            CheckpointView {
                id: cp.id.clone(),
                name: cp.name.clone(),
                kind: cp.kind,
                state: clock.state,
                opens_at: clock.opens_at,
                next_due_at: clock.next_due_at,
                last_visit_at: clock.last_visit_at,
                missed_rounds: clock.missed_rounds,
                readings: cp.readings.clone(),
                has_code: cp.code_sha256.is_some(),
                confirmed_at: confirmed.map(|c| c.at),
                confirmed_by: confirmed.map(|c| c.method),
            }
        })
        .collect()
}

/// The wire name of a unit enum (`FindingCategory::TamperedSeal` → `tampered_seal`).
fn enum_str<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The outbox, oldest first, with the job titles and photo upload progress.
pub fn outbox(store: &Store) -> Result<Vec<OutboxEntryView>> {
    let jobs: HashMap<Uuid, StoredJob> = store.jobs()?.into_iter().map(|j| (j.job.id, j)).collect();
    let user = store.device_user()?.map(|u| u.id);
    let uploads = attachment_progress(store)?;
    // One pass over the log: which step each record names (so the outbox can say it), and the
    // bodies of the records that carry photos or signatures (their bytes show upload progress).
    let mut steps: HashMap<u64, String> = HashMap::new();
    let mut events: HashMap<u64, EventBody> = HashMap::new();
    let mut stamps = Vec::new();
    for e in store.events()? {
        let seq = e.unsigned.device_seq;
        stamps.push(heatcrew_rules::time::Stamp {
            wall: e.unsigned.recorded_at,
            elapsed_ms: e.unsigned.elapsed_ms,
        });
        if let Some(step) = e.unsigned.payload.get("step").and_then(|s| s.as_str()) {
            steps.insert(seq, step.to_owned());
        }
        if ATTACHMENT_KINDS.contains(&e.unsigned.kind.as_str())
            && let Ok(body) = EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload)
        {
            events.insert(seq, body);
        }
    }
    // Shown in office time, each record moved by the offset it was made with.
    let offsets = PhoneClock::read(store)?.walk(stamps);
    store
        .outbox()?
        .into_iter()
        .map(|e| {
            let (bytes_total, bytes_sent) = events
                .get(&e.seq)
                .map(|body| {
                    body.attachments()
                        .iter()
                        .filter_map(|a| uploads.get(&a.sha256.to_hex()))
                        .fold((0, 0), |(t, s), (bt, bs)| (t + bt, s + bs))
                })
                .unwrap_or((0, 0));
            let job = jobs.get(&e.job_id);
            // Another user's record says what it is and where it stands, not whose visit.
            let others = job.is_some_and(|j| !crate::shared_phone::is_theirs(&j.job, user));
            let job = job.filter(|_| !others);
            let step = steps.get(&e.seq).cloned().filter(|_| !others);
            let step_title = step.as_ref().and_then(|id| {
                let template = job?.template().ok()?;
                Some(template.step(id)?.title.clone())
            });
            Ok(OutboxEntryView {
                event_id: e.event_id,
                device_seq: e.seq,
                job_title: job.map(|j| j.job.title.clone()).unwrap_or_default(),
                others,
                step,
                step_title,
                job_id: e.job_id,
                kind: e.kind,
                recorded_at: offsets.office_time(e.recorded_at),
                state: e.state,
                reason: e.reason,
                bytes_total,
                bytes_sent,
            })
        })
        .collect()
}

const ATTACHMENT_KINDS: &[&str] = &[
    "photo_added",
    "signature_captured",
    "damage_recorded",
    "network_damage_recorded",
    "finding_recorded",
    "defect_reported",
    "no_entry_recorded",
];

/// Bytes and uploaded bytes of every attachment the device knows, by hex SHA-256.
fn attachment_progress(store: &Store) -> Result<HashMap<String, (u64, u64)>> {
    let mut stmt = store
        .connection()
        .prepare("SELECT sha256, bytes, uploaded_bytes FROM attachments")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
        ))
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The sync badge when no sync loop is running (signed out): what is waiting, nothing moving.
pub fn idle_sync_status(store: &Store) -> Result<SyncStatus> {
    let b = store.backlog()?;
    Ok(SyncStatus {
        online: false,
        syncing: false,
        queued: b.queued,
        rejected: b.rejected,
        events_sent: 0,
        events_total: 0,
        bytes_sent: 0,
        bytes_total: b.attachment_bytes,
        last_sync_at: b.last_sync_at,
        oldest_pending_at: b.oldest_pending_at,
        last_error: None,
        photos_pending: b.attachments,
        photo_bytes_pending: b.attachment_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use heatcrew_protocol::StepEvidence;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("device.db")).expect("open store");
        (dir, store)
    }

    fn done(step: &str) -> EventBody {
        EventBody::StepCompleted {
            step: step.into(),
            evidence: StepEvidence::default(),
        }
    }

    #[test]
    fn a_new_home_repair_job_shows_its_first_step_as_current() {
        let (_dir, mut store) = store();
        let job = demo::home_repair_job(0, None);
        store.add_office_job(&job).expect("add job");
        let view = super::job(&store, job.id).expect("job view");
        assert_eq!(
            view.current_step.as_deref(),
            Some("appointment"),
            "the visit starts at the appointment call"
        );
        assert_eq!(
            view.steps[0].status,
            StepStatus::Current,
            "the first step is the one to do"
        );
        assert!(
            view.steps[1..]
                .iter()
                .all(|s| s.status == StepStatus::Pending),
            "later steps wait their turn"
        );
        assert!(!view.can_close, "nothing done yet, so the job cannot close");
        assert_eq!(view.summary.steps_done, 0, "no step done yet");
        assert_eq!(
            view.summary.pending_records, 0,
            "an office job has no records of ours yet"
        );
    }

    #[test]
    fn recorded_steps_move_the_current_step_and_wait_in_the_outbox() {
        let (_dir, mut store) = store();
        let job = demo::home_repair_job(0, None);
        store.add_office_job(&job).expect("add job");
        store
            .record(job.id, done("appointment"))
            .expect("appointment");
        store.record(job.id, done("arrive")).expect("arrive");
        let view = super::job(&store, job.id).expect("job view");
        assert_eq!(
            view.steps[0].status,
            StepStatus::Done,
            "the appointment was confirmed"
        );
        assert_eq!(
            view.current_step.as_deref(),
            Some("identify"),
            "after arriving, the technician shows the badge"
        );
        assert_eq!(view.summary.steps_done, 2, "two steps are behind us");
        assert_eq!(
            view.summary.pending_records, 2,
            "both records wait for the office until it acknowledges them"
        );
        let outbox = outbox(&store).expect("outbox");
        assert_eq!(outbox.len(), 2, "every record is in the outbox");
        assert_eq!(outbox[0].job_title, job.title, "the outbox names the job");
        assert_eq!(outbox[0].state, OutboxState::Queued, "nothing was sent yet");
    }

    #[test]
    fn views_serialize_as_the_ui_contract_says() {
        let (_dir, mut store) = store();
        let job = demo::patrol_job(None);
        store.add_office_job(&job).expect("add job");
        let view = serde_json::to_value(super::job(&store, job.id).expect("job view")).unwrap();
        assert!(
            view["summary"]["sla"]["state"].is_string(),
            "Sla is tagged by `state`"
        );
        assert!(
            view["summary"]["arrival"]["state"].is_string(),
            "Arrival is tagged by `state`"
        );
        assert!(
            view["steps"][0]["evidence"]
                .as_array()
                .is_some_and(|e| e.iter().all(|x| x["type"].is_string())),
            "EvidenceSpec is tagged by `type`"
        );
        let cp = &view["checkpoints"][0];
        assert!(
            cp["state"].is_string() && cp["opens_at"].is_string() && cp["next_due_at"].is_string(),
            "checkpoints carry their clock"
        );
        let today = serde_json::to_value(today(&store).expect("today")).unwrap();
        assert_eq!(
            today["jobs"].as_array().map(Vec::len),
            Some(1),
            "the one job is listed"
        );
        assert!(today["outages"].is_array(), "outages are always a list");
    }
}
