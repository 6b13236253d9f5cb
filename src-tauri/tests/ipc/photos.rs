//! Photos processed in the background through IPC (issue 15, point 11): `add_photo` answers at once
//! with the photo processing, the step is confirmed while it is, the app's own worker records the
//! photos, and the step's record comes after them in the log; a photo whose damage shows only when
//! decoded is failed and taken again with `x-retake`.

use super::{Device, LoopbackOffice, wait_until, walk_to_photo_step};
use heatcrew_core::views::JobView;
use heatcrew_protocol::StepEvidence;
use serde_json::json;
use tauri::ipc::InvokeBody;
use uuid::Uuid;

fn add_photo(
    device: &Device,
    job_id: Uuid,
    step: &str,
    bytes: Vec<u8>,
    retake: Option<i64>,
) -> JobView {
    let job = job_id.to_string();
    let retake = retake.map(|r| r.to_string());
    let mut headers = vec![("x-job-id", job.as_str()), ("x-step", step)];
    if let Some(r) = retake.as_deref() {
        headers.push(("x-retake", r));
    }
    device
        .send("add_photo", InvokeBody::Raw(bytes), &headers)
        .unwrap_or_else(|e| panic!("add_photo failed: {e}"))
        .deserialize()
        .expect("add_photo answers with the job")
}

/// The repair step's evidence (its two texts).
fn repair_evidence() -> StepEvidence {
    let mut ev = StepEvidence::default();
    ev.text.insert("fault_found".into(), "阀门堵塞".into());
    ev.text.insert("work_done".into(), "清洗阀芯".into());
    ev
}

/// (kind, step) of the job's outbox entries, in log order.
fn log_of(device: &Device, job_id: Uuid) -> Vec<(String, String)> {
    device
        .outbox()
        .into_iter()
        .filter(|e| e.job_id == job_id)
        .map(|e| (e.kind, e.step.unwrap_or_default()))
        .collect()
}

#[test]
fn two_camera_photos_answer_at_once_and_the_step_record_follows_them() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    let job_id = device.first_home_repair().summary.id;
    let step = walk_to_photo_step(&device, job_id);
    // Walk on to the repair step (two photos and texts), confirming the photo steps before it.
    let mut step = step;
    while step != "diagnose_repair" {
        let (p, _) = heatcrew_core::demo::generated_png("before the repair", 1);
        add_photo(&device, job_id, &step, p, None);
        wait_until("the earlier photo recorded", || {
            device.job(job_id).processing_photos.is_empty()
        });
        device.confirm_step(job_id, &step);
        step = walk_to_photo_step(&device, job_id);
    }
    let before = log_of(&device, job_id).len();

    let first = add_photo(
        &device,
        job_id,
        &step,
        heatcrew_core::demo::camera_photo(1),
        None,
    );
    assert_eq!(
        first.processing_photos.len(),
        1,
        "the photo answers at once, processing"
    );
    let on_step = |j: &JobView| {
        j.steps
            .iter()
            .find(|s| s.id == step)
            .map(|s| s.photos.len())
    };
    assert_eq!(
        on_step(&first),
        Some(0),
        "not shown as recorded before it is"
    );
    add_photo(
        &device,
        job_id,
        &step,
        heatcrew_core::demo::camera_photo(2),
        None,
    );
    let answer: JobView = device.call(
        "complete_step",
        json!({"jobId": job_id, "step": step, "evidence": repair_evidence()}),
    );
    assert_eq!(
        answer.current_step.as_deref(),
        Some("clean_up"),
        "the visit goes on"
    );
    if !answer.processing_photos.is_empty() {
        assert_eq!(
            answer.held_records, 1,
            "the step's record waits for its photos"
        );
    }

    wait_until("both photos processed and recorded", || {
        let j = device.job(job_id);
        j.processing_photos.is_empty() && j.held_records == 0
    });
    let log: Vec<(String, String)> = log_of(&device, job_id).into_iter().skip(before).collect();
    assert_eq!(
        log,
        [
            ("photo_added", "diagnose_repair"),
            ("photo_added", "diagnose_repair"),
            ("step_completed", "diagnose_repair")
        ]
        .map(|(k, s)| (k.to_owned(), s.to_owned())),
        "each photo, then the step that needed them"
    );
    assert_eq!(
        on_step(&device.job(job_id)),
        Some(2),
        "both recorded on their step"
    );
}

#[test]
fn a_photo_damaged_inside_is_failed_then_taken_again_in_its_place() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    let job_id = device.first_home_repair().summary.id;
    let step = walk_to_photo_step(&device, job_id);
    let (good, _) = heatcrew_core::demo::generated_png("retake ipc", 1);
    let cut = good[..good.len() / 2].to_vec();
    let taken = add_photo(&device, job_id, &step, cut, None);
    let id = taken.processing_photos[0].id;
    wait_until("the damaged photo found out", || {
        device
            .job(job_id)
            .processing_photos
            .iter()
            .any(|p| p.error.is_some())
    });
    let job = device.job(job_id);
    assert!(
        job.processing_photos[0]
            .error
            .as_ref()
            .is_some_and(|e| !e.zh.is_empty()),
        "the reason is given"
    );
    add_photo(&device, job_id, &step, good, Some(id));
    wait_until("the photo taken again is recorded", || {
        device.job(job_id).processing_photos.is_empty()
    });
    let recorded = device.job(job_id);
    let photos = recorded
        .steps
        .iter()
        .find(|s| s.id == step)
        .map(|s| s.photos.len());
    assert_eq!(photos, Some(1), "one photo on the step, the retaken one");
}
