//! A busy day's board in headless Chromium against the real office, seeded the way the console
//! benchmark's database is (`heatcrew_office::seed`: every visit signed and pushed through the
//! ledger), with 40 crews and a tray longer than a batch: the first screens' lanes are filled at
//! once and the others stand empty until they come near; a lane filled late shows what changed
//! while it stood empty; the tray shows a batch and more as it is scrolled; the page asks for the
//! day once on a load (not again when the live stream opens), a change still reaches an open
//! board live, and the day in the address survives a reload.
//!
//! Needs `console/dist` and Debian's `chromium` and `chromium-driver` (as `console_e2e.rs`); skips
//! saying why when they are missing, unless `HEATCREW_E2E_REQUIRED=1` or
//! `HEATCREW_CONSOLE_E2E_REQUIRED=1` (`./dev test`).

use anyhow::Context;
use chrono::{Duration, Utc};
use heatcrew_office::seed::{SEED_PASSWORD, SeedPlan};
use heatcrew_office::store::SqliteStore;
use heatcrew_office::{Config, Office, office_key};
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use serde_json::{Value, json};

const TZ: &str = "Asia/Shanghai";
/// Unassigned jobs put in the tray: more than one batch (`TRAY_BATCH`, 40, in lib/board/lazy.ts).
const UNASSIGNED: usize = 55;

#[test]
fn a_busy_board_fills_lanes_as_they_come_near_asks_for_the_day_once_and_stays_live() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console board e2e") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(scenario(parts))
        .expect("the busy board scenario");
}

/// The board's day as its date input shows it.
const DATE: &str = "return document.querySelector('[data-testid=\"board-date\"]').value;";

/// Cards on the board, lanes filled, and board requests this page made.
const COUNTS: &str = r#"
const lanes = [...document.querySelectorAll('[data-testid="board-lane"]')];
return {
  cards: document.querySelectorAll('[data-testid="board-lane"] [data-testid="board-job"]').length,
  tray: document.querySelectorAll('[data-testid="board-tray"] [data-testid="board-job"]').length,
  lanes: lanes.length,
  filled: lanes.filter(l => l.dataset.filled === 'true').length,
  last_filled: lanes.length ? lanes[lanes.length - 1].dataset.filled === 'true' : null,
  last_cards: lanes.length ? lanes[lanes.length - 1].querySelectorAll('[data-testid="board-job"]').length : 0,
  last_user: lanes.length ? lanes[lanes.length - 1].dataset.userId : null,
  requests: performance.getEntriesByType('resource').filter(r => r.name.includes('/api/v1/console/board')).length,
};
"#;

