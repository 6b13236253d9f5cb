//! The console's first load to an interactive board against a running office, e.g. a release
//! `heatcrew-office serve` on a database seeded with 100,000 jobs (README, "The console at scale"),
//! in headless Chromium (1280×800): signed in once, then `--runs` reloads (default 5), each timed
//! inside the page from navigation start to the first job card on the board (Performance timing),
//! with the board's job count and the JS+CSS the page fetched (bytes over the wire and decoded).
//! Prints figures; asserts nothing about time.
//!
//! ```text
//! heatcrew-office serve --db /tmp/scale.db --listen 127.0.0.1:8080 &
//! cargo test -p heatcrew-system-tests --bench console_load -- --url http://127.0.0.1:8080 \
//!     --user dispatcher1 --password seed-password-1
//! ```
//!
//! Skips, saying why, without chromium and chromedriver.

use heatcrew_system_tests::browser::{Browser, ChromiumParts};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Resolves with `performance.now()` once the board shows a job card (checked every frame).
const BOARD_SHOWN: &str = r#"
const done = arguments[arguments.length - 1];
const check = () => document.querySelector('[data-testid="board-job"]')
    ? done(performance.now()) : requestAnimationFrame(check);
check();
"#;

/// The scripts and styles the page fetched (transferred bytes, decoded bytes), the job cards shown,
/// and when the page's script ran and the board's first request went out and was answered.
const ASSETS: &str = r#"
let sent = 0, decoded = 0;
for (const r of performance.getEntriesByType('resource')) {
    if (/\.(js|css)(\?|$)/.test(r.name)) { sent += r.encodedBodySize; decoded += r.decodedBodySize; }
}
const board = performance.getEntriesByType('resource').filter(r => r.name.includes('/api/v1/console/board'))[0];
const nav = performance.getEntriesByType('navigation')[0];
return [sent, decoded, document.querySelectorAll('[data-testid="board-job"]').length,
        nav ? nav.domContentLoadedEventEnd : null, board ? board.requestStart : null, board ? board.responseEnd : null];
"#;

fn main() -> anyhow::Result<()> {
    let Some(url) = arg("--url") else {
        eprintln!(
            "usage: cargo test -p heatcrew-system-tests --bench console_load -- --url URL --user NAME --password PW [--runs N]"
        );
        return Ok(());
    };
    let user = arg("--user").unwrap_or_else(|| "dispatcher1".into());
    let password = arg("--password").unwrap_or_else(|| "seed-password-1".into());
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(5);
    let Some(parts) = ChromiumParts::find() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let b = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", "Asia/Shanghai")
            .await?;
        b.client.goto(&url).await?;
        b.fill("console-login-user", &user).await?;
        b.fill("console-login-password", &password).await?;
        b.click("console-login-submit").await?;
        b.css("[data-testid=\"board-job\"]").await?;
        let mut times = Vec::with_capacity(runs);
        let mut assets = serde_json::Value::Null;
        let mut phases = Vec::with_capacity(runs);
        for _ in 0..runs {
            b.client.refresh().await?;
            let shown = b.client.execute_async(BOARD_SHOWN, vec![]).await?;
            times.push(shown.as_f64().unwrap_or(f64::NAN));
            assets = b.js(ASSETS).await?;
            let at = |i: usize| assets[i].as_f64().unwrap_or(f64::NAN);
            phases.push(format!(
                "DOM ready {:.0}, board asked {:.0}, answered {:.0}",
                at(3),
                at(4),
                at(5)
            ));
        }
        b.quit().await;
        let shown: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
        times.sort_by(f64::total_cmp);
        println!(
            "console first load to an interactive board, {} job cards (ms from navigation start): [{}] median {:.0} max {:.0} (target ≤ 1000)",
            assets[2],
            shown.join(", "),
            times[runs / 2],
            times[runs - 1]
        );
        for (i, p) in phases.iter().enumerate() {
            println!("  load {}: {p}, first card {}", i + 1, shown[i]);
        }
        println!(
            "JS+CSS fetched on the last load: {} bytes over the wire, {} decoded (0 over the wire: from the browser cache)",
            assets[0], assets[1]
        );
        anyhow::Ok(())
    })
}
