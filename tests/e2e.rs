//! End to end: the real field app (`heatcrew-app`, front end embedded) under Xvfb, driven by
//! tauri-driver + WebKitWebDriver like a person would, against a real office on loopback, then
//! checked through the office's own API. Each scenario has its own office, device database and
//! driver on free ports.
//!
//! Run: `cargo build -p heatcrew-app && xvfb-run -a -s "-screen 0 400x820x24" cargo test -p
//! heatcrew-system-tests --test e2e -- --test-threads=1 --nocapture` (`./dev test` does this with
//! `HEATCREW_E2E_REQUIRED=1`). Without a display, drivers or the app binary every scenario skips
//! and says why. `HEATCREW_SCREENSHOTS=docs/screenshots` saves the main screens (zh-CN).

use heatcrew_core::demo;
use heatcrew_core::template::{Lang, latest_for};
use heatcrew_protocol::JobKind;
use heatcrew_sim::DispatchApi;
use heatcrew_system_tests::app::{App, Parts};
use heatcrew_testkit::office_process::{self, OfficeProcess};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use uuid::Uuid;

use heatcrew_testkit::DEMO_PASSWORD as PASSWORD;

#[path = "e2e/opinion.rs"]
mod opinion;
#[path = "e2e/outcomes.rs"]
mod outcomes;
#[path = "e2e/photos.rs"]
mod photos;

#[test]
#[ignore = "not a test: the office child process that OfficeProcess starts"]
fn office_child() {
    office_process::serve_if_child();
}

/// A scenario's world: a demo office in a child process, a temp dir, the app's parts.
struct World {
    parts: Parts,
    dir: TempDir,
    office: OfficeProcess,
    rt: tokio::runtime::Runtime,
}

impl World {
    fn new() -> Option<World> {
        let parts = Parts::find()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let office = OfficeProcess::start(&dir.path().join("office.db"), "127.0.0.1:0");
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        Some(World {
            parts,
            dir,
            office,
            rt,
        })
    }

    fn device_db(&self, user: &str) -> PathBuf {
        self.dir.path().join(format!("{user}.db"))
    }

    /// Camera photos for the photo inputs (small PNGs; the app's pipeline takes any format).
    fn photos(&self, n: u32) -> Vec<PathBuf> {
        (1..=n)
            .map(|i| {
                let (bytes, _) = demo::generated_png("e2e", i);
                let path = self.dir.path().join(format!("photo-{i}.png"));
                std::fs::write(&path, bytes).expect("write photo");
                path
            })
            .collect()
    }

    /// The app on `user`'s own device database, signed in, with the first job of `kind` open.
    async fn open_first(&self, user: &str, kind: &str) -> (App, String) {
        let app = App::launch(&self.parts, &self.device_db(user))
            .await
            .expect("the app starts");
        app.sign_in(&self.office.url(), user, PASSWORD)
            .await
            .expect("sign in");
        let job_id = app.job_of_kind(kind).await.expect("a job of that kind");
        app.open_job(&job_id).await.expect("open the job");
        (app, job_id)
    }

    /// The job as the office reads it back, through the dispatcher's API.
    async fn office_job(&self, id: &str) -> Value {
        let api = DispatchApi::sign_in(
            &self.office.url(),
            "zhaomin",
            PASSWORD,
            Duration::from_secs(30),
        )
        .await
        .expect("dispatcher signs in");
        let id: Uuid = id.parse().expect("job id is a UUID");
        api.job_detail(id).await.expect("job detail")
    }
}

fn len(v: &Value, key: &str) -> usize {
    v[key].as_array().map_or(0, Vec::len)
}

