//! The office over real HTTP: a server on 127.0.0.1:0 with a temp SQLite file, reqwest as the
//! client, events sealed with heatcrew-protocol and an Ed25519 key exactly as a device does.

use chrono::{Duration, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_office::store::OfficeStore;
use heatcrew_office::{Config, Office, RunningOffice};
use heatcrew_protocol::sync::{
    AttachmentStatus, ChangeKind, LoginResponse, MAX_CHUNK_BYTES, PullResponse, PushOutcome,
    PushResponse, Role,
};
use heatcrew_protocol::{
    AttachmentRef, ChainTip, DEVICE_TIME_HEADER, Digest, Event, EventBody, Job, PROTOCOL_HEADER,
    Resolution, SERVER_TIME_HEADER, StepEvidence, UnsignedEvent,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

struct TestOffice {
    _dir: tempfile::TempDir,
    db: PathBuf,
    running: RunningOffice,
    http: reqwest::Client,
}

impl TestOffice {
    async fn start() -> TestOffice {
        Self::start_with(|_| {}).await
    }

    async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestOffice {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("office.db");
        let mut config = Config::new(&db);
        tweak(&mut config);
        let office = Office::open(config).expect("open office");
        for (username, role) in [
            ("admin", Role::Admin),
            ("dispatch", Role::Dispatcher),
            ("tech_a", Role::RepairTechnician),
            ("tech_b", Role::RepairTechnician),
        ] {
            office
                .add_user(username, PASSWORD, role, username, "")
                .expect("add user");
        }
        let running = office.spawn("127.0.0.1:0").await.expect("spawn office");
        TestOffice {
            _dir: dir,
            db,
            running,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    fn store(&self) -> &dyn OfficeStore {
        &*self.running.state.store
    }

    fn user_id(&self, username: &str) -> Uuid {
        self.store()
            .user_by_username(username)
            .expect("lookup")
            .expect("user exists")
            .info
            .id
    }

    async fn staff_token(&self, username: &str) -> String {
        let (status, body) = self
            .post_json(
                "/api/v1/auth/staff-login",
                None,
                &json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "staff login must work: {body}");
        body["access_token"].as_str().expect("token").to_owned()
    }

    async fn device(&self, username: &str) -> Device {
        self.device_with(username, PASSWORD).await
    }

    async fn device_with(&self, username: &str, password: &str) -> Device {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let id = Uuid::now_v7();
        let (status, body) = self.login_device(username, password, id, &key).await;
        assert_eq!(status, StatusCode::OK, "device login must work: {body}");
        let login: LoginResponse = serde_json::from_value(body).expect("login response");
        Device {
            id,
            key,
            tip: ChainTip::START,
            login,
        }
    }

    /// Log a device in: ask for a challenge, sign it with `key` (proof of possession), send both.
    async fn login_device(
        &self,
        username: &str,
        password: &str,
        id: Uuid,
        key: &SigningKey,
    ) -> (StatusCode, Value) {
        use ed25519_dalek::Signer;
        let (status, c) = self
            .post_json("/api/v1/auth/challenge", None, &json!({"device_id": id}))
            .await;
        assert_eq!(status, StatusCode::OK, "a challenge for anyone: {c}");
        let challenge = c["challenge"].as_str().expect("challenge").to_owned();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&challenge, &mut bytes).expect("hex challenge");
        let message =
            heatcrew_protocol::log::enrolment_message(&bytes, id, &key.verifying_key(), username);
        self.post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password, "device_id": id,
                    "device_public_key": hex::encode(key.verifying_key().as_bytes()), "device_name": "test phone",
                    "challenge": challenge, "proof": hex::encode(key.sign(&message).to_bytes())}),
        )
        .await
    }

    async fn post_json(
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

    async fn get_json(&self, path: &str, token: &str) -> (StatusCode, Value) {
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

    async fn push(&self, dev: &Device, events: &[Event]) -> (StatusCode, Value) {
        self.post_json(
            "/api/v1/sync/push",
            Some(&dev.login.access_token),
            &json!({"events": events}),
        )
        .await
    }

    async fn push_ok(&self, dev: &Device, events: &[Event]) -> PushResponse {
        let (status, body) = self.push(dev, events).await;
        assert_eq!(status, StatusCode::OK, "push must be answered: {body}");
        serde_json::from_value(body).expect("push response")
    }

    async fn pull(&self, token: &str, cursor: u64) -> PullResponse {
        let (status, body) = self
            .get_json(&format!("/api/v1/sync/pull?cursor={cursor}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "pull must be answered: {body}");
        serde_json::from_value(body).expect("pull response")
    }

    async fn create_job(&self, staff: &str, assignee: Option<Uuid>) -> Job {
        let (status, body) = self
            .post_json(
                "/api/v1/jobs",
                Some(staff),
                &json!({"fault": "暖气不热", "reported_at": Utc::now() - Duration::hours(1),
                        "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"},
                        "assignee": assignee}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "a dispatcher can create a work order: {body}"
        );
        serde_json::from_value(body).expect("job")
    }

    async fn job_detail(&self, staff: &str, job: Uuid) -> Value {
        let (status, body) = self.get_json(&format!("/api/v1/jobs/{job}"), staff).await;
        assert_eq!(status, StatusCode::OK, "job read-back: {body}");
        body
    }
}

/// A simulated device: its key, its chain tip and its tokens.
struct Device {
    id: Uuid,
    key: SigningKey,
    tip: ChainTip,
    login: LoginResponse,
}

impl Device {
    fn unsigned(&self, job: Uuid, body: &EventBody) -> UnsignedEvent {
        let (kind, payload) = body.to_parts();
        UnsignedEvent {
            id: Uuid::now_v7(),
            device_id: self.id,
            device_seq: self.tip.seq + 1,
            job_id: job,
            kind,
            payload,
            recorded_at: Utc::now(),
            elapsed_ms: self.tip.seq * 1000,
            prev_hash: self.tip.hash,
            format: heatcrew_protocol::Format::V2,
        }
    }

    /// Record the next event on this device's chain.
    fn record(&mut self, job: Uuid, body: &EventBody) -> Event {
        let e = self.unsigned(job, body).seal(&self.key);
        self.tip = ChainTip {
            seq: e.seq(),
            hash: e.hash,
        };
        e
    }
}

fn step(name: &str) -> EventBody {
    EventBody::StepCompleted {
        step: name.into(),
        evidence: StepEvidence::default(),
    }
}

fn outcomes(resp: &PushResponse) -> Vec<String> {
    resp.results
        .iter()
        .map(|r| match &r.outcome {
            PushOutcome::Accepted => "accepted".to_owned(),
            PushOutcome::Duplicate => "duplicate".to_owned(),
            PushOutcome::Rejected { code, .. } => code.as_str().to_owned(),
        })
        .collect()
}

fn photo_ref(bytes: &[u8]) -> AttachmentRef {
    AttachmentRef {
        sha256: Digest::of(bytes),
        bytes: bytes.len() as u64,
        mime: "image/jpeg".into(),
        width: 0,
        height: 0,
        taken_at: None,
        gps: None,
    }
}

#[tokio::test]
async fn login_tokens_expire_refresh_rotates_and_revocation_sticks() {
    let o = TestOffice::start_with(|c| c.access_ttl = std::time::Duration::from_millis(800)).await;
    let (status, body) = o
        .post_json(
            "/api/v1/auth/staff-login",
            None,
            &json!({"username": "tech_a", "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials")),
        "a wrong password is refused with a code"
    );

    let dev = o.device("tech_a").await;
    assert_eq!(
        dev.login.device_code, "D0001",
        "the first device at this office gets the first short code"
    );
    assert_eq!(
        dev.login.last_seq, 0,
        "a new device has nothing at the office"
    );
    let t1 = dev.login.access_token.clone();
    o.pull(&t1, 0).await;

    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let (status, body) = o.get_json("/api/v1/sync/pull?cursor=0", &t1).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_expired")),
        "an expired access token must be told apart so the device refreshes"
    );

    // A refresh whose response is lost: the device still has the old refresh token and retries.
    let r1 = dev.login.refresh_token.clone();
    let (status, lost) = o
        .post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
        .await;
    assert_eq!(status, StatusCode::OK, "refresh works: {lost}");
    let (status, second) = o
        .post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a retried refresh after a lost response must not lock the device out: {second}"
    );
    assert_eq!(
        second["device_code"], "D0001",
        "a refreshed device session keeps its device"
    );
    let t2 = second["access_token"].as_str().expect("token").to_owned();
    let r2 = second["refresh_token"].as_str().expect("token").to_owned();
    assert_ne!(r2, r1, "refresh rotates the refresh token");
    o.pull(&t2, 0).await;

    // The new pair is in use: the old refresh token coming back means it was copied.
    let (status, body) = o
        .post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("refresh_reused")),
        "reuse of a rotated-out refresh token is refused"
    );
    let (status, body) = o.get_json("/api/v1/sync/pull?cursor=0", &t2).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_revoked")),
        "reuse revokes the whole session, including the live access token"
    );

    // Logging out revokes the session.
    let dev2 = o.device("tech_a").await;
    let resp = o
        .http
        .post(o.url("/api/v1/auth/revoke"))
        .bearer_auth(&dev2.login.access_token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "revocation is acknowledged"
    );
    let (status, _) = o
        .get_json("/api/v1/sync/pull?cursor=0", &dev2.login.access_token)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked token opens nothing"
    );
    let (status, body) = o
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": dev2.login.refresh_token}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_refresh_token")),
        "nor can its refresh token revive it"
    );

    // The same device id with another key is not the same device.
    let other_key = SigningKey::generate(&mut rand::rngs::OsRng);
    let (status, body) = o.login_device("tech_a", PASSWORD, dev.id, &other_key).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("device_key_mismatch")),
        "an enrolled device id cannot be taken over by another key"
    );

    let (status, _) = o
        .get_json("/api/v1/sync/pull?cursor=0", "not-a-token")
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a forged token opens nothing"
    );
}

