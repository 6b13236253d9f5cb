//! The console's own API over real HTTP (`/api/v1/console/*`, the evidence bundle, user
//! administration): a server on 127.0.0.1:0 with a temp SQLite file, devices that seal and push
//! events as a real one does, and checks of what a dispatcher's screen would be given.

mod alerts;
mod board;
mod bundle;
mod customers;
mod job;
mod users;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey};
use heatcrew_office::store::OfficeStore;
use heatcrew_office::{Config, Office, RunningOffice};
use heatcrew_protocol::sync::{LoginResponse, PushOutcome, PushResponse, Role};
use heatcrew_protocol::{ChainTip, Event, EventBody, StepEvidence, UnsignedEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) struct TestOffice {
    _dir: tempfile::TempDir,
    pub running: RunningOffice,
    pub http: reqwest::Client,
}

impl TestOffice {
    pub async fn start() -> TestOffice {
        let dir = tempfile::tempdir().expect("tempdir");
        let office = Office::open(Config::new(dir.path().join("office.db"))).expect("open office");
        for (username, role, name, badge) in [
            ("admin", Role::Admin, "管理员", "A001"),
            ("dispatch", Role::Dispatcher, "调度员", "D001"),
            ("tech_a", Role::RepairTechnician, "张伟", "W017"),
            ("tech_b", Role::RepairTechnician, "李娜", "W018"),
        ] {
            office
                .add_user(username, PASSWORD, role, name, badge)
                .expect("add user");
        }
        let running = office.spawn("127.0.0.1:0").await.expect("spawn office");
        TestOffice {
            _dir: dir,
            running,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    pub fn store(&self) -> &dyn OfficeStore {
        &*self.running.state.store
    }

    pub fn user_id(&self, username: &str) -> Uuid {
        self.store()
            .user_by_username(username)
            .expect("lookup")
            .expect("user exists")
            .info
            .id
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
        let (status, body) = self.staff_login(username, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "staff login must work: {body}");
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// Log a device in with a proof that it holds its key, as the real core does.
    pub async fn device(&self, username: &str) -> Device {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let id = Uuid::now_v7();
        let (status, c) = self
            .post_json("/api/v1/auth/challenge", None, &json!({"device_id": id}))
            .await;
        assert_eq!(status, StatusCode::OK, "a challenge: {c}");
        let challenge = c["challenge"].as_str().expect("challenge").to_owned();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&challenge, &mut bytes).expect("hex challenge");
        let message =
            heatcrew_protocol::log::enrolment_message(&bytes, id, &key.verifying_key(), username);
        let (status, body) = self
            .post_json(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": PASSWORD, "device_id": id,
                        "device_public_key": hex::encode(key.verifying_key().as_bytes()),
                        "device_name": "test phone", "challenge": challenge,
                        "proof": hex::encode(key.sign(&message).to_bytes())}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "device login must work: {body}");
        Device {
            id,
            key,
            tip: ChainTip::START,
            login: serde_json::from_value(body).expect("login response"),
        }
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Push events; every one must be accepted.
    pub async fn push_accepted(&self, dev: &Device, events: &[Event]) -> PushResponse {
        let (status, body) = self
            .post_json(
                "/api/v1/sync/push",
                Some(&dev.login.access_token),
                &json!({"events": events}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "push must be answered: {body}");
        let resp: PushResponse = serde_json::from_value(body).expect("push response");
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

/// A simulated device: its key, its chain tip and its tokens.
pub(crate) struct Device {
    pub id: Uuid,
    pub key: SigningKey,
    pub tip: ChainTip,
    pub login: LoginResponse,
}

impl Device {
    /// Record the next event on this device's chain at device time `at`.
    pub fn record_at(&mut self, job: Uuid, body: &EventBody, at: DateTime<Utc>) -> Event {
        let (kind, payload) = body.to_parts();
        let e = UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: self.id,
            device_seq: self.tip.seq + 1,
            job_id: job,
            kind,
            payload,
            recorded_at: at,
            elapsed_ms: self.tip.seq * 1000,
            prev_hash: self.tip.hash,
            format: heatcrew_protocol::Format::V2,
        }
        .seal(&self.key);
        self.tip = ChainTip {
            seq: e.seq(),
            hash: e.hash,
        };
        e
    }

    pub(crate) fn record(&mut self, job: Uuid, body: &EventBody) -> Event {
        self.record_at(job, body, Utc::now())
    }
}

pub(crate) fn step(name: &str) -> EventBody {
    EventBody::StepCompleted {
        step: name.into(),
        evidence: StepEvidence::default(),
    }
}

pub(crate) fn job_id(job: &Value) -> Uuid {
    job["id"].as_str().expect("job id").parse().expect("uuid")
}
