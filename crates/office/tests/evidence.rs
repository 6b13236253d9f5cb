//! The office's evidence against someone who holds its database (`docs/evidence.md`): receipts,
//! tree heads and proofs over real HTTP, enrolment that proves key possession, a verify that only
//! reads, exports, and every tampering the issue lists, each detected with the spec's fault code.
//!
//! A device here is a key, a chain and what it kept from the office (its receipts and newest tree
//! head), as the device side keeps them; its export is built from exactly that.

use chrono::Utc;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use heatcrew_office::store::{OfficeStore, SqliteStore};
use heatcrew_office::{Config, Office, RunningOffice};
use heatcrew_protocol::export::{
    EXPORT_FORMAT, Export, ExportLine, ExportReport, ExportSource, verify_exports,
};
use heatcrew_protocol::log::{
    ConsistencyProof, InclusionProof, Receipt, TreeHead, enrolment_message, parse_public_key,
};
use heatcrew_protocol::sync::{
    AttachmentCreate, LoginResponse, PullResponse, PushOutcome, PushResponse, Role,
};
use heatcrew_protocol::{ChainTip, Digest, Event, EventBody, StepEvidence, UnsignedEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

struct TestOffice {
    dir: tempfile::TempDir,
    db: PathBuf,
    running: RunningOffice,
    http: reqwest::Client,
}

impl TestOffice {
    async fn start() -> TestOffice {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("office.db");
        let office = Office::open(Config::new(&db)).expect("open office");
        for (username, role) in [
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
            dir,
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

    fn office_key(&self) -> VerifyingKey {
        self.running.state.office_key.verifying_key()
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
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

    async fn challenge(&self, device: Uuid) -> String {
        let (status, c) = self
            .post(
                "/api/v1/auth/challenge",
                None,
                &json!({"device_id": device}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "anyone may ask for a challenge: {c}"
        );
        c["challenge"].as_str().expect("challenge").to_owned()
    }

    /// Log in as `username` on device `id` presenting `public` and a proof signed by `signer`.
    async fn login(
        &self,
        username: &str,
        id: Uuid,
        public: &VerifyingKey,
        signer: &SigningKey,
        challenge: &str,
    ) -> (StatusCode, Value) {
        let mut c = [0u8; 32];
        hex::decode_to_slice(challenge, &mut c).expect("hex");
        let proof = signer.sign(&enrolment_message(&c, id, public, username));
        self.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": PASSWORD, "device_id": id,
                    "device_public_key": hex::encode(public.as_bytes()),
                    "challenge": challenge, "proof": hex::encode(proof.to_bytes())}),
        )
        .await
    }

    async fn device(&self, username: &str) -> Device {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let id = Uuid::now_v7();
        let challenge = self.challenge(id).await;
        let (status, body) = self
            .login(username, id, &key.verifying_key(), &key, &challenge)
            .await;
        assert_eq!(status, StatusCode::OK, "device login: {body}");
        let login: LoginResponse = serde_json::from_value(body).expect("login");
        Device {
            id,
            key,
            tip: ChainTip::START,
            events: Vec::new(),
            receipts: Vec::new(),
            tree_head: None,
            login,
        }
    }

    async fn staff_token(&self) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/staff-login",
                None,
                &json!({"username": "dispatch", "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "staff login: {body}");
        body["access_token"].as_str().expect("token").to_owned()
    }

    async fn job_for(&self, staff: &str, tech: &str) -> Uuid {
        let user = self
            .store()
            .user_by_username(tech)
            .expect("lookup")
            .expect("user")
            .info
            .id;
        let (status, body) = self
            .post(
                "/api/v1/jobs",
                Some(staff),
                &json!({"fault": "暖气不热", "reported_at": Utc::now(),
                        "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼"},
                        "assignee": user}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "job: {body}");
        body["id"].as_str().expect("id").parse().expect("uuid")
    }

    async fn push(&self, dev: &mut Device, events: &[Event]) -> PushResponse {
        let (status, body) = self
            .post(
                "/api/v1/sync/push",
                Some(&dev.login.access_token),
                &json!({"events": events}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "push: {body}");
        let resp: PushResponse = serde_json::from_value(body).expect("push response");
        for r in &resp.results {
            if let Some(rc) = r.receipt
                && !dev.receipts.contains(&rc)
            {
                dev.receipts.push(rc);
            }
        }
        resp
    }

    /// Pull as a device does, keeping the newest tree head.
    async fn pull(&self, dev: &mut Device) -> TreeHead {
        let (status, body) = self
            .get("/api/v1/sync/pull?cursor=0", &dev.login.access_token)
            .await;
        assert_eq!(status, StatusCode::OK, "pull: {body}");
        let resp: PullResponse = serde_json::from_value(body).expect("pull response");
        let head = resp.tree_head.expect("every pull carries the tree head");
        dev.tree_head = Some(head);
        head
    }

    /// The office's export, parsed.
    async fn export(&self, staff: &str, query: &str) -> Export {
        let resp = self
            .http
            .get(self.url(&format!("/api/v1/export{query}")))
            .bearer_auth(staff)
            .send()
            .await
            .expect("export");
        assert_eq!(resp.status(), StatusCode::OK, "staff may export");
        Export::parse("office", &resp.text().await.expect("text")).expect("parses")
    }
}

/// A simulated device: its key, its chain and what it kept from the office.
struct Device {
    id: Uuid,
    key: SigningKey,
    tip: ChainTip,
    events: Vec<Event>,
    receipts: Vec<Receipt>,
    tree_head: Option<TreeHead>,
    login: LoginResponse,
}

impl Device {
    fn record(&mut self, job: Uuid, step: &str) -> Event {
        let (kind, payload) = EventBody::StepCompleted {
            step: step.into(),
            evidence: StepEvidence::default(),
        }
        .to_parts();
        let e = UnsignedEvent {
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
        .seal(&self.key);
        self.tip = ChainTip {
            seq: e.seq(),
            hash: e.hash,
        };
        self.events.push(e.clone());
        e
    }

    /// Only what the device kept from the office: its receipts and tree head.
    fn receipts_only(&self) -> Export {
        let mut e = self.export();
        e.lines
            .retain(|l| !matches!(l, ExportLine::Device { .. } | ExportLine::Event { .. }));
        e
    }

    /// The device's own export: its chain with its real key, its receipts and its tree head.
    fn export(&self) -> Export {
        let mut lines = vec![
            ExportLine::Header {
                format: EXPORT_FORMAT.into(),
                source: ExportSource::Device,
                exported_at: Utc::now(),
                scope: format!("device {}", self.id),
                office_public_key: self.login.office_public_key.clone(),
            },
            ExportLine::Device {
                device_id: self.id,
                public_key: hex::encode(self.key.verifying_key().as_bytes()),
                tip: self.tip,
            },
        ];
        lines.extend(
            self.events
                .iter()
                .map(|e| ExportLine::Event { event: e.clone() }),
        );
        lines.extend(
            self.receipts
                .iter()
                .map(|r| ExportLine::Receipt { receipt: *r }),
        );
        lines.extend(
            self.tree_head
                .map(|h| ExportLine::TreeHead { tree_head: h }),
        );
        Export {
            name: "device".into(),
            lines,
        }
    }
}

fn check(exports: &[Export]) -> ExportReport {
    verify_exports(exports, |_| None)
}

fn codes(r: &ExportReport) -> Vec<&'static str> {
    r.faults.iter().map(|f| f.code).collect()
}

/// Run `heatcrew-office` with `args`; (success, stdout).
fn office_cli(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_heatcrew-office"))
        .args(args)
        .output()
        .expect("run heatcrew-office");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn verify_db(db: &Path) -> (bool, String) {
    office_cli(&["verify", "--db", db.to_str().expect("utf-8 path")])
}

/// Every file under `dir` with its SHA-256, except SQLite's shared-memory index (`-shm`) of a
/// database a running office has open: any reader, even a read-only one, marks its reads there; it
/// holds no data and is rebuilt from the write-ahead log.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Digest)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.to_string_lossy().ends_with("-shm") {
                let bytes = std::fs::read(&p).expect("read");
                out.push((p, Digest::of(&bytes)));
            }
        }
    }
    out.sort();
    out
}

/// Open the office database behind the office's back, as someone with the file would.
fn tamper(db: &Path, sql: &str) {
    let c = rusqlite::Connection::open(db).expect("open db");
    c.execute_batch(sql).expect("tamper");
}

/// Drop the log's append-only guards (anyone holding the file can).
const DROP_GUARDS: &str = "
    DROP TRIGGER IF EXISTS log_leaves_append_only_update;
    DROP TRIGGER IF EXISTS log_leaves_append_only_delete;
    DROP TRIGGER IF EXISTS log_nodes_append_only_update;
    DROP TRIGGER IF EXISTS log_nodes_append_only_delete;
    DROP TRIGGER IF EXISTS tree_heads_append_only_update;
    DROP TRIGGER IF EXISTS tree_heads_append_only_delete;";

/// Rebuild the whole log from the (tampered) ledger: wipe it, let the store append every event
/// again as it does for a database from before the log.
fn rebuild_log(db: &Path, keep_tree_heads: bool) {
    tamper(
        db,
        &format!(
            "{DROP_GUARDS} DELETE FROM log_leaves; DELETE FROM log_nodes; {}",
            if keep_tree_heads {
                ""
            } else {
                "DELETE FROM tree_heads;"
            }
        ),
    );
    drop(SqliteStore::open(db).expect("reopen: the log is rebuilt"));
}

#[tokio::test]
async fn every_stored_event_gets_a_signed_receipt_and_a_retry_gets_the_same_one() {
    let o = TestOffice::start().await;
    let staff = o.staff_token().await;
    let mut dev = o.device("tech_a").await;
    assert_eq!(
        dev.login.office_public_key.as_deref(),
        Some(hex::encode(o.office_key().as_bytes()).as_str()),
        "login hands the device the office key"
    );
    let job = o.job_for(&staff, "tech_a").await;
    let other_job = o.job_for(&staff, "tech_b").await;
    let events = vec![
        dev.record(job, "arrive"),
        dev.record(other_job, "arrive"),
        dev.record(job, "show_id"),
    ];
    let first = o.push(&mut dev, &events).await;
    let office = o.office_key();
    for (i, r) in first.results.iter().enumerate() {
        let rc = r.receipt.expect("every stored event has a receipt");
        assert!(rc.verify(&office), "signed by the office key");
        assert_eq!(
            (rc.device_seq, rc.event_hash, rc.log_index),
            (events[i].seq(), events[i].hash, i as u64),
            "the receipt names the event and its place in the log"
        );
    }
    assert!(
        matches!(first.results[1].outcome, PushOutcome::Rejected { .. }),
        "another technician's job is refused…"
    );
    assert!(
        !first.results[1].receipt.expect("receipt").accepted,
        "…but kept as a link, and its receipt says refused"
    );
    let again = o.push(&mut dev, &events).await;
    assert_eq!(
        again.results.iter().map(|r| r.receipt).collect::<Vec<_>>(),
        first.results.iter().map(|r| r.receipt).collect::<Vec<_>>(),
        "a retried push gets the very same receipts (exactly once: no new log entries)"
    );
    assert_eq!(o.store().log_size().expect("size"), 3, "one leaf per event");

    let head = o.pull(&mut dev).await;
    assert!(head.verify(&office), "the tree head is the office's");
    assert_eq!(head.size, 3, "it covers the whole log");
    for rc in &dev.receipts {
        let (status, p) = o
            .get(
                &format!("/api/v1/log/inclusion?index={}&size=3", rc.log_index),
                &dev.login.access_token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "inclusion proof: {p}");
        let proof: InclusionProof = serde_json::from_value(p).expect("proof");
        assert!(
            proof.verify(&rc.leaf(), &head),
            "the receipt's event is in the signed log"
        );
    }
    let newer: Vec<Event> = (0..4).map(|_| dev.record(job, "test")).collect();
    o.push(&mut dev, &newer).await;
    let later = o.pull(&mut dev).await;
    assert_eq!(later.size, 7, "the log grew");
    let (_, p) = o
        .get(
            "/api/v1/log/consistency?first=3&second=7",
            &dev.login.access_token,
        )
        .await;
    let proof: ConsistencyProof = serde_json::from_value(p).expect("proof");
    assert!(
        proof.verify(&head, &later),
        "the later log provably extends the earlier one"
    );
    let (_, again) = o
        .get("/api/v1/log/tree-head", &dev.login.access_token)
        .await;
    assert_eq!(
        serde_json::from_value::<TreeHead>(again).expect("head"),
        later,
        "one tree head per size: asking again gives the same signature"
    );
    let (status, tip) = o
        .get(&format!("/api/v1/devices/{}/tip", dev.id), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "staff read a device's tip: {tip}");
    assert_eq!(
        (tip["tip"]["seq"].as_u64(), tip["tip"]["hash"].as_str()),
        (Some(7), Some(dev.tip.hash.to_hex().as_str())),
        "the office's chain tip is the device's"
    );

    let export = o.export(&staff, "").await;
    let r = check(&[dev.export(), export]);
    assert!(r.ok(), "an honest device and office agree: {:?}", r.faults);
    assert!(
        r.unproven.is_empty(),
        "and nothing is left unproven: {:?}",
        r.unproven
    );
}

#[tokio::test]
async fn login_proves_the_device_holds_its_key() {
    let o = TestOffice::start().await;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let vk = key.verifying_key();
    let id = Uuid::now_v7();
    let code = |body: &Value| body["code"].as_str().unwrap_or_default().to_owned();

    let (status, body) = o
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "tech_a", "password": PASSWORD, "device_id": id,
                    "device_public_key": hex::encode(vk.as_bytes())}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "proof_required".into()),
        "a login without proof is refused"
    );

    let thief = SigningKey::generate(&mut rand::rngs::OsRng);
    let c = o.challenge(id).await;
    let (status, body) = o.login("tech_a", id, &vk, &thief, &c).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "bad_proof".into()),
        "someone else's phone key cannot be bound without its private key"
    );
    let (_, body) = o.login("tech_a", id, &vk, &key, &c).await;
    assert_eq!(
        code(&body),
        "challenge_unknown",
        "a challenge is used up by any attempt"
    );

    let c = o.challenge(Uuid::now_v7()).await;
    let (_, body) = o.login("tech_a", id, &vk, &key, &c).await;
    assert_eq!(
        code(&body),
        "challenge_wrong_device",
        "a challenge is for one device"
    );

    let expired = "ab".repeat(32);
    o.store()
        .create_challenge(
            &expired,
            id,
            Utc::now() - chrono::Duration::seconds(1),
            Utc::now() - chrono::Duration::minutes(5),
        )
        .expect("an old challenge");
    let (_, body) = o.login("tech_a", id, &vk, &key, &expired).await;
    assert_eq!(
        code(&body),
        "challenge_expired",
        "a stale challenge is refused"
    );

    let c = o.challenge(id).await;
    let mut c_bytes = [0u8; 32];
    hex::decode_to_slice(&c, &mut c_bytes).expect("hex");
    let for_b = key.sign(&enrolment_message(&c_bytes, id, &vk, "tech_b"));
    let (_, body) = o
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "tech_a", "password": PASSWORD, "device_id": id,
                    "device_public_key": hex::encode(vk.as_bytes()),
                    "challenge": c, "proof": hex::encode(for_b.to_bytes())}),
        )
        .await;
    assert_eq!(
        code(&body),
        "bad_proof",
        "a proof made for another account does not open this one"
    );

    let c = o.challenge(id).await;
    let (status, body) = o.login("tech_a", id, &vk, &key, &c).await;
    assert_eq!(status, StatusCode::OK, "the real device logs in: {body}");
    let c = o.challenge(id).await;
    let (_, body) = o.login("tech_a", id, &vk, &key, &c).await;
    assert_eq!(
        body["device_code"].as_str().map(str::len),
        Some(5),
        "and again, with a fresh challenge: {body}"
    );
    let c = o.challenge(id).await;
    let (status, body) = o
        .login("tech_b", id, &thief.verifying_key(), &thief, &c)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "device_key_mismatch".into()),
        "an enrolled device id cannot be taken over by another key, even with a valid proof"
    );
}

