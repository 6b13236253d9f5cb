//! A simulated stretch of a month (issue 13, "Done when"): a real office on loopback whose clock is
//! moved forward day by day, and the simulator's phones (real device cores, each its own SQLite
//! file) working eight field days at 13:00 Shanghai time (one phone out of signal every other day,
//! pushing at the end of it): two repair technicians (some repairs late, some doors nobody opens,
//! one repair never visited), an inspector who issues a rectification notice and later
//! re-inspects, and a patrol whose plan's rounds the office opens (one round missed). Two
//! complaints are taken at the console API; one is answered in time, the other left to run out.
//! The office's periodic follow-up runs after every move of the clock.
//!
//! Then, against figures computed here from the script (never from the office's code): the KPI
//! answer for the period, the overdue-complaint list, the notice register and its single
//! re-inspection job, the patrol compliance grid, and the monthly workbook downloaded over HTTP
//! and read back with calamine.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use heatcrew_core::demo::VisitScript;
use heatcrew_office::clock::Clock;
use heatcrew_office::schedule::run_once;
use heatcrew_sim::DispatchApi;
use heatcrew_sim::script::{self, Shift, Visit};
use heatcrew_testkit::{PASSWORD, Seed, TestOffice};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration as StdDuration;
use uuid::Uuid;

#[path = "month/readback.rs"]
mod readback;
use readback::{Sums, show_the_week};

/// Field days simulated (day 0 … day 7).
const DAYS: i64 = 8;
const FIELD_PASSWORD: &str = "month-sim-password-2026";

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// What a repair's day looks like in the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repair {
    /// Reported 30 minutes before the visit, arrived inside the window.
    OnTime(VisitScript),
    /// Reported 5 hours before the visit, window ended 2 hours before it: late on both counts.
    Late(VisitScript),
    /// Arrived on time, nobody home.
    NotHome,
    /// Dispatched and never visited.
    NotVisited,
}

/// Day by day: tech_a's repair, tech_b's repair.
fn repair_script(day: i64) -> [Repair; 2] {
    use Repair::*;
    use VisitScript::*;
    match day {
        0 => [OnTime(Signed), OnTime(Refused)],
        1 => [Late(Signed), NotHome],
        2 => [OnTime(SignedWithDamage), OnTime(Signed)],
        3 => [OnTime(Signed), NotVisited],
        4 => [Late(Signed), OnTime(Signed)],
        5 => [OnTime(Refused), NotHome],
        6 => [OnTime(Signed), Late(Signed)],
        _ => [OnTime(Signed), OnTime(Refused)],
    }
}

/// The day the patrol misses its round.
const MISSED_ROUND_DAY: i64 = 4;
/// The inspection day; the notice is due two days later.
const INSPECTION_DAY: i64 = 1;
const NOTICE_DAYS: i64 = 2;

/// B and A of each job figure, computed from the script alone (README "KPIs" definitions).
fn expected_repair_kpis(repairs: &[Repair]) -> BTreeMap<&'static str, (u64, u64)> {
    let mut m: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut add = |k: &'static str, b: bool| {
        let e = m.entry(k).or_default();
        e.0 += u64::from(b);
        e.1 += 1;
    };
    let mut stars = (0u64, 0u64);
    for r in repairs {
        // No entry: out of the timely and closure figures; in the no-entry share.
        add("no_entry", *r == Repair::NotHome);
        match r {
            Repair::NotHome => add("on_time_arrival", true),
            Repair::NotVisited => {
                // Past its 4 hours and its window by the end: counted against all three.
                add("timely_repair", false);
                add("closure", false);
                add("on_time_arrival", false);
            }
            Repair::OnTime(s) | Repair::Late(s) => {
                let on_time = matches!(r, Repair::OnTime(_));
                add("timely_repair", on_time);
                add("closure", true);
                add("on_time_arrival", on_time);
                if *s != VisitScript::Refused {
                    add("satisfaction", true);
                    stars.0 += 5;
                    stars.1 += 1;
                }
            }
        }
    }
    if stars.1 > 0 {
        m.insert("satisfaction_mean", stars);
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_week_of_field_days_gives_the_kpis_lists_and_workbook_it_should() {
    simulated_week(Start::Next).await;
}

/// The same week run over a month's end: the complaint's deadline, the KPI period and the two
/// months' workbooks (jobs counted in the month they were created, visits in the month they
/// closed) all straddle it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_week_across_a_month_end_adds_up_over_both_workbooks() {
    simulated_week(Start::MonthEnd).await;
}

