//! What the evidence tests share: heatcrew-testkit's office (on 127.0.0.1:0 with a temp database)
//! with the calls these tests make of it ([`EvidenceOffice`]), simulated devices (the kit's
//! `KeyDevice`) that keep what the office gives them, the verifiers (ours, the CLI, the Python one)
//! and the tampering tools.

use chrono::Utc;
use ed25519_dalek::VerifyingKey;
use heatcrew_office::store::SqliteStore;
use heatcrew_protocol::export::{
    EXPORT_FORMAT, Export, ExportLine, ExportReport, ExportSource, verify_exports,
};
use heatcrew_protocol::log::{Receipt, TreeHead};
use heatcrew_protocol::sync::{PullResponse, PushResponse};
use heatcrew_protocol::{Digest, Event};
use heatcrew_testkit::{KeyDevice, step};
pub use heatcrew_testkit::{PASSWORD, TestOffice};
use reqwest::StatusCode;
use serde_json::json;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// What these tests ask of the kit's office (heatcrew-testkit's `TestOffice`, its test accounts
/// all with [`PASSWORD`]) beyond its own calls.
pub trait EvidenceOffice {
    fn office_key(&self) -> VerifyingKey;
    async fn device(&self, username: &str) -> Device;
    async fn staff(&self) -> String;
    async fn job_for(&self, staff: &str, tech: &str) -> Uuid;
    async fn push(&self, dev: &mut Device, events: &[Event]) -> PushResponse;
    async fn pull(&self, dev: &mut Device) -> TreeHead;
    async fn export(&self, staff: &str, query: &str) -> Export;
}

impl EvidenceOffice for TestOffice {
    /// The key the office signs receipts and tree heads with.
    fn office_key(&self) -> VerifyingKey {
        self.running().state.office_key.verifying_key()
    }

    /// A new device signed in as `username`, having kept nothing yet.
    async fn device(&self, username: &str) -> Device {
        Device::keeping(self.key_device(username, PASSWORD).await)
    }

    /// The dispatcher's access token.
    async fn staff(&self) -> String {
        self.staff_token("dispatch", PASSWORD).await
    }

    /// A work order assigned to `tech`.
    async fn job_for(&self, staff: &str, tech: &str) -> Uuid {
        let user = self.user_id(tech);
        let (status, body) = self
            .post_json(
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
        let resp = self.push_events(dev, events).await;
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
            .get_json("/api/v1/sync/pull?cursor=0", &dev.login.access_token)
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
            .get(self.endpoint(&format!("/api/v1/export{query}")))
            .bearer_auth(staff)
            .send()
            .await
            .expect("export");
        assert_eq!(resp.status(), StatusCode::OK, "staff may export");
        Export::parse("office", &resp.text().await.expect("text")).expect("parses")
    }
}

/// A simulated device (the kit's [`KeyDevice`]: its key and its chain) and what it kept: the
/// events it recorded, the office's receipts for them and the newest tree head.
pub struct Device {
    pub chain: KeyDevice,
    pub events: Vec<Event>,
    pub receipts: Vec<Receipt>,
    pub tree_head: Option<TreeHead>,
}

impl Deref for Device {
    type Target = KeyDevice;
    fn deref(&self) -> &KeyDevice {
        &self.chain
    }
}

impl Device {
    /// A device that has kept nothing yet.
    pub fn keeping(chain: KeyDevice) -> Device {
        Device {
            chain,
            events: Vec::new(),
            receipts: Vec::new(),
            tree_head: None,
        }
    }

    /// Record `step` of `job` done, and keep the event.
    pub fn record(&mut self, job: Uuid, name: &str) -> Event {
        let e = self.chain.record(job, &step(name));
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

/// `heatcrew-office verify` fails on `db`, naming `code`; `why` says what should have caught it.
pub fn assert_verify_fails(db: &Path, code: &str, why: &str) {
    let (ok, out) = verify_db(db);
    assert!(!ok && out.contains(code), "{why} ({code}): {out}");
}

/// `heatcrew-office verify` passes on `db`.
pub fn assert_verify_passes(db: &Path, why: &str) {
    let (ok, out) = verify_db(db);
    assert!(ok, "{why}: {out}");
}

/// What a holder of the database does after changing the ledger, thoroughly and then completely:
/// rebuild the log from it keeping the tree heads the office handed out (its own `verify` must then
/// name `consistency_failed`; `why` says why), then rebuild it without them, so the database alone
/// shows no trace.
pub fn rebuild_log_thoroughly_then_completely(db: &Path, why: &str) {
    rebuild_log(db, true);
    assert_verify_fails(db, "consistency_failed", why);
    rebuild_log(db, false);
}

/// Where each tampering starts: an office, its dispatcher's token, and `tech_a`'s device that
/// recorded `steps` of one job, pushed them (keeping the receipts) and pulled (keeping the tree
/// head).
pub struct Pushed {
    pub o: TestOffice,
    pub staff: String,
    pub dev: Device,
    pub job: Uuid,
    pub events: Vec<Event>,
}

impl Pushed {
    pub async fn visit(steps: &[&str]) -> Pushed {
        let o = TestOffice::start().await;
        let staff = o.staff().await;
        let mut dev = o.device("tech_a").await;
        let job = o.job_for(&staff, "tech_a").await;
        let events: Vec<Event> = steps.iter().map(|s| dev.record(job, s)).collect();
        o.push(&mut dev, &events).await;
        o.pull(&mut dev).await;
        Pushed {
            o,
            staff,
            dev,
            job,
            events,
        }
    }
}

/// Every file under `dir` with its SHA-256.
pub fn files_in(dir: &Path) -> Vec<(PathBuf, Digest)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read");
                out.push((p, Digest::of(&bytes)));
            }
        }
    }
    out.sort();
    out
}

/// [`files_in`] except SQLite's shared-memory index (`-shm`) of a database a running office has
/// open: any reader, even a read-only one, marks its reads there; it holds no data and is rebuilt
/// from the write-ahead log.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Digest)> {
    let mut out = files_in(dir);
    out.retain(|(p, _)| !p.to_string_lossy().ends_with("-shm"));
    out
}

/// A copy of the office's database with its key file beside it, as someone holding the files makes
/// one (in a temporary folder kept alive by the first value).
pub fn copy_of(o: &TestOffice) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("office.db");
    rusqlite::Connection::open(o.db())
        .expect("open")
        .execute("VACUUM INTO ?1", [copy.to_str().expect("utf-8")])
        .expect("copy the database");
    std::fs::copy(o.key_file(), dir.path().join("office.db.office-key")).expect("key");
    (dir, copy)
}

/// `heatcrew-office export --db DB --device D --out FILE`, which must succeed.
pub fn cli_export(db: &Path, device: Uuid, file: &Path) {
    let (ok, out) = office_cli(&[
        "export",
        "--db",
        db.to_str().expect("utf-8"),
        "--device",
        &device.to_string(),
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    assert!(ok, "{out}");
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