#[tokio::test]
async fn push_accepts_once_replays_as_duplicates_and_gaps_are_409() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let batch: Vec<Event> = ["appointment", "arrive", "show_id"]
        .iter()
        .map(|s| dev.record(job.id, &step(s)))
        .collect();

    let order = json!({"id": job.id, "fault": job.title, "customer": job.customer});
    let (status, again) = o.post_json("/api/v1/jobs", Some(&staff), &order).await;
    assert_eq!(
        (status, again["id"].clone()),
        (StatusCode::OK, json!(job.id)),
        "creating the same work order again (a retry) returns it"
    );
    let (_, jobs) = o.get_json("/api/v1/jobs", &staff).await;
    assert_eq!(
        jobs.as_array().map(Vec::len),
        Some(1),
        "a retried create makes no second job"
    );
    let (status, clash) = o
        .post_json(
            "/api/v1/jobs",
            Some(&staff),
            &json!({"id": job.id, "fault": "别的故障", "customer": job.customer}),
        )
        .await;
    assert_eq!(
        (status, clash["code"].as_str()),
        (StatusCode::CONFLICT, Some("job_exists")),
        "a different order under a taken id is refused"
    );

    let resp = o.push_ok(&dev, &batch).await;
    assert_eq!(
        outcomes(&resp),
        ["accepted"; 3],
        "a fresh, valid batch is stored"
    );
    assert_eq!(resp.last_seq, 3, "the ledger moves to the last event");

    let replay = o.push_ok(&dev, &batch).await;
    assert_eq!(
        outcomes(&replay),
        ["duplicate"; 3],
        "a retried batch is acknowledged, not stored again"
    );
    assert_eq!(replay.last_seq, 3, "a replay does not move the ledger");
    let detail = o.job_detail(&staff, job.id).await;
    assert_eq!(
        detail["steps"].as_array().map(Vec::len),
        Some(3),
        "the office holds each step exactly once"
    );

    let e4 = dev.record(job.id, &step("knock"));
    let e5 = dev.record(job.id, &step("shoe_covers"));
    let (status, body) = o.push(&dev, std::slice::from_ref(&e5)).await;
    assert_eq!(status, StatusCode::CONFLICT, "a gap in device_seq is a 409");
    assert_eq!(
        (body["code"].as_str(), body["expected_seq"].as_u64()),
        (Some("sequence_gap"), Some(4)),
        "the device is told where to resume"
    );

    let e6 = dev.record(job.id, &step("diagnose"));
    let (status, body) = o.push(&dev, &[e4.clone(), e6.clone()]).await;
    assert_eq!(
        (status, body["expected_seq"].as_u64()),
        (StatusCode::CONFLICT, Some(4)),
        "a gap inside a batch refuses the whole batch"
    );
    assert_eq!(
        o.push_ok(&dev, &[]).await.last_seq,
        3,
        "nothing of a refused batch was stored"
    );

    let resp = o.push_ok(&dev, &[e4, e5, e6]).await;
    assert_eq!(
        outcomes(&resp),
        ["accepted"; 3],
        "after resyncing from the expected seq the rest goes through"
    );
    let (status, page) = o
        .get_json(
            &format!("/api/v1/devices/{}/events?after=1&limit=2", dev.id),
            &staff,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "staff can read a device's ledger: {page}"
    );
    let page: Vec<Event> = serde_json::from_value(page).expect("events");
    assert_eq!(
        page,
        batch[1..3].to_vec(),
        "the ledger pages in sequence order, exactly as signed"
    );

    let close = dev.record(
        job.id,
        &EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "更换阀门".into(),
        },
    );
    o.push_ok(&dev, &[close]).await;
    let (status, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the summary report is served: {summary}"
    );
    assert_eq!(summary["jobs_closed"], 1, "a closed job counts as closed");
    assert_eq!(
        summary["timely_repair_rate"], 1.0,
        "resolved an hour after the report is within 4 hours"
    );
    assert_eq!(
        summary["events_accepted"], 7,
        "every accepted event counts once"
    );
}