/// Where day 0 falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// The next 13:00 in Shanghai.
    Next,
    /// 13:00 three days before the end of a month (this one's, or the next one's when this one
    /// has less than that left).
    MonthEnd,
}

async fn simulated_week(start: Start) {
    let clock = Clock::system();
    let office = {
        let c = clock.clone();
        TestOffice::start_with(Seed::TestAccounts, move |cfg| cfg.clock = c).await
    };
    let url = office.url();
    let real_start = Utc::now();
    // Every field day happens at 13:00 Shanghai time.
    let local = clock.now().with_timezone(&cst());
    let next = if local.time() < NaiveTime::from_hms_opt(12, 0, 0).expect("noon") {
        local.date_naive()
    } else {
        local.date_naive() + Duration::days(1)
    };
    let first = match start {
        Start::Next => next,
        Start::MonthEnd => {
            let month_end = |d: NaiveDate| {
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1).expect("a month's first day") - Duration::days(1)
            };
            let this = month_end(next) - Duration::days(3);
            if this >= next {
                this
            } else {
                month_end(month_end(next) + Duration::days(1)) - Duration::days(3)
            }
        }
    };
    let date = |d: i64| first + Duration::days(d);
    let at_one = |d: i64| -> DateTime<Utc> {
        cst()
            .from_local_datetime(&date(d).and_hms_opt(13, 0, 0).expect("13:00"))
            .single()
            .expect("fixed offset")
            .with_timezone(&Utc)
    };
    let dir = tempfile::tempdir().expect("dir");

    let admin = sign_in(&url, "admin").await;
    for (name, role, display) in [
        ("inspector", "inspector", "稽查员 赵敏"),
        ("patrol", "patrol", "巡检员 钱勇"),
    ] {
        admin
            .create_user(name, FIELD_PASSWORD, role, display)
            .await
            .expect("a field account");
    }
    let (tech_a, tech_b) = (office.user_id("tech_a"), office.user_id("tech_b"));
    let (inspector, patrol) = (office.user_id("inspector"), office.user_id("patrol"));

    let mut repairs: Vec<Repair> = Vec::new();
    let mut inspection_job = None;
    let mut reinspection_worked = None;
    let mut plan_id = None;
    let (mut complied, mut overdue) = (Uuid::nil(), Uuid::nil());
    let mut rounds_worked = 0u64;
    for day in 0..DAYS {
        let target = at_one(day);
        let behind = target - clock.now();
        if behind > Duration::zero() {
            clock.advance(behind);
        }
        let now = clock.now();
        // The periodic follow-up, as `serve` runs it, at the office's time.
        run_once(office.store(), now).expect("the periodic follow-up");
        // Staff tokens are the office clock's: sign in again each day.
        let admin = sign_in(&url, "admin").await;
        let dispatch = sign_in(&url, "dispatch").await;

        if day == 0 {
            plan_id = Some(patrol_plan(&admin, patrol).await);
            complied = complaint(&dispatch, "报修后两天无人联系").await;
            overdue = complaint(&dispatch, "维修后暖气仍然不热").await;
        }
        if day == 2 {
            dispatch
                .post_json(
                    &format!("/console/complaints/{complied}/reply"),
                    &json!({"text": "已派维修员复查，阀门已更换，室温恢复正常。"}),
                )
                .await
                .expect("the reply, in time");
        }

        let mut shifts: Vec<Shift> = Vec::new();
        let shift = |user: &str, password: &str, visits: Vec<(Uuid, Visit)>| Shift {
            office: url.clone(),
            username: user.to_owned(),
            password: password.to_owned(),
            db: dir.path().join(format!("{user}-day{day}.db")),
            visits,
            patience: StdDuration::from_secs(120),
            seed: day as u64 * 31 + user.len() as u64,
            // tech_b works out of signal on even days and pushes the whole day at its end.
            offline: user == "tech_b" && day % 2 == 0,
        };
        for (k, (user, who)) in [("tech_a", tech_a), ("tech_b", tech_b)]
            .into_iter()
            .enumerate()
        {
            let r = repair_script(day)[k];
            repairs.push(r);
            let id = create_repair(&admin, who, now, r, day as usize * 2 + k).await;
            let visit = match r {
                Repair::OnTime(s) | Repair::Late(s) => Some(Visit::Repair(s)),
                Repair::NotHome => Some(Visit::NotHome),
                Repair::NotVisited => None,
            };
            if let Some(v) = visit {
                shifts.push(shift(user, PASSWORD, vec![(id, v)]));
            }
        }
        if day == INSPECTION_DAY {
            let id = Uuid::now_v7();
            admin
                .create_job(&json!({"id": id, "kind": "heat_theft_inspection", "fault": "疑似私接管道",
                    "assignee": inspector,
                    "customer": {"name": "赵强", "phone": "13500001111",
                                 "address": "和平区南京路锦绣园6号楼1单元201", "account_no": "RY20230417"}}))
                .await
                .expect("the inspection job");
            inspection_job = Some(id);
            let deadline = date(day) + Duration::days(NOTICE_DAYS);
            shifts.push(shift(
                "inspector",
                FIELD_PASSWORD,
                vec![(id, Visit::Inspection { deadline })],
            ));
        }
        // The notice's re-inspection, once the follow-up has opened it: worked the same day.
        if reinspection_worked.is_none()
            && let Some(job) = notice_of(&admin, inspection_job).await["reinspection_job_id"]
                .as_str()
                .and_then(|s| s.parse::<Uuid>().ok())
        {
            assert_eq!(
                day,
                INSPECTION_DAY + NOTICE_DAYS + 1,
                "the re-inspection opens the day after the deadline"
            );
            shifts.push(shift(
                "inspector",
                FIELD_PASSWORD,
                vec![(job, Visit::Complied)],
            ));
            reinspection_worked = Some(job);
        }
        if let Some(plan) = plan_id
            && day != MISSED_ROUND_DAY
        {
            let start = cst()
                .from_local_datetime(&date(day).and_hms_opt(8, 0, 0).expect("08:00"))
                .single()
                .expect("fixed")
                .with_timezone(&Utc);
            if let Some(round) = office
                .store()
                .plan_rounds(plan)
                .expect("rounds")
                .into_iter()
                .find(|r| r.shift_start == start)
            {
                shifts.push(shift(
                    "patrol",
                    FIELD_PASSWORD,
                    vec![(round.job_id, Visit::Patrol)],
                ));
                rounds_worked += 1;
            }
        }
        let outcomes = tokio::task::spawn_blocking(move || script::work_all(&shifts))
            .await
            .expect("join")
            .expect("the day's phones");
        for o in &outcomes {
            assert!(o.chain_valid, "day {day}: {}'s chain verifies", o.username);
            assert_eq!(o.backlog, 0, "day {day}: {} pushed everything", o.username);
            assert_eq!(
                o.rejected, 0,
                "day {day}: the office took every record of {}",
                o.username
            );
        }
    }
    // One last follow-up at the end of the last day (reads the re-inspection's outcome).
    run_once(office.store(), clock.now()).expect("the follow-up");
    let now = clock.now();
    let admin = sign_in(&url, "admin").await;
    let dispatch = sign_in(&url, "dispatch").await;
    let (from, to) = (date(0), date(DAYS - 1));

    // KPIs of the repairs, against the script.
    let kpi = admin
        .get_json(&format!("/kpi?from={from}&to={to}&kind=home_repair"))
        .await
        .expect("the KPIs");
    let expected = expected_repair_kpis(&repairs);
    let got: BTreeMap<String, (u64, u64)> = kpi["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap_or_default().to_owned(),
                (num(&f["numerator"]), num(&f["denominator"])),
            )
        })
        .collect();
    for (key, want) in &expected {
        assert_eq!(
            got.get(*key),
            Some(want),
            "KPI {key} (B, A) from the script; the office answered {kpi}"
        );
    }
    // Day by day (a job counts on the day it was reported) and person by person, the same way.
    let trend = kpi["trend"].as_array().expect("trend");
    assert_eq!(trend.len() as i64, DAYS, "one trend point per field day");
    for (d, point) in trend.iter().enumerate() {
        assert_eq!(point["date"], json!(date(d as i64)), "{point}");
        let want = expected_repair_kpis(&repairs[d * 2..d * 2 + 2]);
        assert_eq!(figures_of(&point["figures"]), want, "day {d}: {point}");
    }
    let by_person = admin
        .get_json(&format!(
            "/kpi?from={from}&to={to}&kind=home_repair&group=person"
        ))
        .await
        .expect("the KPIs per person");
    for (k, who) in [tech_a, tech_b].into_iter().enumerate() {
        let group = by_person["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["key"] == json!(who)))
            .unwrap_or_else(|| panic!("a group for technician {k}: {by_person}"));
        let theirs: Vec<Repair> = repairs.iter().skip(k).step_by(2).copied().collect();
        assert_eq!(
            figures_of(&group["figures"]),
            expected_repair_kpis(&theirs),
            "technician {k}: {group}"
        );
    }

    // Complaints: exactly the unanswered one is overdue.
    let list = dispatch
        .get_json("/console/complaints?state=overdue")
        .await
        .expect("the overdue list");
    let ids: Vec<&str> = list["complaints"]
        .as_array()
        .expect("complaints")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [overdue.to_string()],
        "only the unanswered complaint is overdue: {list}"
    );
    let figures = dispatch
        .get_json(&format!("/console/complaints/figures?from={from}&to={to}"))
        .await
        .expect("complaint figures");
    assert_eq!(num(&figures["complaints_received"]), 2, "{figures}");
    assert_eq!(
        num(&figures["complaints_answered_in_time"]["numerator"]),
        1,
        "{figures}"
    );
    assert_eq!(num(&figures["overdue_open"]), 1, "{figures}");

    // The notice: re-inspected once, complied with, as read from the re-inspection job.
    let notice = notice_of(&admin, inspection_job).await;
    let reinspection = reinspection_worked.expect("the re-inspection was opened and worked");
    assert_eq!(
        notice["reinspection_job_id"],
        json!(reinspection),
        "{notice}"
    );
    assert_eq!(notice["outcome"], json!("complied"), "{notice}");
    let register = admin.get_json("/console/notices").await.expect("register");
    assert_eq!(num(&register["total"]), 1, "one notice issued: {register}");
    let job = admin
        .get_json(&format!("/jobs/{reinspection}"))
        .await
        .expect("the re-inspection job");
    assert_eq!(
        job["job"]["assignee"].as_str(),
        Some(inspector.to_string().as_str()),
        "{job}"
    );

    // Patrol grid: every expected round of both checkpoints on time but the missed day's.
    let plan = plan_id.expect("plan");
    let grid = admin
        .get_json(&format!(
            "/console/patrol-grid?plan={plan}&from={}&days={}",
            date(1),
            DAYS - 1
        ))
        .await
        .expect("grid");
    let rows = grid["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "two checkpoints: {grid}");
    for row in rows {
        let t = &row["totals"];
        assert_eq!(
            (
                num(&t["on_time"]),
                num(&t["late"]),
                num(&t["missed"]),
                num(&t["pending"])
            ),
            (rounds_worked, 0, 1, 0),
            "{}: on time, late, missed, pending: {grid}",
            row["checkpoint_id"]
        );
    }

    // The monthly workbook, over HTTP, summed over the months the run touched.
    let months: BTreeSet<String> = [real_start, at_one(0), now]
        .iter()
        .map(|t| {
            let l = t.with_timezone(&cst());
            format!("{:04}-{:02}", l.year(), l.month())
        })
        .collect();
    if start == Start::MonthEnd {
        assert!(
            months.len() >= 2,
            "the week straddles a month's end: {months:?}"
        );
    }
    let mut book = Sums::default();
    for month in &months {
        let bytes = admin
            .download(&format!("/reports/monthly.xlsx?month={month}"))
            .await
            .expect("the workbook");
        book.add(&bytes, dir.path(), month);
    }
    let worked: Vec<&Repair> = repairs
        .iter()
        .filter(|r| **r != Repair::NotVisited)
        .collect();
    let resolved = worked.iter().filter(|r| **r != &Repair::NotHome).count() as u64;
    let timely = repairs
        .iter()
        .filter(|r| matches!(r, Repair::OnTime(_)))
        .count() as u64;
    let rated = worked
        .iter()
        .filter(|r| matches!(r, Repair::OnTime(s) | Repair::Late(s) if *s != VisitScript::Refused))
        .count() as u64;
    // Jobs: the repairs, the inspection, its re-inspection, the patrol rounds the plan opened.
    let rounds_opened = office.store().plan_rounds(plan).expect("rounds").len() as u64;
    assert_eq!(
        rounds_opened,
        DAYS as u64 - 1,
        "one round per day from the day after the plan"
    );
    let jobs = repairs.len() as u64 + 2 + rounds_opened;
    // Visits closed: each worked repair (the doors too), the inspection and the re-inspection
    // (patrol rounds have no customer and no feedback record).
    let visits = worked.len() as u64 + 2;
    assert_eq!(
        book.get("本月新建工单"),
        jobs as f64,
        "jobs created: {book:?}"
    );
    assert_eq!(
        book.get("本月关闭的上门服务"),
        visits as f64,
        "visits closed: {book:?}"
    );
    assert_eq!(
        book.feedback_rows, visits,
        "a feedback record per closed visit: {book:?}"
    );
    assert_eq!(book.job_rows, jobs, "a jobs row per job: {book:?}");
    assert_eq!(
        book.reinspection_rows, 1,
        "the re-inspection job exists once: {book:?}"
    );
    assert_eq!(
        book.get("4小时内解决"),
        timely as f64,
        "resolved within 4 h: {book:?}"
    );
    // Repairs due: every resolved one, every door (never resolved, past 4 h), the unvisited one.
    assert_eq!(
        book.get("到期维修"),
        repairs.len() as f64,
        "repairs due: {book:?}"
    );
    assert_eq!(book.get("已评价"), rated as f64, "rated visits: {book:?}");
    assert!(
        resolved > 0 && timely < resolved,
        "the script has late repairs"
    );
    if months.len() == 1 {
        assert_eq!(
            book.get("平均满意度"),
            5.0,
            "every rating was 5 stars: {book:?}"
        );
        let timely_rate = (timely as f64 / repairs.len() as f64 * 10_000.0).round() / 10_000.0;
        assert_eq!(book.get("到期维修4小时内解决比例"), timely_rate, "{book:?}");
    }
    // The week on the console's dashboard, as a manager would open it (skips without Chromium;
    // once: one browser at a time on a small machine).
    if start == Start::Next {
        let closure = expected["closure"];
        show_the_week(&url, from, to, closure, dir.path())
            .await
            .expect("the dashboard shows the week");
    }
    eprintln!(
        "month-sim ({start:?}, from {from}): {DAYS} field days, {} repairs, {jobs} jobs, {visits} visits, {rounds_worked} rounds worked, \
         KPIs {got:?}, {:.0} s",
        repairs.len(),
        (Utc::now() - real_start).num_seconds()
    );
}

