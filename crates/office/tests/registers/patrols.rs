//! Patrol plans over a day: the generator opens each shift's round once for the patrol on shift;
//! the grid judges every expected round on time, late or missed; readings outside their range are
//! flagged; a defect becomes a repair job in one action and is fixed when that job is closed.

use super::TestOffice;
use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};
use heatcrew_office::patrols::compliance::patrol_figures;
use heatcrew_office::patrols::{NewPlan, Shift};
use heatcrew_office::schedule::run_once;
use heatcrew_office::store::{Route, SqliteStore};
use heatcrew_protocol::{EventBody, Position, Reading, Resolution, Severity};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

fn route_body() -> Value {
    json!({
        "name": "城东管网巡检线",
        "area": "城东片区",
        "checkpoints": [
            {"id": "hs", "name": "首站", "kind": "head_station",
             "readings": [{"key": "supply_temp", "label_zh": "供水温度", "label_en": "Supply temperature",
                           "unit": "°C", "normal_min": 80.0, "normal_max": 130.0}]},
            {"id": "ss1", "name": "幸福小区换热站", "kind": "substation",
             "readings": [{"key": "pressure", "label_zh": "二次网压力", "label_en": "Secondary pressure",
                           "unit": "MPa", "normal_min": 0.2, "normal_max": 0.6}]}
        ]
    })
}

async fn route(office: &TestOffice, staff: &str) -> Route {
    let (status, body) = office
        .post_json("/api/v1/routes", Some(staff), &route_body())
        .await;
    assert_eq!(status, StatusCode::OK, "create the route: {body}");
    serde_json::from_value(body).expect("a route")
}

fn reading(cp: &str, key: &str, value: f64) -> EventBody {
    EventBody::ReadingRecorded {
        checkpoint: cp.into(),
        readings: vec![Reading {
            key: key.into(),
            value,
            unit: String::new(),
        }],
        note: String::new(),
    }
}