#[tokio::test]
async fn verify_only_reads_and_refuses_what_is_not_an_office_database() {
    let o = TestOffice::start().await;
    let staff = o.staff_token().await;
    let mut dev = o.device("tech_a").await;
    let job = o.job_for(&staff, "tech_a").await;
    let events: Vec<Event> = ["arrive", "show_id"]
        .iter()
        .map(|s| dev.record(job, s))
        .collect();
    o.push(&mut dev, &events).await;
    o.pull(&mut dev).await;
    let before = snapshot(o.dir.path());
    let (ok, out) = verify_db(&o.db);
    assert!(ok, "an untouched office verifies: {out}");
    assert!(
        out.contains("2 events from 1 devices")
            && out.contains("office log of 2 entries, 1 tree heads"),
        "verify says what it checked: {out}"
    );
    assert_eq!(
        snapshot(o.dir.path()),
        before,
        "verify leaves the database, its key and its files byte-identical, and adds nothing"
    );

    let foreign = o.dir.path().join("other.sqlite");
    rusqlite::Connection::open(&foreign)
        .and_then(|c| {
            c.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('x');")
        })
        .expect("a foreign database");
    let text = o.dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all").expect("write");
    let before = snapshot(o.dir.path());
    for (path, why) in [
        (&foreign, "another SQLite database"),
        (&text, "a text file"),
    ] {
        let (ok, out) = verify_db(path);
        assert!(!ok, "{why} is refused");
        assert!(
            out.contains("not a HeatCrew office database"),
            "{why}: the refusal says why: {out}"
        );
    }
    let (ok, _) = verify_db(&o.dir.path().join("missing.db"));
    assert!(!ok, "a missing file is refused");
    assert_eq!(
        snapshot(o.dir.path()),
        before,
        "refusing creates and changes nothing (no tables, no key, no empty database)"
    );
}

