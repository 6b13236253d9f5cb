//! The notice register, the patrol compliance grid and the defects register in the console, in
//! headless Chromium against the real office (heatcrew-testkit's `TestOffice`: admin, dispatcher and
//! two technicians). A technician's key device pushes an inspection's findings and two notices (one
//! already past its deadline) and a day of patrol readings and a defect; the office's periodic
//! follow-up runs as `serve` runs it. The dispatcher filters the register to the overdue notice (its
//! re-inspection job linked), sees the grid's missed, late and on-time cells in words in Chinese and
//! in English, edits the plan in the plan form (the office's refusal of overlapping shifts shown at
//! the shifts, in Chinese; the fixed edit saved as the plan's new version), and creates a repair job
//! from the defect in one click.
//!
//! Needs `console/dist` and Debian's `chromium` and `chromium-driver` (as `console_e2e.rs`); skips
//! saying why when they are missing, unless `HEATCREW_E2E_REQUIRED=1` or
//! `HEATCREW_CONSOLE_E2E_REQUIRED=1`. `HEATCREW_SCREENSHOTS=$PWD/docs/screenshots` saves
//! `console-notices.png`, `console-patrol-grid.png`, `console-patrol-plan.png` and
//! `console-defects.png`.

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};
use heatcrew_office::patrols::{NewPlan, Shift};
use heatcrew_office::schedule::run_once;
use heatcrew_office::store::Route;
use heatcrew_protocol::sync::PushOutcome;
use heatcrew_protocol::{EventBody, FindingCategory, Position, Reading, Severity};
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use heatcrew_testkit::{KeyDevice, PASSWORD, TestOffice, staff_token_at};
use serde_json::{Value, json};
use uuid::Uuid;

const TZ: &str = "Asia/Shanghai";

#[test]
fn a_dispatcher_follows_notices_patrol_rounds_and_defects_in_the_console() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console registers e2e") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(scenario(parts))
        .expect("the registers scenario");
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