/// Walk a home repair visit from the step on screen up to (not including) `stop_at`, giving each
/// step what it needs: confirmations, photos, the repair texts.
async fn walk_repair_steps(app: &App, photos: &[PathBuf], stop_at: &str) -> anyhow::Result<()> {
    let mut next_photo = photos.iter().cycle();
    loop {
        let step = app.step().await?;
        if step == stop_at {
            return Ok(());
        }
        let did = async {
            match step.as_str() {
                "safety_signs" | "clean_up" => {
                    app.add_photo(next_photo.next().expect("photos")).await?;
                    if step == "clean_up" {
                        app.shot("photos").await?;
                    }
                }
                "diagnose_repair" => {
                    app.fill("evidence-fault_found", "散热器进水阀门堵塞，水流不通")
                        .await?;
                    app.fill("evidence-work_done", "拆洗阀门并放气，恢复供热")
                        .await?;
                    app.fill("evidence-parts_used", "无").await?;
                    app.add_photo(next_photo.next().expect("photos")).await?;
                    app.add_photo(next_photo.next().expect("photos")).await?;
                }
                "identify" => app.shot("visit-step").await?,
                _ => {}
            }
            app.confirm_step().await
        };
        if let Err(e) = did.await {
            app.shot("fail-step").await.ok();
            anyhow::bail!("step {step}: {e:?}");
        }
    }
}

