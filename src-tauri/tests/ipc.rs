//! The app's commands through Tauri's own IPC (the mock runtime's webview, `InvokeRequest`s as the
//! UI sends them), over real parts: the device store on a temp SQLite file, and a real office on
//! loopback (the demo company) to sign in, pull jobs and sync against.

use heatcrew_core::sync::SyncStatus;
use heatcrew_core::template::Evidence;
use heatcrew_core::views::{AppError, JobView, OutboxEntryView, SessionView, Today};
use heatcrew_core::{Lang, OutboxState};
use heatcrew_protocol::{JobKind, StepEvidence};
use heatcrew_testkit::{DEMO_PASSWORD, TestOffice};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponseBody};
use tauri::test::{INVOKE_KEY, MockRuntime, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewUrl, WebviewWindow, WebviewWindowBuilder};
use uuid::Uuid;

/// Long enough for a slow CI machine; the tests poll, they never assert on timing.
const DEADLINE: Duration = Duration::from_secs(60);

/// The demo office (heatcrew-testkit) on `127.0.0.1:<port>`, driven from these synchronous tests
/// through its own runtime; it can go away and come back on the same address and database, as an
/// office does when the signal drops.
struct LoopbackOffice {
    // Dropped first: the server stops while its runtime still exists.
    office: TestOffice,
    runtime: tokio::runtime::Runtime,
}

impl LoopbackOffice {
    fn start() -> LoopbackOffice {
        let runtime = tokio::runtime::Runtime::new().expect("office runtime");
        let office = runtime.block_on(TestOffice::demo());
        LoopbackOffice { office, runtime }
    }

    fn url(&self) -> String {
        self.office.url()
    }

    /// Stop serving (in-flight requests finish); the device sees connection refused.
    fn go_away(&mut self) {
        self.runtime.block_on(self.office.stop());
    }

    /// Serve the same database on the same address again.
    fn come_back(&mut self) {
        self.runtime.block_on(self.office.restart());
    }

    /// The office's own list of the jobs assigned to `username`.
    fn job_ids_assigned_to(&self, username: &str) -> BTreeSet<Uuid> {
        let user = self.office.user_id(username);
        self.office
            .store()
            .list_jobs()
            .expect("list the office's jobs")
            .into_iter()
            .filter(|j| j.job.assignee == Some(user))
            .map(|j| j.job.id)
            .collect()
    }

    /// The kinds of the events the office accepted for a job.
    fn accepted_event_kinds(&self, job_id: Uuid) -> Vec<String> {
        self.office
            .store()
            .job_events(job_id)
            .expect("the job's events at the office")
            .into_iter()
            .filter(|e| e.accepted)
            .map(|e| e.event.unsigned.kind)
            .collect()
    }
}

/// The closed error shape every command rejects with; any other field fails the test.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Refusal {
    code: String,
    message: String,
}

/// The app as the UI sees it: the real command set and state on a temp database, one webview.
struct Device {
    webview: WebviewWindow<MockRuntime>,
    _app: App<MockRuntime>,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Device {
    fn open() -> Device {
        let dir = tempfile::tempdir().expect("temp dir for the device");
        let db = dir.path().join("device.db");
        let app = heatcrew_app_lib::run_app_on_database(mock_builder(), &db)
            .expect("open the device database")
            .build(mock_context(noop_assets()))
            .expect("build the app on the mock runtime");
        let webview = WebviewWindowBuilder::new(&app, "main", WebviewUrl::default())
            .build()
            .expect("the main webview");
        Device {
            webview,
            _app: app,
            db,
            _dir: dir,
        }
    }

    fn request(cmd: &str, body: InvokeBody, headers: &[(&'static str, &str)]) -> InvokeRequest {
        let mut map = tauri::http::HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().expect("header value"));
        }
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body,
            headers: map,
            invoke_key: INVOKE_KEY.to_string(),
        }
    }

