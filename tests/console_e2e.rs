//! End to end in a real browser: the office (in this process) serving the built console, headless
//! Chromium driven through chromedriver like a dispatcher would, and a real device core signing in,
//! recording the visit and syncing. A dispatcher signs in, takes a phone report and assigns it to a
//! technician; the technician's device records the visit with photos, a signature and a rating and
//! syncs; the open board shows the job closed without a reload; the job page shows the evidence,
//! the device chain verified, and downloads an evidence bundle that verifies on its own.
//! Then the office goes away: the console shows its banner, and after the office returns the board
//! catches up with a change made while it was gone; the device records the first steps of that job
//! and the board shows it in progress at step 3 of n.
//! Second test: a technician's phone reports an accident and syncs; the open board shows the urgent
//! alert without a reload; the dispatcher acknowledges it from the banner, and the phone's next pull
//! carries who at the office took it.
//!
//! Needs `console/dist` (`cd console && npm run build`; `./dev` builds it) and Debian's `chromium`
//! and `chromium-driver`; skips saying why when they are missing, unless `HEATCREW_E2E_REQUIRED=1` or
//! `HEATCREW_CONSOLE_E2E_REQUIRED=1` (`./dev test`).
//! `HEATCREW_SCREENSHOTS=$PWD/docs/screenshots` saves each console screen as `console-*.png` (1280×800);
//! give an absolute path: cargo runs the test in `tests/`, so a relative one lands in `tests/docs/`.

use anyhow::Context;
use heatcrew_core::Store;
use heatcrew_core::demo::{self, VisitScript};
use heatcrew_core::sync::{self, Syncer};
use heatcrew_office::{Config, Office, RunningOffice};
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use heatcrew_system_tests::phone;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const PASSWORD: &str = "heatcrew-demo";
const DISPATCHER: &str = "zhaomin";
const TECHNICIAN: &str = "zhangwei";
/// The dispatchers work in China: the browser's clock and dates are theirs.
const TZ: &str = "Asia/Shanghai";

async fn start_office(db: &Path, addr: &str) -> RunningOffice {
    let office = Office::open(Config::new(db)).expect("open the office");
    office.seed_demo().expect("seed the demo company");
    office.spawn(addr).await.expect("serve the office")
}

/// A user as the office lists them (through a staff token, like the console).
async fn user(http: &reqwest::Client, url: &str, token: &str, username: &str) -> Value {
    let users: Value = http
        .get(format!("{url}/api/v1/users"))
        .bearer_auth(token)
        .send()
        .await
        .expect("list users")
        .json()
        .await
        .expect("users JSON");
    users
        .as_array()
        .and_then(|a| a.iter().find(|u| u["username"] == username))
        .cloned()
        .unwrap_or_else(|| panic!("the demo company has {username}"))
}

/// A user's id, as the office lists it.
async fn user_id(http: &reqwest::Client, url: &str, token: &str, username: &str) -> String {
    user(http, url, token, username).await["id"]
        .as_str()
        .expect("a user id")
        .to_owned()
}

async fn staff_token(http: &reqwest::Client, url: &str) -> String {
    let login: Value = http
        .post(format!("{url}/api/v1/auth/staff-login"))
        .json(&serde_json::json!({"username": DISPATCHER, "password": PASSWORD}))
        .send()
        .await
        .expect("staff login")
        .json()
        .await
        .expect("login JSON");
    login["access_token"].as_str().expect("a token").to_owned()
}

/// The console's header stays one row (52 px) on the test's 1280-pixel window; two rows are 82.
async fn header_is_one_row(b: &Browser, language: &str) -> anyhow::Result<()> {
    let height: Value = b
        .js("return document.querySelector('header.top').getBoundingClientRect().height;")
        .await?;
    anyhow::ensure!(
        height.as_f64().is_some_and(|h| h < 60.0),
        "the {language} header is one row at 1280 px: {height} px"
    );
    Ok(())
}

/// The data-state of the board card of `job`, from JavaScript.
fn card_state_is(job: &str, state: &str) -> String {
    format!(
        "const c = document.querySelector('[data-testid=\"board-job\"][data-job-id=\"{job}\"]'); \
         return !!c && c.dataset.state === '{state}';"
    )
}