/// The headline: a whole home repair visit recorded while the office is down (photos, a
/// drawn signature, a rating, the contact card, closing), then the office comes back and the
/// visit arrives — checked through the office's API, signature image and photos included.
#[test]
fn repair_visit_recorded_offline_arrives_after_office_restarts() {
    let Some(mut w) = World::new() else { return };
    let photos = w.photos(3);
    let rt = &w.rt;
    let office_url = w.office.url();
    let db = w.device_db("zhangwei");
    let parts = w.parts.clone();
    let (job_id, app) = rt.block_on(async {
        let app = App::launch(&parts, &db).await.expect("app starts");
        app.el("login-office").await.expect("sign-in screen");
        app.shot("sign-in").await.unwrap();
        app.sign_in(&office_url, "zhangwei", PASSWORD)
            .await
            .expect("sign in");
        let job = app.job_of_kind("home_repair").await.expect("a repair job");
        app.shot("today").await.unwrap();
        (job, app)
    });

    // The basement: no office from here on.
    w.office.kill();

    let visit_started = Instant::now();
    rt.block_on(async {
        app.open_job(&job_id).await.expect("open the visit");
        walk_repair_steps(&app, &photos, "signature")
            .await
            .expect("steps up to the signature");
        app.draw_signature().await.expect("draw");
        app.shot("signature-pad").await.unwrap();
        app.click("signature-save").await.expect("save signature");
        app.css("[data-signature=\"signed\"]")
            .await
            .expect("signature locked in");
        app.confirm_step().await.expect("past the signature");

        assert_eq!(app.step().await.unwrap(), "rating");
        // The phone goes to the customer for the opinion form (customer mode, tests/e2e/opinion.rs).
        app.click("customer-mode-start").await.unwrap();
        app.answer_opinion(5).await.expect("the opinion form");
        app.fill("rating-comment", "师傅很专业，鞋套也穿了")
            .await
            .unwrap();
        app.shot("rating").await.unwrap();
        app.click("rating-submit").await.unwrap();
        app.click("customer-mode-done").await.unwrap();
        app.confirm_step().await.expect("past the rating");

        assert_eq!(app.step().await.unwrap(), "contact_card");
        app.confirm_step().await.expect("past the contact card");
        app.shot("close").await.unwrap();
        app.click_css("[data-testid=\"close-result\"][data-value=\"resolved\"]")
            .await
            .expect("choose the result: no default closes a visit");
        app.click("visit-complete").await.expect("close the visit");
        app.el("job-closed").await.expect("visit closed");
    });
    let visit_secs = visit_started.elapsed().as_secs_f64();

    // Everything waits on the phone, nothing acknowledged.
    rt.block_on(async {
        app.open_outbox().await.unwrap();
        let states = app.outbox_states().await.unwrap();
        assert!(
            states.len() >= 12,
            "every step, the signature, the rating and the closing are queued: {states:?}"
        );
        assert!(
            states.iter().all(|s| s != "acknowledged"),
            "nothing can be acknowledged while the office is down: {states:?}"
        );
        assert!(
            app.all("[data-testid=\"sync-problem\"]")
                .await
                .unwrap()
                .is_empty(),
            "being offline is said by the offline note, not as a raw transport error"
        );
        let status = app.el("sync-status").await.unwrap();
        assert_eq!(
            status.attr("data-online").await.unwrap().as_deref(),
            Some("false")
        );
        app.shot("outbox").await.unwrap();
    });

    // Back in signal: the office is up again on the same address.
    w.office.restart();
    let synced = rt
        .block_on(app.sync_until_acknowledged(Duration::from_secs(120)))
        .expect("the outbox drains once the office is back");

    let job = rt.block_on(w.office_job(&job_id));
    assert!(
        job["closed"].is_object(),
        "the office sees the visit closed: {job:#}"
    );
    let sigs = job["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 1, "one signature: {sigs:#?}");
    assert_eq!(sigs[0]["signer"], "customer", "the customer signed");
    assert_eq!(
        sigs[0]["image"]["received"], true,
        "the drawn signature's image reached the office: {:#}",
        sigs[0]
    );
    let photos_on_office = job["photos"].as_array().expect("photos");
    assert_eq!(
        photos_on_office.len(),
        3,
        "two repair photos and the clean-up photo: {photos_on_office:#?}"
    );
    assert!(
        photos_on_office
            .iter()
            .all(|p| p["photo"]["received"] == true),
        "every photo file arrived: {photos_on_office:#?}"
    );
    assert_eq!(
        job["ratings"][0]["payload"]["stars"], 5,
        "the rating arrived"
    );
    println!(
        "e2e repair visit: {synced} records acknowledged; visit screen time {visit_secs:.1} s (recorded offline)"
    );
    rt.block_on(app.quit());
}

/// The customer will not sign: the refusal with its reason and witness is a record of its own, and
/// the office sees it as a declined signature; nor will they rate, so that step is skipped with the
/// reason.
#[test]
fn refused_signature_reaches_the_office_with_reason_and_witness() {
    let Some(w) = World::new() else { return };
    let photos = w.photos(2);
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("liqiang", "home_repair").await;
        walk_repair_steps(&app, &photos, "signature").await.unwrap();
        app.click("signature-refuse").await.unwrap();
        app.fill("refusal-reason", "客户对收费有异议，拒绝签字")
            .await
            .unwrap();
        app.fill("witness-name", "物业 李师傅").await.unwrap();
        app.fill("witness-phone", "13900001111").await.unwrap();
        app.click("refusal-submit").await.unwrap();
        app.css("[data-signature=\"declined\"]")
            .await
            .expect("refusal locked in");
        app.shot("signature-refused").await.unwrap();
        app.confirm_step().await.expect("past the refusal");

        // Nor will they rate the visit: the step is skipped, with the reason said.
        assert_eq!(app.step().await.unwrap(), "rating");
        app.click("step-skip").await.unwrap();
        app.fill("skip-reason", "客户拒绝评价").await.unwrap();
        app.click("step-skip").await.unwrap();
        app.until(
            "the step after the skipped rating",
            Duration::from_secs(45),
            || async { Ok((app.step().await? != "rating").then_some(())) },
        )
        .await
        .unwrap();
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .unwrap();

        let job = w.office_job(&job_id).await;
        let sig = &job["signatures"][0];
        assert_eq!(sig["signer"], "declined", "recorded as declined: {job:#}");
        assert!(
            sig.get("image").is_none(),
            "no image for a refusal: {sig:#}"
        );
        let declined = sig["declined"].to_string();
        assert!(declined.contains("refused"), "the outcome: {declined}");
        assert!(
            declined.contains("客户对收费有异议"),
            "the reason: {declined}"
        );
        assert!(declined.contains("物业 李师傅"), "the witness: {declined}");
        let rating = job["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|st| st["step"] == "rating"))
            .unwrap_or_else(|| panic!("the rating step reached the office: {job:#}"));
        assert_eq!(rating["status"], "skipped", "{rating:#}");
        assert_eq!(rating["skip_reason"], "客户拒绝评价", "{rating:#}");
        app.quit().await;
    });
}

/// A patrol finds a defect on the round: category, severity, position and description reach the
/// office as a defect record.
#[test]
fn patrol_defect_reaches_the_office() {
    let Some(w) = World::new() else { return };
    let photos = w.photos(1);
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("chenjun", "patrol_round").await;
        app.el("checkpoint-item").await.expect("checkpoints listed");
        assert_eq!(app.step().await.unwrap(), "shift_ready");
        app.click("step-confirm").await.unwrap();
        app.until("the round's next step", Duration::from_secs(45), || async {
            Ok((app.step().await? == "checkpoints").then_some(()))
        })
        .await
        .unwrap();
        app.shot("patrol").await.unwrap();

        app.click("defect-new").await.unwrap();
        app.click_css("[data-testid=\"defect-category\"] label.option")
            .await
            .unwrap();
        app.click_css("[data-testid=\"defect-severity\"] input[value=\"major\"]")
            .await
            .unwrap();
        let position = app.el("defect-position").await.unwrap();
        position.clear().await.unwrap();
        position
            .send_keys("3号换热站 一次网供水管 东侧")
            .await
            .unwrap();
        app.fill("defect-description", "保温层破损约1米，管道表面锈蚀")
            .await
            .unwrap();
        app.add_photo(&photos[0]).await.unwrap();
        app.shot("patrol-defect").await.unwrap();
        app.click("defect-submit").await.unwrap();
        app.el("defect-item")
            .await
            .expect("the defect is listed on the round");
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .unwrap();

        let job = w.office_job(&job_id).await;
        assert_eq!(len(&job, "defects"), 1, "one defect: {job:#}");
        let d = &job["defects"][0];
        assert_eq!(d["payload"]["severity"], "major", "{d:#}");
        assert!(
            d.to_string().contains("保温层破损"),
            "the description: {d:#}"
        );
        assert!(d.to_string().contains("3号换热站"), "the position: {d:#}");
        assert_eq!(
            d["attachments"][0]["received"], true,
            "the defect photo arrived: {d:#}"
        );
        app.quit().await;
    });
}

