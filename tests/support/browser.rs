//! Headless Chromium (Debian's `chromium` + `chromium-driver`) driven through chromedriver on a free
//! loopback port, for the office console's end-to-end test. Found by [`ChromiumParts::find`]: when a part
//! is missing the test is skipped with the reason printed, unless `HEATCREW_E2E_REQUIRED=1` or
//! `HEATCREW_CONSOLE_E2E_REQUIRED=1` (what `./dev test` sets: the console test runs headless, without
//! the display the app's e2e suite needs).

use crate::app::REQUIRED_ENV;
use crate::webdriver::{Session, on_path};
use heatcrew_testkit::free_port;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use crate::webdriver::PATIENCE;

/// `1`: missing Chromium or console/dist fails the console test instead of skipping it.
pub const CONSOLE_REQUIRED_ENV: &str = "HEATCREW_CONSOLE_E2E_REQUIRED";

/// Whether a missing part must fail the console test (see the module docs).
pub fn required() -> bool {
    [REQUIRED_ENV, CONSOLE_REQUIRED_ENV]
        .iter()
        .any(|v| std::env::var(v).as_deref() == Ok("1"))
}

/// Whether `console/dist` is built for the office to serve; when it is not, a required run panics
/// and any other run says why `suite` skips.
pub fn console_built(suite: &str) -> bool {
    if heatcrew_office::console::is_built() {
        return true;
    }
    let why = "console/dist is not built (cd console && npm ci && npm run build)";
    if required() {
        panic!("{suite} required but {why}");
    }
    eprintln!("{suite} skipped: {why}");
    false
}

/// The browser binaries.
#[derive(Debug, Clone)]
pub struct ChromiumParts {
    chromium: PathBuf,
    driver: PathBuf,
}

impl ChromiumParts {
    /// `None` (with the reason on stderr) when chromium or chromedriver is missing and the test may skip.
    pub fn find() -> Option<ChromiumParts> {
        let found = on_path("chromium")
            .ok_or("chromium is not installed (apt-get install chromium chromium-driver)")
            .and_then(|chromium| {
                on_path("chromedriver")
                    .ok_or("chromedriver is not installed (apt-get install chromium-driver)")
                    .map(|driver| ChromiumParts { chromium, driver })
            });
        match found {
            Ok(p) => Some(p),
            Err(why) if required() => panic!("console e2e required but {why}"),
            Err(why) => {
                eprintln!("console e2e skipped: {why}");
                None
            }
        }
    }
}

/// One headless Chromium window (1280×800) and the chromedriver that started it (the WebDriver
/// calls are [`Session`]'s).
#[derive(Debug)]
pub struct Browser {
    session: Session,
}

impl Deref for Browser {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl Browser {
    /// Start chromedriver on a free port and open a headless 1280×800 window in `lang`, with the
    /// clock of `tz` (the dispatchers' own).
    pub async fn launch(
        parts: &ChromiumParts,
        profile: &Path,
        lang: &str,
        tz: &str,
    ) -> anyhow::Result<Browser> {
        let port = free_port();
        let mut driver = Command::new(&parts.driver);
        driver.arg(format!("--port={port}")).env("TZ", tz);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": parts.chromium,
                "args": [
                    "--headless=new",
                    "--window-size=1280,800",
                    // As root in a container: no setuid sandbox, no /dev/shm size to count on.
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    format!("--lang={lang}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": { "intl.accept_languages": lang },
            }),
        );
        let session =
            Session::start(driver, port, caps, "console", Duration::from_millis(300)).await?;
        // A 1280×800 page: the window is that plus whatever the browser's own frame takes.
        let frame = session
            .js("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]")
            .await?;
        let px = |i: usize| frame[i].as_u64().unwrap_or(0) as u32;
        session
            .client
            .set_window_size(1280 + px(0), 800 + px(1))
            .await?;
        Ok(Browser { session })
    }

    pub async fn quit(self) {
        self.session.quit().await;
    }

    /// Set an input's value as the browser's own pickers would (date and time inputs), firing
    /// `input` and `change` so the app sees it.
    pub async fn set_value(&self, testid: &str, value: &str) -> anyhow::Result<()> {
        let e = self.el(testid).await?;
        self.client
            .execute(
                "const [el, v] = arguments; el.value = v; \
                 el.dispatchEvent(new Event('input', {bubbles: true})); \
                 el.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![serde_json::to_value(e)?, value.into()],
            )
            .await?;
        Ok(())
    }

    /// Wait until `check` (JavaScript returning a boolean) is true in the page.
    pub async fn until(&self, what: &str, check: &str) -> anyhow::Result<()> {
        self.session
            .until(what, PATIENCE, || async {
                Ok((self.js(check).await?.as_bool() == Some(true)).then_some(()))
            })
            .await
    }
}
