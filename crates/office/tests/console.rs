//! The office console's side of the office: the built front end served at `/` with its content
//! types and cache headers (or a clear page when it was not built), and the live stream
//! (`GET /api/v1/live`): office staff only, and an event after a push commits and after a dispatch
//! change.

use chrono::Utc;
use ed25519_dalek::SigningKey;
use heatcrew_office::{Config, Office, RunningOffice};
use heatcrew_protocol::sync::{LoginResponse, Role};
use heatcrew_protocol::{ChainTip, EventBody, StepEvidence, UnsignedEvent};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

async fn office() -> (tempfile::TempDir, RunningOffice) {
    let dir = tempfile::tempdir().expect("tempdir");
    let office = Office::open(Config::new(dir.path().join("office.db"))).expect("open office");
    for (username, role) in [
        ("dispatch", Role::Dispatcher),
        ("tech", Role::RepairTechnician),
    ] {
        office
            .add_user(username, PASSWORD, role, username, "")
            .expect("add user");
    }
    let running = office.spawn("127.0.0.1:0").await.expect("spawn office");
    (dir, running)
}

async fn post(url: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// An open live stream, read event by event.
struct LiveStream {
    resp: reqwest::Response,
    buffer: String,
}

impl LiveStream {
    async fn open(base: &str, token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{base}/api/v1/live"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request the live stream")
    }

    /// The next event's data as JSON (keep-alive comments skipped). Waits at most 20 s so a lost
    /// event fails the test instead of hanging it.
    async fn next(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let data: Vec<&str> = block
                        .lines()
                        .filter_map(|l| l.strip_prefix("data:"))
                        .map(str::trim_start)
                        .collect();
                    if !data.is_empty() {
                        return serde_json::from_str(&data.join("\n")).expect("event data is JSON");
                    }
                    continue;
                }
                let chunk = self
                    .resp
                    .chunk()
                    .await
                    .expect("read the stream")
                    .expect("the stream stays open");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("an event arrives")
    }
}

