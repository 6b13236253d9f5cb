//! A rectification notice through IPC with the follow-up inspection the inspector sets (复查日期):
//! optional, never before the deadline, and what the office then holds.

use super::{Device, LoopbackOffice, wait_until};
use heatcrew_core::views::{JobView, Today};
use heatcrew_protocol::JobKind;
use serde_json::json;
use tauri::ipc::InvokeBody;

#[test]
fn a_notice_carries_the_follow_up_day_the_inspector_set_and_never_one_before_the_deadline() {
    let office = LoopbackOffice::start();
    let device = Device::open();
    device.sign_in(&office, "liuyang");
    let today: Today = device.call("today", json!({}));
    let job_id = today
        .jobs
        .iter()
        .find(|j| j.kind == JobKind::HeatTheftInspection)
        .expect("the demo inspector has an inspection today")
        .id;
    let deadline = chrono::Local::now().date_naive() + chrono::Duration::days(7);
    let early = device.refusal(
        "issue_notice",
        InvokeBody::Json(json!({"jobId": job_id, "deadline": deadline,
            "requirements": "拆除私接旁通管", "followUpOn": deadline - chrono::Duration::days(1)})),
        &[],
    );
    assert_eq!(early.code, "follow_up_before_deadline", "{early:?}");
    let without: JobView = device.call(
        "issue_notice",
        json!({"jobId": job_id, "deadline": deadline, "requirements": "拆除私接旁通管"}),
    );
    assert_eq!(
        without.notices.len(),
        1,
        "the only notice: the refused one left none"
    );
    assert_eq!(
        without.notices[0].follow_up_on, None,
        "no follow-up day: the office's default"
    );
    let follow_up = deadline + chrono::Duration::days(3);
    let with: JobView = device.call(
        "issue_notice",
        json!({"jobId": job_id, "deadline": deadline, "requirements": "恢复铅封",
            "followUpOn": follow_up}),
    );
    assert_eq!(with.notices[1].follow_up_on, Some(follow_up));
    device.call::<heatcrew_core::sync::SyncStatus>("sync_now", json!({}));
    wait_until("the office holds both notices", || {
        office
            .accepted_event_kinds(job_id)
            .iter()
            .filter(|k| *k == "notice_issued")
            .count()
            == 2
    });
}
