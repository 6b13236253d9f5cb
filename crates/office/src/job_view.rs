//! The console's job page, computed at the office: the read-back ([`crate::readback`]), where the
//! job stands on the board ([`crate::board`]), a timeline of every record with its localised step
//! title, standard phrase, who recorded it (name and badge) and both clocks, and the evidence status
//! of each device chain that recorded on the job, checked with the office's verify code
//! ([`crate::verify::device_chain`]), and what office staff did to the job (the audit log's
//! entries about it).

use crate::board::{self, BoardJob, StepTitle};
use crate::chain_cache::ChainCache;
use crate::readback::{self, JobDetail, corrected};
use crate::store::{JobRecord, OfficeStore, StoreResult};
use crate::verify::ChainVerdict;
use chrono::{DateTime, Utc};
use heatcrew_protocol::EventBody;
use heatcrew_protocol::sync::UserInfo;
use heatcrew_rules::Localized;
use heatcrew_rules::phrases::{self, Details};
use heatcrew_rules::template::{self, Template};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// One record on the job's timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct TimelineEntry {
    pub event_id: Uuid,
    pub device_id: Uuid,
    #[ts(type = "number")]
    pub device_seq: u64,
    /// The event kind (`step_completed`, `photo_added`, …).
    pub kind: String,
    /// The checklist step it belongs to, if any.
    pub step: Option<String>,
    /// What happened, in both languages: the step's title from the job's template, or the kind.
    #[schema(value_type = Object)]
    pub title: Localized,
    /// The standard phrase of the step (统一服务用语), if it has one.
    #[schema(value_type = Option<Object>)]
    pub phrase: Option<Localized>,
    #[schema(value_type = Object)]
    #[ts(type = "unknown")]
    pub payload: Value,
    pub user_id: Uuid,
    /// Who recorded it, by name and badge (empty if the user is unknown to this office).
    pub user_name: String,
    pub user_badge: String,
    /// The device's clock.
    pub recorded_at: DateTime<Utc>,
    /// The device's clock corrected by its offset at the office.
    pub corrected_at: DateTime<Utc>,
    /// False for a record the office refused (kept in the ledger, not applied).
    pub accepted: bool,
    pub reject_reason: Option<String>,
}

/// Whether a device's signed hash chain holds, as the office's verify finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ChainState {
    /// Signatures and hash chain verified up to the ledger's tip.
    Verified,
    /// An event does not hold (`bad_seq`, `bad_event_id`, `message` say which and why).
    Broken,
    /// The chain holds but does not end where the ledger says.
    TipMismatch,
    /// The enrolled key is not an Ed25519 key.
    BadKey,
}

/// The evidence status of one device that recorded on the job.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ChainStatus {
    pub device_id: Uuid,
    /// The office's short code for the device (`D0001`).
    pub device_code: String,
    pub device_name: String,
    pub state: ChainState,
    /// Events of the device checked.
    #[ts(type = "number")]
    pub events: u64,
    #[ts(type = "number | null")]
    pub bad_seq: Option<u64>,
    pub bad_event_id: Option<Uuid>,
    /// What is wrong, in words (empty when verified).
    pub message: String,
}

/// Something office staff did to the job, from the audit log (who, when, what; not from where).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct OfficeAction {
    #[ts(type = "number")]
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub kind: crate::audit::AuditKind,
    /// Who, by username and by name (empty if the user is unknown to this office).
    pub username: String,
    pub user_name: String,
    /// For `job_created` and `job_assigned`: the assignee's name (empty otherwise).
    pub assignee_name: String,
    /// The entry's detail: the window set, the reason given, the document taken out.
    #[schema(value_type = Object)]
    #[ts(type = "Record<string, unknown>")]
    pub detail: Value,
}

/// How many of a job's office actions its page shows (the newest; the audit page has them all).
pub const OFFICE_ACTIONS: u32 = 200;

