//! Several office processes on one PostgreSQL database and one object store, any process taking
//! any request (issue 14, point 4; docs/storage.md, "Several office processes"):
//!
//! - the system test: three office child processes on three ports, the simulator's devices spread
//!   over them through a fault proxy each, one process SIGKILLed and restarted mid-run;
//! - sessions: a token issued by one process works, refreshes and is revoked at the others;
//! - the live feed: a console connected to one process sees a push made at another;
//! - the periodic follow-up run by two processes at once opens each patrol round once;
//! - login throttling: a password guesser spread over three processes meets one count.
//!
//! Each test creates its own database on the throwaway cluster (`./dev pg`; skipped without it
//! unless `HEATCREW_PG_REQUIRED=1`). Objects go to `s3s-fs` when installed, else a shared folder.

use heatcrew_office::objects::Location;
use heatcrew_office::storage::{DatabaseUrl, Storage};
use heatcrew_office::store::{OfficeStore, PgStore};
use heatcrew_office::{Office, RunningOffice};
use heatcrew_sim::SimConfig;
use heatcrew_system_tests::field_day::assert_exact;
use heatcrew_testkit::fault_proxy::{FaultProxy, Faults};
use heatcrew_testkit::office_process::{self, OfficeProcess};
use heatcrew_testkit::pg::TestDb;
use heatcrew_testkit::s3_server::S3Server;
use heatcrew_testkit::{DEMO_PASSWORD, TestDevice, staff_token_at};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
#[ignore = "not a test: the office child process that OfficeProcess starts"]
fn office_child() {
    office_process::serve_if_child();
}

/// Where the office processes keep attachments: an S3 bucket prefix on `s3s-fs`, or a folder.
struct SharedObjects {
    s3: Option<S3Server>,
    folder: std::path::PathBuf,
}

impl SharedObjects {
    fn new(dir: &Path) -> SharedObjects {
        // S3 (what several machines would share) when s3s-fs is there; else a folder (unless
        // HEATCREW_S3_REQUIRED=1, where a missing server fails the test).
        let s3 = S3Server::start();
        SharedObjects {
            s3,
            folder: dir.join("files"),
        }
    }

