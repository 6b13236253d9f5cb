//! The complaints and reports tracker in the console, in headless Chromium against the real office
//! (heatcrew-testkit's `TestOffice`): an overdue complaint is on the tracker with its "overdue"
//! countdown and in the overdue list; a dispatcher takes a new complaint on the form (refused while
//! incomplete, the caller's earlier job linked through the customer lookup), is its owner (首问) and
//! hands it over to a colleague with a note, after which the page tells them it is no longer
//! theirs; the colleague answers it and records the callback; the trail shows every step; the
//! tabs read in English after the language switch.
//!
//! Needs `console/dist` and Debian's `chromium` and `chromium-driver` (as `console_e2e.rs`); skips
//! saying why when they are missing, unless `HEATCREW_E2E_REQUIRED=1` or
//! `HEATCREW_CONSOLE_E2E_REQUIRED=1`. `HEATCREW_SCREENSHOTS=$PWD/docs/screenshots` saves
//! `console-complaints.png` and `console-complaint.png`.

use anyhow::Context;
use chrono::{TimeDelta, Utc};
use heatcrew_protocol::sync::Role;
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use heatcrew_testkit::{PASSWORD, TestOffice};
use reqwest::StatusCode;
use serde_json::json;

const TZ: &str = "Asia/Shanghai";

#[test]
fn a_complaint_is_taken_handed_over_answered_and_called_back_in_the_console() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console complaints e2e") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(scenario(parts))
        .expect("the complaints scenario");
}

/// The number of elements with this `data-testid`.
fn count(testid: &str) -> String {
    format!("return document.querySelectorAll('[data-testid=\"{testid}\"]').length;")
}

