//! The KPI dashboard (issue 13) in headless Chromium against the real demo office: zhangwei's real
//! device core records an honest home repair visit and closes it; liqiang's phone (a modified app:
//! a hand-sealed chain) closes his job with nothing done. The dashboard shows timely repair and
//! closure as 1 of 2 against their targets, with a daily trend chart; the closure figure drills down
//! to both jobs, the made-up one counting against it and marked non-conforming; its job page lists
//! the broken rule, and its board card is flagged.
//!
//! Same parts and skipping as `console_e2e.rs`; `HEATCREW_SCREENSHOTS=$PWD/docs/screenshots` saves
//! `console-kpi.png` and `console-job-violations.png`.

use heatcrew_core::Store;
use heatcrew_core::demo;
use heatcrew_core::sync::{self, Syncer};
use heatcrew_protocol::{EventBody, JobKind, Resolution};
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use heatcrew_testkit::{DEMO_PASSWORD, TestOffice, step};
use std::path::Path;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const TZ: &str = "Asia/Shanghai";

/// zhangwei's phone: sign in, pull, walk his first home repair through every step as the app does
/// (the device's own rules check each record), close it resolved, push.
fn honest_visit(db: &Path, url: &str) -> anyhow::Result<Uuid> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = Arc::new(Mutex::new(Store::open(db)?));
    rt.block_on(sync::login(&store, url, "zhangwei", DEMO_PASSWORD))
        .map_err(|e| anyhow::anyhow!("device sign-in: {e}"))?;
    let syncer = Syncer::new(store.clone());
    rt.block_on(syncer.sync_once())
        .map_err(|e| anyhow::anyhow!("pull: {e}"))?;
    let mut s = store.lock().expect("store");
    let job = s
        .jobs()?
        .into_iter()
        .find(|j| j.job.kind == JobKind::HomeRepair)
        .ok_or_else(|| anyhow::anyhow!("zhangwei has a home repair"))?
        .job;
    let mut images = |label: &str, n: u32| demo::generated_png(&format!("console-kpi/{label}"), n);
    demo::home_repair_visit(&mut s, &mut images, &job, demo::VisitScript::Signed)?;
    drop(s);
    rt.block_on(syncer.sync_once())
        .map_err(|e| anyhow::anyhow!("push: {e}"))?;
    Ok(job.id)
}

#[test]
fn the_kpi_dashboard_shows_the_figures_drills_down_and_flags_a_made_up_visit() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console kpi") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(scenario(parts)).expect("the scenario");
}