#[tokio::test]
async fn deleting_the_newest_events_and_rewinding_the_ledger_is_detected() {
    let o = TestOffice::start().await;
    let staff = o.staff_token().await;
    let mut dev = o.device("tech_a").await;
    let job = o.job_for(&staff, "tech_a").await;
    let events: Vec<Event> = ["arrive", "show_id", "diagnose", "repair"]
        .iter()
        .map(|s| dev.record(job, s))
        .collect();
    o.push(&mut dev, &events).await;
    o.pull(&mut dev).await;
    let d = dev.id.to_string();
    let rewind = format!(
        "DELETE FROM events WHERE device_id = '{d}' AND device_seq > 2;
         UPDATE devices SET last_seq = 2, last_hash = '{}' WHERE id = '{d}';",
        events[1].hash
    );

    // Naively: the log still holds the removed events.
    tamper(&o.db, &rewind);
    let (ok, out) = verify_db(&o.db);
    assert!(
        !ok && out.contains("events_removed"),
        "the office log remembers them: {out}"
    );

    // Thoroughly: the log rebuilt without them, the tree heads kept.
    rebuild_log(&o.db, true);
    let (ok, out) = verify_db(&o.db);
    assert!(
        !ok && out.contains("consistency_failed"),
        "a tree head the office handed out covers them: {out}"
    );

    // Completely: no trace left at the office; the device's receipts show it.
    rebuild_log(&o.db, false);
    let (ok, out) = verify_db(&o.db);
    assert!(ok, "the office database alone is consistent again: {out}");
    let office_export = o.export(&staff, &format!("?device={}", dev.id)).await;
    let r = check(std::slice::from_ref(&office_export));
    assert!(
        r.ok(),
        "the office's export alone looks whole: {:?}",
        r.faults
    );
    let r = check(&[dev.receipts_only(), office_export.clone()]);
    assert!(
        r.has("events_removed"),
        "the receipts the device kept prove events were removed: {:?}",
        codes(&r)
    );
    let r = check(&[dev.export(), office_export]);
    assert!(
        !r.unproven.is_empty(),
        "and the office cannot prove its log extends the tree head the device holds: {r:?}"
    );
    // The office goes on: another device's events take the erased places in the log.
    let mut other = o.device("tech_b").await;
    let job_b = o.job_for(&staff, "tech_b").await;
    let b_events = vec![other.record(job_b, "arrive"), other.record(job_b, "repair")];
    o.push(&mut other, &b_events).await;
    let r = check(&[dev.export(), o.export(&staff, "").await]);
    assert!(
        r.has("log_rewritten"),
        "the office signed two different entries at the same log index: {:?}",
        codes(&r)
    );
}