    fn send(
        &self,
        cmd: &str,
        body: InvokeBody,
        headers: &[(&'static str, &str)],
    ) -> Result<InvokeResponseBody, Value> {
        tauri::test::get_ipc_response(&self.webview, Self::request(cmd, body, headers))
    }

    /// A command that must succeed, its answer parsed.
    fn call<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> T {
        match self.send(cmd, InvokeBody::Json(args), &[]) {
            Ok(body) => body
                .deserialize()
                .unwrap_or_else(|e| panic!("{cmd} answered something unexpected: {e}")),
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    /// A command that must fail; its error must be exactly `{code, message}`.
    fn refusal(&self, cmd: &str, body: InvokeBody, headers: &[(&'static str, &str)]) -> Refusal {
        match self.send(cmd, body, headers) {
            Ok(_) => panic!("{cmd} should have been refused"),
            Err(e) => serde_json::from_value(e.clone())
                .unwrap_or_else(|_| panic!("{cmd} rejected with {e}, not {{code, message}}")),
        }
    }

    fn sign_in(&self, office: &LoopbackOffice, username: &str) -> SessionView {
        self.call(
            "login",
            json!({"office": office.url(), "username": username, "password": DEMO_PASSWORD}),
        )
    }

    fn outbox(&self) -> Vec<OutboxEntryView> {
        self.call("outbox", json!({}))
    }

    fn job(&self, job_id: Uuid) -> JobView {
        self.call("job", json!({"jobId": job_id}))
    }

    /// The first home repair visit on today's list.
    fn first_home_repair(&self) -> JobView {
        let today: Today = self.call("today", json!({}));
        let job = today
            .jobs
            .iter()
            .find(|j| j.kind == JobKind::HomeRepair)
            .expect("the demo technician has a home repair visit today");
        self.job(job.id)
    }

    fn confirm_step(&self, job_id: Uuid, step: &str) -> JobView {
        self.call(
            "complete_step",
            json!({"jobId": job_id, "step": step, "evidence": StepEvidence::default()}),
        )
    }
}

fn current_step(job: &JobView) -> &str {
    job.current_step
        .as_deref()
        .expect("the visit has a step to do")
}

/// Poll `done` until it holds (or fail after [`DEADLINE`], saying what was awaited).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn signing_in_at_the_loopback_office_lists_that_technicians_demo_jobs() {
    let office = LoopbackOffice::start();
    let device = Device::open();

    let session = device.sign_in(&office, "zhangwei");
    assert_eq!(
        session.user.username, "zhangwei",
        "the session is the technician's"
    );
    assert_eq!(
        session.office_url,
        office.url(),
        "the device remembers which office it signed in at"
    );

    let today: Today = device.call("today", json!({}));
    let listed: BTreeSet<Uuid> = today.jobs.iter().map(|j| j.id).collect();
    let assigned = office.job_ids_assigned_to("zhangwei");
    assert!(
        !assigned.is_empty(),
        "the demo office assigns visits to zhangwei"
    );
    assert_eq!(
        listed, assigned,
        "right after sign-in, today lists exactly the jobs the office assigned to this technician"
    );
    let titles: Vec<&str> = today.jobs.iter().map(|j| j.title.as_str()).collect();
    for title in ["暖气不热", "暖气片接口漏水"] {
        assert!(
            titles.contains(&title),
            "zhangwei's demo visit {title} is listed: {titles:?}"
        );
    }
}

#[test]
fn the_apps_database_files_hold_no_pulled_customer_or_token_in_clear() {
    use heatcrew_core::keys::{FileVault, KeyVault, Secret};
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    // A home repair names its customer (a patrol has none); the customer sits in the view's summary.
    let job = device.first_home_repair();
    let view = serde_json::to_value(&job).expect("json");
    let customer = &view["summary"]["customer"];
    let mut needles: Vec<String> = ["name", "phone", "address"]
        .iter()
        .filter_map(|k| customer[k].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        needles.len(),
        3,
        "a pulled visit names its customer: {customer}"
    );
    let tokens = FileVault::beside(&device.db)
        .load_secret(Secret::Session)
        .expect("read the vault")
        .expect("the app keeps its session in the vault");
    let tokens: Value = serde_json::from_slice(&tokens).expect("tokens");
    for k in ["access_token", "refresh_token"] {
        needles.push(tokens[k].as_str().expect("token").to_owned());
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut path = device.db.clone().into_os_string();
        path.push(suffix);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for n in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                "device.db{suffix} does not show {n:?} (the full scan is in heatcrew-core's at_rest tests)"
            );
        }
    }
}

#[test]
fn a_step_confirmed_through_ipc_waits_in_the_outbox_while_the_office_is_away() {
    let mut office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    // Offline, so the background sync cannot take the record away before we look.
    office.go_away();

    let job = device.first_home_repair();
    let step = current_step(&job).to_owned();
    let before = device.outbox().len();
    let after = device.confirm_step(job.summary.id, &step);

    assert_ne!(
        after.current_step.as_deref(),
        Some(step.as_str()),
        "the confirmed step is done and the visit moved on"
    );
    assert_eq!(
        after.summary.pending_records, 1,
        "the job shows one record not yet at the office"
    );
    let outbox = device.outbox();
    assert_eq!(
        outbox.len(),
        before + 1,
        "confirming a step queues one record"
    );
    let entry = outbox.last().expect("the new record");
    assert_eq!(
        entry.job_id, job.summary.id,
        "the record belongs to the visit"
    );
    assert_eq!(
        entry.kind, "step_completed",
        "the record is the confirmed step"
    );
    assert!(
        matches!(entry.state, OutboxState::Queued | OutboxState::Uploading),
        "with the office away the record waits on the device, got {:?}",
        entry.state
    );
}

#[test]
fn logout_refuses_while_records_are_queued_and_succeeds_once_synced() {
    let mut office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    office.go_away();
    let job = device.first_home_repair();
    let step = current_step(&job).to_owned();
    device.confirm_step(job.summary.id, &step);

    for lang in [Lang::En, Lang::Zh] {
        device.call::<()>("set_language", json!({ "lang": lang }));
        let refusal = device.refusal("logout", InvokeBody::Json(json!({})), &[]);
        let want = AppError::UnsyncedRecords(1);
        assert_eq!(
            refusal,
            Refusal {
                code: "unsynced_records".into(),
                message: want.message(lang),
            },
            "signing out with a queued record is refused, explained in {lang:?}"
        );
    }
    assert!(
        device
            .call::<Option<SessionView>>("session", json!({}))
            .is_some(),
        "a refused sign-out keeps the session"
    );

    // The office comes back; "sync now" goes through the real sync loop.
    office.come_back();
    wait_until("the office acknowledges every record", || {
        device.call::<SyncStatus>("sync_now", json!({}));
        device
            .outbox()
            .iter()
            .all(|e| e.state == OutboxState::Acknowledged)
    });
    assert!(
        office
            .accepted_event_kinds(job.summary.id)
            .contains(&"step_completed".to_owned()),
        "the office holds the confirmed step"
    );

    device.call::<()>("logout", json!({}));
    assert_eq!(
        device.call::<Option<SessionView>>("session", json!({})),
        None,
        "with nothing queued, sign-out goes through"
    );
}

/// Complete confirm-only steps until the visit's current step wants photos; that step's id.
fn walk_to_photo_step(device: &Device, job_id: Uuid) -> String {
    loop {
        let job = device.job(job_id);
        let step = job
            .steps
            .iter()
            .find(|s| Some(&s.id) == job.current_step.as_ref())
            .expect("the current step is listed");
        if step
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::Photos { .. }))
        {
            return step.id.clone();
        }
        device.confirm_step(job_id, &step.id);
    }
}

#[test]
fn a_photo_sent_as_a_raw_ipc_body_is_recorded_with_a_thumbnail() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    let job_id = device.first_home_repair().summary.id;
    let step = walk_to_photo_step(&device, job_id);
    let job_header = job_id.to_string();
    let (photo, _) = heatcrew_core::demo::generated_png("raw ipc photo", 1);

