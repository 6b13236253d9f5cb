//! System tests with real parts: the office on 127.0.0.1, temp SQLite files, real device cores,
//! the simulator, a fault proxy, and an office process that is SIGKILLed and restarted.
//! Every assertion says why.

use heatcrew_core::Store;
use heatcrew_core::demo;
use heatcrew_core::sync::{self, Syncer};
use heatcrew_office::{Config, Office};
use heatcrew_protocol::sync::{PushRequest, Role};
use heatcrew_sim::{DispatchApi, SimConfig, SimResult};
use heatcrew_system_tests::fault_proxy::{FaultProxy, Faults};
use heatcrew_system_tests::office_process::{self, OfficeProcess};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;

#[test]
fn office_child() {
    office_process::serve_if_child();
}

fn sim_config(office: &str, devices: usize, jobs: usize, offline: f64, dir: &TempDir) -> SimConfig {
    SimConfig {
        office: office.to_owned(),
        devices,
        jobs_per_device: jobs,
        offline_ratio: offline,
        seed: 7,
        admin_user: "admin".into(),
        admin_password: "heatcrew-demo".into(),
        workdir: Some(dir.path().join("devices")),
        drain_timeout: Duration::from_secs(240),
    }
}

fn assert_exact(r: &SimResult, what: &str) {
    assert_eq!(r.lost, 0, "{what}: nothing recorded is lost: {r:?}");
    assert_eq!(r.duplicated, 0, "{what}: nothing is stored twice: {r:?}");
    assert!(r.chains_valid, "{what}: every device chain verifies: {r:?}");
    assert_eq!(
        r.events_on_office, r.events_recorded,
        "{what}: the office holds every event: {r:?}"
    );
    assert_eq!(
        r.attachments_on_office, r.attachments_recorded,
        "{what}: and every photo: {r:?}"
    );
    assert!(
        r.events_recorded > 0,
        "{what}: the devices recorded something: {r:?}"
    );
}

fn verify_office(db: &std::path::Path) -> heatcrew_office::verify::VerifyReport {
    let office = Office::open(Config::new(db)).expect("open office db");
    heatcrew_office::verify::verify_all(&*office.store(), Some(&office.state().files))
        .unwrap_or_else(|e| panic!("the office's stored chains and files verify: {e}"))
}

