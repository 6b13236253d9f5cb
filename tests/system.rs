//! System tests with real parts: the office on 127.0.0.1, temp SQLite files, real device cores,
//! the simulator, a fault proxy, and an office process that is SIGKILLed and restarted.
//! Every assertion says why.

use heatcrew_core::Store;
use heatcrew_core::demo;
use heatcrew_office::{Config, Office};
use heatcrew_protocol::sync::{PushRequest, Role};
use heatcrew_sim::{DispatchApi, SimConfig};
use heatcrew_system_tests::field_day::assert_exact;
use heatcrew_testkit::fault_proxy::{FaultProxy, Faults};
use heatcrew_testkit::office_process::{self, OfficeProcess};
use heatcrew_testkit::{DEMO_PASSWORD, PASSWORD, TestDevice, TestOffice};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tempfile::TempDir;

#[test]
#[ignore = "not a test: the office child process that OfficeProcess starts"]
fn office_child() {
    office_process::serve_if_child();
}

fn sim_config(office: &str, devices: usize, jobs: usize, offline: f64, dir: &TempDir) -> SimConfig {
    SimConfig {
        offices: vec![office.to_owned()],
        devices,
        jobs_per_device: jobs,
        offline_ratio: offline,
        seed: 7,
        admin_user: "admin".into(),
        admin_password: DEMO_PASSWORD.into(),
        workdir: Some(dir.path().join("devices")),
        drain_timeout: Duration::from_secs(240),
    }
}