#[tokio::test]
async fn tampered_events_are_rejected_with_a_code_and_break_nothing() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let first = dev.record(job.id, &step("appointment"));
    o.push_ok(&dev, std::slice::from_ref(&first)).await;

    let stranger = SigningKey::generate(&mut rand::rngs::OsRng);
    let forged = dev.unsigned(job.id, &step("arrive")).seal(&stranger);
    let mut edited = dev.unsigned(job.id, &step("arrive")).seal(&dev.key);
    edited.unsigned.payload["step"] = json!("signature");
    let mut unlinked = dev.unsigned(job.id, &step("arrive"));
    unlinked.prev_hash = Digest::of(b"not the previous event");
    let unlinked = unlinked.seal(&dev.key);
    for (bad, code, why) in [
        (forged, "bad_signature", "an event signed by another key"),
        (edited, "edited", "an event edited after sealing"),
        (
            unlinked,
            "broken_chain",
            "an event that does not link to the previous one",
        ),
    ] {
        let resp = o.push_ok(&dev, &[bad]).await;
        assert_eq!(outcomes(&resp), [code], "{why} is rejected with its code");
        assert_eq!(resp.last_seq, 1, "{why} does not advance the ledger");
    }

    let mut conflicting = first.clone();
    conflicting.unsigned.payload["step"] = json!("arrive");
    let conflicting = conflicting.unsigned.seal(&dev.key);
    let resp = o.push_ok(&dev, &[conflicting]).await;
    assert_eq!(
        outcomes(&resp),
        ["conflicting_duplicate"],
        "a different event at a stored seq is refused"
    );

    let mut zero = dev.unsigned(job.id, &step("arrive"));
    zero.device_seq = 0;
    let resp = o.push_ok(&dev, &[zero.seal(&dev.key)]).await;
    assert_eq!(
        outcomes(&resp),
        ["out_of_sequence"],
        "sequence numbers start at 1; 0 is refused, not a server error"
    );

    let next = dev.record(job.id, &step("arrive"));
    let after = dev.record(job.id, &step("show_id"));
    let resp = o.push_ok(&dev, &[next, after]).await;
    assert_eq!(
        outcomes(&resp),
        ["accepted", "accepted"],
        "the device's honest chain goes on after the refusals"
    );
    let detail = o.job_detail(&staff, job.id).await;
    let steps: Vec<&str> = detail["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["step"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        steps,
        ["appointment", "arrive", "show_id"],
        "only verified events reach the job"
    );
    assert!(
        heatcrew_office::verify::verify_all(o.store(), Some(&o.running.state.files)).is_ok(),
        "the stored chain still verifies"
    );
}

