//! The console's feedback list (信息反馈) and its downloads, in headless Chromium against the real
//! office: three visits closed by real signed pushes appear with staff, badge, customer, result and
//! stars; a search by customer narrows the list; "导出 CSV" fetches the matching records with the
//! session's token (a UTF-8 BOM first, the Chinese names inside); the monthly workbook downloads;
//! the job page's service record PDF downloads and its kept SHA-256 is shown.
//!
//! Same parts and skipping as `console_e2e.rs`; `HEATCREW_SCREENSHOTS=$PWD/docs/screenshots` saves
//! `console-feedback.png`.

use heatcrew_protocol::{EventBody, Resolution, StepEvidence};
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use heatcrew_testkit::{Seed, TestOffice};
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "heatcrew-demo";
const TZ: &str = "Asia/Shanghai";

fn step(name: &str) -> EventBody {
    EventBody::StepCompleted {
        step: name.into(),
        evidence: StepEvidence::default(),
    }
}

/// A repair for `customer` assigned to `tech`, arrived at, rated and closed from the tech's key.
async fn closed_visit(
    o: &TestOffice,
    staff: &str,
    tech: &str,
    customer: (&str, &str, &str),
    stars: u8,
    comment: &str,
    resolution: Resolution,
) -> anyhow::Result<Uuid> {
    let (status, job) = o
        .post_json(
            "/api/v1/jobs",
            Some(staff),
            &json!({"fault": "暖气不热", "assignee": o.user_id(tech),
                    "customer": {"name": customer.0, "phone": customer.1,
                                 "address": customer.2, "account_no": ""}}),
        )
        .await;
    anyhow::ensure!(status.is_success(), "create a job: {job}");
    let id: Uuid = job["id"].as_str().unwrap_or_default().parse()?;
    let mut dev = o.key_device(tech, PASSWORD).await;
    let events = vec![
        dev.record(id, &step("arrive")),
        dev.record(
            id,
            &EventBody::RatingGiven {
                stars,
                comment: comment.into(),
            },
        ),
        dev.record(
            id,
            &EventBody::JobClosed {
                resolution,
                summary: "清洗阀芯，恢复供热".into(),
            },
        ),
    ];
    o.push_events(&dev, &events).await;
    Ok(id)
}

#[test]
fn the_console_lists_feedback_records_and_downloads_the_documents() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console documents") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(scenario(parts)).expect("the scenario");
}

async fn scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let o = TestOffice::start_with(Seed::Demo, |_| {}).await;
    let staff = o.staff_token("zhaomin", PASSWORD).await;
    let first = closed_visit(
        &o,
        &staff,
        "zhangwei",
        ("王秀英", "13812345601", "幸福小区3号楼2单元501室"),
        5,
        "师傅很专业，穿了鞋套",
        Resolution::Resolved,
    )
    .await?;
    closed_visit(
        &o,
        &staff,
        "liqiang",
        ("赵强", "13900001111", "和平路8号2单元302"),
        2,
        "=HYPERLINK(\"http://evil.example\",\"点我\")",
        Resolution::FollowUpNeeded,
    )
    .await?;
    closed_visit(
        &o,
        &staff,
        "wangfang",
        ("钱多多", "13700002222", "滨河花园12号楼"),
        4,
        "来得很及时",
        Resolution::Resolved,
    )
    .await?;

    let url = o.url();
    let dir = tempfile::tempdir()?;
    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    b.client.goto(&url).await?;
    b.fill("console-login-user", "zhaomin").await?;
    b.fill("console-login-password", PASSWORD).await?;
    b.click("console-login-submit").await?;
    b.click("nav-feedback").await?;
    b.until(
        "three feedback records",
        "return document.querySelectorAll('[data-testid=\"feedback-row\"]').length === 3",
    )
    .await?;
    let table = b.el("feedback-table").await?.text().await?;
    for want in ["王秀英", "张伟", "RX-0101", "赵强", "需再次上门", "★★★★★"] {
        assert!(table.contains(want), "the list shows {want}: {table}");
    }
    b.shot("console-feedback").await?;

    // Catch the files the page hands to the browser, to read them back.
    b.js("window.__files = []; const o = URL.createObjectURL; \
          URL.createObjectURL = (blob) => { window.__files.push(blob); return o.call(URL, blob); }; \
          return true;")
        .await?;

    b.fill("feedback-customer", "王秀").await?;
    b.click("feedback-apply").await?;
    b.until(
        "the search to narrow the list to one",
        "return document.querySelectorAll('[data-testid=\"feedback-row\"]').length === 1",
    )
    .await?;
    b.click("feedback-csv").await?;
    b.until(
        "the CSV download",
        "return document.querySelector('[data-testid=\"feedback-csv\"]').dataset.state === 'done'",
    )
    .await?;
    let head: Value = b
        .client
        .execute_async(
            "const done = arguments[0]; window.__files[0].arrayBuffer().then((buf) => \
             done({bom: Array.from(new Uint8Array(buf).slice(0, 3)), \
                   text: new TextDecoder().decode(buf)}));",
            vec![],
        )
        .await?;
    assert_eq!(
        head["bom"],
        json!([0xEF, 0xBB, 0xBF]),
        "the CSV starts with a BOM"
    );
    let text = head["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("王秀英") && !text.contains("赵强"),
        "the CSV holds the records the search found: {text}"
    );

    b.click("monthly-download").await?;
    b.until(
        "the monthly workbook download",
        "return document.querySelector('[data-testid=\"monthly-download\"]').dataset.state === 'done'",
    )
    .await?;
    let zip: Value = b
        .js("const f = window.__files[1]; return f ? [f.size, f.type] : null;")
        .await?;
    assert!(
        zip[0].as_u64().unwrap_or(0) > 1000,
        "a workbook came down: {zip}"
    );

    b.client.goto(&format!("{url}/jobs/{first}")).await?;
    b.click("service-record-download").await?;
    let digest = b.el("document-digest").await?.text().await?;
    assert!(
        digest.contains("service_record") && digest.len() > 64,
        "the kept SHA-256 is shown: {digest}"
    );
    b.until(
        "the job page lists the download among the office's actions without a reload",
        "return !!document.querySelector('[data-testid=\"office-action\"][data-kind=\"document_download\"]');",
    )
    .await?;
    browser.quit().await;
    Ok(())
}