#[tokio::test]
async fn live_is_for_office_staff_and_tells_of_pushes_and_dispatch_changes() {
    let (_dir, office) = office().await;
    let base = office.url();
    let (_, staff) = post(
        &format!("{base}/api/v1/auth/staff-login"),
        None,
        json!({"username": "dispatch", "password": PASSWORD}),
    )
    .await;
    let staff = staff["access_token"]
        .as_str()
        .expect("staff token")
        .to_owned();

    // A technician's device signs in: its token is refused on the console's stream.
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let device_id = Uuid::now_v7();
    let (status, challenge) = post(
        &format!("{base}/api/v1/auth/challenge"),
        None,
        json!({"device_id": device_id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a challenge: {challenge}");
    let challenge = challenge["challenge"].as_str().expect("challenge");
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(challenge, &mut bytes).expect("hex challenge");
    let head = heatcrew_protocol::ChainTip::START;
    let message = heatcrew_protocol::log::enrolment_message(
        &bytes,
        device_id,
        &key.verifying_key(),
        "tech",
        &head,
    );
    let proof = hex::encode(ed25519_dalek::Signer::sign(&key, &message).to_bytes());
    let (status, login) = post(
        &format!("{base}/api/v1/auth/login"),
        None,
        json!({"username": "tech", "password": PASSWORD, "device_id": device_id,
               "device_public_key": hex::encode(key.verifying_key().as_bytes()),
               "challenge": challenge, "proof": proof, "chain_head": head}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "device login: {login}");
    let login: LoginResponse = serde_json::from_value(login).expect("login response");
    let refused = LiveStream::open(&base, &login.access_token).await;
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "a technician's token gets 403 on the console's live stream"
    );
    let body: Value = refused.json().await.expect("a JSON error");
    assert_eq!(
        body["code"], "forbidden",
        "with the usual {{code, message}}"
    );
    let anonymous = reqwest::get(format!("{base}/api/v1/live"))
        .await
        .expect("request");
    assert_eq!(
        anonymous.status(),
        StatusCode::UNAUTHORIZED,
        "and no token gets 401"
    );

    // The dispatcher's console listens.
    let resp = LiveStream::open(&base, &staff).await;
    assert_eq!(resp.status(), StatusCode::OK, "office staff may listen");
    assert!(
        resp.headers()[CONTENT_TYPE]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/event-stream")),
        "server-sent events, uncompressed"
    );
    let mut live = LiveStream {
        resp,
        buffer: String::new(),
    };

    // A dispatch change: the job created and assigned.
    let (status, job) = post(
        &format!("{base}/api/v1/jobs"),
        Some(&staff),
        json!({"fault": "暖气不热", "assignee": login.user.id,
               "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "create a job: {job}");
    let job_id: Uuid = job["id"].as_str().expect("job id").parse().expect("uuid");
    assert_eq!(
        live.next().await,
        json!({"kind": "job_changed", "job_id": job_id}),
        "a dispatch change is announced once committed"
    );

    // A push from the device.
    let (kind, payload) = EventBody::StepCompleted {
        step: "arrive".into(),
        evidence: StepEvidence::default(),
    }
    .to_parts();
    let event = UnsignedEvent {
        id: Uuid::now_v7(),
        device_id,
        device_seq: 1,
        job_id,
        kind,
        payload,
        recorded_at: Utc::now(),
        elapsed_ms: 0,
        prev_hash: ChainTip::START.hash,
        format: heatcrew_protocol::Format::V2,
    }
    .seal(&key);
    let (status, pushed) = post(
        &format!("{base}/api/v1/sync/push"),
        Some(&login.access_token),
        json!({"events": [event]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "push: {pushed}");
    assert_eq!(
        live.next().await,
        json!({"kind": "job_changed", "job_id": job_id}),
        "a record pushed by a device is announced after it commits"
    );

    // Stopping the office ends open streams instead of waiting for them forever.
    tokio::time::timeout(Duration::from_secs(20), office.stop())
        .await
        .expect("a graceful stop is not held open by a live stream");
}

#[tokio::test]
async fn the_console_is_served_at_the_root_and_the_api_stays_json() {
    let (_dir, office) = office().await;
    let base = office.url();
    let get = |path: &str| reqwest::get(format!("{base}{path}"));

    let unknown = get("/api/v1/nope").await.expect("request");
    assert_eq!(
        unknown.status(),
        StatusCode::NOT_FOUND,
        "unknown API paths are not the console"
    );
    let body: Value = unknown.json().await.expect("JSON");
    assert_eq!(body["code"], "not_found", "and keep the API's error shape");

    let root = get("/").await.expect("request");
    if !heatcrew_office::console::is_built() {
        // A fresh clone before `npm run build`: the office still builds and says what to do.
        assert_eq!(
            root.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "no console, and it says so"
        );
        let page = root.text().await.expect("text");
        assert!(
            page.contains("npm run build"),
            "the page says how to build it: {page}"
        );
        eprintln!("console/dist is not built: checked the not-built page only");
        return;
    }
    assert_eq!(root.status(), StatusCode::OK, "the console's index page");
    assert_eq!(root.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(
        root.headers()[CACHE_CONTROL],
        "no-cache",
        "index.html is revalidated on each load"
    );
    let html = root.text().await.expect("html");
    let asset = html
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("index.html loads a hashed script")
        .to_owned();

    let js = get(&asset).await.expect("request");
    assert_eq!(js.status(), StatusCode::OK, "{asset} is served");
    assert_eq!(js.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(
        js.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable",
        "hashed assets are cached for a year"
    );

    let deep = get("/jobs/0190f3c2-0000-7000-8000-000000000000")
        .await
        .expect("request");
    assert_eq!(
        deep.status(),
        StatusCode::OK,
        "the app's own routes get index.html"
    );
    assert_eq!(deep.text().await.expect("html"), html, "the same page");

    let stale = get("/assets/index-gone.js").await.expect("request");
    assert_eq!(
        stale.status(),
        StatusCode::NOT_FOUND,
        "a missing file is a 404, not index.html parsed as a script"
    );
}

/// Whether the stream ends (the body finishes) within `within`; events before the end are skipped.
async fn ends_within(resp: &mut reqwest::Response, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        loop {
            match resp.chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_live_stream_ends_when_its_session_is_revoked_or_its_token_expires() {
    let (_dir, office) = office().await;
    let base = office.url();
    let login = || async {
        let (status, body) = post(
            &format!("{base}/api/v1/auth/staff-login"),
            None,
            json!({"username": "dispatch", "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "sign in: {body}");
        body["access_token"].as_str().expect("token").to_owned()
    };

    // Signed out: the stream opened with that token ends.
    let token = login().await;
    let resp = LiveStream::open(&base, &token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut live = LiveStream {
        resp,
        buffer: String::new(),
    };
    // While the session holds, the stream stays open past several session checks.
    tokio::time::sleep(heatcrew_office::api::live::SESSION_CHECK * 2 + Duration::from_millis(500))
        .await;
    let (status, job) = post(
        &format!("{base}/api/v1/jobs"),
        Some(&token),
        json!({"fault": "暖气不热", "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "create a job: {job}");
    assert_eq!(
        live.next().await["kind"],
        "job_changed",
        "a live session's stream still delivers"
    );
    let (status, _) = post(
        &format!("{base}/api/v1/auth/revoke"),
        Some(&token),
        json!({}),
    )
    .await;
    assert!(status.is_success(), "sign out: {status}");
    assert!(
        ends_within(&mut live.resp, Duration::from_secs(10)).await,
        "the stream of a revoked session ends"
    );

    // Expired: the office's clock passes the access token's lifetime (an hour).
    let token = login().await;
    let mut resp = LiveStream::open(&base, &token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    office
        .state
        .config
        .clock
        .advance(chrono::TimeDelta::minutes(61));
    assert!(
        ends_within(&mut resp, Duration::from_secs(10)).await,
        "the stream outlives no token: it ends when the token expires"
    );
    let again = LiveStream::open(&base, &token).await;
    assert_eq!(
        again.status(),
        StatusCode::UNAUTHORIZED,
        "and the expired token cannot reopen it"
    );
}