    let answer = device
        .send(
            "add_photo",
            InvokeBody::Raw(photo),
            &[("x-job-id", &job_header), ("x-step", &step)],
        )
        .unwrap_or_else(|e| panic!("add_photo failed: {e}"));
    let job: JobView = answer
        .deserialize()
        .expect("add_photo answers with the job");
    assert_eq!(
        job.processing_photos.len(),
        1,
        "answered at once, processing"
    );
    wait_until("the photo processed in the background", || {
        device.job(job_id).processing_photos.is_empty()
    });
    let job = device.job(job_id);
    let photos = &job
        .steps
        .iter()
        .find(|s| s.id == step)
        .expect("the photo step")
        .photos;
    assert_eq!(photos.len(), 1, "the photo is on its step");

    let thumbnail = device
        .send(
            "thumbnail",
            InvokeBody::Json(json!({"sha256": photos[0].sha256.to_hex()})),
            &[],
        )
        .unwrap_or_else(|e| panic!("thumbnail failed: {e}"));
    let InvokeResponseBody::Raw(bytes) = thumbnail else {
        panic!("the thumbnail must come back as raw bytes (an ArrayBuffer), not JSON");
    };
    assert!(
        bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "the thumbnail is a JPEG the UI can show ({} bytes)",
        bytes.len()
    );
}