async fn in_process_office(dir: &TempDir) -> heatcrew_office::RunningOffice {
    let office = Office::open(Config::new(dir.path().join("office.db"))).expect("office");
    office.seed_demo().expect("demo");
    office.spawn("127.0.0.1:0").await.expect("serve")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_converge_with_the_office() {
    let dir = tempfile::tempdir().expect("dir");
    let office = in_process_office(&dir).await;
    let cfg = sim_config(&office.url(), 6, 3, 0.5, &dir);
    let r = tokio::task::spawn_blocking(move || heatcrew_sim::run(&cfg))
        .await
        .expect("join")
        .expect("sim");
    assert_exact(&r, "a field day with devices half offline");
    let report = verify_office(&dir.path().join("office.db"));
    assert_eq!(
        report.events as u64, r.events_recorded,
        "office verify re-checks every event"
    );
}

/// Push the same backlog to two offices: once cleanly, once replayed, reordered and in pieces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_and_reordered_pushes_leave_identical_office_state() {
    let dir = tempfile::tempdir().expect("dir");
    let mut ledgers = Vec::new();
    // The same device events go to both offices.
    let device_dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(device_dir.path().join("d.db")).expect("device");
    let dev_id = store.device_id();
    let key = hex_key(&store);
    for (k, messy) in [false, true].into_iter().enumerate() {
        let odir = dir.path().join(format!("office{k}"));
        std::fs::create_dir_all(&odir).expect("dir");
        let office = Office::open(Config::new(odir.join("office.db"))).expect("office");
        let user = office
            .add_user(
                "tech",
                "tech-password",
                Role::RepairTechnician,
                "技术员",
                "RX-1",
            )
            .expect("user");
        office.seed_demo().expect("demo admin");
        let office_store = office.store();
        let running = office.spawn("127.0.0.1:0").await.expect("serve");
        let http = reqwest::Client::new();
        let challenge: serde_json::Value = http
            .post(format!("{}/api/v1/auth/challenge", running.url()))
            .json(&json!({"device_id": dev_id}))
            .send()
            .await
            .expect("challenge")
            .json()
            .await
            .expect("json");
        let challenge = challenge["challenge"].as_str().expect("challenge");
        let proof = store.prove_enrolment(challenge, "tech").expect("proof");
        let login: serde_json::Value = http
            .post(format!("{}/api/v1/auth/login", running.url()))
            .json(
                &json!({"username": "tech", "password": "tech-password", "device_id": dev_id,
                          "device_public_key": key, "challenge": challenge, "proof": proof}),
            )
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        let token = login["access_token"].as_str().expect("token").to_owned();
        if k == 0 {
            // Record the visit once, on a job the first office dispatched; the second office gets
            // the same job id so both apply the same events.
            let admin = DispatchApi::sign_in(
                &running.url(),
                "admin",
                "heatcrew-demo",
                Duration::from_secs(5),
            )
            .await
            .expect("admin");
            let job = admin
                .create_job(&json!({"kind": "home_repair", "fault": "暖气不热", "assignee": user.id,
                                    "customer": {"name": "王秀英", "phone": "138", "address": "幸福里"}}))
                .await
                .expect("job");
            store.add_office_job(&job).expect("job on device");
            demo::home_repair_visit(
                &mut store,
                &mut demo::generated_png,
                &job,
                demo::VisitScript::Signed,
            )
            .expect("visit");
            std::fs::write(
                dir.path().join("job.json"),
                serde_json::to_vec(&job).expect("json"),
            )
            .expect("save");
        } else {
            let mut job: heatcrew_protocol::Job =
                serde_json::from_slice(&std::fs::read(dir.path().join("job.json")).expect("read"))
                    .expect("job");
            job.assignee = Some(user.id);
            office_store
                .create_job(job, chrono::Utc::now())
                .expect("the same job at the second office");
        }
        let events = store.events().expect("events");
        let push = |batch: Vec<heatcrew_protocol::Event>| {
            let http = http.clone();
            let url = format!("{}/api/v1/sync/push", running.url());
            let token = token.clone();
            async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&PushRequest { events: batch })
                    .send()
                    .await
                    .expect("push")
            }
        };
        if messy {
            let half = events.len() / 2;
            let second = push(events[half..].to_vec()).await;
            assert_eq!(
                second.status(),
                409,
                "a batch that skips ahead is refused with the expected sequence"
            );
            assert_eq!(
                push(events[..half].to_vec()).await.status(),
                200,
                "the first half lands"
            );
            assert_eq!(
                push(events[..half].to_vec()).await.status(),
                200,
                "a replay is answered, not refused"
            );
            assert_eq!(
                push(events.clone()).await.status(),
                200,
                "a replay overlapping new events lands the new ones"
            );
            assert_eq!(
                push(events.clone()).await.status(),
                200,
                "a full replay is harmless"
            );
        } else {
            assert_eq!(
                push(events.clone()).await.status(),
                200,
                "the clean push lands"
            );
        }
        let admin = DispatchApi::sign_in(
            &running.url(),
            "admin",
            "heatcrew-demo",
            Duration::from_secs(5),
        )
        .await
        .expect("admin");
        ledgers.push(admin.device_events(dev_id).await.expect("ledger"));
        running.stop().await;
    }
    assert_eq!(
        ledgers[0].len(),
        store.tip().seq as usize,
        "the clean office holds every event once"
    );
    assert_eq!(
        ledgers[0], ledgers[1],
        "replays and reordering leave exactly the same ledger"
    );
}

