//! Field actions that need more than recording one body: numbering rectification notices so that
//! numbers issued offline never collide between devices, and opening an emergency job for an
//! urgent accident report, and closing a visit as not home / no entry at the door.

use crate::error::Result;
use crate::store::Store;
use crate::views::NoEntryInput;
use chrono::NaiveDate;
use heatcrew_protocol::{Event, EventBody, Job, JobKind, JobStatus, Position, Resolution};
use heatcrew_rules::template;
use rusqlite::OptionalExtension;
use uuid::Uuid;

impl Store {
    /// The code that makes this device's notice numbers unique: the one the office assigned at
    /// enrolment, or before enrolment one derived from the device key (prefixed `K`).
    pub fn device_code(&self) -> Result<String> {
        let assigned: Option<String> = self
            .connection()
            .query_row("SELECT device_code FROM sync_state", [], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(assigned.unwrap_or_else(|| {
            let key = self.public_key().to_bytes();
            format!("K{}", hex::encode_upper(&key[..4]))
        }))
    }

    /// Issue a written rectification notice (整改通知书) with the next number of this device:
    /// `ZG-<device code>-<yyyymmdd>-<nnn>`.
    pub fn issue_notice(
        &mut self,
        job_id: Uuid,
        deadline: NaiveDate,
        requirements: String,
        follow_up_on: Option<NaiveDate>,
    ) -> Result<Event> {
        self.check_theirs(job_id)?;
        let issued: i64 = self.connection().query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'notice_issued'",
            [],
            |r| r.get(0),
        )?;
        let number = format!(
            "ZG-{}-{}-{:03}",
            self.device_code()?,
            self.today().format("%Y%m%d"),
            issued + 1
        );
        self.record(
            job_id,
            EventBody::NoticeIssued {
                number,
                deadline,
                requirements,
                follow_up_on,
            },
        )
    }

    /// Report an accident or hazard: opens an emergency job on the device and records the report,
    /// in one transaction. The report is marked urgent so it is pushed before anything else.
    pub fn report_accident(
        &mut self,
        description: String,
        measures_taken: String,
        position: Position,
        injuries: bool,
    ) -> Result<(Uuid, Vec<Event>)> {
        let template = template::latest_for(JobKind::EmergencyRepair);
        let job = Job {
            id: Uuid::now_v7(),
            kind: JobKind::EmergencyRepair,
            template: template.reference(),
            title: format!("事故/隐患上报：{}", first_words(&description)),
            customer: None,
            site: Some(position.description.clone()),
            reported_at: Some(self.now()),
            window: None,
            // The office opens it for this user, whoever of the phone's users pushes it.
            assignee: self.device_user()?.map(|u| u.id),
            street_work: false,
            checkpoints: Vec::new(),
            status: JobStatus::Open,
            utc_offset_minutes: None,
            revision: 0,
        };
        let id = job.id;
        let events = self.create_job(
            job,
            vec![EventBody::AccidentReported {
                description,
                measures_taken,
                position,
                injuries,
            }],
        )?;
        Ok((id, events))
    }
}

impl Store {
    /// Not home / no entry at the door: the outcome (reason, door photo, witness), the customer's
    /// preferred window if they gave one, and the visit closed as [`Resolution::NoEntry`], in one
    /// transaction. The rules refuse it after entry; the office then asks for a new appointment.
    pub fn close_not_home(&mut self, job_id: Uuid, input: NoEntryInput) -> Result<Vec<Event>> {
        self.check_theirs(job_id)?;
        let mut bodies = Vec::with_capacity(3);
        if let Some(reschedule) = input.reschedule {
            bodies.push(reschedule.into_body());
        }
        bodies.push(EventBody::NoEntryRecorded {
            outcome: input.outcome,
            reason: input.reason,
            door_photo: input.door_photo,
            witness: input.witness,
        });
        bodies.push(EventBody::JobClosed {
            resolution: Resolution::NoEntry,
            summary: String::new(),
        });
        self.record_all(job_id, bodies)
    }
}

fn first_words(s: &str) -> String {
    s.chars().take(20).collect()
}