#[tokio::test]
async fn a_technician_cannot_write_or_read_another_technicians_jobs() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let mut a = o.device("tech_a").await;
    let b = o.device("tech_b").await;
    let b_job = o.create_job(&staff, Some(o.user_id("tech_b"))).await;
    let a_job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;

    let intrusion = a.record(b_job.id, &step("appointment"));
    let resp = o.push_ok(&a, &[intrusion]).await;
    assert_eq!(
        outcomes(&resp),
        ["forbidden_job"],
        "A's event for B's job is refused"
    );
    let detail = o.job_detail(&staff, b_job.id).await;
    assert_eq!(
        detail["steps"].as_array().map(Vec::len),
        Some(0),
        "nothing of A's reaches B's job"
    );
    assert_eq!(
        detail["rejected"][0]["code"], "forbidden_job",
        "the refusal is visible to the office"
    );
    let unknown = a.record(Uuid::now_v7(), &step("appointment"));
    assert_eq!(
        outcomes(&o.push_ok(&a, &[unknown]).await),
        ["unknown_job"],
        "a forged job id is refused"
    );
    let fine = a.record(a_job.id, &step("appointment"));
    assert_eq!(
        outcomes(&o.push_ok(&a, &[fine]).await),
        ["accepted"],
        "A's own chain goes on after refused events"
    );

    let b_pull = o.pull(&b.login.access_token, 0).await;
    assert!(!b_pull.changes.is_empty(), "B sees B's job");
    for cursor in [
        0,
        1,
        b_pull.next_cursor.saturating_sub(1),
        u64::MAX / 2,
        u64::MAX,
    ] {
        let a_pull = o.pull(&a.login.access_token, cursor).await;
        let leaked = a_pull.changes.iter().any(|c| match &c.change {
            ChangeKind::JobUpserted { job } => job.id == b_job.id,
            ChangeKind::JobRevoked { job_id, .. } => *job_id == b_job.id,
            _ => false,
        });
        assert!(
            !leaked,
            "no cursor makes B's job visible to A (cursor {cursor})"
        );
        if cursor >= u64::MAX / 2 {
            assert!(
                a_pull.changes.is_empty(),
                "a cursor beyond the end returns nothing (it must not wrap around)"
            );
        }
    }
    let (status, _) = o
        .get_json(&format!("/api/v1/jobs/{}", b_job.id), &a.login.access_token)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "field staff cannot read the dispatch view"
    );
    let (status, _) = o
        .post_json(
            "/api/v1/jobs",
            Some(&a.login.access_token),
            &json!({"fault": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "field staff cannot dispatch");
    let (status, body) = o
        .push(
            &Device {
                login: LoginResponse {
                    access_token: staff.clone(),
                    ..a.login.clone()
                },
                ..a
            },
            &[],
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_device")),
        "a staff token has no device ledger to push to"
    );
}

#[tokio::test]
async fn reassignment_revokes_the_job_on_the_old_assignees_devices() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let a = o.device("tech_a").await;
    let b = o.device("tech_b").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let first = o.pull(&a.login.access_token, 0).await;
    assert!(
        first
            .changes
            .iter()
            .any(|c| matches!(&c.change, ChangeKind::JobUpserted { job: j } if j.id == job.id)),
        "A receives the assignment"
    );
    let (status, body) = o
        .post_json(
            &format!("/api/v1/jobs/{}/assign", job.id),
            Some(&staff),
            &json!({"assignee": o.user_id("tech_b")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "reassign works: {body}");
    let a_next = o.pull(&a.login.access_token, first.next_cursor).await;
    assert!(
        a_next.changes.iter().any(
            |c| matches!(&c.change, ChangeKind::JobRevoked { job_id, .. } if *job_id == job.id)
        ),
        "A is told the job is no longer A's: {:?}",
        a_next.changes
    );
    let b_pull = o.pull(&b.login.access_token, 0).await;
    let got = b_pull.changes.iter().find_map(|c| match &c.change {
        ChangeKind::JobUpserted { job: j } if j.id == job.id => Some(j.clone()),
        _ => None,
    });
    let got = got.expect("B receives the job");
    assert_eq!(
        (got.assignee, got.revision),
        (Some(o.user_id("tech_b")), 2),
        "B's copy names B and is a newer revision"
    );

    let (status, _) = o
        .post_json(
            &format!("/api/v1/jobs/{}/cancel", job.id),
            Some(&staff),
            &json!({"reason": "客户已自行修复"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "cancel works");
    let b_next = o.pull(&b.login.access_token, b_pull.next_cursor).await;
    assert!(
        b_next.changes.iter().any(|c| matches!(&c.change, ChangeKind::JobUpserted { job: j } if j.id == job.id && j.status == heatcrew_protocol::JobStatus::Cancelled)),
        "the assignee learns of the cancellation"
    );
    let (status, _) = o
        .post_json("/api/v1/outages", Some(&staff), &json!({"area": "滨河小区", "reason": "抢修", "starts_at": Utc::now(), "expected_restore_at": Utc::now() + Duration::hours(4)}))
        .await;
    assert_eq!(status, StatusCode::OK, "an outage notice can be published");
    for dev in [&a, &b] {
        let p = o.pull(&dev.login.access_token, 0).await;
        assert!(
            p.changes
                .iter()
                .any(|c| matches!(c.change, ChangeKind::OutageUpserted { .. })),
            "every crew learns of the outage"
        );
        let seqs: Vec<u64> = p.changes.iter().map(|c| c.server_seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "changes arrive in commit order"
        );
    }
    let page = o
        .get_json("/api/v1/sync/pull?cursor=0&limit=1", &b.login.access_token)
        .await
        .1;
    assert_eq!(
        (
            page["changes"].as_array().map(Vec::len),
            page["has_more"].as_bool()
        ),
        (Some(1), Some(true)),
        "a page honours the limit and says more is waiting"
    );
}

#[tokio::test]
async fn malformed_and_oversized_requests_get_a_code_and_the_server_keeps_serving() {
    let o = TestOffice::start().await;
    let dev = o.device("tech_a").await;
    let resp = o
        .http
        .post(o.url("/api/v1/sync/push"))
        .bearer_auth(&dev.login.access_token)
        .header("content-type", "application/json")
        .body("{\"events\": [")
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "malformed JSON is a 400"
    );
    assert!(
        resp.headers().contains_key(PROTOCOL_HEADER)
            && resp.headers().contains_key(SERVER_TIME_HEADER),
        "errors carry the protocol and time headers too"
    );
    let body: Value = resp.json().await.expect("json error");
    assert_eq!(
        body["code"], "bad_json",
        "with a code the device can branch on"
    );

    let huge = vec![b' '; 6 * 1024 * 1024];
    let resp = o
        .http
        .post(o.url("/api/v1/sync/push"))
        .bearer_auth(&dev.login.access_token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(
            resp.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "an oversized body is a 413"
        );
        let body: Value = resp.json().await.expect("json error");
        assert_eq!(body["code"], "too_large", "with a code");
    } // else: the server may close the connection while the client still sends; it must keep serving.

    let (status, body) = o
        .get_json("/api/v1/nothing-here", &dev.login.access_token)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "unknown routes answer in the same error shape"
    );
    let resp = o
        .http
        .delete(o.url("/api/v1/sync/push"))
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "a wrong method is a 405"
    );
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "method_not_allowed",
        "with a code"
    );
    let (status, body) = o
        .post_json("/api/v1/auth/login", None, &json!({"username": "tech_a"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_json")),
        "missing fields are bad JSON, not a crash"
    );

    o.pull(&dev.login.access_token, 0).await;
    let resp = o
        .http
        .get(o.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi");
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the server still serves after all that"
    );
    let doc: Value = resp.json().await.expect("openapi json");
    assert!(
        doc["paths"]["/api/v1/sync/push"]["post"].is_object(),
        "the OpenAPI document describes push"
    );
    assert!(
        doc["components"]["schemas"]["ErrorBody"].is_object(),
        "and the error shape"
    );
}

#[tokio::test]
async fn attachments_upload_in_chunks_resume_and_count_only_when_the_hash_matches() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let mut a = o.device("tech_a").await;
    let b = o.device("tech_b").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let bytes: Vec<u8> = (0..(2 * MAX_CHUNK_BYTES + 12345))
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let photo = photo_ref(&bytes);
    let sha = photo.sha256;
    let wrong_bytes = vec![7u8; 1000];
    let liar = AttachmentRef {
        sha256: Digest::of(b"something else"),
        bytes: 1000,
        ..photo_ref(&wrong_bytes)
    };
    let events = [
        a.record(
            job.id,
            &EventBody::PhotoAdded {
                step: "diagnose".into(),
                photo: photo.clone(),
                caption: "维修前".into(),
            },
        ),
        a.record(
            job.id,
            &EventBody::PhotoAdded {
                step: "clean_up".into(),
                photo: liar.clone(),
                caption: String::new(),
            },
        ),
    ];
    o.push_ok(&a, &events).await;

    let create = json!({"sha256": sha, "size": bytes.len(), "mime": "image/jpeg"});
    let (status, body) = o
        .post_json("/api/v1/attachments", Some(&b.login.access_token), &create)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_referenced")),
        "B cannot upload into A's evidence"
    );
    let (status, body) = o
        .post_json("/api/v1/attachments", Some(&a.login.access_token), &create)
        .await;
    assert_eq!(status, StatusCode::OK, "A announces the upload: {body}");
    assert_eq!(body["offset"], 0, "a new upload starts at 0");

    let patch = |offset: usize, chunk: &[u8]| {
        o.http
            .patch(o.url(&format!("/api/v1/attachments/{sha}")))
            .bearer_auth(&a.login.access_token)
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(chunk.to_vec())
            .send()
    };
    let resp = patch(0, &bytes[..MAX_CHUNK_BYTES]).await.expect("patch");
    assert_eq!(resp.status(), StatusCode::OK, "the first chunk is taken");

    let head = o
        .http
        .head(o.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&a.login.access_token)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()["upload-offset"],
        MAX_CHUNK_BYTES.to_string().as_str(),
        "HEAD tells where to resume"
    );

    let resp = patch(0, &bytes[..MAX_CHUNK_BYTES]).await.expect("patch");
    assert_eq!(
        resp.status(),
        StatusCode::CONFLICT,
        "a chunk at the wrong offset is a 409"
    );
    assert_eq!(
        resp.headers()["upload-offset"],
        MAX_CHUNK_BYTES.to_string().as_str(),
        "carrying the real offset"
    );
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "offset_mismatch",
        "with a code"
    );

    let resp = patch(MAX_CHUNK_BYTES, &bytes[MAX_CHUNK_BYTES..])
        .await
        .expect("patch");
    assert_eq!(
        resp.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "a chunk above MAX_CHUNK_BYTES is refused"
    );
    let resp = patch(
        MAX_CHUNK_BYTES,
        &bytes[MAX_CHUNK_BYTES..2 * MAX_CHUNK_BYTES],
    )
    .await
    .expect("patch");
    assert_eq!(resp.status(), StatusCode::OK, "the second chunk is taken");
    let resp = patch(2 * MAX_CHUNK_BYTES, &bytes[2 * MAX_CHUNK_BYTES..])
        .await
        .expect("patch");
    let st: AttachmentStatus = resp.json().await.expect("status");
    assert!(
        st.complete && st.offset == bytes.len() as u64,
        "the last chunk completes a matching upload"
    );

    let (_, again) = o
        .post_json("/api/v1/attachments", Some(&a.login.access_token), &create)
        .await;
    assert_eq!(
        again["complete"], true,
        "a second announcement of the same content is already complete (dedup)"
    );
    let got = o
        .http
        .get(o.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("download");
    assert_eq!(
        got.headers()["content-type"],
        "image/jpeg",
        "the file is served with its type"
    );
    assert_eq!(
        got.bytes().await.expect("bytes").as_ref(),
        bytes.as_slice(),
        "office staff download exactly what was captured"
    );
    let (status, _) = o
        .get_json(&format!("/api/v1/attachments/{sha}"), &b.login.access_token)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "B cannot download A's evidence"
    );

    // Bytes that do not hash to the announced address never count.
    let lsha = liar.sha256;
    let (status, _) = o
        .post_json(
            "/api/v1/attachments",
            Some(&a.login.access_token),
            &json!({"sha256": lsha, "size": 1000, "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the lying upload is announced");
    let resp = o
        .http
        .patch(o.url(&format!("/api/v1/attachments/{lsha}")))
        .bearer_auth(&a.login.access_token)
        .header("upload-offset", "0")
        .body(wrong_bytes)
        .send()
        .await
        .expect("patch");
    assert_eq!(
        resp.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a hash mismatch is refused"
    );
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "hash_mismatch",
        "with a code"
    );
    let head = o
        .http
        .head(o.url(&format!("/api/v1/attachments/{lsha}")))
        .bearer_auth(&a.login.access_token)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()["upload-offset"],
        "0",
        "the bad bytes were discarded"
    );
    let (status, body) = o
        .get_json(&format!("/api/v1/attachments/{lsha}"), &staff)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_received")),
        "nothing was stored under that address"
    );

    let detail = o.job_detail(&staff, job.id).await;
    let received: Vec<bool> = detail["photos"]
        .as_array()
        .expect("photos")
        .iter()
        .map(|p| p["photo"]["received"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(
        received,
        [true, false],
        "the job view says which photos arrived"
    );
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        (
            summary["attachments_received"].as_u64(),
            summary["attachments_missing"].as_u64()
        ),
        (Some(1), Some(1)),
        "the report counts received and missing files"
    );

    let files = &o.running.state.files;
    assert!(
        heatcrew_office::verify::verify_all(o.store(), Some(files)).is_ok(),
        "received files verify"
    );
    std::fs::write(files.final_path(sha), b"a doctored photo").expect("tamper with the file");
    let err = heatcrew_office::verify::verify_all(o.store(), Some(files))
        .expect_err("an altered file must be caught");
    assert!(
        err.to_string().contains(&sha.to_hex()),
        "verify names the altered file: {err}"
    );
}