/// The inspector switches the app to English and back; the step titles follow, and the choice
/// survives a restart of the app.
#[test]
fn switching_language_changes_every_text_and_is_kept() {
    let Some(w) = World::new() else { return };
    let template = latest_for(JobKind::HeatTheftInspection);
    let title = |lang: Lang| template.steps[0].title.get(lang).to_owned();
    let db = w.device_db("liuyang");
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("liuyang", "heat_theft_inspection").await;
        assert_eq!(app.text("step-title").await.unwrap(), title(Lang::Zh));
        app.shot("inspection").await.unwrap();

        app.click("lang-switch").await.unwrap();
        app.wait_text("step-title", &title(Lang::En)).await.unwrap();
        assert_eq!(
            app.attr("lang-switch", "data-lang")
                .await
                .unwrap()
                .as_deref(),
            Some("en")
        );
        app.quit().await;

        // The choice is the device's: still English after the app is started again.
        let app = App::launch(&w.parts, &db).await.expect("app again");
        app.el("job-list").await.expect("signed in still");
        assert_eq!(
            app.attr("lang-switch", "data-lang")
                .await
                .unwrap()
                .as_deref(),
            Some("en")
        );
        app.open_job(&job_id).await.unwrap();
        assert_eq!(app.text("step-title").await.unwrap(), title(Lang::En));
        app.click("lang-switch").await.unwrap();
        app.wait_text("step-title", &title(Lang::Zh)).await.unwrap();
        app.quit().await;
    });
}

