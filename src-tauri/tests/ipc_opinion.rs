//! The opinion form, corrections and the company's details through Tauri's own IPC (the mock
//! runtime's webview, requests as the UI sends them), over real parts: the device store on a temp
//! SQLite file and the demo office on loopback, whose company profile the sign-in's first pull
//! brings. (The app's other commands are tested in `ipc.rs`.)

use heatcrew_core::template::Evidence;
use heatcrew_core::views::{CorrectableRecord, JobView, Today};
use heatcrew_protocol::JobKind;
use heatcrew_testkit::{DEMO_PASSWORD, TestOffice};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

/// The closed error shape every command rejects with; any other field fails the test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Refusal {
    code: String,
    #[allow(dead_code)]
    message: String,
}

struct Device {
    webview: WebviewWindow<MockRuntime>,
    _app: App<MockRuntime>,
    _dir: tempfile::TempDir,
}

impl Device {
    fn open() -> Device {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = heatcrew_app_lib::run_app_on_database(mock_builder(), &dir.path().join("d.db"))
            .expect("open the device database")
            .build(mock_context(noop_assets()))
            .expect("build the app");
        let webview = WebviewWindowBuilder::new(&app, "main", WebviewUrl::default())
            .build()
            .expect("webview");
        Device {
            webview,
            _app: app,
            _dir: dir,
        }
    }

    fn send(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        tauri::test::get_ipc_response(&self.webview, request)
            .map(|b| b.deserialize().expect("a JSON answer"))
    }

    fn call<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> T {
        let answer = self
            .send(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"));
        serde_json::from_value(answer).unwrap_or_else(|e| panic!("{cmd}: unexpected answer: {e}"))
    }

    fn refused(&self, cmd: &str, args: Value) -> String {
        match self.send(cmd, args) {
            Ok(v) => panic!("{cmd} should have been refused, answered {v}"),
            Err(e) => {
                let r: Refusal = serde_json::from_value(e.clone())
                    .unwrap_or_else(|_| panic!("{cmd} rejected with {e}, not {{code, message}}"));
                r.code
            }
        }
    }
}

/// zhangwei's first home repair, walked to its rating step through IPC (the steps before it
/// recorded straight through the commands the screens use).
fn home_repair_at_rating(device: &Device) -> JobView {
    let today: Today = device.call("today", json!({}));
    let id = today
        .jobs
        .iter()
        .find(|j| j.kind == JobKind::HomeRepair && !j.closed)
        .expect("a home repair")
        .id;
    loop {
        let job: JobView = device.call("job", json!({"jobId": id}));
        let step = job.current_step.clone().expect("a current step");
        if step == "rating" {
            return job;
        }
        let spec = job.steps.iter().find(|s| s.id == step).expect("the step");
        for e in &spec.evidence {
            match e {
                Evidence::Photos { min, .. } => {
                    for n in 0..*min {
                        let (bytes, _) = heatcrew_core::demo::generated_png("ipc", n + 2);
                        let headers = [("x-job-id", id.to_string()), ("x-step", step.clone())];
                        add_photo(device, &bytes, &headers);
                    }
                }
                Evidence::Signature { .. } => {
                    let _: JobView = device.call(
                        "decline_signature",
                        json!({"jobId": id, "step": step, "outcome": "absent",
                               "reason": "客户临时外出", "witness": null}),
                    );
                }
                _ => {}
            }
        }
        let mut evidence = json!({"text": {}, "states": {}, "readings": []});
        if step == "diagnose_repair" {
            evidence["text"] = json!({"fault_found": "阀门堵塞", "work_done": "清洗阀芯"});
        }
        let _: JobView = device.call(
            "complete_step",
            json!({"jobId": id, "step": step, "evidence": evidence}),
        );
    }
}

fn add_photo(device: &Device, bytes: &[u8], headers: &[(&str, String)]) {
    let mut map = tauri::http::HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            tauri::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    let request = InvokeRequest {
        cmd: "add_photo".into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Raw(bytes.to_vec()),
        headers: map,
        invoke_key: INVOKE_KEY.to_string(),
    };
    tauri::test::get_ipc_response(&device.webview, request).expect("a photo is added");
}

fn answers() -> Value {
    json!({"punctuality": "on_time", "attitude": "good", "tidiness": "yes", "gifts": "none"})
}

#[test]
fn the_opinion_form_is_recorded_once_and_corrections_keep_the_original_through_ipc() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let office = runtime.block_on(TestOffice::demo());
    let device = Device::open();
    let _: Value = device.call(
        "login",
        json!({"office": office.url(), "username": "zhangwei", "password": DEMO_PASSWORD}),
    );
    let job = home_repair_at_rating(&device);
    let id = job.summary.id;

