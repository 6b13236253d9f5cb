//! Editing a patrol plan (`PUT /api/v1/console/patrol-plans/{id}`): the plan is retired at the
//! edit and its revision runs from then, so the days before keep the schedule they ran on; rounds
//! the old plan had put on phones for shifts not yet begun are cancelled and the revision opens its
//! own; a retired plan cannot be edited again; refusals name their field.

use super::TestOffice;
use chrono::{Duration, FixedOffset, Timelike};
use heatcrew_protocol::JobStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

async fn put_json(
    office: &TestOffice,
    path: &str,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .put(format!("{}{path}", office.url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("PUT");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_edited_plan_takes_over_from_now_and_cancels_the_rounds_it_replaced() {
    let office = TestOffice::start().await;
    let staff = office.staff().await;
    let (status, route) = office
        .post_json(
            "/api/v1/routes",
            Some(&staff),
            &json!({"name": "城东管网巡检线", "area": "城东片区", "checkpoints": [
                {"id": "hs", "name": "首站", "kind": "head_station", "readings": []}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "route: {route}");
    let (tech_a, tech_b) = (office.user_id("tech_a"), office.user_id("tech_b"));
    // Shifts a few hours ahead of the office's local now, so their rounds are opened at once.
    let hour = office.now().with_timezone(&cst()).hour();
    let at = |ahead: u32| format!("{:02}:00:00", (hour + ahead) % 24);
    let (status, old) = office
        .post_json(
            "/api/v1/console/patrol-plans",
            Some(&staff),
            &json!({"name": "城东日常巡检", "route_id": route["id"],
                    "shifts": [{"starts_at": at(2), "hours": 4, "assignee": tech_a}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "plan: {old}");
    let old_id: Uuid = old["id"].as_str().expect("id").parse().expect("uuid");
    assert_eq!(office.run_schedule().patrols.rounds_opened, 1);
    let old_round = office.store().plan_rounds(old_id).expect("rounds")[0].job_id;

    office.advance(Duration::hours(1));
    let staff = office.staff().await; // a token of the office's new now
    let edit = json!({"name": "城东日常巡检（调整）", "route_id": route["id"],
                      "shifts": [{"starts_at": at(6), "hours": 4, "assignee": tech_b}],
                      "intervals": {"hs": 120}});
    let path = format!("/api/v1/console/patrol-plans/{old_id}");
    let dev = office.device("tech_a").await;
    let (status, _) = put_json(&office, &path, dev.token(), &edit).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a field user edits no plan");

    // Refusals name their field, and change nothing.
    let mut overlapping = edit.clone();
    overlapping["shifts"] = json!([
        {"starts_at": "08:00:00", "hours": 12, "assignee": tech_b},
        {"starts_at": "19:00:00", "hours": 6, "assignee": tech_a}]);
    let (status, body) = put_json(&office, &path, &staff, &overlapping).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("shifts: "),
        "the refusal names its field: {body}"
    );
    let mut bad_interval = edit.clone();
    bad_interval["intervals"] = json!({"hs": 0});
    let (status, body) = put_json(&office, &path, &staff, &bad_interval).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("intervals: "),
        "{body}"
    );
    let mut nobody = edit.clone();
    nobody["shifts"][0]["assignee"] = json!(Uuid::now_v7());
    let (status, body) = put_json(&office, &path, &staff, &nobody).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "unknown_user");
    let (status, _) = put_json(
        &office,
        &format!("/api/v1/console/patrol-plans/{}", Uuid::now_v7()),
        &staff,
        &edit,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown plan");
    let (_, plans) = office
        .get_json("/api/v1/console/patrol-plans", &staff)
        .await;
    assert_eq!(
        plans.as_array().map(Vec::len),
        Some(1),
        "refusals stored nothing"
    );
    assert!(plans[0]["retired_at"].is_null());

    // The edit.
    let (status, new) = put_json(&office, &path, &staff, &edit).await;
    assert_eq!(status, StatusCode::OK, "{new}");
    assert_eq!(new["replaces"], old["id"]);
    assert_eq!(new["name"], "城东日常巡检（调整）");
    assert_ne!(new["id"], old["id"], "a new version");
    // Who set each version in force, with its schedule; the refused edits are not there.
    let audited = office.audit("patrol_plan_changed").await;
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert_eq!(audited[0]["subject"], new["id"]);
    assert_eq!(audited[0]["detail"]["replaces"], old["id"]);
    assert_eq!(audited[0]["detail"]["intervals"], json!({"hs": 120}));
    assert_eq!(audited[1]["subject"], old["id"]);
    assert!(audited.iter().all(|e| e["username"] == "dispatch"));
    let new_id: Uuid = new["id"].as_str().expect("id").parse().expect("uuid");
    let (_, plans) = office
        .get_json("/api/v1/console/patrol-plans", &staff)
        .await;
    let retired = plans
        .as_array()
        .and_then(|p| p.iter().find(|p| p["id"] == old["id"]))
        .expect("the old plan is kept");
    assert!(retired["retired_at"].is_string(), "retired: {retired}");
    let old_job = office
        .store()
        .job(old_round)
        .expect("read")
        .expect("the old round's job")
        .job;
    assert_eq!(
        old_job.status,
        JobStatus::Cancelled,
        "the round the old plan opened for a shift not yet begun is withdrawn"
    );

    // The revision opens its own round, for its patrol; the retired plan opens nothing more.
    let run = office.run_schedule();
    assert_eq!(run.patrols.rounds_opened, 1, "{run:?}");
    let rounds = office.store().plan_rounds(new_id).expect("rounds");
    assert_eq!(rounds.len(), 1);
    let job = office
        .store()
        .job(rounds[0].job_id)
        .expect("read")
        .expect("the new round")
        .job;
    assert_eq!(job.assignee, Some(tech_b));
    assert_eq!(job.checkpoints[0].interval_minutes, Some(120));
    office.advance(Duration::hours(24));
    office.run_schedule();
    assert_eq!(
        office.store().plan_rounds(old_id).expect("rounds").len(),
        1,
        "the retired plan opens no round after its edit"
    );

    // Only the newest version is edited.
    let staff = office.staff().await;
    let (status, body) = put_json(&office, &path, &staff, &edit).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}
