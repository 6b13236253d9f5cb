//! The office's summary report: job, repair-deadline, closure, ledger, attachment, patrol and
//! outage figures, computed from the stored jobs and their read-back on each request.
//!
//! A job a device opened in the field counts in the job and closure figures and the repair KPIs
//! only once an office dispatcher has accepted it (`POST /api/v1/console/jobs/{id}/accept`); until
//! then it is counted in `jobs`, `jobs_by_kind` and `field_jobs_awaiting_acceptance` only, so a
//! technician cannot move the rates with jobs of their own making.

use crate::readback::job_detail;
use crate::store::{OfficeStore, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{JobKind, JobStatus};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The office's summary report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub generated_at: DateTime<Utc>,
    pub jobs: u64,
    pub jobs_by_kind: BTreeMap<String, u64>,
    pub jobs_open: u64,
    pub jobs_cancelled: u64,
    /// Jobs with an accepted `job_closed`.
    pub jobs_closed: u64,
    /// Jobs opened in the field that no dispatcher has accepted yet (left out of every other
    /// job figure and rate).
    pub field_jobs_awaiting_acceptance: u64,
    /// Repair jobs (with a reported time) that are resolved or past their 4-hour deadline.
    pub repairs_due: u64,
    /// Of those, resolved within 4 hours of the report (corrected device time).
    pub repairs_timely: u64,
    /// 维修及时率: `repairs_timely / repairs_due`; null when nothing is due yet.
    pub timely_repair_rate: Option<f64>,
    /// 处结率: closed jobs / jobs not cancelled; null without jobs.
    pub closure_rate: Option<f64>,
    pub events_accepted: u64,
    pub events_rejected: u64,
    pub devices: u64,
    /// Devices whose clock jumped by more than the threshold between two syncs.
    pub devices_clock_flagged: u64,
    pub attachments_referenced: u64,
    pub attachments_received: u64,
    pub attachments_missing: u64,
    pub patrol_checkpoints_late: u64,
    pub patrol_checkpoints_missed: u64,
    pub outages_active: u64,
    /// Rectification notice numbers issued more than once (they are issued offline and must never
    /// collide between devices; a non-zero count needs a look).
    pub notice_number_collisions: u64,
}

pub fn summary(store: &dyn OfficeStore, now: DateTime<Utc>) -> StoreResult<Summary> {
    let counts = store.counts()?;
    let jobs = store.list_jobs()?;
    let mut s = Summary {
        generated_at: now,
        jobs: jobs.len() as u64,
        jobs_by_kind: BTreeMap::new(),
        jobs_open: 0,
        jobs_cancelled: 0,
        jobs_closed: 0,
        field_jobs_awaiting_acceptance: 0,
        repairs_due: 0,
        repairs_timely: 0,
        timely_repair_rate: None,
        closure_rate: None,
        events_accepted: counts.events_accepted,
        events_rejected: counts.events_rejected,
        devices: counts.devices,
        devices_clock_flagged: counts.devices_clock_flagged,
        attachments_referenced: counts.attachments_referenced,
        attachments_received: counts.attachments_received,
        attachments_missing: counts
            .attachments_referenced
            .saturating_sub(counts.attachments_received),
        patrol_checkpoints_late: 0,
        patrol_checkpoints_missed: 0,
        outages_active: store.list_outages()?.len() as u64,
        notice_number_collisions: 0,
    };
    let mut notice_numbers: BTreeMap<String, u64> = BTreeMap::new();
    for rec in jobs {
        *s.jobs_by_kind
            .entry(rec.job.kind.as_str().to_owned())
            .or_default() += 1;
        if rec.job.status == JobStatus::Cancelled {
            s.jobs_cancelled += 1;
            continue;
        }
        let awaiting = rec.awaiting_acceptance();
        let d = job_detail(store, rec, now)?;
        for n in &d.notices {
            if let Some(number) = n.payload.get("number").and_then(Value::as_str) {
                *notice_numbers.entry(number.to_owned()).or_default() += 1;
            }
        }
        if awaiting {
            s.field_jobs_awaiting_acceptance += 1;
            continue;
        }
        if d.closed.is_some() {
            s.jobs_closed += 1;
        } else {
            s.jobs_open += 1;
        }
        if matches!(d.job.kind, JobKind::HomeRepair | JobKind::EmergencyRepair)
            && let Some(sla) = &d.sla
            && let Some(ok) = sla.within_sla
        {
            s.repairs_due += 1;
            s.repairs_timely += ok as u64;
        }
        if let Some(p) = &d.patrol {
            s.patrol_checkpoints_late = s.patrol_checkpoints_late.saturating_add(p.late);
            s.patrol_checkpoints_missed = s.patrol_checkpoints_missed.saturating_add(p.missed);
        }
    }
    s.notice_number_collisions = notice_numbers.values().filter(|&&n| n > 1).count() as u64;
    let not_cancelled = s.jobs_open + s.jobs_closed;
    s.timely_repair_rate =
        (s.repairs_due > 0).then(|| s.repairs_timely as f64 / s.repairs_due as f64);
    s.closure_rate = (not_cancelled > 0).then(|| s.jobs_closed as f64 / not_cancelled as f64);
    Ok(s)
}