async fn push(
    o: &TestOffice,
    dev: &mut KeyDevice,
    job: Uuid,
    bodies: Vec<(EventBody, DateTime<Utc>)>,
) {
    let events: Vec<_> = bodies
        .iter()
        .map(|(b, at)| dev.record_at(job, b, *at))
        .collect();
    let resp = o.push_events(dev, &events).await;
    for r in &resp.results {
        assert!(
            matches!(r.outcome, PushOutcome::Accepted),
            "accepted: {:?}",
            r.outcome
        );
    }
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

/// What the office holds before the dispatcher looks: notices, a plan with a day of rounds, a defect.
async fn field_work(o: &TestOffice, staff: &str) -> anyhow::Result<Uuid> {
    let tech_a = o.user_id("tech_a");
    let tech_b = o.user_id("tech_b");
    let (status, job) = o
        .post_json(
            "/api/v1/jobs",
            Some(staff),
            &json!({"kind": "heat_theft_inspection", "fault": "用热稽查", "assignee": tech_a,
                    "customer": {"name": "王建国", "phone": "13800138000",
                                 "address": "幸福小区3号楼2单元501", "account_no": "RL-0042"}}),
        )
        .await;
    anyhow::ensure!(status.is_success(), "inspection job: {job}");
    let job: Uuid = job["id"].as_str().unwrap_or_default().parse()?;
    let mut inspector = o.key_device("tech_a", PASSWORD).await;
    let now = Utc::now();
    let today = now.with_timezone(&cst()).date_naive();
    let five_days_ago = now - Duration::days(5);
    push(
        o,
        &mut inspector,
        job,
        vec![
            (
                EventBody::FindingRecorded {
                    finding_id: Uuid::now_v7(),
                    category: FindingCategory::UnauthorizedConnection,
                    description: "户内私接旁通管".into(),
                    states: Default::default(),
                    photos: vec![],
                },
                five_days_ago,
            ),
            (
                EventBody::NoticeIssued {
                    number: "ZG-D0001-20261127-001".into(),
                    deadline: today - Duration::days(3),
                    requirements: "三日内拆除旁通管,恢复铅封".into(),
                    follow_up_on: None,
                },
                five_days_ago,
            ),
            (
                EventBody::NoticeIssued {
                    number: "ZG-D0001-20261127-002".into(),
                    deadline: today + Duration::days(2),
                    requirements: "五日内恢复原散热面积".into(),
                    follow_up_on: Some(today + Duration::days(4)),
                },
                five_days_ago,
            ),
        ],
    )
    .await;

    let (status, route) = o
        .post_json("/api/v1/routes", Some(staff), &json!({
            "name": "城东管网巡检线", "area": "城东片区",
            "checkpoints": [
                {"id": "hs", "name": "首站", "kind": "head_station",
                 "readings": [{"key": "supply_temp", "label_zh": "供水温度", "label_en": "Supply temperature",
                               "unit": "°C", "normal_min": 80.0, "normal_max": 130.0}]},
                {"id": "ss1", "name": "幸福小区换热站", "kind": "substation", "readings": [{"key": "pressure", "label_zh": "二次网压力", "label_en": "Secondary pressure", "unit": "MPa", "normal_min": 0.2, "normal_max": 0.6}]},
                {"id": "ss2", "name": "和平里换热站", "kind": "substation", "readings": [{"key": "pressure", "label_zh": "二次网压力", "label_en": "Secondary pressure", "unit": "MPa", "normal_min": 0.2, "normal_max": 0.6}]}
            ]}))
        .await;
    anyhow::ensure!(status.is_success(), "route: {route}");
    let route: Route = serde_json::from_value(route)?;
    let day = today - Duration::days(2);
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
    .validate(&route, at(-5, 0))?;
    let plan = o.store().create_plan(plan)?;
    // The follow-up every hour since the plan began, as `serve` would have run it.
    let mut t = at(-5, 0);
    while t < now {
        run_once(o.store(), t)?;
        t += Duration::hours(1);
    }
    run_once(o.store(), now)?;
    let rounds = o.store().plan_rounds(plan.id)?;
    let (night, daytime) = (rounds[0].job_id, rounds[1].job_id);
    let mut patrol_b = o.key_device("tech_b", PASSWORD).await;
    push(
        o,
        &mut patrol_b,
        night,
        (0..8)
            .map(|h| (reading("hs", "supply_temp", 95.0), at(h, 30)))
            .collect(),
    )
    .await;
    let mut patrol_a = o.key_device("tech_a", PASSWORD).await;
    let mut visits: Vec<_> = (8..20)
        .filter(|h| *h != 12 && *h != 14)
        .map(|h| {
            (
                reading("hs", "supply_temp", if h == 9 { 150.0 } else { 95.0 }),
                at(h, 30),
            )
        })
        .collect();
    visits.push((reading("hs", "supply_temp", 96.0), at(15, 5)));
    visits.push((reading("ss1", "pressure", 0.4), at(10, 0)));
    visits.push((reading("ss2", "pressure", 0.4), at(11, 0)));
    visits.push((reading("ss2", "pressure", 0.4), at(13, 0)));
    visits.sort_by_key(|(_, t)| *t);
    visits.push((
        EventBody::DefectReported {
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
        },
        at(16, 0),
    ));
    push(o, &mut patrol_a, daytime, visits).await;
    run_once(o.store(), Utc::now())?;
    Ok(plan.id)
}

/// Set the `n`th element with `testid` (a select or input) as a user's pick would.
async fn set_nth(b: &Browser, testid: &str, n: usize, value: &str) -> anyhow::Result<()> {
    let script = format!(
        "const el = document.querySelectorAll('[data-testid=\"{testid}\"]')[{n}]; if (!el) return false; \
         el.value = {value:?}; el.dispatchEvent(new Event('input', {{bubbles: true}})); \
         el.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"
    );
    anyhow::ensure!(
        b.js(&script).await?.as_bool() == Some(true),
        "no {testid} #{n}"
    );
    Ok(())
}

/// The plan form: the office refuses overlapping shifts at the shifts field, in Chinese; fixed, the
/// edit is saved as the plan's new version (the old one kept, marked, for the days it ran).
async fn plan_form(o: &TestOffice, staff: &str, b: &Browser, old: Uuid) -> anyhow::Result<()> {
    b.click("plan-new").await?;
    b.el("plan-form").await?;
    b.click("plan-save").await?;
    b.until(
        "the empty name refused at its field",
        "return document.querySelector('[data-testid=\"plan-form\"] .field-error')?.innerText === '此项必填';",
    )
    .await?;
    b.click("plan-cancel").await?;

    b.click("plan-edit").await?;
    b.until(
        "the plan in the form",
        "return document.querySelector('[data-testid=\"plan-name\"]')?.value === '城东日常巡检' && document.querySelectorAll('[data-testid=\"plan-shift\"]').length === 2;",
    )
    .await?;
    set_nth(b, "plan-shift-start", 1, "19:00").await?;
    b.click("plan-save").await?;
    b.until(
        "the office's refusal at the shifts",
        "return (document.querySelector('[data-testid=\"plan-shifts\"] .field-error')?.innerText ?? '').includes('班次时间重叠');",
    )
    .await?;
    b.js("document.querySelector('[data-testid=\"plan-form\"]').scrollIntoView({block: 'start'}); return true;")
        .await?;
    b.shot("console-patrol-plan").await?;
    let (_, plans) = o.get_json("/api/v1/console/patrol-plans", staff).await;
    assert_eq!(
        plans.as_array().map(Vec::len),
        Some(1),
        "the refusal stored nothing"
    );

    set_nth(b, "plan-shift-start", 1, "20:00").await?;
    b.fill("plan-name", "城东日常巡检（调整）").await?;
    b.js("const e = document.querySelector('[data-testid=\"plan-interval\"][data-checkpoint=\"ss1\"]'); e.value = '480'; e.dispatchEvent(new Event('input', {bubbles: true})); return true;").await?;
    b.click("plan-save").await?;
    b.el("plan-saved").await?;
    b.until(
        "both versions listed, the old one marked",
        "const o = [...document.querySelectorAll('[data-testid=\"patrol-plan\"] option')]; return o.length === 2 && o.some(x => x.innerText.includes('旧版'));",
    )
    .await?;
    let (_, plans) = o.get_json("/api/v1/console/patrol-plans", staff).await;
    let new = plans
        .as_array()
        .and_then(|p| {
            p.iter()
                .find(|p| p["replaces"].as_str() == Some(old.to_string().as_str()))
        })
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the edit's new version: {plans}"))?;
    assert_eq!(new["name"], "城东日常巡检（调整）");
    assert_eq!(new["intervals"]["ss1"], 480);
    assert_eq!(new["shifts"][1]["starts_at"], "20:00:00");
    Ok(())
}

async fn scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let o = TestOffice::start().await;
    let url = o.url();
    let staff = staff_token_at(&url, "dispatch", PASSWORD).await;
    let plan_id = field_work(&o, &staff).await?;

    let dir = tempfile::tempdir()?;
    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    b.client.goto(&url).await?;
    b.fill("console-login-user", "dispatch").await?;
    b.fill("console-login-password", PASSWORD).await?;
    b.click("console-login-submit").await?;
    b.el("sign-out").await?;

    // The register: both notices; the overdue one says so in words and links its re-inspection.
    b.click("nav-notices").await?;
    b.until(
        "two notices",
        "return document.querySelectorAll('[data-testid=\"notice-row\"]').length === 2;",
    )
    .await?;
    let counts = b.text("notice-counts").await?;
    assert!(
        counts.contains("逾期 1") && counts.contains("本周到期 1"),
        "the counts: {counts}"
    );
    let follow_up = b.text("notice-follow-up").await?;
    assert!(
        follow_up.contains(
            &(Utc::now().with_timezone(&cst()).date_naive() + Duration::days(4)).to_string()
        ),
        "the follow-up day the inspector set, under the deadline: {follow_up}"
    );
    b.shot("console-notices").await?;
    b.click("notice-filter-overdue").await?;
    b.until("the overdue notice alone", "const r = document.querySelectorAll('[data-testid=\"notice-row\"]'); return r.length === 1 && r[0].dataset.status === 'awaiting_reinspection';").await?;
    let overdue = b.text("notice-overdue").await?;
    assert!(
        overdue.starts_with("逾期") && overdue.ends_with("天"),
        "overdue in words: {overdue}"
    );
    assert!(
        b.text("notice-status-text").await?.contains("待复查"),
        "the status in words"
    );
    b.click("notice-reinspection").await?;
    b.until(
        "the re-inspection's job page",
        "return location.pathname.startsWith('/jobs/');",
    )
    .await?;

    // The grid: the judged day's cells in words; the head station missed a round that day.
    b.click("nav-patrols").await?;
    b.until(
        "the grid",
        "return document.querySelectorAll('[data-testid=\"grid-row\"]').length === 3;",
    )
    .await?;
    let day_cell = "const c = [...document.querySelector('[data-testid=\"grid-row\"][data-checkpoint=\"hs\"]').querySelectorAll('[data-testid=\"grid-cell\"]')].find(c => c.dataset.state === 'missed' && c.innerText.includes('迟到 1')); return c ? c.innerText : null;";
    let text = b.js(day_cell).await?;
    let text = text.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("漏巡 5") && text.contains("按时 18") && text.contains("超限 1"),
        "the judged day in words: {text}"
    );
    assert!(
        b.text("patrol-flagged").await?.contains("150"),
        "the hot reading is flagged"
    );
    b.shot("console-patrol-grid").await?;
    b.click("lang-switch").await?;
    b.until("the grid in English", "return [...document.querySelectorAll('[data-testid=\"grid-cell\"]')].some(c => c.innerText.includes('5 missed') && c.innerText.includes('1 late'));").await?;
    b.click("lang-switch").await?;

    plan_form(&o, &staff, b, plan_id).await?;

    // A defect becomes a repair job in one click.
    b.click("nav-defects").await?;
    b.until(
        "the defect",
        "return document.querySelectorAll('[data-testid=\"defect-row\"]').length === 1;",
    )
    .await?;
    b.shot("console-defects").await?;
    b.click("defect-repair").await?;
    b.until(
        "the repair job's page",
        "return location.pathname.startsWith('/jobs/');",
    )
    .await?;
    let job = b.js("return location.pathname.split('/')[2];").await?;
    let (status, list) = o.get_json("/api/v1/console/defects", &staff).await;
    assert!(status.is_success());
    assert_eq!(list[0]["status"], "repair_ordered");
    assert_eq!(
        list[0]["repair_job_id"],
        Value::from(job.as_str().unwrap_or_default())
    );
    browser.quit().await;
    Ok(())
}
