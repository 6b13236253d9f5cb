//! Visit outcomes through IPC (issue 15 point 1): the customer not at home closes the visit with the
//! door record, and the office learns it and the reschedule request.

use super::{Device, LoopbackOffice, current_step, wait_until};
use heatcrew_core::views::JobView;
use serde_json::{Value, json};
use tauri::ipc::InvokeBody;

#[test]
fn not_home_through_ipc_closes_the_visit_and_reaches_the_office() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "zhangwei");
    let job_id = device.first_home_repair().summary.id;
    while current_step(&device.job(job_id)) != "knock_consent" {
        device.confirm_step(job_id, current_step(&device.job(job_id)));
    }
    let (door, _) = heatcrew_core::demo::generated_png("the door", 1);
    let door_photo: Value = device
        .send("stage_photo", InvokeBody::Raw(door), &[])
        .unwrap_or_else(|e| panic!("stage_photo failed: {e}"))
        .deserialize()
        .expect("stage_photo answers with the attachment");
    let bad = device.refusal(
        "close_not_home",
        InvokeBody::Json(json!({"jobId": job_id, "noEntry": {"outcome": "not_home"}})),
        &[],
    );
    assert_eq!(
        bad.code, "bad_request",
        "a door record without its fields: {bad:?}"
    );
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let no_entry = json!({
        "outcome": "not_home", "reason": "敲门无人应答", "door_photo": door_photo,
        "witness": {"name": "李物业", "phone": "13900000000"},
        "reschedule": {"channel": "door", "note": "下午在家",
            "preferred": {"start": tomorrow, "end": tomorrow + chrono::Duration::hours(2)}},
    });
    let closed: JobView = device.call(
        "close_not_home",
        json!({"jobId": job_id, "noEntry": no_entry}),
    );
    assert_eq!(
        closed.closed_as,
        Some(heatcrew_protocol::Resolution::NoEntry),
        "the visit closes as no entry"
    );
    assert!(
        closed.no_entry.is_some() && closed.reschedule.is_some(),
        "with the door and the window"
    );
    let again = device.refusal(
        "request_reschedule",
        InvokeBody::Json(
            json!({"jobId": job_id, "request": {"channel": "phone", "note": "",
            "preferred": {"start": tomorrow, "end": tomorrow - chrono::Duration::hours(1)}}}),
        ),
        &[],
    );
    assert_eq!(
        again.code, "invalid_value",
        "a window that ends before it starts: {again:?}"
    );
    wait_until("the door record and the closure at the office", || {
        let kinds = office.accepted_event_kinds(job_id);
        ["reschedule_requested", "no_entry_recorded", "job_closed"]
            .iter()
            .all(|k| kinds.iter().any(|got| got == k))
    });
}
