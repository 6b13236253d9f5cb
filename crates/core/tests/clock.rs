//! Honest time on the device (issue 15, point 6), on the real core against a real office on
//! loopback: a device whose clock is 72 hours off shows the office's countdowns, deadlines and
//! "today"; a jump of its clock is seen by the monotonic clock, corrected at once, recorded, and
//! reported to the office, which shows it on the device. The wall clock and the monotonic clock
//! are injected, so the test moves them as a wrong phone would.

use chrono::{DateTime, Duration, Local, SubsecRound, Utc};
use heatcrew_core::clock::{ClockWatch, MonoReading, Monotonic};
use heatcrew_core::demo;
use heatcrew_core::sla::Sla;
use heatcrew_core::store::{Clock, Store};
use heatcrew_core::sync::{self, Syncer};
use heatcrew_core::views;
use heatcrew_testkit::{PASSWORD, TestOffice};
use serde_json::json;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const H72: i64 = 72 * 3600 * 1000;

/// A phone's two clocks: the wall clock, `shift_ms` away from the real time, and a monotonic clock
/// that runs with real time, plus whatever time the test lets pass at once (`pass`).
struct Phone {
    shift_ms: Arc<AtomicI64>,
    mono_ms: Arc<AtomicU64>,
    started: std::time::Instant,
}

impl Phone {
    fn new(shift_ms: i64) -> Phone {
        Phone {
            shift_ms: Arc::new(AtomicI64::new(shift_ms)),
            mono_ms: Arc::new(AtomicU64::new(1_000_000)),
            started: std::time::Instant::now(),
        }
    }

    /// `ms` pass on both clocks (the app closed, the phone in a pocket).
    fn pass(&self, ms: u64) {
        self.mono_ms.fetch_add(ms, Ordering::SeqCst);
        self.shift_ms.fetch_add(ms as i64, Ordering::SeqCst);
    }

    fn wall(&self) -> Clock {
        let shift = self.shift_ms.clone();
        Arc::new(move || Utc::now() + Duration::milliseconds(shift.load(Ordering::SeqCst)))
    }

    fn mono(&self, boot: &'static str) -> Monotonic {
        let ms = self.mono_ms.clone();
        let started = self.started;
        Arc::new(move || MonoReading {
            boot: boot.into(),
            ms: ms.load(Ordering::SeqCst) + started.elapsed().as_millis() as u64,
        })
    }