    // The company's details came with the sign-in's pull: no "××", no hard-coded number.
    let identify = job
        .steps
        .iter()
        .find(|s| s.id == "identify")
        .expect("identify");
    let phrase = identify.phrase.clone().expect("a phrase").zh;
    assert!(
        phrase.contains("滨河热力公司") && phrase.contains("张伟") && !phrase.contains("××"),
        "the standard phrase names the company and the technician: {phrase}"
    );
    let card = job
        .steps
        .iter()
        .find(|s| s.id == "contact_card")
        .expect("card");
    assert!(
        card.evidence
            .iter()
            .any(|e| matches!(e, Evidence::ContactCard { phone, .. } if phone == "0531-96069")),
        "the contact card shows the hotline the office set: {:?}",
        card.evidence
    );
    assert_eq!(
        job.opinion_form.len(),
        4,
        "the form's questions come with the job"
    );

    let mut partial = answers();
    partial.as_object_mut().expect("object").remove("gifts");
    assert_eq!(
        device.refused(
            "give_opinion",
            json!({"jobId": id, "opinion": {"stars": 5, "comment": "", "answers": partial}})
        ),
        "evidence_missing",
        "every question is answered"
    );
    assert_eq!(
        device.refused(
            "give_opinion",
            json!({"jobId": id, "opinion": {"stars": "five"}})
        ),
        "bad_request",
        "a malformed form is refused before anything is recorded"
    );
    let rated: JobView = device.call(
        "give_opinion",
        json!({"jobId": id, "opinion": {"stars": 4, "comment": "师傅很细心", "answers": answers()}}),
    );
    let rating = rated.rating.clone().expect("the form is recorded");
    assert_eq!(
        (
            rating.stars,
            rating.answers.get("gifts").map(String::as_str)
        ),
        (4, Some("none")),
        "with its stars and answers"
    );
    let mut changed = answers();
    changed["attitude"] = json!("poor");
    assert_eq!(
        device.refused(
            "give_opinion",
            json!({"jobId": id, "opinion": {"stars": 1, "comment": "", "answers": changed}})
        ),
        "rating_locked",
        "once given, the technician cannot change it"
    );

    // The repair step's record waits for its photos, processed in the background (a busy machine
    // may still be at it): poll until it is recorded, as the screen would show it then.
    let started = std::time::Instant::now();
    let repair = loop {
        let records: Vec<CorrectableRecord> =
            device.call("correctable_records", json!({"jobId": id}));
        if let Some(r) = records
            .into_iter()
            .find(|r| r.step.as_deref() == Some("diagnose_repair"))
        {
            break r;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the repair step's texts can be corrected once its photos are processed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(rated.corrections.is_empty(), "no corrections yet");
    assert_eq!(
        device.refused(
            "correct_record",
            json!({"jobId": id, "correction": {"corrects": repair.event_id, "reason": " ",
                   "replacement": {"text": {"fault_found": "温控阀损坏"}}}})
        ),
        "bad_correction",
        "a correction needs its reason"
    );
    let corrected: JobView = device.call(
        "correct_record",
        json!({"jobId": id, "correction": {"corrects": repair.event_id, "reason": "故障原因写错",
               "replacement": {"text": {"fault_found": "温控阀损坏"}}}}),
    );
    assert_eq!(
        corrected.corrections.len(),
        1,
        "the job lists the correction"
    );
    let after: Vec<CorrectableRecord> = device.call("correctable_records", json!({"jobId": id}));
    let repair = after
        .iter()
        .find(|r| r.step.as_deref() == Some("diagnose_repair"))
        .expect("still listed");
    assert_eq!(
        (
            repair.original.text["fault_found"].as_str(),
            repair.current.text["fault_found"].as_str()
        ),
        ("阀门堵塞", "温控阀损坏"),
        "the original as recorded beside the corrected text"
    );
}