#[tokio::test]
async fn a_day_of_rounds_is_generated_once_and_judged_on_time_late_and_missed() {
    let office = TestOffice::start().await;
    let staff = office.staff().await;
    let route = route(&office, &staff).await;
    let (tech_a, tech_b) = (office.user_id("tech_a"), office.user_id("tech_b"));
    // The day judged: midnight in Beijing two days ago; the plan exists from 19:00 the day before.
    let day = Utc::now().with_timezone(&cst()).date_naive() - Duration::days(2);
    let t0: DateTime<Utc> = cst()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .expect("midnight")
        .with_timezone(&Utc);
    let at = |h: i64, m: i64| t0 + Duration::hours(h) + Duration::minutes(m);
    let shift = |h: u32, who| Shift {
        starts_at: NaiveTime::from_hms_opt(h, 0, 0).expect("time"),
        hours: 12,
        assignee: who,
    };
    let plan = NewPlan {
        name: "城东日常巡检".into(),
        route_id: route.id,
        shifts: vec![shift(8, tech_a), shift(20, tech_b)],
        intervals: Default::default(),
        active_from: None,
        active_until: None,
        utc_offset_minutes: Some(480),
    }
    .validate(&route, at(-5, 0))
    .expect("a valid plan");
    let plan = office.store().create_plan(plan).expect("stored");

    // The periodic task, hourly through the day, and a second process racing it at each tick.
    let other = Arc::new(SqliteStore::open(office.db()).expect("second store"));
    let mut opened = 0;
    for h in -5..=26 {
        let now = at(h, 0);
        let racer = {
            let other = other.clone();
            std::thread::spawn(move || run_once(&*other, now).expect("run"))
        };
        opened += run_once(office.store(), now)
            .expect("run")
            .patrols
            .rounds_opened;
        opened += racer.join().expect("thread").patrols.rounds_opened;
    }
    let rounds = office.store().plan_rounds(plan.id).expect("rounds");
    let starts: Vec<i64> = rounds
        .iter()
        .map(|r| (r.shift_start - t0).num_hours())
        .collect();
    assert_eq!(
        starts,
        [-4, 8, 20, 32],
        "every shift from the plan's start, each 12 hours ahead at most"
    );
    assert_eq!(
        opened, 4,
        "each round opened exactly once by either process"
    );
    let job = |i: usize| {
        office
            .store()
            .job(rounds[i].job_id)
            .expect("read")
            .expect("the round's job")
            .job
    };
    let (night, daytime) = (job(0), job(1));
    assert_eq!(
        night.assignee,
        Some(tech_b),
        "the night patrol gets the night round"
    );
    assert_eq!(
        daytime.assignee,
        Some(tech_a),
        "the day patrol the day round"
    );
    assert_eq!(
        daytime.window.map(|w| (w.start, w.end)),
        Some((at(8, 0), at(20, 0))),
        "the round's window is the shift"
    );
    assert_eq!(
        daytime.utc_offset_minutes,
        Some(480),
        "the round carries the plan's time zone: the phone cuts its rounds where the grid does"
    );
    assert_eq!(
        daytime.checkpoints[0].interval_minutes,
        Some(60),
        "the head station hourly"
    );
    assert!(
        daytime.checkpoints[0].code_sha256.is_some(),
        "the station's code digest travels with the round"
    );

    // The visits: every hour at :30, except none in 12–13 (missed) and none in 14–15 but one at
    // 15:05 (late; 15–16 then needs its own visit, its 15:30). One supply temperature too high. The
    // substation once, at 10:00; none after noon. The night shift from 20:00 never comes.
    let mut night_dev = office.device("tech_b").await;
    let night_visits: Vec<_> = (0..8)
        .map(|h| (reading("hs", "supply_temp", 95.0), at(h, 30)))
        .collect();
    office
        .push_at(&mut night_dev, night.id, &night_visits)
        .await;
    let mut day_dev = office.device("tech_a").await;
    let mut day_visits: Vec<_> = (8..20)
        .filter(|h| *h != 12 && *h != 14)
        .map(|h| {
            let t = if h == 9 { 150.0 } else { 95.0 };
            (reading("hs", "supply_temp", t), at(h, 30))
        })
        .collect();
    day_visits.push((reading("hs", "supply_temp", 96.0), at(15, 5)));
    day_visits.push((reading("ss1", "pressure", 0.4), at(10, 0)));
    day_visits.sort_by_key(|(_, t)| *t);
    office.push_at(&mut day_dev, daytime.id, &day_visits).await;

    let (status, grid) = office
        .get_json(
            &format!(
                "/api/v1/console/patrol-grid?plan={}&from={day}&days=1",
                plan.id
            ),
            &staff,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{grid}");
    let hs = &grid["rows"][0]["cells"][0];
    assert_eq!(
        (
            &hs["figures"]["on_time"],
            &hs["figures"]["late"],
            &hs["figures"]["missed"]
        ),
        (&json!(18), &json!(1), &json!(5)),
        "24 hourly rounds: 18 on time, 1 late (14–15), 5 missed (12–13 and 20–24): {hs}"
    );
    assert_eq!(hs["state"], "missed", "a missed round colours the day");
    assert_eq!(hs["flagged"], 1, "the 150 °C reading is flagged");
    let ss = &grid["rows"][1]["cells"][0];
    assert_eq!(
        (&ss["figures"]["on_time"], &ss["figures"]["missed"]),
        (&json!(1), &json!(1)),
        "twice a day: the morning round on time, the afternoon one missed: {ss}"
    );
    assert_eq!(grid["flagged"][0]["value"], 150.0);
    assert_eq!(grid["flagged"][0]["normal_max"], 130.0);

    let (status, hours) = office
        .get_json(
            &format!(
                "/api/v1/console/patrol-grid?plan={}&from={day}&resolution=hour",
                plan.id
            ),
            &staff,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{hours}");
    let cell = |h: usize| hours["rows"][0]["cells"][h]["state"].clone();
    assert_eq!(
        [cell(11), cell(12), cell(14), cell(15), cell(21)],
        [
            json!("on_time"),
            json!("missed"),
            json!("late"),
            json!("on_time"),
            json!("missed")
        ],
        "hour by hour"
    );

    // One clock: the day round's read-back, the grid's hours 08–20 and the phone's own rule
    // (heatcrew_rules::rounds, on the job as dispatched) count the same rounds late and missed.
    let (status, detail) = office
        .get_json(&format!("/api/v1/jobs/{}", daytime.id), &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let day_hours: Vec<Value> = (8..20).map(cell).collect();
    let count = |s: &str| day_hours.iter().filter(|c| **c == json!(s)).count() as u64;
    assert_eq!((count("late"), count("missed")), (1, 1), "{day_hours:?}");
    let back = &detail["patrol"]["checkpoints"][0];
    assert_eq!(
        (back["late"].as_u64(), back["missed"].as_u64()),
        (Some(count("late")), Some(count("missed"))),
        "the read-back of the day round agrees with the grid's hours 08–20: {back}"
    );
    let hs_visits: Vec<DateTime<Utc>> = day_visits
        .iter()
        .filter(|(b, _)| matches!(b, EventBody::ReadingRecorded { checkpoint, .. } if checkpoint == "hs"))
        .map(|(_, t)| *t)
        .collect();
    let phone = heatcrew_rules::rounds::checkpoint(
        &daytime.checkpoints[0],
        &daytime,
        &hs_visits,
        office.now(),
    );
    assert_eq!(
        u64::from(phone.missed_rounds),
        count("missed"),
        "and so does the phone: {phone:?}"
    );
    assert_eq!(
        detail["patrol"]["checkpoints"][1]["missed"], 1,
        "the substation's 12:00 round: the day shift's 10:00 visit was before it opened (the \
         grid credits it to the night shift's 00:00 round), none after"
    );

    let f = patrol_figures(office.store(), t0, at(24, 0), office.now()).expect("figures");
    assert_eq!(
        (f.on_time, f.late, f.missed),
        (19, 1, 6),
        "the KPI figure over the day: head station and substation together"
    );

    // A defect on the round: into the register, a repair job in one action, fixed when closed.
    let defect = EventBody::DefectReported {
        defect_id: Uuid::now_v7(),
        checkpoint: Some("hs".into()),
        category: "漏水".into(),
        severity: Severity::Major,
        position: Position {
            description: "首站泵房".into(),
            ..Position::default()
        },
        description: "循环泵机械密封漏水".into(),
        photos: vec![],
    };
    office
        .push_at(&mut day_dev, daytime.id, &[(defect, at(11, 0))])
        .await;
    let (status, list) = office
        .get_json("/api/v1/console/defects?status=open", &staff)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["severity"], "major");
    assert_eq!(list[0]["checkpoint_name"], "首站");
    let id = list[0]["id"].as_str().expect("id").to_owned();
    let repair = format!("/api/v1/console/defects/{id}/repair");
    let (status, first) = office
        .post_json(&repair, Some(&staff), &json!({"assignee": tech_b}))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["created"], true);
    assert_eq!(first["defect"]["status"], "repair_ordered");
    let (_, again) = office
        .post_json(&repair, Some(&staff), &json!({"assignee": tech_a}))
        .await;
    assert_eq!(again["created"], false, "one repair job per defect");
    assert_eq!(again["job_id"], first["job_id"]);
    let repair_id: Uuid = first["job_id"]
        .as_str()
        .expect("job")
        .parse()
        .expect("uuid");
    let job = office
        .store()
        .job(repair_id)
        .expect("read")
        .expect("the repair job");
    assert_eq!(job.job.kind, heatcrew_protocol::JobKind::EmergencyRepair);
    assert_eq!(job.job.assignee, Some(tech_b));
    assert_eq!(
        job.job.site.as_deref(),
        Some("首站"),
        "at the defect's station"
    );
    office
        .push_at(
            &mut night_dev,
            repair_id,
            &[(
                EventBody::JobClosed {
                    resolution: Resolution::Resolved,
                    summary: "更换机械密封".into(),
                },
                Utc::now(),
            )],
        )
        .await;
    assert_eq!(office.run_schedule().patrols.defects_fixed, 1);
    let (_, fixed) = office
        .get_json("/api/v1/console/defects?status=fixed", &staff)
        .await;
    assert_eq!(
        fixed.as_array().map(Vec::len),
        Some(1),
        "fixed by its repair: {fixed}"
    );

    // Who opened the repair job is on its page; every status set by hand is in the audit log,
    // though the register keeps only the latest.
    let opened = office.audit("job_created").await;
    assert_eq!(opened.len(), 1, "one repair job, opened once: {opened:?}");
    assert_eq!(opened[0]["subject"], json!(repair_id));
    assert_eq!(opened[0]["detail"]["defect"], json!(id));
    assert_eq!(opened[0]["detail"]["assignee"], json!(tech_b));
    let (_, page) = office
        .get_json(&format!("/api/v1/console/jobs/{repair_id}"), &staff)
        .await;
    assert_eq!(page["office_actions"][0]["kind"], "job_created", "{page}");
    let status = format!("/api/v1/console/defects/{id}/status");
    for body in [
        json!({"status": "open"}),
        json!({"status": "dismissed", "note": "重复上报"}),
    ] {
        let (code, answer) = office.post_json(&status, Some(&staff), &body).await;
        assert_eq!(code, StatusCode::OK, "{answer}");
    }
    let changes: Vec<(Value, Value)> = office
        .audit("defect_status_changed")
        .await
        .iter()
        .map(|e| (e["detail"]["status"].clone(), e["detail"]["note"].clone()))
        .collect();
    assert_eq!(
        changes,
        [
            (json!("dismissed"), json!("重复上报")),
            (json!("open"), Value::Null)
        ],
        "both changes, newest first"
    );
}

#[tokio::test]
async fn plans_and_defects_refuse_bad_input_and_field_users() {
    let office = TestOffice::start().await;
    let staff = office.staff().await;
    let route = route(&office, &staff).await;
    let tech_a = office.user_id("tech_a");
    let dev = office.device("tech_a").await;
    let good = json!({
        "name": "城东日常巡检", "route_id": route.id,
        "shifts": [{"starts_at": "08:00:00", "hours": 12, "assignee": tech_a}],
        "intervals": {"ss1": 480}
    });
    let (status, _) = office
        .post_json("/api/v1/console/patrol-plans", Some(dev.token()), &good)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a field user plans nothing");
    let (status, _) = office
        .get_json("/api/v1/console/defects", dev.token())
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "nor reads the defects register"
    );
    let with = |key: &str, value: Value| {
        let mut v = good.clone();
        v[key] = value;
        v
    };
    for (body, want, why) in [
        (
            with("name", json!("  ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "an empty name",
        ),
        (
            with("name", json!("长".repeat(101))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a long name",
        ),
        (
            with("shifts", json!([])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no shift",
        ),
        (
            with(
                "shifts",
                json!([
                {"starts_at": "08:00:00", "hours": 12, "assignee": tech_a},
                {"starts_at": "19:00:00", "hours": 12, "assignee": tech_a}]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "shifts overlapping across midnight",
        ),
        (
            with(
                "shifts",
                json!([{"starts_at": "08:00:00", "hours": 25, "assignee": tech_a}]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a shift over 24 hours",
        ),
        (
            with(
                "shifts",
                json!([{"starts_at": "25:00:00", "hours": 1, "assignee": tech_a}]),
            ),
            StatusCode::BAD_REQUEST,
            "no such time of day",
        ),
        (
            with(
                "shifts",
                json!([{"starts_at": "08:00:00", "hours": 12, "assignee": Uuid::now_v7()}]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "an unknown patrol",
        ),
        (
            with("intervals", json!({"ss1": 0})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a zero interval",
        ),
        (
            with("intervals", json!({"ss1": 1441})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "over a day",
        ),
        (
            with("intervals", json!({"nowhere": 60})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not on the route",
        ),
        (
            with("intervals", json!({"ss1": -5})),
            StatusCode::BAD_REQUEST,
            "a negative interval",
        ),
        (
            with("utc_offset_minutes", json!(100000)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no such zone",
        ),
        (
            with("active_from", json!("2026-12-31"))
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("active_until".into(), json!("2026-11-01"));
                    Value::Object(o)
                })
                .unwrap_or_default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a season ending before it starts",
        ),
        (
            with("route_id", json!(Uuid::now_v7())),
            StatusCode::NOT_FOUND,
            "an unknown route",
        ),
    ] {
        let (status, body) = office
            .post_json("/api/v1/console/patrol-plans", Some(&staff), &body)
            .await;
        assert_eq!(status, want, "{why}: {body}");
    }
    let (_, plans) = office
        .get_json("/api/v1/console/patrol-plans", &staff)
        .await;
    assert_eq!(plans, json!([]), "no refused plan was stored");
    let (status, plan) = office
        .post_json("/api/v1/console/patrol-plans", Some(&staff), &good)
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["intervals"]["ss1"], 480, "per-station interval kept");
    for (query, want) in [
        (
            format!("plan={}&days=0", plan["id"].as_str().unwrap_or_default()),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("plan={}&days=32", plan["id"].as_str().unwrap_or_default()),
            StatusCode::BAD_REQUEST,
        ),
        ("plan=not-a-uuid".to_owned(), StatusCode::BAD_REQUEST),
        (format!("plan={}", Uuid::now_v7()), StatusCode::NOT_FOUND),
        (
            format!(
                "plan={}&from=2026-02-30",
                plan["id"].as_str().unwrap_or_default()
            ),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, body) = office
            .get_json(&format!("/api/v1/console/patrol-grid?{query}"), &staff)
            .await;
        assert_eq!(status, want, "grid {query}: {body}");
    }
    let unknown = Uuid::now_v7();
    let (status, _) = office
        .post_json(
            &format!("/api/v1/console/defects/{unknown}/repair"),
            Some(&staff),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown defect");
    let (status, _) = office
        .post_json(
            &format!("/api/v1/console/defects/{unknown}/status"),
            Some(&staff),
            &json!({"status": "dismissed"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dismissing needs a note"
    );
    let (status, _) = office
        .post_json(
            &format!("/api/v1/console/defects/{unknown}/status"),
            Some(&staff),
            &json!({"status": "repair_ordered"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an unknown defect, whatever the status"
    );
}
