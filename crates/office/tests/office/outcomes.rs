//! Not home at the door and the customer's reschedule request reach the office (issue 15, point
//! 1): the job reads back with the door record, the request and "reschedule requested", and the
//! board shows the job closed as no entry with the customer's preferred window.

use super::*;
use heatcrew_protocol::{AppointmentWindow, NoEntryKind, RequestChannel, Witness};

#[tokio::test]
async fn a_not_home_closure_and_a_reschedule_request_reach_the_office_and_the_board() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let door = photo_ref(b"the closed door");
    let start = (Utc::now().date_naive() + Duration::days(1))
        .and_hms_opt(14, 0, 0)
        .expect("14:00")
        .and_utc();
    let preferred = AppointmentWindow {
        start,
        end: start + Duration::hours(2),
    };
    let bodies = [
        step("appointment"),
        step("arrive"),
        step("identify"),
        EventBody::RescheduleRequested {
            channel: RequestChannel::Door,
            preferred,
            note: "门上留言：明天下午在家".into(),
        },
        EventBody::NoEntryRecorded {
            outcome: NoEntryKind::NotHome,
            reason: "敲门无人应答，电话未接".into(),
            door_photo: door.clone(),
            witness: Some(Witness {
                name: "李物业".into(),
                phone: "13900000000".into(),
            }),
        },
        EventBody::JobClosed {
            resolution: Resolution::NoEntry,
            summary: String::new(),
        },
    ];
    let events: Vec<Event> = bodies.iter().map(|b| dev.record(job.id, b)).collect();
    let resp = o.push_ok(&dev, &events).await;
    assert!(
        outcomes(&resp).iter().all(|r| r == "accepted"),
        "every record of the door is accepted: {:?}",
        outcomes(&resp)
    );

    let detail = o.job_detail(&staff, job.id).await;
    assert_eq!(
        detail["reschedule_requested"], true,
        "the office is asked to reschedule: {detail}"
    );
    assert_eq!(
        detail["no_entry"]["payload"]["reason"], "敲门无人应答，电话未接",
        "the door record reads back with its reason"
    );
    assert_eq!(
        detail["no_entry"]["payload"]["witness"]["name"], "李物业",
        "and its witness"
    );
    assert_eq!(
        detail["no_entry"]["attachments"][0]["sha256"],
        door.sha256.to_hex(),
        "and its door photo, expected as an attachment"
    );
    assert_eq!(
        detail["reschedule_requests"][0]["payload"]["note"], "门上留言：明天下午在家",
        "the customer's request reads back"
    );
    assert_eq!(
        detail["closed"]["payload"]["resolution"], "no_entry",
        "closed as no entry"
    );

    let day = job.reported_at.expect("reported").date_naive();
    let (status, board) = o
        .get_json(
            &format!("/api/v1/console/board?date={day}&utc_offset_minutes=0"),
            &staff,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the board answers: {board}");
    let card = board["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["job"]["id"] == json!(job.id))
        .expect("the job is on its day's board");
    assert_eq!(card["state"], "no_entry", "the board shows no entry");
    assert_eq!(
        card["reschedule_requested"], true,
        "and that the customer waits for a new appointment"
    );
    assert_eq!(
        card["preferred_window"]["start"],
        json!(preferred.start),
        "with the window the customer prefers"
    );
}

#[tokio::test]
async fn a_job_without_either_is_not_marked_for_rescheduling() {
    let o = TestOffice::start().await;
    let staff = o.staff("dispatch").await;
    let mut dev = o.device("tech_a").await;
    let job = o.create_job(&staff, Some(o.user_id("tech_a"))).await;
    let closed = EventBody::JobClosed {
        resolution: Resolution::FollowUpNeeded,
        summary: "缺配件".into(),
    };
    let event = dev.record(job.id, &closed);
    o.push_ok(&dev, &[event]).await;
    let detail = o.job_detail(&staff, job.id).await;
    assert_eq!(
        detail["reschedule_requested"], false,
        "a follow-up closure is the office's own planning, not a customer's request"
    );
    assert!(detail["no_entry"].is_null(), "and has no door record");
}