    /// Someone sets the wall clock by `ms`; no real time passes.
    fn set_clock_by(&self, ms: i64) {
        self.shift_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

/// A home repair job reported 30 minutes ago (office time), assigned to `tech_a`.
async fn dispatch(office: &TestOffice) -> (Uuid, DateTime<Utc>) {
    let token = office.staff_token("dispatch", PASSWORD).await;
    let reported_at = (Utc::now() - Duration::minutes(30)).trunc_subsecs(3);
    let d = demo::home_repair_job(0, None);
    let (status, job) = office
        .post_json(
            "/api/v1/jobs",
            Some(&token),
            &json!({"kind": "home_repair", "fault": d.title, "customer": d.customer,
                "reported_at": reported_at, "window": d.window,
                "assignee": office.user_id("tech_a")}),
        )
        .await;
    assert!(
        status.is_success(),
        "the dispatcher creates a job: {status} {job}"
    );
    (
        Uuid::parse_str(job["id"].as_str().expect("id")).expect("uuid"),
        reported_at,
    )
}

/// Minutes left on the job's 4-hour clock, as the job list computes them from `Today::now`.
fn minutes_left(store: &Store, job_id: Uuid) -> i64 {
    let today = views::today(store).expect("today");
    let job = today
        .jobs
        .iter()
        .find(|j| j.id == job_id)
        .expect("the job is listed");
    match job.sla {
        Sla::OnTrack { due_at } | Sla::AtRisk { due_at } | Sla::Breached { due_at } => {
            (due_at - today.now).num_minutes()
        }
        ref other => panic!("an open repair has a running clock, not {other:?}"),
    }
}

fn assert_near(what: &str, got: DateTime<Utc>, want: DateTime<Utc>) {
    let off = (got - want).num_seconds().abs();
    assert!(off <= 10, "{what}: {got} is {off} s from {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_clock_72_hours_off_shows_the_offices_countdowns_and_reports_its_jumps() {
    let office = TestOffice::start().await;
    let (job_id, reported_at) = dispatch(&office).await;
    let dir = tempfile::tempdir().expect("dir");
    let phone = Phone::new(H72);
    let store = Arc::new(Mutex::new(
        Store::open_with_clock(dir.path().join("device.db"), phone.wall()).expect("open"),
    ));
    sync::login(&store, &office.url(), "tech_a", PASSWORD)
        .await
        .expect("sign in");
    let syncer = Syncer::with_clock_watch(store.clone(), ClockWatch::new(phone.mono("boot-1")));
    syncer.sync_once().await.expect("pull the job");

    {
        let s = store.lock().unwrap();
        let raw_left = (reported_at + Duration::hours(4) - s.now()).num_minutes();
        assert!(
            raw_left < -68 * 60,
            "the raw device clock would say the job is {} minutes late: it is 72 h ahead",
            -raw_left
        );
        assert_near(
            "Today.now is the office's now",
            views::today(&s).unwrap().now,
            Utc::now(),
        );
        let left = minutes_left(&s, job_id);
        assert!(
            (208..=210).contains(&left),
            "reported 30 min ago with 4 h to resolve: about 210 min left, not {left}"
        );
        assert_eq!(
            s.today(),
            Utc::now().with_timezone(&Local).date_naive(),
            "deadlines and notice dates use today's date, not the one in three days"
        );
        assert!(
            matches!(
                views::job(&s, job_id).unwrap().summary.sla,
                Sla::OnTrack { .. }
            ),
            "the job page's clock is on track, not breached by the phone's wrong clock"
        );
    }

    // The technician arrives, on the phone's wrong clock: the record carries the device's time,
    // the screens show the office's.
    let arrived = Utc::now();
    {
        let mut s = store.lock().unwrap();
        for step in ["appointment", "arrive"] {
            s.record(
                job_id,
                heatcrew_protocol::EventBody::StepCompleted {
                    step: step.into(),
                    evidence: Default::default(),
                },
            )
            .expect(step);
        }
    }
    let shown_arrival = |store: &Mutex<Store>| {
        let s = store.lock().unwrap();
        let arrival = match views::job(&s, job_id).unwrap().summary.arrival {
            heatcrew_core::sla::Arrival::Early { arrived_at }
            | heatcrew_core::sla::Arrival::OnTime { arrived_at }
            | heatcrew_core::sla::Arrival::Late { arrived_at } => arrived_at,
            other => panic!("arrived, not {other:?}"),
        };
        let outbox = views::outbox(&s).unwrap();
        let listed = outbox
            .last()
            .expect("the arrival is in the outbox")
            .recorded_at;
        (arrival, listed)
    };
    let (arrival, listed) = shown_arrival(&store);
    assert_near("the arrival in office time", arrival, arrived);
    assert_near("the outbox lists it in office time", listed, arrived);

    // Someone sets the phone's clock right (−72 h): the monotonic clock sees the jump at once,
    // before any office answer.
    phone.set_clock_by(-H72);
    let jump = syncer
        .check_clock()
        .expect("check")
        .expect("a jump is seen");
    assert!(
        (jump.jump_ms + H72).abs() < 2_000 && !jump.rebooted,
        "a 72 h backward jump measured against the monotonic clock: {jump:?}"
    );
    {
        let s = store.lock().unwrap();
        assert_near("corrected now after the jump", s.office_now(), Utc::now());
        let left = minutes_left(&s, job_id);
        assert!(
            (208..=210).contains(&left),
            "the countdown did not move with the phone's clock: {left} min"
        );
        assert_eq!(
            s.unreported_clock_jumps().unwrap().len(),
            1,
            "kept until reported"
        );
    }
    // The arrival was recorded with the offset before the jump: it still reads at the true time,
    // not 72 hours late as the offset now would make it.
    let (arrival, listed) = shown_arrival(&store);
    assert_near(
        "the arrival after the clock was set right",
        arrival,
        arrived,
    );
    assert_near("the outbox after the clock was set right", listed, arrived);
    // And an hour forward: also a jump.
    phone.set_clock_by(3_600_000);
    let fwd = syncer
        .check_clock()
        .expect("check")
        .expect("a forward jump");
    assert!(
        (fwd.jump_ms - 3_600_000).abs() < 2_000,
        "an hour forward: {fwd:?}"
    );
    let left = minutes_left(&store.lock().unwrap(), job_id);
    assert!(
        (207..=210).contains(&left),
        "still the office's countdown after the clock went forward: {left} min"
    );
    let (arrival, _) = shown_arrival(&store);
    assert_near("the arrival after both jumps", arrival, arrived);

    // The next sync pass reports both; the office keeps them on the device, once.
    syncer.sync_once().await.expect("sync");
    syncer.sync_once().await.expect("sync again");
    let device_id = store.lock().unwrap().device_id();
    assert!(
        store
            .lock()
            .unwrap()
            .unreported_clock_jumps()
            .unwrap()
            .is_empty(),
        "the office acknowledged the jumps"
    );
    let admin = office.staff_token("admin", PASSWORD).await;
    let (status, jumps) = office
        .get_json(&format!("/api/v1/devices/{device_id}/clock-jumps"), &admin)
        .await;
    assert!(
        status.is_success(),
        "staff read a device's clock jumps: {status} {jumps}"
    );
    let jumps = jumps.as_array().expect("a list");
    assert_eq!(jumps.len(), 2, "both jumps, each once: {jumps:?}");
    let sizes: Vec<i64> = jumps
        .iter()
        .map(|j| j["jump_ms"].as_i64().unwrap())
        .collect();
    assert!(
        sizes.iter().any(|&ms| (ms + H72).abs() < 2_000)
            && sizes.iter().any(|&ms| (ms - 3_600_000).abs() < 2_000),
        "the office shows what the device measured: {sizes:?}"
    );
    let tech = store
        .lock()
        .unwrap()
        .session()
        .unwrap()
        .expect("signed in")
        .access_token;
    let (status, _) = office
        .get_json(&format!("/api/v1/devices/{device_id}/clock-jumps"), &tech)
        .await;
    assert_eq!(
        status.as_u16(),
        403,
        "a technician cannot read the office's device pages"
    );
}

#[test]
fn a_jump_while_the_app_was_closed_is_measured_from_the_kept_reading() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("device.db");
    let phone = Phone::new(0);
    {
        let mut store = Store::open_with_clock(&db, phone.wall()).expect("open");
        let mut watch = ClockWatch::new(phone.mono("boot-1"));
        assert_eq!(
            watch.check(&mut store).unwrap(),
            None,
            "the first reading is kept"
        );
    }
    // The app is closed; 10 minutes pass and the clock is set 5 hours back; same boot.
    phone.pass(600_000);
    phone.set_clock_by(-5 * 3_600_000);
    let mut store = Store::open_with_clock(&db, phone.wall()).expect("reopen");
    let mut watch = ClockWatch::new(phone.mono("boot-1"));
    let jump = watch
        .check(&mut store)
        .unwrap()
        .expect("seen at the next start");
    assert!(
        (jump.jump_ms + 5 * 3_600_000).abs() < 2_000 && !jump.rebooted,
        "five hours back, measured exactly: {jump:?}"
    );
    assert_eq!(
        store.office_offset_ms().unwrap(),
        -jump.jump_ms,
        "the office offset moved by the jump: corrected time is unchanged"
    );

    // After a restart of the phone (another boot) a forward jump cannot be told from time passing
    // while switched off; a backward one can.
    drop(store);
    phone.set_clock_by(24 * 3_600_000);
    let mut store = Store::open_with_clock(&db, phone.wall()).expect("reopen");
    let mut watch = ClockWatch::new(phone.mono("boot-2"));
    assert_eq!(
        watch.check(&mut store).unwrap(),
        None,
        "forward across a reboot: unseen"
    );
    drop(store);
    phone.set_clock_by(-48 * 3_600_000);
    let mut store = Store::open_with_clock(&db, phone.wall()).expect("reopen");
    let mut watch = ClockWatch::new(phone.mono("boot-3"));
    let back = watch
        .check(&mut store)
        .unwrap()
        .expect("backward across a reboot");
    assert!(back.rebooted, "flagged as seen across a restart: {back:?}");
    assert_eq!(store.clock_jumps().unwrap().len(), 2, "both jumps are kept");
}