#[tokio::test]
async fn rekeying_a_device_and_resigning_its_chain_is_detected() {
    let o = TestOffice::start().await;
    let staff = o.staff_token().await;
    let mut dev = o.device("tech_a").await;
    let job = o.job_for(&staff, "tech_a").await;
    let events: Vec<Event> = ["arrive", "show_id", "diagnose"]
        .iter()
        .map(|s| dev.record(job, s))
        .collect();
    o.push(&mut dev, &events).await;
    o.pull(&mut dev).await;

    // The office re-keys the device and re-signs its chain with event 2 changed.
    let forger = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut tip = ChainTip::START;
    let mut sql = String::new();
    for e in &events {
        let mut u = e.unsigned.clone();
        if u.device_seq == 2 {
            u.payload = json!({"step": "skipped_id_check", "evidence": {}});
        }
        u.prev_hash = tip.hash;
        let forged = u.seal(&forger);
        tip = ChainTip {
            seq: forged.seq(),
            hash: forged.hash,
        };
        sql.push_str(&format!(
            "UPDATE events SET body = '{}', hash = '{}' WHERE device_id = '{}' AND device_seq = {};",
            serde_json::to_string(&forged).expect("json").replace('\'', "''"),
            forged.hash,
            dev.id,
            forged.seq()
        ));
    }
    sql.push_str(&format!(
        "UPDATE devices SET public_key = '{}', last_hash = '{}' WHERE id = '{}';",
        hex::encode(forger.verifying_key().as_bytes()),
        tip.hash,
        dev.id
    ));
    tamper(&o.db, &sql);
    let (ok, out) = verify_db(&o.db);
    assert!(
        !ok && out.contains("receipt_mismatch"),
        "the office log acknowledged other events: {out}"
    );
    rebuild_log(&o.db, false);
    let (ok, out) = verify_db(&o.db);
    assert!(
        ok,
        "a complete forgery passes the office's own check: {out}"
    );

    let r = check(&[
        dev.export(),
        o.export(&staff, &format!("?device={}", dev.id)).await,
    ]);
    assert!(
        r.has("key_mismatch"),
        "the device's export carries its real key: {:?}",
        codes(&r)
    );
    assert!(
        r.has("two_versions") || r.has("receipt_mismatch"),
        "and the device's receipts name the original events: {:?}",
        codes(&r)
    );
}

