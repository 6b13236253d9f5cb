//! One job's KPI facts (the `job_facts` row): what every job-based KPI needs, folded once when the
//! job or its events change (in the push transaction, and when dispatch changes the job), so a
//! month's KPIs read one indexed range of small rows instead of reading back every job.
//!
//! Every time here is office-corrected ([`crate::readback::corrected`]: the device's offset when the
//! event was recorded, [`super::time`]).

use crate::board::progress_of;
use crate::store::{JobRecord, StoredEvent};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{EventBody, JobKind, JobStatus, Resolution};
use heatcrew_rules::sla;
use uuid::Uuid;

/// What the KPIs know of one job.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiFacts {
    pub job_id: Uuid,
    pub kind: JobKind,
    pub title: String,
    /// Who the job's figures belong to: who closed it, else its assignee.
    pub person: Option<Uuid>,
    /// The instant that puts the job in a period: its report, else its appointment's start, else
    /// its creation.
    pub anchor_at: DateTime<Utc>,
    pub reported_at: Option<DateTime<Utc>>,
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    /// Corrected time of the `arrive` step.
    pub arrived_at: Option<DateTime<Utc>>,
    /// The closing that stands (the rules' fold: the last one) and its corrected time.
    pub resolution: Option<Resolution>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The customer's stars (1–5), from the opinion form or a stars-only rating.
    pub rating: Option<u8>,
    pub cancelled: bool,
    /// Not a field-created job still awaiting a dispatcher's acceptance (those count nowhere).
    pub counted: bool,
    /// No accepted event broke a checklist rule ([`super::conformance`]).
    pub conforming: bool,
}

impl KpiFacts {
    pub fn is_repair(&self) -> bool {
        matches!(self.kind, JobKind::HomeRepair | JobKind::EmergencyRepair)
    }

    /// When the 4-hour clock runs out: 4 h after the report, or after the appointment's start
    /// when the customer chose an appointment that starts after that (the clock cannot run while
    /// the customer asked us to wait).
    pub fn repair_deadline(&self) -> Option<DateTime<Utc>> {
        let reported = self.reported_at?;
        let due = heatcrew_protocol::bounds::add_saturating(reported, sla::RESOLUTION_TARGET);
        Some(match self.window_start {
            Some(start) if start > due => {
                heatcrew_protocol::bounds::add_saturating(start, sla::RESOLUTION_TARGET)
            }
            _ => due,
        })
    }

    /// Corrected time of the `job_closed` with resolution `resolved` that stands.
    pub fn resolved_at(&self) -> Option<DateTime<Utc>> {
        (self.resolution == Some(Resolution::Resolved))
            .then_some(self.closed_at)
            .flatten()
    }
}

/// Fold a job and its stored events (office receipt order) into its facts.
pub fn facts(rec: &JobRecord, events: &[StoredEvent], conforming: bool) -> KpiFacts {
    let job = &rec.job;
    let progress = progress_of(events);
    let closer = events
        .iter()
        .rev()
        .filter(|e| e.accepted && e.event.unsigned.kind == "job_closed")
        .map(|e| e.user_id)
        .next();
    let rating = progress.rating.as_ref().map(|r| r.stars).or_else(|| {
        // A kind the fold does not project stars from is not a rating.
        events.iter().filter(|e| e.accepted).find_map(|e| {
            match EventBody::from_parts(&e.event.unsigned.kind, &e.event.unsigned.payload) {
                Ok(EventBody::RatingGiven { stars, .. }) => Some(stars),
                _ => None,
            }
        })
    });
    KpiFacts {
        job_id: job.id,
        kind: job.kind,
        title: job.title.clone(),
        person: closer.or(job.assignee),
        anchor_at: job
            .reported_at
            .or(job.window.map(|w| w.start))
            .unwrap_or(rec.created_at),
        reported_at: job.reported_at,
        window_start: job.window.map(|w| w.start),
        window_end: job.window.map(|w| w.end),
        arrived_at: progress.steps.get("arrive").map(|s| s.at()),
        resolution: progress.closed.as_ref().map(|c| c.resolution),
        closed_at: progress.closed.as_ref().map(|c| c.at),
        rating,
        cancelled: job.status == JobStatus::Cancelled,
        counted: !rec.awaiting_acceptance(),
        conforming,
    }
}