/// The console's job page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ConsoleJob {
    pub detail: JobDetail,
    pub status: BoardJob,
    pub timeline: Vec<TimelineEntry>,
    pub chains: Vec<ChainStatus>,
    /// The job's checklist steps with their titles, so a photo or signature names its step by
    /// title rather than by id (empty when this office does not know the template).
    pub steps: Vec<StepTitle>,
    /// The opinion form's questions and answers, to word a customer's `opinion_given`.
    #[schema(value_type = Vec<Object>)]
    pub opinion_questions: Vec<heatcrew_rules::opinion::OpinionQuestion>,
    /// Each correction beside the record it names ([`crate::corrections`]).
    pub corrections: Vec<crate::corrections::CorrectionPair>,
    /// What office staff did to the job, oldest first: opened, assigned, scheduled, cancelled,
    /// accepted, its documents and evidence taken out (the audit log's entries about it).
    pub office_actions: Vec<OfficeAction>,
}

/// The audit log's newest [`OFFICE_ACTIONS`] entries about `job_id`, oldest first, with names.
fn office_actions(
    store: &dyn OfficeStore,
    job_id: Uuid,
    users: &HashMap<Uuid, UserInfo>,
) -> StoreResult<Vec<OfficeAction>> {
    let name = |id: Option<Uuid>| {
        id.and_then(|id| users.get(&id))
            .map(|u| u.display_name.clone())
            .unwrap_or_default()
    };
    let mut entries = store.audit_page(&crate::audit::AuditQuery {
        before: None,
        limit: OFFICE_ACTIONS,
        user: None,
        kind: None,
        from: None,
        to: None,
        subject: Some(job_id.to_string()),
    })?;
    entries.reverse();
    Ok(entries
        .into_iter()
        .map(|e| OfficeAction {
            seq: e.seq,
            at: e.at,
            kind: e.kind,
            user_name: name(e.actor_id),
            assignee_name: name(
                e.detail
                    .get("assignee")
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse().ok()),
            ),
            username: e.username,
            detail: e.detail,
        })
        .collect())
}

/// What a record is called on the timeline, for kinds that are not a step of their own.
fn kind_title(kind: &str) -> Localized {
    let (zh, en) = match kind {
        "job_created" => ("创建工单", "Job created"),
        "step_completed" => ("完成步骤", "Step done"),
        "step_skipped" => ("跳过步骤", "Step skipped"),
        "photo_added" => ("照片", "Photo"),
        "signature_captured" => ("签字", "Signature"),
        "signature_declined" => ("拒签/不在场", "Signature declined"),
        "rating_given" => ("客户评价", "Customer rating"),
        "opinion_given" => ("维修意见征询表", "Customer opinion form"),
        "damage_recorded" => ("财产损坏记录", "Property damage"),
        "network_damage_recorded" => ("管网损坏记录", "Network damage"),
        "finding_recorded" => ("检查发现", "Finding"),
        "notice_issued" => ("整改通知书", "Rectification notice"),
        "reading_recorded" => ("运行读数", "Readings"),
        "defect_reported" => ("缺陷上报", "Defect reported"),
        "accident_reported" => ("事故/险情报告", "Accident or hazard report"),
        "job_closed" => ("工单关闭", "Job closed"),
        "correction" => ("更正", "Correction"),
        "no_entry_recorded" => ("未能入户", "No entry at the door"),
        "reschedule_requested" => ("客户改约", "Reschedule request"),
        other => (other, other),
    };
    Localized::new(zh, en)
}

/// The step an event belongs to.
fn step_of(body: &EventBody) -> Option<&str> {
    match body {
        EventBody::StepCompleted { step, .. }
        | EventBody::StepSkipped { step, .. }
        | EventBody::PhotoAdded { step, .. }
        | EventBody::SignatureCaptured { step, .. }
        | EventBody::SignatureDeclined { step, .. } => Some(step),
        _ => None,
    }
}

/// The title and phrase of a record: a completed step by the step's own title; a skipped step,
/// photo or signature as the kind and the step ("照片 · 维修前拍照").
fn titles(
    template: Option<&Template>,
    kind: &str,
    step: Option<&str>,
) -> (Localized, Option<Localized>) {
    let kind_t = kind_title(kind);
    let Some(step_id) = step else {
        return (kind_t, None);
    };
    let Some(s) = template.and_then(|t| t.step(step_id)) else {
        return (
            Localized::new(
                format!("{} · {step_id}", kind_t.zh),
                format!("{} · {step_id}", kind_t.en),
            ),
            None,
        );
    };
    if kind == "step_completed" {
        return (s.title.clone(), s.phrase.clone());
    }
    (
        Localized::new(
            format!("{} · {}", kind_t.zh, s.title.zh),
            format!("{} · {}", kind_t.en, s.title.en),
        ),
        None,
    )
}

