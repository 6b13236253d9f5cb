//! Which jobs the field may open itself (docs/domain.md, "Field-created jobs"). Work is dispatched by
//! the office; a device opens a job only for what cannot wait for dispatch: an accident or hazard
//! report, or a repair found on a patrol. Both are emergency repairs, reported at the moment they
//! are recorded. The device checks this before it records a `job_created`; the office applies the
//! same check to every pushed one (and refuses it per event with `field_job_not_allowed`), then sets
//! the job's status and assignee itself and counts it in the KPIs only once a dispatcher accepts it.

use crate::RuleError;
use crate::template;
use chrono::{DateTime, TimeDelta, Utc};
use heatcrew_protocol::{Job, JobKind, JobStatus};

/// The job kinds a device may open.
pub const FIELD_CREATABLE: &[JobKind] = &[JobKind::EmergencyRepair];

/// How far a field job's reported time may be from the time its `job_created` was recorded.
pub const REPORTED_AT_TOLERANCE: TimeDelta = TimeDelta::minutes(10);

/// Whether a device may open `job` in a record made at `recorded_at`.
pub fn check(job: &Job, recorded_at: DateTime<Utc>) -> Result<(), RuleError> {
    let refuse = |why: &str| Err(RuleError::FieldJobNotAllowed(why.to_owned()));
    if !FIELD_CREATABLE.contains(&job.kind) {
        return refuse(&format!(
            "a {} job is opened by the office, not in the field",
            job.kind.as_str()
        ));
    }
    match template::for_job(job) {
        Ok(t) if t.kind == job.kind => {}
        _ => return refuse("the job's checklist is not one of its kind"),
    }
    if job.status != JobStatus::Open {
        return refuse("a new job is open");
    }
    if job.window.is_some() || !job.checkpoints.is_empty() {
        return refuse("an emergency has no appointment window or checkpoints");
    }
    let Some(reported) = job.reported_at else {
        return refuse("an emergency is reported when it is recorded: reported_at is missing");
    };
    let gap = reported.signed_duration_since(recorded_at);
    if gap.abs() > REPORTED_AT_TOLERANCE {
        return refuse("reported_at must be the time the report is recorded (within 10 minutes)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use heatcrew_protocol::AppointmentWindow;
    use uuid::Uuid;

    fn emergency(reported_at: DateTime<Utc>) -> Job {
        Job {
            id: Uuid::from_u128(1),
            kind: JobKind::EmergencyRepair,
            template: template::latest_for(JobKind::EmergencyRepair).reference(),
            title: "事故".into(),
            customer: None,
            site: Some("3号换热站".into()),
            reported_at: Some(reported_at),
            window: None,
            assignee: None,
            street_work: false,
            checkpoints: vec![],
            status: JobStatus::Open,
            utc_offset_minutes: None,
            revision: 0,
        }
    }

    #[test]
    fn only_emergencies_reported_now_may_be_opened_in_the_field() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        assert_eq!(check(&emergency(now), now), Ok(()), "an accident report");
        let mut cases: Vec<(&str, Job)> = Vec::new();
        let mut home = emergency(now);
        home.kind = JobKind::HomeRepair;
        home.template = template::latest_for(JobKind::HomeRepair).reference();
        cases.push(("a home repair (the KPI-skew attack)", home));
        let mut wrong_template = emergency(now);
        wrong_template.template = template::latest_for(JobKind::HomeRepair).reference();
        cases.push((
            "an emergency with a home repair's checklist",
            wrong_template,
        ));
        let mut cancelled = emergency(now);
        cancelled.status = JobStatus::Cancelled;
        cases.push(("a cancelled job", cancelled));
        let mut backdated = emergency(now - TimeDelta::hours(5));
        cases.push(("reported 5 hours before it was recorded", backdated.clone()));
        backdated.reported_at = None;
        cases.push(("no reported time", backdated));
        let mut windowed = emergency(now);
        windowed.window = Some(AppointmentWindow {
            start: now,
            end: now,
        });
        cases.push(("with an appointment window", windowed));
        for (why, job) in cases {
            assert!(
                matches!(check(&job, now), Err(RuleError::FieldJobNotAllowed(_))),
                "{why} must be refused"
            );
        }
    }
}