/// The technician's phone: sign in, pull until `job` arrives, record the whole visit (photos,
/// signature, rating, close), sync until nothing is pending.
fn record_visit_on_device(db: &Path, url: &str, job: Uuid) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = Arc::new(Mutex::new(Store::open(db)?));
    rt.block_on(sync::login(&store, url, TECHNICIAN, PASSWORD))
        .map_err(|e| anyhow::anyhow!("device sign-in: {e}"))?;
    let syncer = Syncer::new(store.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        rt.block_on(syncer.sync_once())
            .map_err(|e| anyhow::anyhow!("pull: {e}"))?;
        let jobs = store.lock().expect("store").jobs()?;
        if let Some(j) = jobs.into_iter().find(|j| j.job.id == job) {
            break j;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the assigned job never reached the device"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut shot = 0u32;
    let mut images = |label: &str, n: u32| {
        shot += 1;
        demo::generated_png(&format!("console-e2e-{label}-{shot}"), n)
    };
    demo::home_repair_visit(
        &mut store.lock().expect("store"),
        &mut images,
        &stored.job,
        VisitScript::Signed,
    )?;
    let report = rt
        .block_on(syncer.sync_once())
        .map_err(|e| anyhow::anyhow!("push: {e}"))?;
    anyhow::ensure!(report.pushed > 0, "the visit was pushed: {report:?}");
    Ok(())
}

/// The technician's device (signed in already) takes `job` on its next pull and records its first
/// three checklist steps, then syncs: a visit in progress.
fn record_first_steps_on_device(db: &Path, job: Uuid) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = Arc::new(Mutex::new(Store::open(db)?));
    let syncer = Syncer::new(store.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        rt.block_on(syncer.sync_once())
            .map_err(|e| anyhow::anyhow!("pull: {e}"))?;
        if store
            .lock()
            .expect("store")
            .jobs()?
            .iter()
            .any(|j| j.job.id == job)
        {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the reassigned job never reached the device"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for step in ["appointment", "arrive", "identify"] {
        store.lock().expect("store").record(
            job,
            heatcrew_protocol::EventBody::StepCompleted {
                step: step.into(),
                evidence: heatcrew_protocol::StepEvidence::default(),
            },
        )?;
    }
    let report = rt
        .block_on(syncer.sync_once())
        .map_err(|e| anyhow::anyhow!("push: {e}"))?;
    anyhow::ensure!(report.pushed > 0, "the steps were pushed: {report:?}");
    Ok(())
}

/// The evidence bundle of `job` verifies on its own: the protocol's verifier over the unzipped
/// export and files.
async fn bundle_verifies(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    job: Uuid,
) -> anyhow::Result<u64> {
    use std::io::Read;
    let bytes = http
        .get(format!("{url}/api/v1/jobs/{job}/bundle"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut entries = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i)?;
        let mut content = Vec::new();
        f.read_to_end(&mut content)?;
        entries.insert(f.name()?.into_owned(), content);
    }
    let text = String::from_utf8(entries.get("evidence.jsonl").context("the export")?.clone())?;
    let export = heatcrew_protocol::export::Export::parse("evidence.jsonl", &text)
        .map_err(|e| anyhow::anyhow!(e))?;
    let report =
        heatcrew_protocol::export::verify_exports(&[export], |path| entries.get(path).cloned());
    anyhow::ensure!(report.ok(), "the bundle verifies: {:?}", report.faults);
    Ok(report.files)
}

#[test]
fn dispatcher_takes_a_report_and_sees_the_visit_close_live() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console e2e") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(scenario(parts)).expect("the console scenario");
}

