//! `GET /api/v1/console/board`: one request gives the day's jobs with their state computed from
//! the ledger by the field rules.

use super::*;
use chrono::{Duration, TimeZone};
use heatcrew_protocol::{JobKind, Resolution};
use heatcrew_rules::template;
use std::collections::HashMap;

/// 09:00 on a fixed day in China (UTC+8), so the test never straddles midnight.
fn at(day: u32, hour: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .expect("offset")
        .with_ymd_and_hms(2025, 1, day, hour, 0, 0)
        .single()
        .expect("time")
        .with_timezone(&Utc)
}

fn customer() -> Value {
    json!({"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"})
}

#[tokio::test]
async fn the_board_of_a_day_shows_each_jobs_state_step_k_of_n_sla_and_lateness() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let (a, b) = (o.user_id("tech_a"), o.user_id("tech_b"));
    let job = |title: &str, assignee: Option<Uuid>, window_hours: Option<(u32, u32)>| {
        let window = window_hours.map(|(s, e)| json!({"start": at(6, s), "end": at(6, e)}));
        json!({"fault": title, "customer": customer(), "assignee": assignee,
               "reported_at": at(6, 8), "window": window})
    };
    let waiting = job_id(
        &o.create_job(&staff, job("没人到", Some(a), Some((9, 10))))
            .await,
    );
    let arrived = job_id(
        &o.create_job(&staff, job("已到达", Some(a), Some((9, 12))))
            .await,
    );
    let working = job_id(
        &o.create_job(&staff, job("维修中", Some(b), Some((9, 10))))
            .await,
    );
    let tray = job_id(&o.create_job(&staff, job("未分配", None, None)).await);
    let cancelled = job_id(&o.create_job(&staff, job("已取消", Some(b), None)).await);
    let follow_up = job_id(&o.create_job(&staff, job("需复查", Some(b), None)).await);
    let done = job_id(&o.create_job(&staff, job("已修好", Some(b), None)).await);
    let tomorrow = o
        .create_job(
            &staff,
            json!({"fault": "明天", "customer": customer(), "assignee": a,
                   "window": {"start": at(7, 9), "end": at(7, 10)}}),
        )
        .await;
    let (status, body) = o
        .post_json(
            &format!("/api/v1/jobs/{cancelled}/cancel"),
            Some(&staff),
            &json!({"reason": "客户取消"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "cancel: {body}");

    let mut dev_a = o.device("tech_a").await;
    let events = vec![
        dev_a.record_at(arrived, &step("appointment"), at(6, 8)),
        dev_a.record_at(arrived, &step("arrive"), at(6, 9)),
    ];
    o.push_accepted(&dev_a, &events).await;
    let mut dev_b = o.device("tech_b").await;
    let closed = |resolution| EventBody::JobClosed {
        resolution,
        summary: String::new(),
    };
    let events = vec![
        dev_b.record_at(working, &step("appointment"), at(6, 8)),
        // After the window ended: a late arrival.
        dev_b.record_at(working, &step("arrive"), at(6, 11)),
        dev_b.record_at(working, &step("identify"), at(6, 11)),
        dev_b.record_at(follow_up, &closed(Resolution::FollowUpNeeded), at(6, 10)),
        dev_b.record_at(done, &closed(Resolution::Resolved), at(6, 10)),
    ];
    o.push_accepted(&dev_b, &events).await;

    let (status, view) = o
        .get_json(
            "/api/v1/console/board?date=2025-01-06&utc_offset_minutes=480",
            &staff,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the board: {view}");
    assert_eq!(view["date"], "2025-01-06");
    let jobs: HashMap<Uuid, &Value> = view["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| (job_id(&j["job"]), j))
        .collect();
    assert_eq!(
        jobs.len(),
        7,
        "the day's seven jobs and not tomorrow's: {view:#}"
    );
    assert!(
        !jobs.contains_key(&job_id(&tomorrow)),
        "tomorrow's job is not on today's board"
    );

    let home = template::latest_for(JobKind::HomeRepair);
    let n = home.steps_for(false).count() as u64;
    let state = |id: Uuid| jobs[&id]["state"].as_str().expect("state").to_owned();
    assert_eq!(state(waiting), "assigned");
    assert_eq!(state(arrived), "arrived", "arrival alone is `arrived`");
    assert_eq!(state(working), "in_progress", "a step after arrival");
    assert_eq!(state(tray), "unassigned");
    assert_eq!(state(cancelled), "cancelled");
    assert_eq!(state(follow_up), "follow_up");
    assert_eq!(state(done), "closed");

    let w = jobs[&working];
    assert_eq!(
        (w["steps_done"].as_u64(), w["steps_total"].as_u64()),
        (Some(3), Some(n)),
        "in progress at step 3 of the checklist's {n}"
    );
    let next = home
        .steps_for(false)
        .nth(3)
        .expect("a fourth step")
        .title
        .clone();
    assert_eq!(
        (
            w["next_step"]["title"]["zh"].as_str(),
            w["next_step"]["title"]["en"].as_str()
        ),
        (Some(next.zh.as_str()), Some(next.en.as_str())),
        "the next step's title in both languages"
    );
    assert_eq!(w["assignee_name"], "李娜", "the assignee by name, not UUID");
    assert_eq!(w["assignee_badge"], "W018");
    assert_eq!(w["late"], "arrived_late", "arrived after the window ended");
    assert_eq!(
        jobs[&waiting]["late"], "not_arrived",
        "the window ended, nobody came"
    );
    assert_eq!(
        jobs[&arrived]["late"],
        Value::Null,
        "arrived within the window"
    );

    let due = (at(6, 8) + Duration::hours(4)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        jobs[&done]["sla"]["state"], "met",
        "resolved within 4 h of the report"
    );
    assert_eq!(jobs[&done]["sla"]["due_at"], due);
    assert_eq!(
        jobs[&waiting]["sla"]["state"], "breached",
        "open long past 12:00"
    );
    assert_eq!(
        jobs[&cancelled]["sla"]["state"], "none",
        "no clock on a cancelled job"
    );
    assert_eq!(
        jobs[&done]["next_step"],
        Value::Null,
        "a closed job has no next step"
    );

    let lanes: Vec<&str> = view["field_users"]
        .as_array()
        .expect("field users")
        .iter()
        .map(|u| u["username"].as_str().expect("username"))
        .collect();
    assert_eq!(
        lanes.len(),
        2,
        "one lane per field user, no staff: {lanes:?}"
    );

    let (_, next_day) = o
        .get_json(
            "/api/v1/console/board?date=2025-01-07&utc_offset_minutes=480",
            &staff,
        )
        .await;
    let ids: Vec<Uuid> = next_day["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| job_id(&j["job"]))
        .collect();
    assert!(ids.contains(&job_id(&tomorrow)), "the next day has its job");
    assert!(
        !ids.contains(&waiting),
        "and not the day before's: the day is bounded in the console's time zone"
    );

    // Where the day starts depends on the offset: 2025-01-06 in UTC ends at 08:00 in China, so
    // the 09:00 (China) appointments are not on that UTC day.
    let (_, utc_day) = o
        .get_json(
            "/api/v1/console/board?date=2025-01-05&utc_offset_minutes=0",
            &staff,
        )
        .await;
    assert!(
        utc_day["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|j| job_id(&j["job"]) != waiting),
        "a 09:00 +08:00 appointment is on 2025-01-06 in UTC too, not on the 5th"
    );
    let (status, bad) = o
        .get_json(
            "/api/v1/console/board?date=2025-01-06&utc_offset_minutes=9999",
            &staff,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an impossible offset: {bad}"
    );
    assert_eq!(bad["code"], "bad_offset");
}
