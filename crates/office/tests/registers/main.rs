//! The office's registers over real HTTP and a real SQLite file (issue 13, points 6 and 7): the
//! rectification notice register with its re-inspection jobs, patrol plans with their generated
//! rounds and compliance grid, and the defects register. heatcrew-testkit's `TestOffice` serves on
//! 127.0.0.1:0; `KeyDevice`s seal and push events as a real device does; the periodic follow-up
//! (`heatcrew_office::schedule`) runs against the office clock, which the tests move forward.

mod notices;
mod patrols;
mod plan_edit;

use chrono::{DateTime, Utc};
use heatcrew_protocol::sync::{PushOutcome, PushResponse};
use heatcrew_protocol::{Event, EventBody};
pub(crate) use heatcrew_testkit::{KeyDevice as Device, PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;
use std::ops::Deref;
use uuid::Uuid;

pub(crate) struct TestOffice(heatcrew_testkit::TestOffice);

impl Deref for TestOffice {
    type Target = heatcrew_testkit::TestOffice;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl TestOffice {
    pub async fn start() -> TestOffice {
        TestOffice(heatcrew_testkit::TestOffice::start().await)
    }

    pub async fn staff(&self) -> String {
        self.0.staff_token("dispatch", PASSWORD).await
    }

    /// The audit log's entries of `kind`, newest first (read as the admin).
    pub async fn audit(&self, kind: &str) -> Vec<Value> {
        let admin = self.0.staff_token("admin", PASSWORD).await;
        let (status, page) = self
            .get_json(
                &format!("/api/v1/console/audit?kind={kind}&limit=500"),
                &admin,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["entries"].as_array().cloned().unwrap_or_default()
    }

    pub async fn device(&self, username: &str) -> Device {
        self.key_device(username, PASSWORD).await
    }

    /// Push events recorded at the given device times; every one must be accepted.
    pub async fn push_at(
        &self,
        dev: &mut Device,
        job: Uuid,
        bodies: &[(EventBody, DateTime<Utc>)],
    ) -> PushResponse {
        let events: Vec<Event> = bodies
            .iter()
            .map(|(b, at)| dev.record_at(job, b, *at))
            .collect();
        let resp = self.push_events(dev, &events).await;
        for r in &resp.results {
            assert!(
                matches!(r.outcome, PushOutcome::Accepted),
                "every event is accepted: {:?}",
                r.outcome
            );
        }
        resp
    }

    pub async fn create_job(&self, staff: &str, body: Value) -> Uuid {
        let (status, job) = self.post_json("/api/v1/jobs", Some(staff), &body).await;
        assert_eq!(status, StatusCode::OK, "create a job: {job}");
        job["id"].as_str().expect("job id").parse().expect("uuid")
    }

    /// Move the office clock forward.
    pub fn advance(&self, by: chrono::TimeDelta) {
        self.running().state.config.clock.advance(by);
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.running().state.now()
    }

    /// One run of the periodic follow-up at the office clock's now.
    pub fn run_schedule(&self) -> heatcrew_office::schedule::ScheduleRun {
        heatcrew_office::schedule::run_once(self.store(), self.now()).expect("the follow-up runs")
    }
}