async fn scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let o = TestOffice::demo().await;
    let url = o.url();
    let db = o.dir().join("zhangwei.db");
    let office_url = url.clone();
    let honest = tokio::task::spawn_blocking(move || honest_visit(&db, &office_url)).await??;

    // liqiang's home repair, closed with nothing done but the arrival.
    let liqiang = o.user_id("liqiang");
    let made_up = o
        .store()
        .list_jobs()?
        .into_iter()
        .find(|r| r.job.assignee == Some(liqiang) && r.job.kind == JobKind::HomeRepair)
        .ok_or_else(|| anyhow::anyhow!("liqiang has a home repair"))?
        .job
        .id;
    let mut phone = o.key_device("liqiang", DEMO_PASSWORD).await;
    let events = vec![
        phone.record(made_up, &step("appointment")),
        phone.record(made_up, &step("arrive")),
        phone.record(
            made_up,
            &EventBody::JobClosed {
                resolution: Resolution::Resolved,
                summary: "已修好".into(),
            },
        ),
    ];
    o.push_events(&phone, &events).await;
    // A complaint taken today: the complaint rate's B.
    let admin = o.staff_token("admin", DEMO_PASSWORD).await;
    let (status, body) = o
        .post_json(
            "/api/v1/console/complaints",
            Some(&admin),
            &serde_json::json!({"kind": "complaint", "channel": "hotline", "caller_name": "王秀英",
                "caller_phone": "13800138000", "subject": "暖气不热",
                "text": "师傅上门后暖气还是不热。"}),
        )
        .await;
    anyhow::ensure!(status.is_success(), "a complaint taken: {status} {body}");

    let dir = tempfile::tempdir()?;
    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    b.client.goto(&url).await?;
    b.fill("console-login-user", "admin").await?;
    b.fill("console-login-password", DEMO_PASSWORD).await?;
    b.click("console-login-submit").await?;
    b.click("nav-kpi").await?;
    // The demo's five home repairs were reported this morning: one closed honestly counts.
    b.until(
        "closure as 1 of the demo's repairs",
        "const f = document.querySelector('[data-testid=\"kpi-figure\"][data-key=\"closure\"]'); \
         return !!f && f.dataset.numerator === '1' && Number(f.dataset.denominator) >= 2;",
    )
    .await?;
    // The trend chart drew on its canvas.
    b.until(
        "the trend chart",
        "return !!document.querySelector('[data-testid=\"kpi-trend\"] canvas');",
    )
    .await?;
    let first = b.text("kpi-figure").await.unwrap_or_default();
    assert!(
        first.contains("维修及时率"),
        "the figures speak Chinese first: {first}"
    );
    b.click_css("[data-testid=\"kpi-figure\"][data-key=\"closure\"]")
        .await?;
    b.until(
        "the jobs behind the closure figure",
        "return document.querySelectorAll('[data-testid=\"kpi-drill-job\"]').length >= 2;",
    )
    .await?;
    let rows = b
        .js(
            "return [...document.querySelectorAll('[data-testid=\"kpi-drill-job\"]')] \
               .map(r => [r.dataset.jobId, r.dataset.in]);",
        )
        .await?;
    let rows = rows.as_array().cloned().unwrap_or_default();
    assert_eq!(
        rows.last(),
        Some(&serde_json::json!([honest.to_string(), "true"])),
        "the one job counting for the figure comes last: {rows:?}"
    );
    assert!(
        rows.contains(&serde_json::json!([made_up.to_string(), "false"])),
        "the made-up closure counts against it: {rows:?}"
    );
    b.shot("console-kpi").await?;

    // Drill-down link → the job page with the broken rule.
    b.click_css(&format!(
        "[data-testid=\"kpi-drill-job\"][data-job-id=\"{made_up}\"] a"
    ))
    .await?;
    let card = b.el("job-violations").await?;
    let rule = b
        .js("return document.querySelector('[data-testid=\"job-violation\"]').dataset.code;")
        .await?;
    assert_eq!(rule.as_str(), Some("cannot_close"), "the rule it broke");
    b.client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&card)?],
        )
        .await?;
    b.shot("console-job-violations").await?;

    // And the board card is flagged.
    b.client.goto(&url).await?;
    b.css(&format!(
        "[data-testid=\"board-job\"][data-job-id=\"{made_up}\"] [data-testid=\"non-conforming\"]"
    ))
    .await?;

    // The company's own figures sit beside the job figures: the complaint rate counts today's
    // complaint over the customer jobs, the tracker's, notices' and patrols' figures are there
    // with their targets, and a company figure opens its register.
    b.click("nav-kpi").await?;
    b.until(
        "the complaint rate as 1 complaint over the demo's customer jobs",
        "const f = document.querySelector('[data-testid=\"kpi-figure\"][data-key=\"complaint_rate\"]'); \
         return !!f && f.dataset.numerator === '1' && Number(f.dataset.denominator) >= 2;",
    )
    .await?;
    let keys = b
        .js("return [...document.querySelectorAll('[data-testid=\"kpi-figure\"]')].map(f => f.dataset.key);")
        .await?;
    for key in [
        "complaints_in_time",
        "reports_in_time",
        "notices_complied",
        "patrol_on_time",
        "patrol_late",
        "patrol_missed",
    ] {
        assert!(
            keys.as_array()
                .is_some_and(|k| k.contains(&serde_json::json!(key))),
            "the dashboard shows {key}: {keys}"
        );
    }
    let rate = b
        .js("return document.querySelector('[data-testid=\"kpi-figure\"][data-key=\"complaint_rate\"]').innerText;")
        .await?;
    let rate = rate.as_str().unwrap_or_default();
    assert!(
        rate.contains("投诉率") && rate.contains("≤"),
        "the complaint rate in Chinese against a ceiling: {rate}"
    );
    b.click_css("[data-testid=\"kpi-figure\"][data-key=\"complaint_rate\"]")
        .await?;
    b.el("complaint-filters").await?;
    browser.quit().await;
    Ok(())
}