#[test]
fn a_photo_as_a_json_array_or_a_corrupt_image_is_refused_and_records_nothing() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    let job_id = device.first_home_repair().summary.id;
    let step = walk_to_photo_step(&device, job_id);
    let job_header = job_id.to_string();
    let headers = [("x-job-id", job_header.as_str()), ("x-step", step.as_str())];
    device.call::<()>("set_language", json!({"lang": "en"}));
    let job_before = device.job(job_id);
    let outbox_before = device.outbox().len();

    // What an old UI did: `Array.from(bytes)` as JSON.
    let (photo, _) = heatcrew_core::demo::generated_png("json array photo", 1);
    let refusal = device.refusal("add_photo", InvokeBody::Json(json!(photo)), &headers);
    assert_eq!(
        refusal.code, "bad_request",
        "a JSON body is the wrong shape"
    );
    assert!(
        refusal.message.contains("raw request body"),
        "the message says how photos must be sent: {}",
        refusal.message
    );

    let refusal = device.refusal(
        "add_photo",
        InvokeBody::Raw(b"these bytes are not a photo".to_vec()),
        &headers,
    );
    assert_eq!(
        refusal.code, "not_an_image",
        "corrupt bytes are named for what they are: {}",
        refusal.message
    );
    assert!(!refusal.message.is_empty(), "the technician is told why");

    let outbox = device.outbox();
    assert_eq!(
        outbox.len(),
        outbox_before,
        "a refused photo queues no record"
    );
    assert!(
        outbox.iter().all(|e| e.kind != "photo_added"),
        "no photo record exists at all"
    );
    let job_after = device.job(job_id);
    let photos_on = |job: &JobView| {
        job.steps
            .iter()
            .find(|s| s.id == step)
            .map(|s| s.photos.len())
    };
    assert_eq!(
        photos_on(&job_after),
        Some(0),
        "a refused photo leaves the step without photos"
    );
    assert_eq!(
        (job_after.summary.steps_done, job_after.current_step),
        (job_before.summary.steps_done, job_before.current_step),
        "a refused photo leaves the visit where it was"
    );
}