fn verify_office(db: &std::path::Path) -> heatcrew_office::verify::VerifyReport {
    let office = Office::open(Config::new(db)).expect("open office db");
    heatcrew_office::verify::verify_all(&*office.store(), Some(&office.state().files))
        .unwrap_or_else(|e| panic!("the office's stored chains and files verify: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_converge_with_the_office() {
    let dir = tempfile::tempdir().expect("dir");
    let office = TestOffice::demo().await;
    let cfg = sim_config(&office.url(), 6, 3, 0.5, &dir);
    let r = tokio::task::spawn_blocking(move || heatcrew_sim::run(&cfg))
        .await
        .expect("join")
        .expect("sim");
    assert_exact(&r, "a field day with devices half offline");
    let report = verify_office(office.db());
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
        let office = TestOffice::demo().await;
        let user = office.add_user("tech", "tech-password", Role::RepairTechnician, "技术员");
        let http = office.http.clone();
        let challenge: serde_json::Value = http
            .post(office.endpoint("/api/v1/auth/challenge"))
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
            .post(office.endpoint("/api/v1/auth/login"))
            .json(
                &json!({"username": "tech", "password": "tech-password", "device_id": dev_id,
                          "device_public_key": key, "challenge": challenge, "proof": proof,
                          "chain_head": store.tip()}),
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
            let admin = demo_admin(&office).await;
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
            office
                .store()
                .create_job(job, chrono::Utc::now())
                .expect("the same job at the second office");
        }
        let events = store.events().expect("events");
        let push = |batch: Vec<heatcrew_protocol::Event>| {
            let http = http.clone();
            let url = office.endpoint("/api/v1/sync/push");
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
        let admin = demo_admin(&office).await;
        ledgers.push(admin.device_events(dev_id).await.expect("ledger"));
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
    let office = TestOffice::demo().await;
    let proxy = FaultProxy::start(
        office.addr(),
        Faults {
            cut_before_response: 0.08,
            cut_mid_response: 0.08,
            delay: 0.1,
            max_delay: Duration::from_millis(400),
            duplicate: 0.08,
            unavailable: None,
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
    verify_office(office.db());
}

#[test]
fn the_office_killed_and_restarted_mid_sync_loses_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("office.db");
    let mut office = OfficeProcess::start(&db, "127.0.0.1:0");
    let cfg = sim_config(&office.url(), 10, 6, 0.3, &dir);
    let sim = std::thread::spawn(move || heatcrew_sim::run(&cfg));
    // Kill mid-sync, not at a guessed moment: each SIGKILL waits until more events have landed
    // since the last one (the devices are pushing), unless the field day is already over.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut landed = 0;
    for _ in 0..2 {
        while !sim.is_finished() {
            let now = rt.block_on(events_accepted(&office.url()));
            if now > landed {
                landed = now;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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

/// The demo office's admin, through the simulator's dispatch client.
async fn demo_admin(office: &TestOffice) -> DispatchApi {
    DispatchApi::sign_in(
        &office.url(),
        "admin",
        DEMO_PASSWORD,
        Duration::from_secs(5),
    )
    .await
    .expect("the demo admin signs in")
}

/// How many events the office has accepted so far (its summary report, read as the demo admin).
async fn events_accepted(office: &str) -> u64 {
    let token = heatcrew_testkit::staff_token_at(office, "admin", DEMO_PASSWORD).await;
    let summary: serde_json::Value = reqwest::Client::new()
        .get(format!("{office}/api/v1/reports/summary"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the office answers")
        .json()
        .await
        .expect("the summary is JSON");
    summary["events_accepted"]
        .as_u64()
        .expect("the summary counts accepted events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_keeps_unsynced_records_through_sign_out_and_revocation() {
    let office = TestOffice::demo().await;
    let admin = demo_admin(&office).await;
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
    let device_a = TestDevice::sign_in(&office.url(), "tech_a", "password-a").await;
    let (store, syncer) = (&device_a.store, &device_a.syncer);
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
    let staff = office.staff_token("admin", DEMO_PASSWORD).await;
    let (status, body) = office
        .post_json(
            &format!("/api/v1/jobs/{}/assign", job.id),
            Some(&staff),
            &json!({"assignee": b.id}),
        )
        .await;
    assert!(status.is_success(), "reassign works: {body}");
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

// ------------------------------------------------ a crew's shared phone (issue 15, point 7)

/// A home repair job for `assignee`, created by the dispatcher.
async fn job_for(office: &TestOffice, assignee: &str, i: usize) -> uuid::Uuid {
    let token = office.staff_token("dispatch", PASSWORD).await;
    let d = demo::home_repair_job(i, None);
    let (status, job) = office
        .post_json(
            "/api/v1/jobs",
            Some(&token),
            &json!({"kind": "home_repair", "fault": d.title, "customer": d.customer,
                "reported_at": chrono::Utc::now() - chrono::Duration::minutes(20),
                "window": d.window, "assignee": office.user_id(assignee)}),
        )
        .await;
    assert!(
        status.is_success(),
        "the dispatcher creates a job: {status} {job}"
    );
    uuid::Uuid::parse_str(job["id"].as_str().expect("id")).expect("uuid")
}

#[path = "system/shared_phone.rs"]
mod shared_phone;
#[path = "system/sign_out.rs"]
mod sign_out;

/// A photo that cannot go up (its file is gone from the phone) never keeps new work from being
/// pulled, and the sync pass still says what is wrong; a pull after an access token the office no
/// longer takes refreshes and pulls even with nothing to push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_photo_or_a_stale_token_never_keeps_new_work_from_being_pulled() {
    use heatcrew_core::sync::{self, Syncer};
    use std::sync::{Arc, Mutex};

    let office = TestOffice::start().await;
    let a_job = job_for(&office, "tech_a", 0).await;
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Mutex::new(
        Store::open(dir.path().join("device.db")).expect("open"),
    ));
    sync::login(&store, &office.url(), "tech_a", PASSWORD)
        .await
        .expect("sign in");
    let syncer = Syncer::new(store.clone());
    syncer.sync_once().await.expect("first sync");

    // An access token the office does not take (expired early, or replaced): nothing to push and
    // no photo, so the pull is the first to hear 401; the pass refreshes and pulls.
    {
        let mut s = store.lock().unwrap();
        let mut session = s.session().unwrap().expect("session");
        session.access_token = "not-a-token-the-office-knows".into();
        s.save_session(&session).unwrap();
    }
    let second = job_for(&office, "tech_a", 2).await;
    syncer
        .sync_once()
        .await
        .expect("the pass refreshes the token after the pull's 401");
    assert!(
        store.lock().unwrap().job(second).unwrap().is_some(),
        "the pull brought the new job"
    );

    let photo = {
        let mut s = store.lock().unwrap();
        let job = s.job(a_job).unwrap().expect("pulled").job;
        let mut images = |label: &str, n: u32| demo::generated_png(&format!("stuck/{label}"), n);
        demo::home_repair_visit(&mut s, &mut images, &job, demo::VisitScript::Signed)
            .expect("visit");
        let first = s.events().unwrap().into_iter().find_map(|e| {
            heatcrew_protocol::EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload)
                .ok()?
                .attachments()
                .first()
                .map(|a| a.sha256)
        });
        let sha = first.expect("the visit has a photo");
        std::fs::remove_file(s.files().path(&sha)).expect("the photo's file goes missing");
        sha
    };
    let new_job = job_for(&office, "tech_a", 1).await;
    let err = syncer
        .sync_once()
        .await
        .expect_err("the missing photo is reported");
    assert_eq!(
        err.code(),
        heatcrew_protocol::ErrorCode::FileMissing,
        "the pass names the stuck photo: {err}"
    );
    assert!(
        store.lock().unwrap().job(new_job).unwrap().is_some(),
        "the new job was pulled anyway"
    );
    let waiting: Vec<_> = store.lock().unwrap().pending_attachments().unwrap();
    assert_eq!(
        waiting.iter().map(|p| p.sha256).collect::<Vec<_>>(),
        vec![photo],
        "only the stuck photo waits; the others went up"
    );
}
