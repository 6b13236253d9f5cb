//! The console's second factor in headless Chromium against the real office, run as `serve` runs it
//! (admins must have one) on a clock the test moves: the demo admin's password alone opens only the
//! setup page; a wrong code is refused there without ending the session; the QR code's key and a
//! current code turn it on; sign-in then asks for the code, refuses the one that confirmed the key
//! and a replayed one (`totp_used`), and takes a fresh one.
//!
//! Needs `console/dist` and Debian's `chromium` and `chromium-driver` (as `console_e2e.rs`); skips
//! saying why when they are missing, unless `HEATCREW_E2E_REQUIRED=1` or
//! `HEATCREW_CONSOLE_E2E_REQUIRED=1` (`./dev test`).

use anyhow::Context;
use heatcrew_office::{Config, Office};
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};

const PASSWORD: &str = "heatcrew-demo";
const TZ: &str = "Asia/Shanghai";

#[test]
fn an_admin_must_set_up_totp_in_the_console_and_then_signs_in_with_a_code_once() {
    let Some(parts) = ChromiumParts::find() else {
        return;
    };
    if !browser::console_built("console TOTP e2e") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(totp_scenario(parts))
        .expect("the second-factor scenario");
}

/// The demo office as `serve` runs it (admins need a second factor), on a clock the test moves.
async fn totp_scenario(parts: ChromiumParts) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = heatcrew_office::clock::Clock::system();
    let office = Office::open(Config {
        require_admin_totp: true,
        clock: clock.clone(),
        ..Config::new(dir.path().join("office.db"))
    })?;
    office.seed_demo()?;
    let office = office.spawn("127.0.0.1:0").await?;
    let url = office.url();
    let browser = Browser::launch(&parts, &dir.path().join("chromium"), "zh-CN", TZ).await?;
    let b = &browser;
    let sign_in = |code: Option<String>| async move {
        b.fill("console-login-user", "admin").await?;
        b.fill("console-login-password", PASSWORD).await?;
        b.click("console-login-submit").await?;
        if let Some(code) = code {
            b.fill("console-login-totp", &code).await?;
            b.click("console-login-submit").await?;
        }
        anyhow::Ok(())
    };

    // The password alone opens only the setup page: no board, no navigation.
    b.client.goto(&url).await?;
    sign_in(None).await?;
    b.el("totp-setup").await?;
    b.click("totp-start").await?;
    b.el("totp-qr").await?;
    b.until(
        "the QR code is drawn",
        "const i = document.querySelector('[data-testid=\"totp-qr\"]'); return i.complete && i.naturalWidth > 20;",
    )
    .await?;
    assert!(
        b.js("return !document.querySelector('[data-testid=\"board-lane\"]') && !document.querySelector('nav');")
            .await?
            .as_bool()
            == Some(true),
        "nothing but the setup page before the second factor is on"
    );
    b.shot("console-totp-setup").await?;
    let secret = b
        .js("return document.querySelector('[data-testid=\"totp-secret\"]').value;")
        .await?
        .as_str()
        .context("the key is shown")?
        .to_owned();
    let code = |at| heatcrew_office::api::totp::code_at(&secret, at).context("a code");
    b.fill("totp-code", "000000").await?;
    b.click("totp-confirm").await?;
    b.el("totp-bad-code").await?;
    let confirming = code(clock.now())?;
    b.fill("totp-code", &confirming).await?;
    b.click("totp-confirm").await?;
    b.el("totp-done").await?;
    b.click("totp-continue").await?;
    b.css("[data-testid=\"board-lane\"]").await?;
    b.click("sign-out").await?;

    // Sign-in now asks for the code; the one that confirmed the key is spent.
    sign_in(Some(confirming)).await?;
    let refusal = b.text("login-error").await?;
    assert!(
        refusal.contains("已经用过"),
        "a spent code is refused, saying so: {refusal}"
    );
    clock.advance(chrono::TimeDelta::seconds(30));
    let fresh = code(clock.now())?;
    b.fill("console-login-totp", &fresh).await?;
    b.click("console-login-submit").await?;
    b.css("[data-testid=\"board-lane\"]").await?;
    b.el("nav-audit").await?;

    // The same code again, within its window, is refused.
    b.click("sign-out").await?;
    sign_in(Some(fresh)).await?;
    let refusal = b.text("login-error").await?;
    assert!(
        refusal.contains("已经用过"),
        "a replayed code is refused: {refusal}"
    );
    browser.quit().await;
    Ok(())
}