#[tokio::test]
async fn device_clock_offsets_are_recorded_and_jumps_flagged() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let dev = o.device("tech_a").await;
    for behind in [
        Duration::minutes(10),
        Duration::minutes(10),
        Duration::hours(2),
    ] {
        let resp = o
            .http
            .get(o.url("/api/v1/sync/pull?cursor=0"))
            .bearer_auth(&dev.login.access_token)
            .header(DEVICE_TIME_HEADER, (Utc::now() - behind).to_rfc3339())
            .send()
            .await
            .expect("pull");
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "pull with a device clock works"
        );
    }
    let rec = o.store().device(dev.id).expect("lookup").expect("device");
    let offset = rec.clock_offset_ms.expect("an offset was recorded");
    assert!(
        (offset - 2 * 3600 * 1000).abs() < 5000,
        "the offset is server minus device: {offset}"
    );
    assert_eq!(
        rec.clock_jumps, 1,
        "a 10-minute steady offset is not a jump, moving to 2 hours is"
    );
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["devices_clock_flagged"], 1,
        "the report flags the device"
    );
}

#[tokio::test]
async fn verify_catches_a_tampered_stored_event() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let events: Vec<Event> = ["appointment", "arrive", "show_id"]
        .iter()
        .map(|s| dev.record(job.id, &step(s)))
        .collect();
    o.push_ok(&dev, &events).await;
    let bin = env!("CARGO_BIN_EXE_heatcrew-office");
    let out = std::process::Command::new(bin)
        .args(["verify", "--db"])
        .arg(&o.db)
        .output()
        .expect("run verify");
    assert!(
        out.status.success(),
        "an untouched office verifies: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok: 3 events from 1 devices; 0 attachment files intact; office log of 3 entries, 0 tree heads",
        "verify says what it checked"
    );

    let sqlite = heatcrew_office::store::SqliteStore::open(&o.db).expect("open db");
    sqlite.with_connection(|c| {
        c.execute(
            "UPDATE events SET body = json_set(body, '$.payload.step', 'skipped_arrival') WHERE device_seq = 2",
            [],
        )
        .expect("tamper")
    });
    let out = std::process::Command::new(bin)
        .args(["verify", "--db"])
        .arg(&o.db)
        .output()
        .expect("run verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a tampered event fails verification");
    assert!(
        stdout.contains("event 2") && stdout.contains("edited"),
        "verify names the first bad event: {stdout}"
    );
}