#[tokio::test]
async fn rewriting_the_log_after_a_tree_head_was_handed_out_is_detected() {
    let o = TestOffice::start().await;
    let staff = o.staff_token().await;
    let mut dev = o.device("tech_a").await;
    let job = o.job_for(&staff, "tech_a").await;
    let first: Vec<Event> = ["arrive", "show_id"]
        .iter()
        .map(|s| dev.record(job, s))
        .collect();
    o.push(&mut dev, &first).await;
    let held = o.pull(&mut dev).await;
    assert_eq!(held.size, 2, "the device holds the head of the log of 2");

    // The office turns its acceptance of event 1 into a refusal and rebuilds the log.
    tamper(
        &o.db,
        &format!(
            "UPDATE events SET status = 'rejected', reject_code = 'forbidden_job' WHERE device_id = '{}' AND device_seq = 1;",
            dev.id
        ),
    );
    rebuild_log(&o.db, true);
    let (ok, out) = verify_db(&o.db);
    assert!(
        !ok && out.contains("consistency_failed"),
        "the office's own kept tree head no longer matches: {out}"
    );
    rebuild_log(&o.db, false);

    let more: Vec<Event> = ["diagnose", "repair"]
        .iter()
        .map(|s| dev.record(job, s))
        .collect();
    o.push(&mut dev, &more).await;
    let office_export = o
        .export(&staff, &format!("?device={}&consistency_from=2", dev.id))
        .await;
    assert_eq!(
        dev.tree_head,
        Some(held),
        "the device kept the head it was given"
    );
    let r = check(&[dev.export(), office_export]);
    assert!(
        r.has("consistency_failed"),
        "the office cannot prove its log extends the head it signed earlier: {:?}",
        codes(&r)
    );
}

