//! The phone's part in being there: the day's shift readiness before the first repair or
//! inspection, presence at a patrol checkpoint confirmed by the station's code, and the outage
//! notices a crew at the door must know. The rules are `heatcrew_rules::readiness`,
//! `heatcrew_rules::checklist` (the code) and `heatcrew_rules::outage`.

use crate::error::Result;
use crate::store::{Store, StoredJob, format_time, parse_time};
use crate::views::{ReadinessCheck, ReadinessView};
use chrono::{Duration, Local};
use heatcrew_protocol::{CodeEntry, Event, EventBody, Job, OutageNotice, Position};
use heatcrew_rules::{outage, readiness};
use uuid::Uuid;

impl Store {
    /// Whether the signed-in user confirmed shift readiness today (the device's local date): on a
    /// repair or inspection, or in a patrol round's `shift_ready` step. Only records on the
    /// user's own jobs count, so on a shared phone the next user confirms their own.
    pub fn ready_today(&self) -> Result<bool> {
        let user = self.session()?.map(|s| s.user.id);
        let today = self.today();
        // Records from the start of the local day on (a day ago at most, whatever the zone).
        let since = format_time(self.now() - Duration::days(1));
        let mut stmt = self.connection().prepare(
            "SELECT e.recorded_at, e.kind, e.payload, j.job FROM events e JOIN jobs j ON j.job_id = e.job_id
             WHERE e.kind IN ('shift_readiness_confirmed', 'step_completed') AND e.recorded_at >= ?1
             ORDER BY e.seq DESC",
        )?;
        let rows = stmt.query_map([since], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (at, kind, payload, job) = row?;
            let at = parse_time(&at)?;
            if at.with_timezone(&Local).date_naive() != today {
                continue;
            }
            let job: Job = serde_json::from_str(&job)?;
            if let (Some(assignee), Some(user)) = (job.assignee, user)
                && assignee != user
            {
                continue;
            }
            let body = EventBody::from_parts(&kind, &serde_json::from_str(&payload)?)?;
            let counts = match body {
                EventBody::ShiftReadinessConfirmed { day, .. } => day == today,
                EventBody::StepCompleted { step, .. } => step == readiness::PATROL_STEP,
                _ => false,
            };
            if counts {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// What the job's screen asks before its first step: the readiness checks, when this kind of
    /// job needs them, nothing has been recorded on it yet and the user is not ready today.
    pub fn readiness_for(&self, job: &StoredJob) -> Result<Option<ReadinessView>> {
        let untouched = job.progress.steps.is_empty() && job.progress.closed.is_none();
        if !readiness::required_for(job.job.kind) || !untouched || self.ready_today()? {
            return Ok(None);
        }
        Ok(Some(ReadinessView {
            checks: readiness::checks()
                .into_iter()
                .map(|(key, label)| ReadinessCheck { key, label })
                .collect(),
        }))
    }

    /// Record the day's readiness on the job it opens; every check must be ticked.
    pub fn confirm_readiness(&mut self, job_id: Uuid, checks: Vec<String>) -> Result<Event> {
        self.check_theirs(job_id)?;
        let day = self.today();
        self.record(job_id, EventBody::ShiftReadinessConfirmed { day, checks })
    }

    /// Record presence at a checkpoint with the code posted there; a wrong code is refused
    /// (`wrong_checkpoint_code`) and nothing is recorded.
    pub fn confirm_checkpoint(
        &mut self,
        job_id: Uuid,
        checkpoint: String,
        code: String,
        method: CodeEntry,
        position: Option<Position>,
    ) -> Result<Event> {
        self.check_theirs(job_id)?;
        self.record(
            job_id,
            EventBody::CheckpointConfirmed {
                checkpoint,
                code: code.trim().to_owned(),
                method,
                position,
            },
        )
    }

    /// The outage notices in force now that cover the job's customer's address.
    pub fn outages_at(&self, job: &StoredJob) -> Result<Vec<OutageNotice>> {
        let Some(customer) = &job.job.customer else {
            return Ok(Vec::new());
        };
        let notices = self.outages()?;
        Ok(outage::at_address(&notices, &customer.address, self.now())
            .into_iter()
            .cloned()
            .collect())
    }
}