/// Compute the console's page of a job.
pub fn console_job(
    store: &dyn OfficeStore,
    chain_cache: &ChainCache,
    rec: JobRecord,
    now: DateTime<Utc>,
) -> StoreResult<ConsoleJob> {
    let events = store.job_events(rec.job.id)?;
    let users: HashMap<Uuid, UserInfo> =
        store.list_users()?.into_iter().map(|u| (u.id, u)).collect();
    let template = template::for_job(&rec.job).ok();
    let company = crate::api::company::company_profile(store)?.unwrap_or_default();
    let progress = board::progress_of(&events);
    let status = board::board_job(
        &rec,
        &progress,
        rec.job.assignee.and_then(|a| users.get(&a)),
        now,
    );
    let mut timeline: Vec<TimelineEntry> = events
        .iter()
        .map(|e| {
            let u = &e.event.unsigned;
            let body = EventBody::from_parts(&u.kind, &u.payload).ok();
            let step = body.as_ref().and_then(step_of).map(str::to_owned);
            let (title, phrase) = titles(template, &u.kind, step.as_deref());
            let who = users.get(&e.user_id);
            // The phrase as the technician saw it: their name and badge, the company's details.
            let phrase = phrase.map(|p| {
                let details = Details {
                    company: &company.name,
                    name: who.map_or("", |w| w.display_name.as_str()),
                    badge: who.map_or("", |w| w.badge_no.as_str()),
                    hotline: &company.hotline,
                    window: "",
                };
                phrases::fill(&p, &details)
            });
            TimelineEntry {
                event_id: u.id,
                device_id: u.device_id,
                device_seq: u.device_seq,
                kind: u.kind.clone(),
                step,
                title,
                phrase,
                payload: u.payload.clone(),
                user_id: e.user_id,
                user_name: who.map(|w| w.display_name.clone()).unwrap_or_default(),
                user_badge: who.map(|w| w.badge_no.clone()).unwrap_or_default(),
                recorded_at: u.recorded_at,
                corrected_at: corrected(e),
                accepted: e.accepted,
                reject_reason: e.reject_reason.clone(),
            }
        })
        .collect();
    timeline.sort_by(|a, b| {
        a.corrected_at
            .cmp(&b.corrected_at)
            .then(a.device_id.cmp(&b.device_id))
            .then(a.device_seq.cmp(&b.device_seq))
    });
    let devices: BTreeSet<Uuid> = events.iter().map(|e| e.event.unsigned.device_id).collect();
    let mut chains = Vec::new();
    for id in devices {
        let Some(dev) = store.device(id)? else {
            continue;
        };
        let checked = chain_cache.verdict(store, &dev)?;
        let mut status = ChainStatus {
            device_id: id,
            device_code: dev.code.clone(),
            device_name: dev.name.clone(),
            state: ChainState::Verified,
            events: checked.events,
            bad_seq: None,
            bad_event_id: None,
            message: String::new(),
        };
        match checked.verdict {
            ChainVerdict::Verified { .. } => {}
            ChainVerdict::BadKey => {
                status.state = ChainState::BadKey;
                status.message = "the enrolled key is not an Ed25519 key".into();
            }
            ChainVerdict::Broken {
                seq,
                event_id,
                reason,
            } => {
                status.state = ChainState::Broken;
                status.bad_seq = Some(seq);
                status.bad_event_id = Some(event_id);
                status.message = reason;
            }
            ChainVerdict::TipMismatch { ledger, chain } => {
                status.state = ChainState::TipMismatch;
                status.message = format!(
                    "the ledger says the last event is {ledger} but the stored chain ends at {chain}"
                );
            }
        }
        chains.push(status);
    }
    let rec_street_work = rec.job.street_work;
    let detail = readback::job_detail(store, rec, now)?;
    let steps = template
        .map(|t| {
            t.steps_for(rec_street_work)
                .map(|s| StepTitle {
                    id: s.id.clone(),
                    title: s.title.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let corrections = crate::corrections::pairs(&timeline);
    let office_actions = office_actions(store, detail.job.id, &users)?;
    Ok(ConsoleJob {
        detail,
        status,
        timeline,
        chains,
        steps,
        opinion_questions: heatcrew_rules::opinion::questions(),
        corrections,
        office_actions,
    })
}
