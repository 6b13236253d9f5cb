//! The console's company details and a job's opinion form and corrections, in headless Chromium
//! against the real office and a real device core. An admin changes the company's name on the
//! 单位信息 page; the technician's device pulls it (its phrases name the new company), records a
//! visit up to the customer's opinion form and corrects the repair text; the job page shows the
//! customer's answers and the correction beside the original.
//!
//! Same parts and skipping as `console_e2e.rs`; `HEATCREW_SCREENSHOTS=$PWD/docs/screenshots` saves
//! `console-settings.png` and `console-job-corrections.png`.

use heatcrew_core::Store;
use heatcrew_core::demo;
use heatcrew_core::sync::{self, Syncer};
use heatcrew_core::template::Evidence;
use heatcrew_office::{Config, Office};
use heatcrew_protocol::{DeclineKind, EventBody, JobKind, StepEvidence};
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use serde_json::json;
use std::path::Path;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const PASSWORD: &str = "heatcrew-demo";
const TZ: &str = "Asia/Shanghai";

/// The technician's phone: sign in and pull, record zhangwei's first home repair up to and with the
/// customer's opinion form, correct the repair's fault text, sync. Returns the job and the phrase
/// the identify step shows.
fn visit_with_opinion_and_correction(db: &Path, url: &str) -> anyhow::Result<(Uuid, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = Arc::new(Mutex::new(Store::open(db)?));
    rt.block_on(sync::login(&store, url, "zhangwei", PASSWORD))
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
    let phrase = heatcrew_core::views::job(&s, job.id)?
        .steps
        .iter()
        .find(|st| st.id == "identify")
        .and_then(|st| st.phrase.clone())
        .map(|p| p.zh)
        .unwrap_or_default();
    let mut n = 0;
    loop {
        let view = heatcrew_core::views::job(&s, job.id)?;
        let Some(step) = view.current_step.clone() else {
            break;
        };
        if step == "contact_card" {
            break;
        }
        let spec = view
            .steps
            .iter()
            .find(|st| st.id == step)
            .expect("the step")
            .clone();
        for e in &spec.evidence {
            match e {
                Evidence::Photos { min, .. } => {
                    for _ in 0..*min {
                        n += 1;
                        let photo = s.ingest_photo(&demo::generated_png("console-opinion", n).0)?;
                        s.record(
                            job.id,
                            EventBody::PhotoAdded {
                                step: step.clone(),
                                photo,
                                caption: String::new(),
                            },
                        )?;
                    }
                }
                Evidence::Signature { .. } => {
                    s.record(
                        job.id,
                        EventBody::SignatureDeclined {
                            step: step.clone(),
                            outcome: DeclineKind::Absent,
                            reason: "客户临时外出，家属在场".into(),
                            witness: None,
                        },
                    )?;
                }
                Evidence::Rating => {
                    let answers = [
                        ("punctuality", "late"),
                        ("attitude", "good"),
                        ("tidiness", "yes"),
                        ("gifts", "none"),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                    s.record(
                        job.id,
                        EventBody::OpinionGiven {
                            stars: 4,
                            comment: "来晚了一点，修得很好".into(),
                            answers,
                        },
                    )?;
                }
                _ => {}
            }
        }
        let mut evidence = StepEvidence::default();
        if step == "diagnose_repair" {
            evidence
                .text
                .insert("fault_found".into(), "阀门堵塞".into());
            evidence
                .text
                .insert("work_done".into(), "清洗阀芯，恢复供热".into());
        }
        s.record(job.id, EventBody::StepCompleted { step, evidence })?;
    }
    let repair = heatcrew_core::views::correctable(&s, job.id)?
        .into_iter()
        .find(|r| r.step.as_deref() == Some("diagnose_repair"))
        .ok_or_else(|| anyhow::anyhow!("the repair text is correctable"))?;
    s.record(
        job.id,
        EventBody::Correction {
            corrects: repair.event_id,
            reason: "复查后发现是温控阀损坏".into(),
            replacement: Some(json!({"text": {"fault_found": "温控阀阀芯卡死"}})),
        },
    )?;
    drop(s);
    rt.block_on(syncer.sync_once())
        .map_err(|e| anyhow::anyhow!("push: {e}"))?;
    Ok((job.id, phrase))
}

#[test]
fn the_console_sets_the_company_and_shows_the_opinion_form_and_corrections() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console opinion") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(scenario(parts)).expect("the scenario");
}

async fn scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let office = Office::open(Config::new(dir.path().join("office.db")))?;
    office.seed_demo()?;
    let office = office.spawn("127.0.0.1:0").await?;
    let url = office.url();
    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    b.client.goto(&url).await?;
    b.fill("console-login-user", "admin").await?;
    b.fill("console-login-password", PASSWORD).await?;
    b.click("console-login-submit").await?;
    b.click("nav-settings").await?;
    b.until(
        "the demo company's details",
        "const e = document.querySelector('[data-testid=\"company-hotline\"]'); return !!e && e.value === '0531-96069';",
    )
    .await?;
    b.fill("company-hotline", "call us").await?;
    b.click("company-save").await?;
    b.css("[data-testid=\"company-hotline\"][aria-invalid=\"true\"]")
        .await?;
    b.fill("company-name", "滨河热力集团").await?;
    b.fill("company-hotline", "0531-96069").await?;
    b.click("company-save").await?;
    b.el("company-saved").await?;
    b.shot("console-settings").await?;

    let db = dir.path().join("device.db");
    let office_url = url.clone();
    let (job, phrase) =
        tokio::task::spawn_blocking(move || visit_with_opinion_and_correction(&db, &office_url))
            .await??;
    assert!(
        phrase.contains("滨河热力集团") && phrase.contains("张伟"),
        "the device's phrase names the company as the admin just set it: {phrase}"
    );

    b.client.goto(&format!("{url}/jobs/{job}")).await?;
    let card = b.el("job-corrections").await?;
    let now = b.el("correction-now").await?.text().await?;
    let was = b.el("correction-original").await?.text().await?;
    assert!(now.contains("温控阀阀芯卡死"), "the corrected text: {now}");
    assert!(was.contains("阀门堵塞"), "beside the original: {was}");
    let answers = b.el("opinion-answers").await?.text().await?;
    assert!(
        answers.contains("迟到") && answers.contains("需关注"),
        "the late arrival is marked for the office: {answers}"
    );
    b.client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&card)?],
        )
        .await?;
    b.shot("console-job-corrections").await?;
    browser.quit().await;
    Ok(())
}