/// `key → (B, A)` of the figures that have an A (an empty figure is not in the script's map).
fn figures_of(figures: &Value) -> BTreeMap<&'static str, (u64, u64)> {
    let keys = [
        "timely_repair",
        "closure",
        "no_entry",
        "on_time_arrival",
        "satisfaction",
        "satisfaction_mean",
    ];
    figures
        .as_array()
        .expect("figures")
        .iter()
        .filter(|f| num(&f["denominator"]) > 0)
        .filter_map(|f| {
            let key = keys.into_iter().find(|k| f["key"] == json!(k))?;
            Some((key, (num(&f["numerator"]), num(&f["denominator"]))))
        })
        .collect()
}

fn num(v: &Value) -> u64 {
    v.as_u64().unwrap_or(u64::MAX)
}

async fn sign_in(url: &str, user: &str) -> DispatchApi {
    DispatchApi::sign_in(url, user, PASSWORD, StdDuration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{user} signs in: {e}"))
}

/// A repair for `who` as the script says, at office time `now`.
async fn create_repair(
    api: &DispatchApi,
    who: Uuid,
    now: DateTime<Utc>,
    r: Repair,
    n: usize,
) -> Uuid {
    let late = matches!(r, Repair::Late(_));
    let (reported, start, end) = if late {
        (
            now - Duration::hours(5),
            now - Duration::hours(4),
            now - Duration::hours(2),
        )
    } else {
        (
            now - Duration::minutes(30),
            now - Duration::hours(1),
            now + Duration::hours(1),
        )
    };
    let id = Uuid::now_v7();
    let customer = heatcrew_core::demo::home_repair_job(n, None).customer;
    api.create_job(
        &json!({"id": id, "kind": "home_repair", "fault": "暖气不热",
        "customer": customer, "reported_at": reported,
        "window": {"start": start, "end": end}, "assignee": who}),
    )
    .await
    .expect("a repair job");
    id
}

/// A complaint taken on the hotline by the signed-in dispatcher (its owner, 首问).
async fn complaint(api: &DispatchApi, subject: &str) -> Uuid {
    let id = Uuid::now_v7();
    api.post_json(
        "/console/complaints",
        &json!({"id": id, "kind": "complaint", "channel": "hotline", "caller_name": "王秀英",
                "caller_phone": "13812345678", "subject": subject,
                "text": format!("{subject}，请尽快处理。")}),
    )
    .await
    .expect("the complaint is taken");
    id
}

/// A route (a head station and a substation) and a plan: one 08:00–20:00 shift for `patrol`,
/// both checkpoints every 12 hours, so each day's expected round is the 12:00–24:00 one.
async fn patrol_plan(api: &DispatchApi, patrol: Uuid) -> Uuid {
    let spec = |key: &str, zh: &str, min: f64, max: f64| json!({"key": key, "label_zh": zh, "label_en": key, "unit": "", "normal_min": min, "normal_max": max});
    let route = api
        .post_json(
            "/routes",
            &json!({"name": "城东管网巡检线", "area": "城东片区", "checkpoints": [
                {"id": "hs", "name": "东区首站", "kind": "head_station",
                 "readings": [spec("supply_temp", "供水温度", 80.0, 130.0)]},
                {"id": "ss1", "name": "幸福里换热站", "kind": "substation",
                 "readings": [spec("pressure", "二次网压力", 0.2, 0.6)]}]}),
        )
        .await
        .expect("the route");
    let plan = api
        .post_json(
            "/console/patrol-plans",
            &json!({"name": "城东日常巡检", "route_id": route["id"],
                    "shifts": [{"starts_at": "08:00:00", "hours": 12, "assignee": patrol}],
                    "intervals": {"hs": 720, "ss1": 720}, "utc_offset_minutes": 480}),
        )
        .await
        .expect("the plan");
    plan["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a plan id")
}

/// The register's notice on the inspection job (`null` before there is one).
async fn notice_of(api: &DispatchApi, job: Option<Uuid>) -> Value {
    let Some(job) = job else { return Value::Null };
    let list = api
        .get_json("/console/notices")
        .await
        .expect("the register");
    list["notices"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["job_id"] == json!(job)).cloned())
        .unwrap_or(Value::Null)
}