#[tokio::test]
async fn admin_creates_users_and_crews_and_a_device_may_open_an_emergency_job() {
    let o = TestOffice::start().await;
    let admin = o.staff_token("admin").await;
    let dispatcher = o.staff_token("dispatch").await;
    let new_user = json!({"username": "zhaolei", "password": "热力公司2026", "role": "patrol", "display_name": "赵磊", "badge_no": "XJ-0302"});
    let (status, _) = o
        .post_json("/api/v1/users", Some(&dispatcher), &new_user)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only an admin creates users");
    let (status, user) = o.post_json("/api/v1/users", Some(&admin), &new_user).await;
    assert_eq!(status, StatusCode::OK, "admin creates a user: {user}");
    let (status, retry) = o.post_json("/api/v1/users", Some(&admin), &new_user).await;
    assert_eq!(
        (status, &retry["id"]),
        (StatusCode::OK, &user["id"]),
        "the same request again (a retry) returns the same user"
    );
    let mut other = new_user.clone();
    other["password"] = json!("another password");
    let (status, body) = o.post_json("/api/v1/users", Some(&admin), &other).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("username_taken")),
        "usernames are unique"
    );
    let (status, crew) = o
        .post_json(
            "/api/v1/crews",
            Some(&admin),
            &json!({"name": "巡检二班", "members": [user["id"]]}),
        )
        .await;
    assert_eq!(
        (status, crew["members"][0].clone()),
        (StatusCode::OK, user["id"].clone()),
        "a crew holds its members"
    );

    let mut dev = o.device_with("zhaolei", "热力公司2026").await;
    let job = Job {
        id: Uuid::now_v7(),
        kind: heatcrew_protocol::JobKind::EmergencyRepair,
        template: heatcrew_office::api::jobs::template_for(
            heatcrew_protocol::JobKind::EmergencyRepair,
        ),
        title: "建设路管道爆裂".into(),
        customer: None,
        site: Some("建设路18号".into()),
        reported_at: Some(Utc::now()),
        window: None,
        assignee: None,
        street_work: true,
        checkpoints: vec![],
        status: heatcrew_protocol::JobStatus::Open,
        revision: 0,
    };
    let created = dev.record(job.id, &EventBody::JobCreated { job: job.clone() });
    let follow = dev.record(job.id, &step("safety_signs"));
    let resp = o.push_ok(&dev, &[created, follow]).await;
    assert_eq!(
        outcomes(&resp),
        ["accepted", "accepted"],
        "a device may open an emergency job and record on it in one batch"
    );
    let detail = o.job_detail(&dispatcher, job.id).await;
    assert_eq!(
        detail["job"]["assignee"], user["id"],
        "the job belongs to the user whose device opened it"
    );
}

