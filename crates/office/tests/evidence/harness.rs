//! What the evidence tests share: an office on 127.0.0.1:0 with a temp database, simulated devices
//! that keep what the office gives them, the verifiers (ours, the CLI, the Python one) and the
//! tampering tools.

use chrono::Utc;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use heatcrew_office::store::{OfficeStore, SqliteStore};
use heatcrew_office::{Config, Office, RunningOffice};
use heatcrew_protocol::export::{
    EXPORT_FORMAT, Export, ExportLine, ExportReport, ExportSource, verify_exports,
};
use heatcrew_protocol::log::{Receipt, TreeHead, enrolment_message};
use heatcrew_protocol::sync::{LoginResponse, PullResponse, PushResponse, Role};
use heatcrew_protocol::{ChainTip, Digest, Event, EventBody, StepEvidence, UnsignedEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestOffice {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub running: RunningOffice,
    pub http: reqwest::Client,
}

impl TestOffice {
    pub async fn start() -> TestOffice {
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    pub fn store(&self) -> &dyn OfficeStore {
        &*self.running.state.store
    }

    pub fn office_key(&self) -> VerifyingKey {
        self.running.state.office_key.verifying_key()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
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

    pub async fn challenge(&self, device: Uuid) -> String {
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
    pub async fn login(
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

    pub async fn device(&self, username: &str) -> Device {
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

    pub async fn staff_token(&self) -> String {
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

    pub async fn job_for(&self, staff: &str, tech: &str) -> Uuid {
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

    pub async fn push(&self, dev: &mut Device, events: &[Event]) -> PushResponse {
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
    pub async fn pull(&self, dev: &mut Device) -> TreeHead {
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
    pub async fn export(&self, staff: &str, query: &str) -> Export {
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
pub struct Device {
    pub id: Uuid,
    pub key: SigningKey,
    pub tip: ChainTip,
    pub events: Vec<Event>,
    pub receipts: Vec<Receipt>,
    pub tree_head: Option<TreeHead>,
    pub login: LoginResponse,
}

impl Device {
    pub fn record(&mut self, job: Uuid, step: &str) -> Event {
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
    pub fn receipts_only(&self) -> Export {
        let mut e = self.export();
        e.lines
            .retain(|l| !matches!(l, ExportLine::Device { .. } | ExportLine::Event { .. }));
        e
    }

    /// The device's own export: its chain with its real key, its receipts and its tree head.
    pub fn export(&self) -> Export {
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

pub fn check(exports: &[Export]) -> ExportReport {
    verify_exports(exports, |_| None)
}

pub fn codes(r: &ExportReport) -> Vec<&'static str> {
    r.faults.iter().map(|f| f.code).collect()
}

/// Run `heatcrew-office` with `args`; (success, stdout).
pub fn office_cli(args: &[&str]) -> (bool, String) {
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

/// `tests/evidence/verify.py export --strict FILE` (the Python verifier written from the spec
/// alone); `None` when `HEATCREW_SKIP_PYTHON=1` (as for `crates/protocol/tests/independent_verifier.rs`).
pub fn python_verify(file: &Path) -> Option<(bool, String)> {
    python_verify_all(&[file])
}

/// [`python_verify`] over several files checked together.
pub fn python_verify_all(files: &[&Path]) -> Option<(bool, String)> {
    if std::env::var("HEATCREW_SKIP_PYTHON").as_deref() == Ok("1") {
        eprintln!("skipping the Python verifier: HEATCREW_SKIP_PYTHON=1");
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/evidence/verify.py");
    let out = std::process::Command::new("/usr/bin/python3")
        .arg(script)
        .args(["export", "--strict"])
        .args(files)
        .output()
        .expect("run /usr/bin/python3 (apt-get install -y python3-cryptography)");
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

pub fn verify_db(db: &Path) -> (bool, String) {
    office_cli(&["verify", "--db", db.to_str().expect("utf-8 path")])
}

/// Every file under `dir` with its SHA-256, except SQLite's shared-memory index (`-shm`) of a
/// database a running office has open: any reader, even a read-only one, marks its reads there; it
/// holds no data and is rebuilt from the write-ahead log.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Digest)> {
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
pub fn tamper(db: &Path, sql: &str) {
    let c = rusqlite::Connection::open(db).expect("open db");
    c.execute_batch(sql).expect("tamper");
}

/// Drop the log's append-only guards (anyone holding the file can).
pub const DROP_GUARDS: &str = "
    DROP TRIGGER IF EXISTS log_leaves_append_only_update;
    DROP TRIGGER IF EXISTS log_leaves_append_only_delete;
    DROP TRIGGER IF EXISTS log_nodes_append_only_update;
    DROP TRIGGER IF EXISTS log_nodes_append_only_delete;
    DROP TRIGGER IF EXISTS tree_heads_append_only_update;
    DROP TRIGGER IF EXISTS tree_heads_append_only_delete;";

/// Rebuild the whole log from the (tampered) ledger: wipe it, let the store append every event
/// again as it does for a database from before the log.
pub fn rebuild_log(db: &Path, keep_tree_heads: bool) {
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