async fn scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("office.db");
    let mut office = start_office(&db, "127.0.0.1:0").await;
    let url = office.url();
    let addr = office.addr.to_string();
    let http = reqwest::Client::new();
    let token = staff_token(&http, &url).await;
    let technician = user_id(&http, &url, &token, TECHNICIAN).await;

    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;

    // Sign-in refuses field staff with a clear message.
    b.client.goto(&url).await?;
    b.el("console-login-user").await?;
    b.shot("console-login").await?;
    b.fill("console-login-user", TECHNICIAN).await?;
    b.fill("console-login-password", PASSWORD).await?;
    b.click("console-login-submit").await?;
    let refusal = b.el("login-error").await?.text().await?;
    assert!(
        refusal.contains("外勤人员"),
        "a technician is told to use the phone app, in Chinese: {refusal}"
    );

    // First load to an interactive board, measured from navigation (printed, not asserted).
    b.fill("console-login-user", DISPATCHER).await?;
    b.fill("console-login-password", PASSWORD).await?;
    b.click("console-login-submit").await?;
    b.css("[data-testid=\"board-lane\"]").await?;
    let reload = Instant::now();
    b.client.refresh().await?;
    b.css("[data-testid=\"board-job\"]").await?;
    println!(
        "console first load to an interactive board (signed in, loopback): {} ms",
        reload.elapsed().as_millis()
    );
    b.shot("console-board").await?;

    // A phone report, assigned to the technician at once.
    b.click("new-job").await?;
    b.fill("intake-name", "王秀英").await?;
    b.fill("intake-phone", "12").await?;
    b.click("intake-submit").await?;
    let err = b.css(".field-error").await?.text().await?;
    assert!(
        err.contains("电话"),
        "a bad phone number is refused in Chinese before the office sees it: {err}"
    );
    b.fill("intake-phone", "138 0013 8000").await?;
    b.fill("intake-address", "幸福里小区 3 号楼 2 单元 501")
        .await?;
    b.fill("intake-account", "RL-100234").await?;
    b.fill("intake-fault", "暖气不热，卧室散热器冰凉").await?;
    b.el("intake-assignee").await?;
    b.until(
        "the technician is offered",
        &format!("return !!document.querySelector('[data-testid=\"intake-assignee\"] option[value=\"{technician}\"]')"),
    )
    .await?;
    b.set_value("intake-assignee", &technician).await?;
    b.shot("console-intake").await?;
    b.click("intake-submit").await?;
    b.el("job-state").await?;
    let current = b.client.current_url().await?;
    let job: Uuid = current
        .path()
        .strip_prefix("/jobs/")
        .context("the console opens the new job")?
        .parse()?;

    // The board shows it assigned; mark the page so a reload would be noticed.
    b.client.goto(&url).await?;
    b.until(
        "the new job is on the board, assigned",
        &card_state_is(&job.to_string(), "assigned"),
    )
    .await?;
    b.client
        .execute("window.__sameDocument = true; return true;", vec![])
        .await?;

    // The technician's device records the visit and syncs; the open board shows it closed.
    let device_db = dir.path().join("device.db");
    let office_url = url.clone();
    tokio::task::spawn_blocking(move || record_visit_on_device(&device_db, &office_url, job))
        .await??;
    b.until(
        "the board shows the job closed",
        &card_state_is(&job.to_string(), "closed"),
    )
    .await?;
    let same: Value = b
        .client
        .execute("return window.__sameDocument === true;", vec![])
        .await?;
    assert_eq!(
        same,
        Value::Bool(true),
        "the board updated without a reload"
    );
    b.shot("console-board-live").await?;

    // The job page: timeline, photos, signature, rating.
    b.css(&format!(
        "[data-testid=\"board-job\"][data-job-id=\"{job}\"]"
    ))
    .await?
    .click()
    .await?;
    b.el("job-timeline").await?;
    b.el("evidence-photo").await?;
    b.el("evidence-signature").await?;
    let rating = b.el("evidence-rating").await?.attr("data-stars").await?;
    assert!(
        rating.is_some_and(|s| s != "0"),
        "the customer's rating is shown"
    );
    let steps = b.all("[data-testid=\"timeline-step\"]").await?.len();
    let detail: Value = http
        .get(format!("{url}/api/v1/jobs/{job}"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let records: usize = [
        "steps",
        "photos",
        "signatures",
        "ratings",
        "notices",
        "readings",
        "defects",
        "other_records",
        "rejected",
    ]
    .iter()
    .map(|k| detail[*k].as_array().map_or(0, Vec::len))
    .sum::<usize>()
        + usize::from(!detail["closed"].is_null());
    assert_eq!(
        steps, records,
        "the timeline shows every record the office holds for the job"
    );
    let chain = b.el("chain-status").await?.attr("data-state").await?;
    assert_eq!(
        chain.as_deref(),
        Some("verified"),
        "the device's signatures and hash chain verify"
    );
    let first = b
        .css("[data-testid=\"timeline-step\"] strong")
        .await?
        .text()
        .await?;
    assert!(
        first.contains("预约"),
        "timeline rows carry the checklist's Chinese step title, not its id: {first}"
    );
    b.click("bundle-download").await?;
    b.until(
        "the evidence bundle downloads",
        "return document.querySelector('[data-testid=\"bundle-download\"]').dataset.state === 'done';",
    )
    .await?;
    b.until(
        "the job page lists the download among the office's actions without a reload",
        "return !!document.querySelector('[data-testid=\"office-action\"][data-kind=\"bundle_download\"]');",
    )
    .await?;
    let files = bundle_verifies(&http, &url, &token, job).await?;
    assert!(
        files >= 2,
        "the bundle carries the photos and the signature: {files}"
    );
    b.shot("console-job").await?;
    // What the office did to the job, by whom: opened (by this dispatcher, for the technician).
    let opened = b
        .css("[data-testid=\"office-action\"][data-kind=\"job_created\"]")
        .await?;
    b.scroll_to(&opened).await?;
    let said = opened.text().await?;
    assert!(
        said.contains("新建工单") && said.contains(DISPATCHER),
        "the job page says who opened the job: {said}"
    );
    b.shot("console-job-office-actions").await?;

    // The header is one row on a 1280-pixel screen: administration and the user's own pages are
    // menus. The menu opens under its name, Escape closes it, and its items lead to their pages.
    header_is_one_row(b, "zh-CN").await?;
    b.click_css("[data-testid=\"nav-admin\"] > summary").await?;
    assert!(
        b.el("nav-devices").await?.is_displayed().await?,
        "the open menu shows its items"
    );
    b.shot("console-menu-admin").await?;
    b.client
        .active_element()
        .await?
        .send_keys("\u{E00C}")
        .await?;
    b.until(
        "Escape closes the menu",
        "return !document.querySelector('[data-testid=\"nav-admin\"]').open;",
    )
    .await?;
    // The signed-in user's menu: two-step verification and sign-out.
    b.click_css("[data-testid=\"account-menu\"] > summary")
        .await?;
    assert!(
        b.el("sign-out").await?.is_displayed().await?,
        "the user's menu shows sign-out"
    );
    b.shot("console-menu-account").await?;
    b.click("nav-devices").await?;
    b.until(
        "the menu's item leads to its page and both menus close",
        "return location.pathname === '/devices' && !document.querySelector('details.menu[open]');",
    )
    .await?;

    // The other screens.
    for (path, testid, name) in [
        // console-users.png and console-devices.png: tests/console_admin.rs, after its changes.
        ("/outages", "outage-submit", "console-outages"),
    ] {
        b.client.goto(&format!("{url}{path}")).await?;
        b.el(testid).await?;
        b.shot(name).await?;
    }

    // A second report left in the tray.
    b.client.goto(&format!("{url}/new")).await?;
    // Typing the first caller's number offers her earlier job and address.
    b.fill("intake-phone", "138-0013-8000").await?;
    b.until(
        "the lookup offers the earlier caller",
        "const c = document.querySelector('[data-testid=\"intake-customer\"]'); return !!c && c.innerText.includes('王秀英') && c.innerText.includes('幸福里');",
    )
    .await?;
    b.shot("console-intake-lookup").await?;
    b.fill("intake-name", "李建国").await?;
    b.fill("intake-phone", "0451-8888 1234").await?;
    b.fill("intake-address", "和平路 18 号 1 单元 302").await?;
    b.fill("intake-fault", "阀门漏水").await?;
    b.click("intake-submit").await?;
    b.el("job-state").await?;
    let second: Uuid = b
        .client
        .current_url()
        .await?
        .path()
        .trim_start_matches("/jobs/")
        .parse()?;
    b.client.goto(&url).await?;
    b.until(
        "the second job waits in the tray",
        &card_state_is(&second.to_string(), "unassigned"),
    )
    .await?;

    // The office goes away: the banner shows. It is assigned while the console cannot hear it.
    office.stop().await;
    b.el("offline-banner").await?;
    b.shot("console-offline").await?;
    let again = Office::open(Config::new(&db))?;
    again
        .store()
        .assign_job(second, technician.parse()?, chrono::Utc::now())?;
    office = again.spawn(&addr).await?;
    b.until(
        "the board catches up after the office returns",
        &card_state_is(&second.to_string(), "assigned"),
    )
    .await?;
    b.until(
        "the banner goes once the office answers",
        "return !document.querySelector('[data-testid=\"offline-banner\"]');",
    )
    .await?;

    // The device takes the reassigned job and records three steps: step 3 of n on the board.
    let device_db = dir.path().join("device.db");
    tokio::task::spawn_blocking(move || record_first_steps_on_device(&device_db, second)).await??;
    b.until(
        "the board shows the second job in progress at step 3",
        &format!(
            "const c = document.querySelector('[data-testid=\"board-job\"][data-job-id=\"{second}\"]'); \
             return !!c && c.dataset.state === 'in_progress' && c.dataset.stepsDone === '3' && \
             c.innerText.includes('第 3/' + c.dataset.stepsTotal + ' 步');"
        ),
    )
    .await?;
    b.shot("console-board-progress").await?;

    // English throughout after a switch, kept across a reload.
    b.click("lang-switch").await?;
    b.until(
        "the board speaks English",
        "return document.body.innerText.includes('Dispatch board');",
    )
    .await?;
    b.client.refresh().await?;
    b.until(
        "English is kept",
        "return document.body.innerText.includes('Unassigned');",
    )
    .await?;
    b.shot("console-board-en").await?;
    header_is_one_row(b, "English").await?;

    browser.quit().await;
    office.stop().await;
    Ok(())
}

#[test]
fn a_reported_accident_alerts_the_open_board_and_the_ack_reaches_the_device() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console e2e") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(alert_scenario(parts))
        .expect("the alert scenario");
}