#[tokio::test]
async fn serve_prints_its_address_and_the_demo_is_seeded_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("demo.db");
    let bin = env!("CARGO_BIN_EXE_heatcrew-office");
    let add = std::process::Command::new(bin)
        .args([
            "user",
            "add",
            "--username",
            "admin",
            "--password",
            "first admin pw",
            "--role",
            "admin",
            "--name",
            "周总",
            "--db",
        ])
        .arg(&db)
        .output()
        .expect("run user add");
    assert!(
        add.status.success(),
        "`user add` creates the first admin: {}",
        String::from_utf8_lossy(&add.stderr)
    );
    let bad = std::process::Command::new(bin)
        .args([
            "user",
            "add",
            "--username",
            "x",
            "--password",
            "long enough",
            "--role",
            "boss",
            "--name",
            "x",
            "--db",
        ])
        .arg(&db)
        .output()
        .expect("run user add");
    assert!(!bad.status.success(), "an unknown role is refused");
    for round in 0..2 {
        let mut child = tokio::process::Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--db"])
            .arg(&db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn office");
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut url = None;
        let mut printed = String::new();
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(u) = line.strip_prefix("listening on ") {
                url = Some(u.to_owned());
                break;
            }
        }
        let url = url.expect("serve prints `listening on URL`");
        assert!(
            printed.contains("zhangwei / heatcrew-demo"),
            "the demo logins are printed: {printed}"
        );
        assert!(
            !printed.contains("admin / heatcrew-demo"),
            "an account that existed before keeps its own password and is not listed as a demo login"
        );
        let http = reqwest::Client::new();
        let login: Value = http
            .post(format!("{url}/api/v1/auth/staff-login"))
            .json(&json!({"username": "zhaomin", "password": "heatcrew-demo"}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        let token = login["access_token"]
            .as_str()
            .expect("the demo dispatcher can log in");
        let jobs: Vec<Value> = http
            .get(format!("{url}/api/v1/jobs"))
            .bearer_auth(token)
            .send()
            .await
            .expect("jobs")
            .json()
            .await
            .expect("json");
        assert_eq!(
            jobs.len(),
            8,
            "round {round}: six repairs, one inspection, one patrol round, never duplicated"
        );
        let boss = http
            .post(format!("{url}/api/v1/auth/staff-login"))
            .json(&json!({"username": "admin", "password": "first admin pw"}))
            .send()
            .await
            .expect("login");
        assert_eq!(
            boss.status(),
            StatusCode::OK,
            "the admin added on the command line can log in"
        );
        let outages: Vec<Value> = http
            .get(format!("{url}/api/v1/outages"))
            .bearer_auth(token)
            .send()
            .await
            .expect("outages")
            .json()
            .await
            .expect("json");
        assert_eq!(outages.len(), 1, "round {round}: one outage notice");
        child.kill().await.expect("stop office");
    }
}

#[tokio::test]
async fn a_10000_event_backlog_goes_up_in_10_requests() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let backlog: Vec<Event> = (0..10_000)
        .map(|i| {
            dev.record(
                job.id,
                &EventBody::ReadingRecorded {
                    checkpoint: format!("cp-{}", i % 7),
                    readings: vec![heatcrew_protocol::Reading {
                        key: "supply_temp".into(),
                        value: 95.5,
                        unit: "°C".into(),
                    }],
                    note: "正常".into(),
                },
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let mut requests = 0;
    for batch in backlog.chunks(heatcrew_protocol::sync::MAX_PUSH_EVENTS) {
        let resp = o.push_ok(&dev, batch).await;
        requests += 1;
        assert!(
            resp.results
                .iter()
                .all(|r| r.outcome == PushOutcome::Accepted),
            "every event of the backlog is accepted"
        );
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "pushed 10000 events in {requests} requests, {secs:.2} s, {:.0} events/s",
        10_000.0 / secs
    );
    assert!(
        requests <= 10,
        "the backlog fits in 10 requests (MAX_PUSH_EVENTS per request within MAX_PUSH_BYTES)"
    );
    assert_eq!(
        o.push_ok(&dev, &[]).await.last_seq,
        10_000,
        "the ledger holds all of them"
    );
}

#[tokio::test]
async fn a_restarted_office_keeps_ledgers_tokens_and_half_finished_uploads() {
    let mut o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let bytes = vec![42u8; MAX_CHUNK_BYTES + 10];
    let photo = photo_ref(&bytes);
    let sha = photo.sha256;
    let events = [
        dev.record(job.id, &step("appointment")),
        dev.record(
            job.id,
            &EventBody::PhotoAdded {
                step: "diagnose".into(),
                photo,
                caption: String::new(),
            },
        ),
    ];
    o.push_ok(&dev, &events).await;
    let (status, _) = o
        .post_json(
            "/api/v1/attachments",
            Some(&dev.login.access_token),
            &json!({"sha256": sha, "size": bytes.len(), "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "upload announced");
    let resp = o
        .http
        .patch(o.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&dev.login.access_token)
        .header("upload-offset", "0")
        .body(bytes[..MAX_CHUNK_BYTES].to_vec())
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), StatusCode::OK, "first chunk stored");

    // Stop and reopen on the same files.
    let config = (*o.running.state.config).clone();
    let old = std::mem::replace(
        &mut o.running,
        Office::open(config)
            .expect("reopen")
            .spawn("127.0.0.1:0")
            .await
            .expect("respawn"),
    );
    old.stop().await;

    let replay = o.push_ok(&dev, &events).await;
    assert_eq!(
        outcomes(&replay),
        ["duplicate", "duplicate"],
        "a restart forgets nothing of the ledger"
    );
    let head = o
        .http
        .head(o.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&dev.login.access_token)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()["upload-offset"],
        MAX_CHUNK_BYTES.to_string().as_str(),
        "a half-finished upload resumes where it stopped"
    );
    let resp = o
        .http
        .patch(o.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&dev.login.access_token)
        .header("upload-offset", MAX_CHUNK_BYTES.to_string())
        .body(bytes[MAX_CHUNK_BYTES..].to_vec())
        .send()
        .await
        .expect("patch");
    let st: AttachmentStatus = resp.json().await.expect("status");
    assert!(st.complete, "and completes after the restart");
    let next = dev.record(job.id, &step("arrive"));
    assert_eq!(
        outcomes(&o.push_ok(&dev, &[next]).await),
        ["accepted"],
        "the chain continues after the restart"
    );

    // All bytes on disk but the office stopped before checking them: the next HEAD finishes the job
    // instead of reporting a full offset for a file that does not count.
    let second = vec![9u8; 5000];
    let second_ref = photo_ref(&second);
    let s2 = second_ref.sha256;
    let ev = dev.record(
        job.id,
        &EventBody::PhotoAdded {
            step: "clean_up".into(),
            photo: second_ref,
            caption: String::new(),
        },
    );
    o.push_ok(&dev, &[ev]).await;
    let (status, _) = o
        .post_json(
            "/api/v1/attachments",
            Some(&dev.login.access_token),
            &json!({"sha256": s2, "size": 5000, "mime": "image/jpeg"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "announced");
    o.running
        .state
        .files
        .append(s2, 0, &second)
        .expect("bytes land, then the office stops");
    let head = o
        .http
        .head(o.url(&format!("/api/v1/attachments/{s2}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.headers()["upload-offset"],
        "5000",
        "the complete, matching file is counted"
    );
    let got = o
        .http
        .get(o.url(&format!("/api/v1/attachments/{s2}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("download");
    assert_eq!(got.status(), StatusCode::OK, "and can be downloaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_and_duplicated_pushes_from_many_devices_land_exactly_once() {
    let o = std::sync::Arc::new(TestOffice::start().await);
    let staff = o.staff_token("dispatch").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let mut devices = Vec::new();
    for _ in 0..10 {
        devices.push(o.device("tech_a").await);
    }
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for mut dev in devices {
        let batch: Vec<Event> = (0..200)
            .map(|i| dev.record(job.id, &step(&format!("s{i}"))))
            .collect();
        let o = o.clone();
        tasks.push(tokio::spawn(async move {
            // The same batch twice at once, as a duplicating proxy would deliver it.
            let (first, second) = tokio::join!(o.push_ok(&dev, &batch), o.push_ok(&dev, &batch));
            for (a, b) in first.results.iter().zip(&second.results) {
                let pair = [&a.outcome, &b.outcome];
                assert!(
                    pair.contains(&&PushOutcome::Accepted)
                        && pair.contains(&&PushOutcome::Duplicate),
                    "each event is accepted by exactly one of the two deliveries: {pair:?}"
                );
            }
        }));
    }
    for t in tasks {
        t.await.expect("device task");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "10 devices x 200 events, each pushed twice concurrently: {secs:.2} s, {:.0} events/s",
        2000.0 / secs
    );
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["events_accepted"], 2000,
        "2000 events recorded, 2000 at the office: none lost, none doubled"
    );
    assert!(
        heatcrew_office::verify::verify_all(o.store(), None).is_ok(),
        "every chain verifies"
    );
}

#[tokio::test]
async fn a_visit_reads_back_as_steps_signatures_photos_ratings_notices_readings_and_defects() {
    use heatcrew_protocol::{
        DeclineKind, FindingCategory, Position, Reading, Severity, Signer, Witness,
    };
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let sig = photo_ref(b"signature strokes");
    let bodies = vec![
        step("appointment"),
        EventBody::StepSkipped {
            step: "shoe_covers".into(),
            reason: "客户要求不用鞋套".into(),
        },
        EventBody::PhotoAdded {
            step: "diagnose".into(),
            photo: photo_ref(b"before"),
            caption: "维修前".into(),
        },
        EventBody::SignatureCaptured {
            step: "acceptance".into(),
            signer: Signer::Customer,
            signer_name: "王秀英".into(),
            image: sig,
        },
        EventBody::SignatureDeclined {
            step: "damage".into(),
            outcome: DeclineKind::Refused,
            reason: "对赔偿有异议".into(),
            witness: Some(Witness {
                name: "物业李师傅".into(),
                phone: "13900000000".into(),
            }),
        },
        EventBody::RatingGiven {
            stars: 5,
            comment: "师傅很专业".into(),
        },
        EventBody::NoticeIssued {
            number: "D0001-2026-0001".into(),
            deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 10).expect("date"),
            requirements: "拆除旁通管".into(),
            follow_up_on: None,
        },
        EventBody::ReadingRecorded {
            checkpoint: "room".into(),
            readings: vec![Reading {
                key: "room_temp".into(),
                value: 19.5,
                unit: "°C".into(),
            }],
            note: String::new(),
        },
        EventBody::DefectReported {
            defect_id: Uuid::now_v7(),
            checkpoint: None,
            category: "漏水".into(),
            severity: Severity::Major,
            position: Position {
                lat: None,
                lon: None,
                description: "地下室阀门井".into(),
            },
            description: "阀门滴漏".into(),
            photos: vec![],
        },
        EventBody::FindingRecorded {
            finding_id: Uuid::now_v7(),
            category: FindingCategory::TamperedSeal,
            description: "铅封破坏".into(),
            states: Default::default(),
            photos: vec![],
        },
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "已修复".into(),
        },
    ];
    let events: Vec<Event> = bodies.iter().map(|b| dev.record(job.id, b)).collect();
    let resp = o.push_ok(&dev, &events).await;
    assert!(
        resp.results
            .iter()
            .all(|r| r.outcome == PushOutcome::Accepted),
        "a whole visit is accepted: {:?}",
        resp.results
    );

    let d = o.job_detail(&staff, job.id).await;
    let len = |k: &str| d[k].as_array().map_or(0, Vec::len);
    assert_eq!(len("steps"), 2, "completed and skipped steps are steps");
    assert_eq!(
        d["steps"][1]["skip_reason"], "客户要求不用鞋套",
        "a skipped step keeps its reason"
    );
    assert_eq!(len("photos"), 1, "photos are listed");
    assert_eq!(
        len("signatures"),
        2,
        "captured and declined signatures are both signature records"
    );
    assert_eq!(d["signatures"][0]["signer_name"], "王秀英", "who signed");
    assert_eq!(
        d["signatures"][0]["image"]["received"], false,
        "the signature image has not been uploaded yet"
    );
    assert_eq!(
        d["signatures"][1]["declined"]["witness"]["name"], "物业李师傅",
        "a refusal keeps its witness"
    );
    assert_eq!(
        d["ratings"][0]["payload"]["stars"], 5,
        "the customer's rating"
    );
    assert_eq!(
        d["notices"][0]["payload"]["number"], "D0001-2026-0001",
        "the rectification notice"
    );
    assert_eq!(
        d["readings"][0]["payload"]["readings"][0]["value"], 19.5,
        "the reading"
    );
    assert_eq!(
        d["defects"][0]["payload"]["severity"], "major",
        "the defect"
    );
    assert_eq!(
        d["other_records"][0]["kind"], "finding_recorded",
        "findings land with the other records"
    );
    assert_eq!(
        d["closed"]["payload"]["resolution"], "resolved",
        "the closing record"
    );
    assert_eq!(
        d["sla"]["within_sla"], true,
        "closed an hour after the report: within 4 hours"
    );
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["notice_number_collisions"], 0,
        "one notice, no collision"
    );
    let other_job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let again = dev.record(other_job.id, &bodies[6]);
    o.push_ok(&dev, &[again]).await;
    let (_, summary) = o.get_json("/api/v1/reports/summary", &staff).await;
    assert_eq!(
        summary["notice_number_collisions"], 1,
        "a notice number issued twice is reported"
    );
    let first = &d["steps"][0];
    assert_eq!(
        (first["device_id"].as_str(), first["device_seq"].as_u64()),
        (Some(dev.id.to_string().as_str()), Some(1)),
        "each record says which device recorded it and where in its chain"
    );
}
