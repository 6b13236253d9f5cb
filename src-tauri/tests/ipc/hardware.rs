//! The phone-hardware commands through IPC (issue 15 points 8 and 10): presence at a patrol station
//! by its code, the day's shift readiness, a photo's position.

use super::{Device, LoopbackOffice, wait_until, walk_to_photo_step};
use heatcrew_core::sync::SyncStatus;
use heatcrew_core::views::{JobView, Today};
use heatcrew_protocol::JobKind;
use serde_json::json;
use tauri::ipc::InvokeBody;
use uuid::Uuid;

/// Presence at a patrol station through IPC: the office's code (dispatched as a digest) accepted,
/// a wrong one refused as `{code: wrong_checkpoint_code, message}` with nothing queued, a made-up
/// entry method refused as a bad request; and the confirmation reaches the office.
#[test]
fn a_checkpoint_is_confirmed_through_ipc_only_with_the_code_posted_there() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "chenjun");
    let today: Today = device.call("today", json!({}));
    let patrol = today
        .jobs
        .iter()
        .find(|j| j.kind == JobKind::PatrolRound)
        .expect("the demo patrol");
    let job = device.job(patrol.id);
    let station = &job.checkpoints[0];
    assert!(station.has_code, "the office gave the station a code");
    let codes = office
        .office
        .store()
        .checkpoint_codes()
        .expect("the office's station codes");
    let code_of = |id: &str| {
        codes
            .iter()
            .find(|c| c.checkpoint_id == id)
            .map(|c| c.code.clone())
            .expect("a code for every station")
    };
    let queued = device.outbox().len();

    let wrong = device.refusal(
        "confirm_checkpoint",
        InvokeBody::Json(json!({"jobId": patrol.id, "checkpoint": station.id,
            "code": code_of(&job.checkpoints[1].id), "method": "typed", "position": null})),
        &[],
    );
    assert_eq!(wrong.code, "wrong_checkpoint_code", "{wrong:?}");
    assert!(
        wrong.message.contains("站点码"),
        "said in Chinese: {wrong:?}"
    );
    let odd = device.refusal(
        "confirm_checkpoint",
        InvokeBody::Json(json!({"jobId": patrol.id, "checkpoint": station.id,
            "code": code_of(&station.id), "method": "guessed", "position": null})),
        &[],
    );
    assert_eq!(odd.code, "bad_request", "an unknown entry method: {odd:?}");
    assert_eq!(device.outbox().len(), queued, "refusals queue nothing");

    let confirmed: JobView = device.call(
        "confirm_checkpoint",
        json!({"jobId": patrol.id, "checkpoint": station.id, "code": code_of(&station.id),
            "method": "scanned", "position": {"lat": null, "lon": null, "description": "", "no_fix": "denied"}}),
    );
    let cp = &confirmed.checkpoints[0];
    assert!(cp.confirmed_at.is_some(), "confirmed: {cp:?}");
    assert_eq!(
        serde_json::to_value(cp.confirmed_by).expect("json"),
        json!("scanned")
    );
    wait_until("the confirmation reaches the office", || {
        device.call::<SyncStatus>("sync_now", json!({}));
        office
            .accepted_event_kinds(patrol.id)
            .contains(&"checkpoint_confirmed".to_owned())
    });
}

/// The day's readiness through IPC: asked on the first repair, refused until every check is
/// ticked, then not asked again on the next repair.
#[test]
fn shift_readiness_is_given_through_ipc_once_for_the_day() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    let today: Today = device.call("today", json!({}));
    let repairs: Vec<Uuid> = today
        .jobs
        .iter()
        .filter(|j| j.kind == JobKind::HomeRepair)
        .map(|j| j.id)
        .collect();
    assert!(repairs.len() >= 2, "zhangwei has two visits today");
    let asked = device
        .job(repairs[0])
        .readiness
        .expect("asked before the first job");
    let keys: Vec<String> = asked.checks.iter().map(|c| c.key.clone()).collect();

    let partial = device.refusal(
        "confirm_readiness",
        InvokeBody::Json(json!({"jobId": repairs[0], "checks": &keys[..2]})),
        &[],
    );
    assert_eq!(partial.code, "readiness_incomplete", "{partial:?}");
    let ready: JobView = device.call(
        "confirm_readiness",
        json!({"jobId": repairs[0], "checks": keys}),
    );
    assert!(ready.readiness.is_none(), "ready on this job");
    assert!(
        device.job(repairs[1]).readiness.is_none(),
        "and for the rest of the day"
    );
    wait_until("the readiness reaches the office", || {
        device.call::<SyncStatus>("sync_now", json!({}));
        office
            .accepted_event_kinds(repairs[0])
            .contains(&"shift_readiness_confirmed".to_owned())
    });
}

/// A step photo carries the phone's fix (or why there is none) sent in `x-position`.
#[test]
fn a_photo_keeps_the_phones_position_or_why_there_is_none() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    let job_id = device.first_home_repair().summary.id;
    let step = walk_to_photo_step(&device, job_id);
    let (job, (photo, _)) = (
        job_id.to_string(),
        heatcrew_core::demo::generated_png("fix", 2),
    );
    let fix = r#"{"lat":45.7567,"lon":126.6424,"description":"","accuracy_m":9.5,"fixed_at":"2026-12-02T03:00:00Z"}"#;
    let headers = [
        ("x-job-id", job.as_str()),
        ("x-step", &step),
        ("x-position", fix),
    ];
    let _: JobView = device
        .send("add_photo", InvokeBody::Raw(photo), &headers)
        .expect("photo")
        .deserialize()
        .expect("job");
    // Processed in the background (tests/ipc/photos.rs); the fix goes into its recorded event.
    wait_until("the photo recorded", || {
        device.job(job_id).processing_photos.is_empty()
    });
    let view = device.job(job_id);
    let gps = view
        .steps
        .iter()
        .find(|s| s.id == step)
        .and_then(|s| s.photos[0].gps.clone());
    assert_eq!(
        gps.and_then(|g| g.accuracy_m),
        Some(9.5),
        "the fix and its accuracy go with the photo"
    );
}