    /// As `--objects` takes it.
    fn arg(&self) -> String {
        match &self.s3 {
            Some(s3) => s3.url("multi"),
            None => self.folder.display().to_string(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        self.s3
            .as_ref()
            .map(|s| s.env().to_vec())
            .unwrap_or_default()
    }

    fn location(&self) -> Location {
        match &self.s3 {
            Some(s3) => s3.location("multi"),
            None => Location::Folder(self.folder.clone()),
        }
    }
}

/// How many events the office has accepted so far (its summary report, as the demo admin).
async fn events_accepted(office: &str) -> u64 {
    let token = staff_token_at(office, "admin", DEMO_PASSWORD).await;
    let summary: Value = reqwest::Client::new()
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

/// What `heatcrew-office verify --database … --objects …` checks, read-only.
fn verify(url: &str, objects: &Location) -> heatcrew_office::verify::VerifyReport {
    let store = PgStore::open_read_only(url).expect("open the database to read");
    let files = heatcrew_office::objects::Objects::existing(objects).expect("the object store");
    heatcrew_office::verify::check(&store, Some(&files)).expect("verify runs")
}

#[test]
fn three_office_processes_on_one_postgres_lose_nothing_when_one_is_killed() {
    let Some(db) = TestDb::create() else { return };
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("dir");
    let objects = SharedObjects::new(dir.path());
    let key_file = dir.path().join("office-key");
    // The first process alone creates the key file and seeds the demo company; then two more.
    let mut offices: Vec<OfficeProcess> = (0..3)
        .map(|_| {
            OfficeProcess::start_on_postgres(
                &db.url,
                &key_file,
                &objects.arg(),
                &objects.env(),
                "127.0.0.1:0",
            )
        })
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let faults = Faults {
        cut_before_response: 0.05,
        cut_mid_response: 0.05,
        delay: 0.1,
        max_delay: Duration::from_millis(300),
        duplicate: 0.05,
        unavailable: None,
    };
    let proxies: Vec<FaultProxy> = offices
        .iter()
        .map(|o| {
            rt.block_on(FaultProxy::start(o.addr, faults))
                .expect("a proxy")
        })
        .collect();
    let cfg = SimConfig {
        offices: proxies.iter().map(FaultProxy::url).collect(),
        devices: 9,
        jobs_per_device: 3,
        offline_ratio: 0.2,
        seed: 14,
        admin_user: "admin".into(),
        admin_password: DEMO_PASSWORD.into(),
        workdir: Some(dir.path().join("devices")),
        drain_timeout: Duration::from_secs(240),
    };
    let sim = std::thread::spawn(move || heatcrew_sim::run(&cfg));
    // SIGKILL the second process once events are landing (read at the first, which shares the
    // database), unless the day is already over.
    let watch = offices[0].url();
    let mut landed = None;
    while !sim.is_finished() {
        let now = rt.block_on(events_accepted(&watch));
        if now > 0 {
            landed = Some(now);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    offices[1].restart();
    let r = sim
        .join()
        .expect("join")
        .expect("the simulation rides out a killed process");
    assert!(
        landed.is_some(),
        "the kill came mid-run, after events had landed"
    );
    assert_exact(&r, "three processes, one SIGKILLed and restarted");
    for (i, p) in proxies.iter().enumerate() {
        let passed = p.counts.passed.load(std::sync::atomic::Ordering::Relaxed);
        assert!(passed > 0, "process {i} took requests ({passed})");
    }
    let cut: u64 = proxies
        .iter()
        .map(|p| {
            p.counts
                .cut_before
                .load(std::sync::atomic::Ordering::Relaxed)
                + p.counts.cut_mid.load(std::sync::atomic::Ordering::Relaxed)
        })
        .sum();
    assert!(cut > 0, "the proxies really cut some answers");
    let report = verify(&db.url, &objects.location());
    assert!(
        report.faults.is_empty(),
        "verify on the shared database and objects finds nothing: {:?}",
        report.faults
    );
    assert_eq!(
        report.events, r.events_recorded,
        "verify re-checked every event"
    );
    assert!(
        report.attachments > 0 && report.attachments <= r.attachments_recorded,
        "and re-hashed the photos in the shared object store (each distinct file once): {} of {}",
        report.attachments,
        r.attachments_recorded
    );
    drop(offices);
    eprintln!(
        "three processes: {} events, {} photos, {} sync errors ridden out, {:.1} s in all",
        r.events_recorded,
        r.attachments_recorded,
        r.sync_errors_ridden_out,
        started.elapsed().as_secs_f64()
    );
}

/// `n` offices in this process, each with its own store (its own pool), live hub and password
/// hashing queue, as separate processes would have; one database, one key file, one folder.
async fn offices_on(db: &TestDb, dir: &Path, n: usize) -> Vec<RunningOffice> {
    offices_with(db, dir, n, |_| {}).await
}

/// [`offices_on`], each office's configuration changed by `tweak`.
async fn offices_with(
    db: &TestDb,
    dir: &Path,
    n: usize,
    tweak: impl Fn(&mut heatcrew_office::Config),
) -> Vec<RunningOffice> {
    let storage = Storage::Postgres(DatabaseUrl::parse(&db.url).expect("url"));
    let mut running = Vec::new();
    for i in 0..n {
        let mut config =
            storage.config(dir.join("office-key"), Location::Folder(dir.join("files")));
        tweak(&mut config);
        // The PostgreSQL client is synchronous: it may block this worker, not run async.
        let office = tokio::task::block_in_place(|| {
            let office = Office::open_on(&storage, config).expect("an office on PostgreSQL");
            if i == 0 {
                office.seed_demo().expect("demo company");
            }
            office
        });
        running.push(office.spawn("127.0.0.1:0").await.expect("serve"));
    }
    running
}

async fn post(url: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("the office answers");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get_status(url: &str, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("the office answers")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_at_one_process_refreshes_and_ends_at_the_others() {
    let Some(db) = tokio::task::block_in_place(TestDb::create) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let o = offices_on(&db, dir.path(), 3).await;
    let (a, b, c) = (o[0].url(), o[1].url(), o[2].url());
    let (status, login) = post(
        &format!("{a}/api/v1/auth/staff-login"),
        None,
        &json!({"username": "zhaomin", "password": DEMO_PASSWORD}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the dispatcher signs in at A: {login}"
    );
    let access = login["access_token"].as_str().expect("access").to_owned();
    let refresh = login["refresh_token"].as_str().expect("refresh").to_owned();
    assert_eq!(
        get_status(&format!("{b}/api/v1/jobs"), &access).await,
        StatusCode::OK,
        "A's token is good at B"
    );
    let (status, rotated) = post(
        &format!("{b}/api/v1/auth/refresh"),
        None,
        &json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "A's refresh token rotates at B: {rotated}"
    );
    let access2 = rotated["access_token"].as_str().expect("access").to_owned();
    assert_eq!(
        get_status(&format!("{c}/api/v1/jobs"), &access2).await,
        StatusCode::OK,
        "the rotated pair works at C (and is now in use)"
    );
    let (status, reused) = post(
        &format!("{c}/api/v1/auth/refresh"),
        None,
        &json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(
        (status, reused["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("refresh_reused")),
        "the rotated-out token is refused at C too: {reused}"
    );
    assert_eq!(
        get_status(&format!("{a}/api/v1/jobs"), &access2).await,
        StatusCode::UNAUTHORIZED,
        "a reused refresh token revoked the session everywhere, A included"
    );

    // A fresh session, signed out at C: its token stops working at A and B.
    let (_, login) = post(
        &format!("{b}/api/v1/auth/staff-login"),
        None,
        &json!({"username": "zhaomin", "password": DEMO_PASSWORD}),
    )
    .await;
    let access = login["access_token"].as_str().expect("access").to_owned();
    let (status, _) = post(
        &format!("{c}/api/v1/auth/revoke"),
        Some(&access),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "signed out at C");
    for at in [&a, &b] {
        assert_eq!(
            get_status(&format!("{at}/api/v1/jobs"), &access).await,
            StatusCode::UNAUTHORIZED,
            "a session signed out at C is over at {at}"
        );
    }
}

/// A password guesser spread over three office processes by a load balancer meets one count:
/// the free failures once, not once per process (docs/storage.md, "Login throttling"), and a
/// process started afterwards refuses the locked account too. Before the counts moved into the
/// database each process counted alone, and 7 guesses over three processes locked nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guesser_spread_over_three_processes_meets_one_count() {
    let Some(db) = tokio::task::block_in_place(TestDb::create) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    // A lock long enough that a slow machine cannot let it lapse between two requests.
    let policy =
        |c: &mut heatcrew_office::Config| c.throttle.first_lock = chrono::TimeDelta::minutes(5);
    let o = offices_with(&db, dir.path(), 3, policy).await;
    let guess = |at: String, password: String| async move {
        post(
            &format!("{at}/api/v1/auth/staff-login"),
            None,
            &json!({"username": "zhaomin", "password": password}),
        )
        .await
    };
    let free = heatcrew_office::throttle::Throttle::default().pair_free;
    for i in 0..=free {
        let at = o[i as usize % 3].url();
        let (status, body) = guess(at.clone(), format!("guess-{i}")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_credentials")),
            "guess {i} at {at} is checked: {body}"
        );
    }
    for (i, office) in o.iter().enumerate() {
        let (status, body) = guess(office.url(), DEMO_PASSWORD.into()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")),
            "after {} failures spread over three processes, process {i} refuses before any \
             password is checked: {body}",
            free + 1
        );
    }
    let late = offices_with(&db, dir.path(), 1, policy).await;
    let (status, body) = guess(late[0].url(), DEMO_PASSWORD.into()).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a process started afterwards knows the count too: {body}"
    );
}

/// Read server-sent events from `resp` until one's data contains `needle` (true) or `within`
/// passes (false).
async fn sse_contains(resp: &mut reqwest::Response, needle: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = String::new();
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                seen.push_str(&String::from_utf8_lossy(&bytes));
                if seen.contains(needle) {
                    return true;
                }
            }
            _ => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_at_one_process_sees_a_push_made_at_another() {
    let Some(db) = tokio::task::block_in_place(TestDb::create) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let o = offices_on(&db, dir.path(), 2).await;
    let (a, b) = (o[0].url(), o[1].url());
    let staff = staff_token_at(&b, "zhaomin", DEMO_PASSWORD).await;
    let mut live = reqwest::Client::new()
        .get(format!("{b}/api/v1/live"))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("the live feed at B");
    assert_eq!(live.status(), StatusCode::OK, "a console is connected to B");

    // The technician's phone syncs with A: it pulls its jobs and pushes a record of one.
    let device = TestDevice::sign_in(&a, "zhangwei", DEMO_PASSWORD).await;
    device.syncer.sync_once().await.expect("pull at A");
    let job = {
        let mut s = device.lock();
        let job = s.jobs().expect("jobs").first().expect("a demo job").job.id;
        s.record(
            job,
            heatcrew_protocol::EventBody::StepCompleted {
                step: "appointment".into(),
                evidence: Default::default(),
            },
        )
        .expect("record");
        job
    };
    let report = device.syncer.sync_once().await.expect("push at A");
    assert_eq!(report.pushed, 1, "A accepted the record");
    assert!(
        sse_contains(&mut live, &job.to_string(), Duration::from_secs(10)).await,
        "the console at B is told that the job changed at A"
    );

    // PostgreSQL drops the feed's connections (a failover, a restart): B's console is told to
    // resync, and the feed works again once B and A have reconnected.
    let dropped = db.terminate_connections(heatcrew_office::live_notify::APPLICATION_NAME);
    assert!(
        dropped >= 2,
        "both processes' feed connections were cut ({dropped})"
    );
    assert!(
        sse_contains(&mut live, "resync", Duration::from_secs(15)).await,
        "B's console is told it may have missed something"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    {
        let mut s = device.lock();
        s.record(
            job,
            heatcrew_protocol::EventBody::StepCompleted {
                step: "arrive".into(),
                evidence: Default::default(),
            },
        )
        .expect("record");
    }
    let report = device.syncer.sync_once().await.expect("push at A again");
    assert_eq!(report.pushed, 1, "A accepted the second record");
    assert!(
        sse_contains(&mut live, "job_changed", Duration::from_secs(15)).await,
        "after reconnecting, B's console hears A's pushes again"
    );
}

#[test]
fn the_follow_up_run_by_two_processes_at_once_opens_each_round_once() {
    use chrono::{Duration as D, NaiveTime, TimeZone, Utc};
    use heatcrew_office::patrols::{NewPlan, Shift};
    use heatcrew_office::schedule::run_once;
    let Some(db) = TestDb::create() else { return };
    let a: Arc<dyn OfficeStore> = Arc::new(PgStore::open(&db.url).expect("process A's store"));
    let b: Arc<dyn OfficeStore> = Arc::new(PgStore::open(&db.url).expect("process B's store"));
    heatcrew_office::demo::seed(&*a, Utc::now()).expect("demo company");
    let route = a
        .list_routes()
        .expect("routes")
        .into_iter()
        .next()
        .expect("the demo company has a patrol route");
    let user = |name: &str| {
        a.user_by_username(name)
            .expect("read")
            .expect("a demo user")
            .info
            .id
    };
    let (day_crew, night_crew) = (user("chenjun"), user("chenjun"));
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("tz");
    let day = Utc::now().with_timezone(&cst).date_naive() - D::days(2);
    let t0 = cst
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .expect("midnight")
        .with_timezone(&Utc);
    let at = |h: i64| t0 + D::hours(h);
    let shift = |h: u32, who| Shift {
        starts_at: NaiveTime::from_hms_opt(h, 0, 0).expect("time"),
        hours: 12,
        assignee: who,
    };
    let plan = NewPlan {
        name: "多进程巡检".into(),
        route_id: route.id,
        shifts: vec![shift(8, day_crew), shift(20, night_crew)],
        intervals: Default::default(),
        active_from: None,
        active_until: None,
        utc_offset_minutes: Some(480),
    }
    .validate(&route, at(-5))
    .expect("a valid plan");
    let plan = a.create_plan(plan).expect("stored");
    // Hourly through a day and a half, both processes at each tick at the same moment.
    let mut opened = 0;
    for h in -5..=26 {
        let now = at(h);
        let racer = {
            let b = b.clone();
            std::thread::spawn(move || run_once(&*b, now).expect("B's run"))
        };
        opened += run_once(&*a, now).expect("A's run").patrols.rounds_opened;
        opened += racer.join().expect("thread").patrols.rounds_opened;
    }
    let rounds = a.plan_rounds(plan.id).expect("rounds");
    let starts: Vec<i64> = rounds
        .iter()
        .map(|r| (r.shift_start - t0).num_hours())
        .collect();
    assert_eq!(
        starts,
        [-4, 8, 20, 32],
        "every shift once, whichever process came first"
    );
    assert_eq!(opened, 4, "each round counted by exactly one process");
    let jobs: std::collections::HashSet<_> = rounds.iter().map(|r| r.job_id).collect();
    assert_eq!(jobs.len(), 4, "one job per round, none doubled");
}