async fn scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("office.db");
    let now = Utc::now();
    let report = {
        let store = SqliteStore::open(&db)?;
        let key = office_key::load_or_create(&office_key::default_path(&db), &store)?;
        heatcrew_office::seed::seed(
            &store,
            &key,
            &SeedPlan {
                jobs: 400,
                events: 1600,
                days: 1,
                field_users: 40,
                seed: 12,
                now,
            },
        )?
    };
    let day = report.busy_day.to_string();
    let office = Office::open(Config::new(db.clone()))?
        .spawn("127.0.0.1:0")
        .await?;
    let url = office.url();

    // More unassigned jobs than the tray shows at first, on the same day.
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{url}/api/v1/auth/staff-login"))
        .json(&json!({"username": "dispatcher1", "password": SEED_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .context("a token")?
        .to_owned();
    let noon = report
        .busy_day
        .and_hms_opt(4, 0, 0)
        .context("noon")?
        .and_utc();
    for i in 0..UNASSIGNED {
        let start = noon + Duration::minutes(i as i64);
        let resp = http
            .post(format!("{url}/api/v1/jobs"))
            .bearer_auth(&token)
            .json(&json!({"kind": "emergency_repair", "fault": format!("管道漏水 {i}"), "site": "东区",
                "reported_at": start - Duration::hours(1),
                "window": {"start": start, "end": start + Duration::hours(2)}}))
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "job {i}: {}", resp.status());
    }
    let board: Value = http
        .get(format!(
            "{url}/api/v1/console/board?date={day}&utc_offset_minutes=480"
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let jobs = board["jobs"].as_array().context("jobs")?;
    let assigned = jobs
        .iter()
        .filter(|j| !j["job"]["assignee"].is_null())
        .count();
    anyhow::ensure!(
        jobs.len() >= 400 + UNASSIGNED - 10,
        "the busy day is busy: {}",
        jobs.len()
    );

    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    b.client.goto(&format!("{url}/?date={day}")).await?;
    b.fill("console-login-user", "dispatcher1").await?;
    b.fill("console-login-password", SEED_PASSWORD).await?;
    b.click("console-login-submit").await?;
    b.css("[data-testid=\"board-job\"]").await?;
    assert_eq!(b.js(DATE).await?, day.as_str(), "the day from the address");

    // A reload: once settled, one request for the day, the first screens filled, the rest not.
    b.client.refresh().await?;
    b.css("[data-testid=\"board-job\"]").await?;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let c = b.js(COUNTS).await?;
    println!("busy board after a reload: {c}");
    assert_eq!(
        c["requests"], 1,
        "the day asked for once, not again when the live stream opened"
    );
    assert_eq!(c["lanes"], 40, "a lane per crew");
    let filled = c["filled"].as_u64().unwrap_or(0);
    assert!(
        (2..40).contains(&filled),
        "the lanes near the top are filled and the others wait: {c}"
    );
    assert!(
        (c["cards"].as_u64().unwrap_or(0) as usize) < assigned,
        "{c}"
    );
    assert_eq!(c["last_filled"], false, "{c}");
    assert_eq!(c["last_cards"], 0, "{c}");
    assert_eq!(c["tray"], 40, "the tray shows one batch: {c}");
    b.shot("console-board-lazy").await?;

    // Change a job in the last lane while it stands empty: it shows once the lane comes near.
    let last_user = c["last_user"].as_str().context("last lane")?.to_owned();
    let target = jobs
        .iter()
        .find(|j| j["job"]["assignee"] == last_user.as_str() && j["state"] == "assigned")
        .or_else(|| {
            jobs.iter()
                .find(|j| j["job"]["assignee"] == last_user.as_str())
        })
        .context("a job in the last lane")?["job"]["id"]
        .as_str()
        .context("id")?
        .to_owned();
    let resp = http
        .post(format!("{url}/api/v1/jobs/{target}/cancel"))
        .bearer_auth(&token)
        .json(&json!({"reason": "客户已自行修好"}))
        .send()
        .await?;
    anyhow::ensure!(resp.status().is_success(), "cancel: {}", resp.status());
    let last_lane = b.css("[data-testid=\"board-lane\"]:last-of-type").await?;
    b.scroll_to(&last_lane).await?;
    b.until(
        "the last lane fills as it comes into view, with the change made while it stood empty",
        &format!(
            "const c = document.querySelector('[data-testid=\"board-job\"][data-job-id=\"{target}\"]'); \
             return !!c && c.dataset.state === 'cancelled';"
        ),
    )
    .await?;
    let c = b.js(COUNTS).await?;
    assert_eq!(c["last_filled"], true, "{c}");

    // Live while open: a change to a job on screen shows without a reload.
    let first = b
        .js(
            "const c = document.querySelector('[data-testid=\"board-lane\"][data-filled=\"true\"] \
             [data-testid=\"board-job\"][data-state=\"assigned\"]'); \
             if (c) c.scrollIntoView({block: 'center'}); return c ? c.dataset.jobId : null;",
        )
        .await?
        .as_str()
        .context("an assigned job on screen")?
        .to_owned();
    let resp = http
        .post(format!("{url}/api/v1/jobs/{first}/cancel"))
        .bearer_auth(&token)
        .json(&json!({"reason": "重复报修"}))
        .send()
        .await?;
    anyhow::ensure!(resp.status().is_success(), "cancel: {}", resp.status());
    b.until(
        "the cancelled job shows on the open board",
        &format!(
            "const c = document.querySelector('[data-testid=\"board-job\"][data-job-id=\"{first}\"]'); \
             return !!c && c.dataset.state === 'cancelled';"
        ),
    )
    .await?;

    // The tray: scrolled to its end (again after each batch), it shows the rest.
    b.until(
        "the tray shows every unassigned job once scrolled",
        &format!(
            "const t = document.querySelector('[data-testid=\"board-tray\"]'); t.scrollTop = t.scrollHeight; \
             return t.querySelectorAll('[data-testid=\"board-job\"]').length >= {UNASSIGNED} \
             && !document.querySelector('[data-testid=\"board-tray-more\"]');"
        ),
    )
    .await?;

    // Another day is kept in the address across a reload.
    let other = (report.busy_day - Duration::days(3)).to_string();
    b.set_value("board-date", &other).await?;
    b.until(
        "the address names the day",
        &format!("return location.search === '?date={other}';"),
    )
    .await?;
    b.client.refresh().await?;
    b.css("[data-testid=\"board-lane\"]").await?;
    assert_eq!(
        b.js(DATE).await?,
        other.as_str(),
        "the day kept across a reload"
    );
    browser.quit().await;
    Ok(())
}
