//! The console's first load to an interactive board against a running office, e.g. a release
//! `heatcrew-office serve` on a database seeded with 100,000 jobs (README, "The console at scale"),
//! in headless Chromium (1280×800): signed in once, then `--runs` reloads (default 10), each timed
//! inside the page from navigation start (Performance timing) to the first job card in the
//! document, to that frame painted, and to the main thread settled (no task over 50 ms for 500 ms
//! after), with the phases between (board asked, answered, parsed, rendered), the board's job
//! count and answer size, and the JS+CSS the page fetched (bytes over the wire and decoded).
//! A day other than today: `--url http://…/?date=YYYY-MM-DD`. Prints the median and p95 (nearest
//! rank) of each; asserts nothing about time.
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

/// Resolves once the board shows a job card (checked every frame) and that frame is painted, with
/// `[card in the document, painted, settled]` in ms from navigation start. Settled: the start of the
/// first 500 ms after the paint in which no task held the page's main thread for more than 50 ms
/// (a timer every 25 ms never fired more than 50 ms late): the board answers clicks and scrolls
/// at once from then on (a second fetch and render after the live stream opens counts as busy).
const BOARD_SHOWN: &str = r#"
const done = arguments[arguments.length - 1];
const settle = (shown, painted) => {
    let quietFrom = performance.now(), last = quietFrom;
    const beat = () => {
        const t = performance.now();
        if (t - last > 75) quietFrom = t;
        last = t;
        if (t - quietFrom >= 500) done([shown, painted, quietFrom]);
        else setTimeout(beat, 25);
    };
    setTimeout(beat, 25);
};
const check = () => {
    if (!document.querySelector('[data-testid="board-job"]')) return requestAnimationFrame(check);
    const shown = performance.now();
    // The next frame's callbacks run after this frame was painted.
    requestAnimationFrame(() => setTimeout(() => settle(shown, performance.now()), 0));
};
check();
"#;

/// The scripts and styles the page fetched (transferred bytes, decoded bytes), the job cards in the
/// document and in the board's answer, when the page's script ran, the board's first request went
/// out and was answered, its answer was parsed and rendered (the console's `board:*` marks), the
/// answer's size (over the wire, decoded), and how many board requests the load made.
const ASSETS: &str = r#"
let sent = 0, decoded = 0;
for (const r of performance.getEntriesByType('resource')) {
    if (/\.(js|css)(\?|$)/.test(r.name)) { sent += r.encodedBodySize; decoded += r.decodedBodySize; }
}
const boards = performance.getEntriesByType('resource').filter(r => r.name.includes('/api/v1/console/board'));
const board = boards[0];
const nav = performance.getEntriesByType('navigation')[0];
const mark = (n) => { const m = performance.getEntriesByName(n, 'mark')[0]; return m ? m.startTime : null; };
const total = document.querySelector('[data-testid="board-tray"] h2 span');
let inAnswer = 0;
for (const l of document.querySelectorAll('[data-testid="board-lane"] .lane-head span:last-child')) inAnswer += parseInt(l.textContent) || 0;
return [sent, decoded, document.querySelectorAll('[data-testid="board-job"]').length,
        nav ? nav.domContentLoadedEventEnd : null, board ? board.requestStart : null, board ? board.responseEnd : null,
        mark('board:data'), mark('board:rendered'), board ? board.encodedBodySize : null, board ? board.decodedBodySize : null,
        boards.length, inAnswer + (total ? parseInt(total.textContent) || 0 : 0)];
"#;

/// The median and the 95th percentile (nearest rank) of `v`.
fn median_p95(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let p95 = (v.len() * 95).div_ceil(100).max(1) - 1;
    (v[v.len() / 2], v[p95])
}

fn main() -> anyhow::Result<()> {
    let Some(url) = arg("--url") else {
        eprintln!(
            "usage: cargo test -p heatcrew-system-tests --bench console_load -- --url URL --user NAME --password PW [--runs N]"
        );
        return Ok(());
    };
    let user = arg("--user").unwrap_or_else(|| "dispatcher1".into());
    let password = arg("--password").unwrap_or_else(|| "seed-password-1".into());
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(10);
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
        let (mut shown, mut painted, mut settled) = (Vec::new(), Vec::new(), Vec::new());
        let mut assets = serde_json::Value::Null;
        let mut phases = Vec::with_capacity(runs);
        for _ in 0..runs {
            b.client.refresh().await?;
            let t = b.client.execute_async(BOARD_SHOWN, vec![]).await?;
            let t = |i: usize| t[i].as_f64().unwrap_or(f64::NAN);
            shown.push(t(0));
            painted.push(t(1));
            settled.push(t(2));
            assets = b.js(ASSETS).await?;
            let at = |i: usize| assets[i].as_f64().unwrap_or(f64::NAN);
            phases.push(format!(
                "DOM ready {:.0}, board asked {:.0}, answered {:.0}, parsed {:.0}, rendered {:.0}, first card {:.0}, painted {:.0}, settled {:.0} ({} board requests)",
                at(3),
                at(4),
                at(5),
                at(6),
                at(7),
                t(0),
                t(1),
                t(2),
                assets[10]
            ));
        }
        b.quit().await;
        let list = |v: &[f64]| v.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>().join(", ");
        println!(
            "console first load to an interactive board, {} jobs on the board, {} cards drawn at first (the rest as they scroll near); ms from navigation start:",
            assets[11], assets[2]
        );
        for (what, v) in [
            ("first card painted", &painted),
            ("main thread settled", &settled),
            ("first card in the document", &shown),
        ] {
            let (median, p95) = median_p95(v.clone());
            println!("  {what}: [{}] median {median:.0} p95 {p95:.0} (target ≤ 1000)", list(v));
        }
        for (i, p) in phases.iter().enumerate() {
            println!("  load {}: {p}", i + 1);
        }
        println!(
            "board answer on the last load: {} bytes over the wire, {} decoded",
            assets[8], assets[9]
        );
        println!(
            "JS+CSS fetched on the last load: {} bytes over the wire, {} decoded (0 over the wire: from the browser cache)",
            assets[0], assets[1]
        );
        anyhow::Ok(())
    })
}