#[tokio::test]
async fn replaced_or_missing_attachment_files_are_detected() {
    let o = TestOffice::start().await;
    let files = &o.running.state.files;
    let user = o
        .store()
        .user_by_username("tech_a")
        .expect("lookup")
        .expect("user")
        .info
        .id;
    let mut stored = Vec::new();
    for content in [b"photo one".as_slice(), b"signature two".as_slice()] {
        let sha = Digest::of(content);
        o.store()
            .create_attachment(
                &AttachmentCreate {
                    sha256: sha,
                    size: content.len() as u64,
                    mime: "image/jpeg".into(),
                },
                user,
                Utc::now(),
            )
            .expect("announce");
        files.append(sha, 0, content).expect("upload");
        files.finish(sha).expect("finish");
        o.store()
            .complete_attachment(sha, Utc::now())
            .expect("complete");
        stored.push(sha);
    }
    let (ok, out) = verify_db(&o.db);
    assert!(ok && out.contains("2 attachment files intact"), "{out}");
    std::fs::write(files.final_path(stored[0]), b"a doctored photo").expect("replace");
    std::fs::remove_file(files.final_path(stored[1])).expect("remove");
    let (ok, out) = verify_db(&o.db);
    assert!(!ok, "altered evidence fails: {out}");
    assert!(
        out.contains("file_mismatch") && out.contains(&stored[0].to_hex()),
        "the replaced photo is named: {out}"
    );
    assert!(
        out.contains("file_missing") && out.contains(&stored[1].to_hex()),
        "and the missing signature: {out}"
    );
}