fn hex_key(store: &Store) -> String {
    store
        .public_key()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_network_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let office = in_process_office(&dir).await;
    let proxy = FaultProxy::start(
        office.addr,
        Faults {
            cut_before_response: 0.08,
            cut_mid_response: 0.08,
            delay: 0.1,
            max_delay: Duration::from_millis(400),
            duplicate: 0.08,
        },
    )
    .await
    .expect("proxy");
    let cfg = sim_config(&proxy.url(), 4, 3, 0.2, &dir);
    let r = tokio::task::spawn_blocking(move || heatcrew_sim::run(&cfg))
        .await
        .expect("join")
        .expect("sim through the fault proxy");
    assert_exact(&r, "through a proxy that cuts, delays and duplicates");
    let c = &proxy.counts;
    for (what, n) in [
        (
            "cut before the answer",
            c.cut_before.load(Ordering::Relaxed),
        ),
        ("cut mid-answer", c.cut_mid.load(Ordering::Relaxed)),
        ("duplicated", c.duplicated.load(Ordering::Relaxed)),
    ] {
        assert!(n > 0, "the proxy really {what} some requests ({n})");
    }
    verify_office(&dir.path().join("office.db"));
}

#[test]
fn the_office_killed_and_restarted_mid_sync_loses_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("office.db");
    let mut office = OfficeProcess::start(&db, "127.0.0.1:0");
    let cfg = sim_config(&office.url(), 10, 6, 0.3, &dir);
    let sim = std::thread::spawn(move || heatcrew_sim::run(&cfg));
    for pause in [1200, 1600] {
        std::thread::sleep(Duration::from_millis(pause));
        office.restart();
    }
    let r = sim
        .join()
        .expect("join")
        .expect("sim rides out two SIGKILLs");
    assert_exact(&r, "with the office SIGKILLed twice mid-run");
    assert!(
        r.sync_errors_ridden_out > 0,
        "the devices really met a dead office and rode it out: {r:?}"
    );
    drop(office);
    verify_office(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_keeps_unsynced_records_through_sign_out_and_revocation() {
    let dir = tempfile::tempdir().expect("dir");
    let office = in_process_office(&dir).await;
    let admin = DispatchApi::sign_in(
        &office.url(),
        "admin",
        "heatcrew-demo",
        Duration::from_secs(5),
    )
    .await
    .expect("admin");
    let a = admin
        .create_user("tech_a", "password-a", "repair_technician", "甲")
        .await
        .expect("a");
    let b = admin
        .create_user("tech_b", "password-b", "repair_technician", "乙")
        .await
        .expect("b");
    let job = admin
        .create_job(&json!({"kind": "home_repair", "fault": "暖气漏水", "assignee": a.id,
                            "customer": {"name": "李建国", "phone": "139", "address": "友谊路18号"}}))
        .await
        .expect("job");
    let store = Arc::new(Mutex::new(
        Store::open(dir.path().join("a.db")).expect("device"),
    ));
    sync::login(&store, &office.url(), "tech_a", "password-a")
        .await
        .expect("login a");
    let syncer = Syncer::new(store.clone());
    syncer.sync_once().await.expect("pull");
    {
        let mut s = store.lock().expect("lock");
        assert!(
            s.job(job.id).expect("read").is_some(),
            "the assigned job arrived"
        );
        s.record(
            job.id,
            heatcrew_protocol::EventBody::StepCompleted {
                step: "appointment".into(),
                evidence: Default::default(),
            },
        )
        .expect("offline record");
    }
    // The dispatcher reassigns the job to B while A is offline.
    let http = reqwest::Client::new();
    let staff: serde_json::Value = http
        .post(format!("{}/api/v1/auth/staff-login", office.url()))
        .json(&json!({"username": "admin", "password": "heatcrew-demo"}))
        .send()
        .await
        .expect("staff")
        .json()
        .await
        .expect("json");
    let resp = http
        .post(format!("{}/api/v1/jobs/{}/assign", office.url(), job.id))
        .bearer_auth(staff["access_token"].as_str().expect("token"))
        .json(&json!({"assignee": b.id}))
        .send()
        .await
        .expect("reassign");
    assert!(resp.status().is_success(), "reassign works");
    let report = syncer.sync_once().await.expect("sync after reassignment");
    let s = store.lock().expect("lock");
    let stored = s
        .job(job.id)
        .expect("read")
        .expect("the job stays on the device");
    assert!(
        stored.revoked_reason.is_some(),
        "the device learns the job is no longer its"
    );
    assert_eq!(
        s.backlog().expect("backlog").queued,
        0,
        "its earlier record was not dropped: it was pushed or answered"
    );
    assert_eq!(
        report.pushed + report.rejected,
        1,
        "the office answered the record made before the reassignment"
    );
}