/// Heat-theft evidence: the inspection's findings, the occupant's refusal to acknowledge with a
/// witness, and a rectification notice whose number and deadline reach the office.
#[test]
fn inspection_notice_reaches_the_office_with_its_number() {
    let Some(w) = World::new() else { return };
    let photos = w.photos(1);
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("liuyang", "heat_theft_inspection").await;
        loop {
            match app.step().await.unwrap().as_str() {
                "inspect" => {
                    for key in ["meter", "seal", "valve"] {
                        app.click_css(&format!("[data-testid=\"evidence-{key}\"] label.option"))
                            .await
                            .unwrap();
                    }
                    app.add_photo(&photos[0]).await.unwrap();
                    app.shot("inspection-evidence").await.unwrap();
                }
                "acknowledgement" => {
                    app.click("signature-refuse").await.unwrap();
                    app.fill("refusal-reason", "用户拒绝在检查记录上签字")
                        .await
                        .unwrap();
                    app.fill("witness-name", "社区网格员 王芳").await.unwrap();
                    app.click("refusal-submit").await.unwrap();
                    app.css("[data-signature=\"declined\"]").await.unwrap();
                }
                "notice" => break,
                _ => {}
            }
            app.confirm_step().await.unwrap();
        }
        app.fill(
            "notice-requirements",
            "拆除私接管道，恢复原状，七日内到营业厅补缴热费",
        )
        .await
        .unwrap();
        app.click("notice-submit").await.unwrap();
        let number = app
            .css("[data-testid=\"notice-issued\"] .number")
            .await
            .unwrap();
        let number = number.text().await.unwrap();
        assert!(number.starts_with("ZG-"), "a notice number: {number}");
        app.shot("inspection-notice").await.unwrap();
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .unwrap();

        let job = w.office_job(&job_id).await;
        assert_eq!(len(&job, "notices"), 1, "{job:#}");
        assert_eq!(job["notices"][0]["payload"]["number"], number.as_str());
        app.quit().await;
    });
}

/// 供热工程验收中……留下书面整改意见 (现场服务 8): an acceptance inspection that fails cannot skip the
/// written rectification opinion; the inspector leaves the notice, the contractor signs, and the
/// office holds both.
#[test]
fn a_failed_acceptance_leaves_its_written_rectification_opinion() {
    let Some(w) = World::new() else { return };
    let photos = w.photos(1);
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("liuyang", "acceptance_inspection").await;
        loop {
            match app.step().await.unwrap().as_str() {
                "inspect" => {
                    app.click_css(
                        "[data-testid=\"evidence-result\"] label.option[data-value=\"failed\"]",
                    )
                    .await
                    .unwrap();
                    app.add_photo(&photos[0]).await.unwrap();
                }
                "rectification" => break,
                _ => {}
            }
            app.confirm_step().await.unwrap();
        }
        assert!(
            app.all("[data-testid=\"step-skip\"]")
                .await
                .unwrap()
                .is_empty(),
            "a failed acceptance's opinion cannot be skipped"
        );
        app.fill(
            "notice-requirements",
            "按设计补做二次网回水管保温，更换锈蚀阀门",
        )
        .await
        .unwrap();
        app.click("notice-submit").await.unwrap();
        let number = app
            .css("[data-testid=\"notice-issued\"] .number")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        app.shot("acceptance-rectification").await.unwrap();
        app.confirm_step().await.unwrap();
        assert_eq!(app.step().await.unwrap(), "signature");
        app.fill("signer-name", "赵工（施工方）").await.unwrap();
        app.draw_signature().await.unwrap();
        app.click("signature-save").await.unwrap();
        app.css("[data-signature=\"signed\"]").await.unwrap();
        app.confirm_step().await.unwrap();
        app.click_css("[data-testid=\"close-result\"][data-value=\"resolved\"]")
            .await
            .unwrap();
        app.click("visit-complete").await.unwrap();
        app.el("job-closed").await.unwrap();
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .unwrap();

        let job = w.office_job(&job_id).await;
        assert_eq!(len(&job, "notices"), 1, "{job:#}");
        assert_eq!(job["notices"][0]["payload"]["number"], number.as_str());
        assert_eq!(
            job["signatures"][0]["signer"], "contractor",
            "signed by the contractor: {job:#}"
        );
        app.quit().await;
    });
}

#[path = "e2e/hardware.rs"]
mod hardware;