#[tokio::test]
async fn a_truncated_export_is_detected_and_the_cli_export_verifies() {
    let o = TestOffice::start().await;
    let staff = o.staff_token().await;
    let mut dev = o.device("tech_a").await;
    let job = o.job_for(&staff, "tech_a").await;
    let other = o.job_for(&staff, "tech_a").await;
    let events = vec![
        dev.record(job, "arrive"),
        dev.record(other, "arrive"),
        dev.record(job, "repair"),
    ];
    o.push(&mut dev, &events).await;

    let per_job = o.export(&staff, &format!("?job={job}")).await;
    let links = per_job
        .lines
        .iter()
        .filter(|l| matches!(l, ExportLine::Link { .. }))
        .count();
    assert_eq!(
        links, 1,
        "another job's event is a link, its content withheld"
    );
    let r = check(std::slice::from_ref(&per_job));
    assert!(
        r.ok() && r.unproven.is_empty(),
        "a per-job export stands alone: {r:?}"
    );

    let mut truncated = per_job.clone();
    let last_event = truncated
        .lines
        .iter()
        .rposition(|l| matches!(l, ExportLine::Event { .. }))
        .expect("an event");
    truncated.lines.remove(last_event);
    assert!(
        check(&[truncated]).has("tip_mismatch"),
        "dropping the newest line is caught by the tip"
    );

    // The same export from the command line, checked by the command line.
    let out_file = o.dir.path().join("export.jsonl");
    let db = o.db.to_str().expect("path");
    let (ok, out) = office_cli(&[
        "export",
        "--db",
        db,
        "--device",
        &dev.id.to_string(),
        "--out",
        out_file.to_str().expect("path"),
    ]);
    assert!(ok, "export runs beside a running office: {out}");
    let (ok, out) = office_cli(&[
        "verify-export",
        "--strict",
        out_file.to_str().expect("path"),
    ]);
    assert!(ok, "its export verifies strictly: {out}");
    let text = std::fs::read_to_string(&out_file).expect("read");
    let cut: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
    std::fs::write(&out_file, cut).expect("truncate");
    let (ok, out) = office_cli(&["verify-export", out_file.to_str().expect("path")]);
    assert!(
        !ok && out.contains("tip_mismatch"),
        "a truncated file fails: {out}"
    );
}