async fn scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let o = TestOffice::start().await;
    o.add_user("dispatch2", PASSWORD, Role::Dispatcher, "刘调度");
    let url = o.url();
    let staff = o.staff_token("dispatch", PASSWORD).await;
    // A customer with an earlier repair (found by the lookup), and a complaint six days old.
    let (status, _) = o
        .post_json(
            "/api/v1/jobs",
            Some(&staff),
            &json!({"fault": "暖气片不热", "customer": {"name": "李建国", "phone": "13912345678", "address": "和平路18号3单元", "account_no": "RL-200001"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, old) = o
        .post_json(
            "/api/v1/console/complaints",
            Some(&staff),
            &json!({"kind": "complaint", "channel": "hotline", "caller_name": "王秀英", "caller_phone": "13800138000",
                    "subject": "报修三天无人上门", "text": "12月1日报修，至今无人联系。",
                    "received_at": Utc::now() - TimeDelta::days(6)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{old}");

    let dir = tempfile::tempdir()?;
    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    let sign_in = |user: &'static str| async move {
        b.fill("console-login-user", user).await?;
        b.fill("console-login-password", PASSWORD).await?;
        b.click("console-login-submit").await?;
        b.el("sign-out").await?;
        anyhow::Ok(())
    };
    b.client.goto(&url).await?;
    sign_in("dispatch").await?;
    b.click("nav-complaints").await?;
    b.el("complaint-table").await?;
    b.until(
        "the old complaint is overdue with its countdown",
        "const r = document.querySelector('[data-testid=\"complaint-row\"]'); \
         return !!r && r.dataset.state === 'overdue' && r.innerText.includes('超期');",
    )
    .await?;
    b.click("complaint-state-overdue").await?;
    b.until(
        "the overdue list has it",
        &format!("return ({})() === 1;", wrap(&count("complaint-row"))),
    )
    .await?;

    // Intake: refused while incomplete, then taken with the caller's earlier job linked.
    b.click("complaint-new").await?;
    b.el("complaint-form").await?;
    b.click("complaint-submit").await?;
    b.until(
        "the empty form is refused",
        "return [...document.querySelectorAll('.field-error')].some(e => e.innerText === '此项必填');",
    )
    .await?;
    b.el("complaint-channel")
        .await?
        .select_by_value("hotline")
        .await?;
    b.fill("complaint-caller-phone", "139 1234 5678").await?;
    b.click("complaint-link-job").await?;
    b.el("complaint-linked").await?;
    b.fill("complaint-subject", "维修后暖气仍不热").await?;
    b.fill(
        "complaint-text",
        "师傅上周来过，说修好了，但暖气片还是凉的。",
    )
    .await?;
    b.click("complaint-submit").await?;
    b.el("complaint-number").await?;
    b.until(
        "the new complaint is open with days left",
        "const s = document.querySelector('[data-testid=\"complaint-state\"]'); \
         const c = document.querySelector('[data-testid=\"complaint-countdown\"]'); \
         return !!s && s.dataset.state === 'open' && !!c && c.innerText.startsWith('剩 5天');",
    )
    .await?;
    assert!(
        b.text("complaint-owner").await?.contains("调度员"),
        "the taker owns it"
    );

    // Handover to a colleague, with a note: no longer this dispatcher's.
    b.el("complaint-handover-user")
        .await?
        .select_by_label("刘调度 · 调度员")
        .await?;
    b.fill("complaint-handover-note", "客户要求换人跟进")
        .await?;
    b.click("complaint-handover-submit").await?;
    b.wait_text("complaint-owner", "刘调度").await?;
    b.el("complaint-not-yours").await?;
    let page = b.client.current_url().await?;

    // The colleague answers and calls back.
    b.click("sign-out").await?;
    sign_in("dispatch2").await?;
    b.client.goto(page.as_str()).await?;
    b.fill(
        "complaint-reply-text",
        "已安排班长带队复查，更换堵塞阀门，向客户致歉。",
    )
    .await?;
    b.click("complaint-reply-submit").await?;
    b.el("complaint-callback-form").await?;
    b.click("complaint-satisfaction-fairly_satisfied").await?;
    b.fill("complaint-callback-note", "暖气已热，客户基本满意")
        .await?;
    b.click("complaint-callback-submit").await?;
    b.until(
        "the complaint is closed",
        "const s = document.querySelector('[data-testid=\"complaint-state\"]'); return !!s && s.dataset.state === 'closed';",
    )
    .await?;
    let kinds = b
        .js("return [...document.querySelectorAll('[data-testid=\"complaint-trail-entry\"]')].map(e => e.dataset.kind);")
        .await?;
    assert_eq!(
        kinds,
        json!([
            "complaint_received",
            "complaint_handed_over",
            "complaint_replied",
            "complaint_called_back"
        ]),
        "the trail shows every step"
    );
    assert!(
        b.text("complaint-trail")
            .await?
            .contains("客户要求换人跟进"),
        "with the handover note"
    );
    b.shot("console-complaint").await?;

    b.click("nav-complaints").await?;
    b.click("complaint-state-all").await?;
    b.until(
        "both on the list",
        &format!("return ({})() === 2;", wrap(&count("complaint-row"))),
    )
    .await?;
    b.shot("console-complaints").await?;
    // A complaint another dispatcher takes by phone shows on this open list without a reload.
    b.js("window.__sameDocument = true; return true;").await?;
    let (status, taken) = o
        .post_json(
            "/api/v1/console/complaints",
            Some(&staff),
            &json!({"kind": "report", "channel": "hotline", "caller_name": "匿名", "caller_phone": "13700137000",
                    "subject": "疑似私接暖气", "text": "楼下商铺私接管道。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    b.until(
        "the new report is on the open list, live",
        &format!(
            "return ({})() === 3 && window.__sameDocument === true;",
            wrap(&count("complaint-row"))
        ),
    )
    .await?;
    b.click("lang-switch").await?;
    b.wait_text("complaint-state-overdue", "Overdue")
        .await
        .context("the tabs in English")?;
    b.click("lang-switch").await?;
    browser.quit().await;
    Ok(())
}

/// A `return …;` script as a function expression.
fn wrap(script: &str) -> String {
    format!("() => {{ {script} }}")
}
