//! The defects register (设备缺陷): every defect a patrol reported (accepted `defect_reported`
//! events, imported like notices), with its severity and the office's status: `open` →
//! `repair_ordered` (a repair job created from it in one action, [`repair_job`]) → `fixed` (the
//! repair job closed resolved, or a dispatcher says so), or `dismissed` with a note.

use crate::notices::derived_id;
use crate::store::{OfficeStore, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{EventBody, Job, JobKind, JobStatus, Resolution, Severity};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum DefectStatus {
    /// 待处理.
    Open,
    /// 已派维修: a repair job exists.
    RepairOrdered,
    /// 已修复.
    Fixed,
    /// 已撤销: not a defect after all (with a note).
    Dismissed,
}

impl DefectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DefectStatus::Open => "open",
            DefectStatus::RepairOrdered => "repair_ordered",
            DefectStatus::Fixed => "fixed",
            DefectStatus::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<DefectStatus> {
        [
            DefectStatus::Open,
            DefectStatus::RepairOrdered,
            DefectStatus::Fixed,
            DefectStatus::Dismissed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A defect in the register.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DefectRecord {
    /// The `defect_reported` event's id.
    pub id: Uuid,
    /// The id the device gave the defect.
    pub defect_id: Uuid,
    /// The patrol round it was reported on.
    pub job_id: Uuid,
    pub reported_by: Uuid,
    /// Corrected device time.
    pub reported_at: DateTime<Utc>,
    pub checkpoint: Option<String>,
    pub category: String,
    #[schema(value_type = String)]
    pub severity: Severity,
    pub description: String,
    pub status: DefectStatus,
    pub repair_job_id: Option<Uuid>,
    pub status_note: Option<String>,
    pub status_by: Option<Uuid>,
    pub status_at: Option<DateTime<Utc>>,
}

/// A status a dispatcher (or the office) sets.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: DefectStatus,
    pub note: Option<String>,
    pub by: Option<Uuid>,
}

/// The repair job of a defect: an emergency repair (抢修) at the defect's place, reported now, for
/// `assignee` if one is chosen (else dispatch assigns it from the board).
pub fn repair_job(
    defect: &DefectRecord,
    round: Option<&Job>,
    assignee: Option<Uuid>,
    now: DateTime<Utc>,
) -> Job {
    let kind = JobKind::EmergencyRepair;
    let place = defect.checkpoint.as_ref().and_then(|id| {
        round
            .and_then(|j| j.checkpoints.iter().find(|c| &c.id == id))
            .map(|c| c.name.clone())
    });
    let short: String = defect.description.chars().take(60).collect();
    Job {
        id: derived_id("heatcrew-defect-repair", &[&defect.id.to_string()]),
        kind,
        template: crate::api::jobs::template_for(kind),
        title: format!("缺陷维修 / Defect repair: {short}"),
        customer: None,
        site: place.or_else(|| round.and_then(|j| j.site.clone())),
        reported_at: Some(now),
        window: None,
        assignee,
        street_work: false,
        checkpoints: Vec::new(),
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

/// Mark `fixed` every defect whose repair job was closed `resolved` (the repair's own evidence);
/// returns how many.
pub fn close_repaired(store: &dyn OfficeStore, now: DateTime<Utc>) -> StoreResult<u64> {
    let mut fixed = 0;
    for d in store.defects()? {
        let (DefectStatus::RepairOrdered, Some(job)) = (d.status, d.repair_job_id) else {
            continue;
        };
        let resolved = store
            .job_events(job)?
            .iter()
            .filter(|e| e.accepted)
            .any(|e| {
                matches!(
                    EventBody::from_parts(&e.event.unsigned.kind, &e.event.unsigned.payload),
                    Ok(EventBody::JobClosed {
                        resolution: Resolution::Resolved,
                        ..
                    })
                )
            });
        if resolved {
            store.set_defect_status(
                d.id,
                StatusChange {
                    status: DefectStatus::Fixed,
                    note: Some("维修工单已完成 / repair job closed resolved".into()),
                    by: None,
                },
                now,
            )?;
            fixed += 1;
        }
    }
    Ok(fixed)
}
