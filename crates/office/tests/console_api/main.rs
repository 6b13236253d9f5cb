//! The console's own API over real HTTP (`/api/v1/console/*`, the evidence bundle, user
//! administration): heatcrew-testkit's `TestOffice` (a server on 127.0.0.1:0 with a temp SQLite
//! file, its accounts named and badged as a dispatcher sees them), its `KeyDevice`s that seal and
//! push events as a real device does, and checks of what a dispatcher's screen would be given.

mod alerts;
mod board;
mod bundle;
mod complaints;
mod customers;
mod devices;
mod documents;
mod job;
mod seed;
mod summary;
mod users;

use chrono::{DateTime, Utc};
use heatcrew_protocol::sync::{PushOutcome, PushResponse};
use heatcrew_protocol::{Event, EventBody};
pub(crate) use heatcrew_testkit::{KeyDevice as Device, PASSWORD, step};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::ops::{Deref, DerefMut};
use uuid::Uuid;

/// The kit's office with the calls these tests make, in their words.
pub(crate) struct TestOffice(heatcrew_testkit::TestOffice);

impl Deref for TestOffice {
    type Target = heatcrew_testkit::TestOffice;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for TestOffice {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl TestOffice {
    /// The kit's test accounts (`admin`, `dispatch`, `tech_a`, `tech_b`, all with [`PASSWORD`]).
    pub async fn start() -> TestOffice {
        TestOffice(heatcrew_testkit::TestOffice::start().await)
    }

    pub fn url(&self, path: &str) -> String {
        self.endpoint(path)
    }

    pub async fn staff_login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.post_json(
            "/api/v1/auth/staff-login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn staff_token(&self, username: &str) -> String {
        self.0.staff_token(username, PASSWORD).await
    }

    /// A device signed in with a proof that it holds its key, as the real core does.
    pub async fn device(&self, username: &str) -> Device {
        self.key_device(username, PASSWORD).await
    }

    /// Push events; every one must be accepted.
    pub async fn push_accepted(&self, dev: &Device, events: &[Event]) -> PushResponse {
        let resp = self.push_events(dev, events).await;
        for r in &resp.results {
            assert!(
                matches!(r.outcome, PushOutcome::Accepted),
                "every event is accepted: {:?}",
                r.outcome
            );
        }
        resp
    }

    /// A work order from a phone report, through the API as the console sends it.
    pub async fn create_job(&self, staff: &str, body: Value) -> Value {
        let (status, job) = self.post_json("/api/v1/jobs", Some(staff), &body).await;
        assert_eq!(status, StatusCode::OK, "create a job: {job}");
        job
    }
}

pub(crate) fn job_id(job: &Value) -> Uuid {
    job["id"].as_str().expect("job id").parse().expect("uuid")
}