#[test]
fn unknown_jobs_and_malformed_arguments_answer_with_code_and_message() {
    let office = LoopbackOffice::start();
    let device = Device::open();

    let refusal = device.refusal("today", InvokeBody::Json(json!({})), &[]);
    assert_eq!(
        refusal.code, "not_signed_in",
        "before sign-in the job list sends the UI to the sign-in screen"
    );

    device.sign_in(&office, "zhangwei");
    device.call::<()>("set_language", json!({"lang": "en"}));
    let nobody = Uuid::now_v7();
    for (cmd, args) in [
        ("job", json!({ "jobId": nobody })),
        (
            "complete_step",
            json!({"jobId": nobody, "step": "arrive", "evidence": StepEvidence::default()}),
        ),
    ] {
        let refusal = device.refusal(cmd, InvokeBody::Json(args), &[]);
        assert_eq!(
            refusal.code, "unknown_job",
            "{cmd} on a job the device does not have"
        );
        assert!(!refusal.message.is_empty(), "{cmd} says why");
    }

    let job_id = device.first_home_repair().summary.id;
    let outbox_before = device.outbox().len();
    for (cmd, args, names) in [
        ("job", json!({"jobId": "not-a-job-id"}), "jobId"),
        ("job", json!({}), "jobId"),
        (
            "complete_step",
            json!({"jobId": job_id, "step": "appointment", "evidence": "yes"}),
            "evidence",
        ),
        ("set_language", json!({"lang": "klingon"}), "lang"),
    ] {
        let refusal = device.refusal(cmd, InvokeBody::Json(args.clone()), &[]);
        assert_eq!(
            refusal.code, "bad_request",
            "{cmd} with {args} is a bad request, not a bare string"
        );
        assert!(
            refusal.message.contains(names),
            "the message names the argument {names}: {}",
            refusal.message
        );
    }
    assert_eq!(
        device.outbox().len(),
        outbox_before,
        "malformed commands record nothing"
    );
}

/// Issue 12's last piece: the office's acknowledgement of an urgent record reaches the field app's
/// job list (the Today card), not only the job page, through the real commands: an accident
/// reported over IPC goes up, the dispatcher acknowledges the alert at the office, and after the
/// next sync `today` and `job` both carry who took it.
#[test]
fn an_office_acknowledgement_shows_on_the_today_card_and_the_job_page() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    let reported: JobView = device.call(
        "report_accident",
        json!({"accident": {"description": "井盖缺失，热水外溢", "measures_taken": "设置围挡",
            "position": {"lat": 39.91, "lon": 116.4, "description": "幸福路12号门前"}}}),
    );
    let job_id = reported.summary.id;
    assert!(
        reported.summary.office_acks.is_empty(),
        "nobody at the office has seen it yet"
    );
    wait_until("the accident reaches the office", || {
        device.call::<SyncStatus>("sync_now", json!({}));
        office
            .accepted_event_kinds(job_id)
            .contains(&"accident_reported".to_owned())
    });

    let dispatcher = office
        .runtime
        .block_on(office.office.staff_token("zhaomin", DEMO_PASSWORD));
    let (status, alerts) = office.runtime.block_on(
        office
            .office
            .get_json("/api/v1/console/alerts", &dispatcher),
    );
    assert!(status.is_success(), "the console lists alerts: {status}");
    let alert_id = alerts
        .as_array()
        .and_then(|a| a.iter().find(|x| x["job_id"] == json!(job_id)))
        .and_then(|x| x["id"].as_str())
        .unwrap_or_else(|| panic!("the accident raised an alert: {alerts}"))
        .to_owned();
    let (status, _) = office.runtime.block_on(office.office.post_json(
        &format!("/api/v1/console/alerts/{alert_id}/ack"),
        Some(&dispatcher),
        &json!({}),
    ));
    assert!(status.is_success(), "the dispatcher acknowledges: {status}");

    wait_until("the acknowledgement reaches the Today card", || {
        device.call::<SyncStatus>("sync_now", json!({}));
        let today: Today = device.call("today", json!({}));
        today
            .jobs
            .iter()
            .any(|j| j.id == job_id && !j.office_acks.is_empty())
    });
    let today: Today = device.call("today", json!({}));
    let card = today
        .jobs
        .iter()
        .find(|j| j.id == job_id)
        .expect("the card");
    assert_eq!(card.office_acks.len(), 1, "one acknowledgement: {card:?}");
    assert_eq!(
        card.office_acks[0].acknowledged_by, "赵敏",
        "the card says who at the office took it"
    );
    assert_eq!(
        card.office_acks[0].event_id.to_string(),
        alert_id,
        "of the accident report"
    );
    assert_eq!(
        device.job(job_id).office_acks,
        card.office_acks,
        "the job page says the same"
    );
}

#[path = "ipc/hardware.rs"]
mod hardware;
#[path = "ipc/notices.rs"]
mod notices;
#[path = "ipc/outcomes.rs"]
mod outcomes;
#[path = "ipc/photos.rs"]
mod photos;