#[tokio::test]
async fn a_copied_office_database_without_its_key_file_cannot_sign() {
    let o = TestOffice::start().await;
    let staff = o.staff_token().await;
    let mut dev = o.device("tech_a").await;
    let job = o.job_for(&staff, "tech_a").await;
    let e = dev.record(job, "arrive");
    o.push(&mut dev, &[e]).await;
    let copy = tempfile::tempdir().expect("dir");
    let copied = copy.path().join("office.db");
    tamper(
        &o.db,
        &format!("VACUUM INTO '{}'", copied.to_str().expect("path")),
    );
    let err = Office::open(Config::new(&copied)).expect_err("no key, no office");
    assert!(
        err.to_string().contains("office key file") && err.to_string().contains("missing"),
        "the refusal says why: {err}"
    );
    assert!(
        !heatcrew_office::office_key::default_path(&copied).exists(),
        "and no new key was made to sign under the office's name"
    );
    let before: Vec<_> = std::fs::read_dir(copy.path())
        .expect("dir")
        .map(|e| {
            let p = e.expect("entry").path();
            let bytes = std::fs::read(&p).expect("read");
            (p, Digest::of(&bytes))
        })
        .collect();
    let (ok, out) = verify_db(&copied);
    assert!(
        ok,
        "the copy can still be checked (verify needs no key): {out}"
    );
    let after: Vec<_> = std::fs::read_dir(copy.path())
        .expect("dir")
        .map(|e| {
            let p = e.expect("entry").path();
            let bytes = std::fs::read(&p).expect("read");
            (p, Digest::of(&bytes))
        })
        .collect();
    assert_eq!(
        after, before,
        "a closed database is checked without a byte changed or a file (-wal, -shm) added"
    );
    assert!(
        parse_public_key(&hex::encode(o.office_key().as_bytes())).is_some(),
        "the office key is public knowledge"
    );
}