async fn alert_scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("office.db");
    let office = start_office(&db, "127.0.0.1:0").await;
    let url = office.url();
    let http = reqwest::Client::new();
    let token = staff_token(&http, &url).await;
    let dispatcher = user(&http, &url, &token, DISPATCHER).await;

    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    b.client.goto(&url).await?;
    b.fill("console-login-user", DISPATCHER).await?;
    b.fill("console-login-password", PASSWORD).await?;
    b.click("console-login-submit").await?;
    b.css("[data-testid=\"board-job\"]").await?;
    assert!(
        b.all("[data-testid=\"alert-banner\"]").await?.is_empty(),
        "no alert before any accident"
    );
    b.client
        .execute("window.__sameDocument = true; return true;", vec![])
        .await?;

    // The phone reports an accident and syncs: the open board shows the alert, no reload.
    let device_db = dir.path().join("device.db");
    let office_url = url.clone();
    let reported = Instant::now();
    let (job, report) = tokio::task::spawn_blocking({
        let device_db = device_db.clone();
        move || phone::report_accident(&device_db, &office_url, TECHNICIAN, PASSWORD)
    })
    .await??;
    let banner = b.el("alert-banner").await?;
    println!(
        "accident reported on the device to the alert on the open board (loopback): {} ms",
        reported.elapsed().as_millis()
    );
    assert_eq!(
        banner.attr("data-alert-id").await?.as_deref(),
        Some(report.to_string().as_str()),
        "the banner is the accident's"
    );
    assert_eq!(
        banner.attr("data-job-id").await?.as_deref(),
        Some(job.to_string().as_str())
    );
    let text = banner.text().await?;
    for expected in [
        phone::ACCIDENT,
        phone::ACCIDENT_PLACE,
        phone::MEASURES,
        "张伟",
        "RX-0101",
        "确认收到",
    ] {
        assert!(
            text.contains(expected),
            "the banner shows {expected}: {text}"
        );
    }
    let same: Value = b
        .client
        .execute("return window.__sameDocument === true;", vec![])
        .await?;
    assert_eq!(same, Value::Bool(true), "the alert came without a reload");
    b.shot("console-alert").await?;

    // Acknowledged from the banner: it goes, and the office has who and when.
    b.click("alert-ack").await?;
    b.until(
        "the banner goes once acknowledged",
        "return !document.querySelector('[data-testid=\"alert-banner\"]');",
    )
    .await?;
    let listed: Value = http
        .get(format!("{url}/api/v1/console/alerts"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let alert = listed
        .as_array()
        .and_then(|a| a.iter().find(|a| a["id"] == report.to_string()))
        .context("the office lists the alert")?;
    assert_eq!(
        alert["acknowledged"]["by"]["id"], dispatcher["id"],
        "acknowledged by the dispatcher who clicked: {alert}"
    );

    // 发现安全隐患时应及时报告: a critical defect on the same job raises its own banner, titled
    // as a hazard, not as an accident.
    let defect = tokio::task::spawn_blocking({
        let device_db = device_db.clone();
        move || phone::report_critical_defect(&device_db, job)
    })
    .await??;
    b.css(&format!(
        "[data-alert-id=\"{defect}\"] .what[data-kind=\"defect_reported\"]"
    ))
    .await?;
    let hazard = b.el("alert-banner").await?.text().await?;
    let shown = [
        "紧急警报：严重缺陷（安全隐患）",
        "主管道焊口漏水",
        "建设路DN300管段3号井",
    ];
    assert!(
        shown.iter().all(|s| hazard.contains(s)) && !hazard.contains("事故"),
        "titled as a hazard, not as an accident, with what and where: {hazard}"
    );
    b.click("alert-ack").await?;
    b.until(
        "the defect's banner goes once acknowledged",
        "return !document.querySelector('[data-testid=\"alert-banner\"]');",
    )
    .await?;

    // The phone's next pull brings the acknowledgement to the accident's job.
    let ack =
        tokio::task::spawn_blocking(move || phone::pull_acknowledgement(&device_db, job, report))
            .await??;
    assert_eq!(
        Some(ack.acknowledged_by.as_str()),
        dispatcher["display_name"].as_str(),
        "the phone shows who at the office took it"
    );

    browser.quit().await;
    office.stop().await;
    Ok(())
}
