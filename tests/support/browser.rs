//! Headless Chromium (Debian's `chromium` + `chromium-driver`) driven through chromedriver on a free
//! loopback port, for the office console's end-to-end test. Found by [`Browser::find`]: when a part
//! is missing the test is skipped with the reason printed, unless `HEATCREW_E2E_REQUIRED=1` or
//! `HEATCREW_CONSOLE_E2E_REQUIRED=1` (what `./dev test` sets: the console test runs headless, without
//! the display the app's e2e suite needs).

use anyhow::{Context, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::app::{REQUIRED_ENV, SHOTS_ENV};

/// `1`: missing Chromium or console/dist fails the console test instead of skipping it.
pub const CONSOLE_REQUIRED_ENV: &str = "HEATCREW_CONSOLE_E2E_REQUIRED";

/// Whether a missing part must fail the console test (see the module docs).
pub fn required() -> bool {
    [REQUIRED_ENV, CONSOLE_REQUIRED_ENV]
        .iter()
        .any(|v| std::env::var(v).as_deref() == Ok("1"))
}

/// How long any one thing may take to appear. Generous: the machine is shared.
pub const PATIENCE: Duration = Duration::from_secs(45);

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

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One headless Chromium window (1280×800) and the chromedriver that started it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    shots: Option<PathBuf>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("driver_pid", &self.driver.id())
            .finish_non_exhaustive()
    }
}

/// chromedriver, Chromium and its helpers are one process group: stopped together.
fn stop_group(driver: &mut Child) {
    let group = format!("-{}", driver.id());
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ = driver.wait();
}

impl Drop for Browser {
    fn drop(&mut self) {
        stop_group(&mut self.driver);
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
        let mut driver = Command::new(&parts.driver)
            .arg(format!("--port={port}"))
            .env("TZ", tz)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start chromedriver")?;
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
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + PATIENCE;
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => {
                    stop_group(&mut driver);
                    bail!("no WebDriver session from chromedriver at {url}: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        };
        // A 1280×800 page: the window is that plus whatever the browser's own frame takes.
        let frame = client
            .execute(
                "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
                vec![],
            )
            .await?;
        let px = |i: usize| frame[i].as_u64().unwrap_or(0) as u32;
        client.set_window_size(1280 + px(0), 800 + px(1)).await?;
        Ok(Browser {
            client,
            driver,
            shots: std::env::var_os(SHOTS_ENV).map(PathBuf::from),
        })
    }

    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
    }

    pub fn tid(testid: &str) -> String {
        format!("[data-testid=\"{testid}\"]")
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn css(&self, css: &str) -> anyhow::Result<Element> {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .every(Duration::from_millis(100))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => Ok(e),
            Err(e) => {
                self.failure_shot(css).await;
                Err(anyhow::anyhow!("{css} did not appear: {e}"))
            }
        }
    }

    pub async fn el(&self, testid: &str) -> anyhow::Result<Element> {
        self.css(&Self::tid(testid)).await
    }

    /// Every element matching `css` now (no waiting).
    pub async fn all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    pub async fn click(&self, testid: &str) -> anyhow::Result<()> {
        self.css(&Self::tid(testid))
            .await?
            .click()
            .await
            .map_err(|e| anyhow::anyhow!("click {testid}: {e:?}"))
    }

    /// Type into a field after clearing it (real key events).
    pub async fn fill(&self, testid: &str, text: &str) -> anyhow::Result<()> {
        let e = self.el(testid).await?;
        e.clear()
            .await
            .map_err(|e| anyhow::anyhow!("clear {testid}: {e:?}"))?;
        e.send_keys(text)
            .await
            .map_err(|e| anyhow::anyhow!("type into {testid}: {e:?}"))
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
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ok = self.client.execute(check, vec![]).await?;
            if ok.as_bool() == Some(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.failure_shot(what).await;
                bail!("{what}: still not true after {PATIENCE:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Save a screenshot as `<name>.png` when screenshots are asked for (`HEATCREW_SCREENSHOTS`).
    pub async fn shot(&self, name: &str) -> anyhow::Result<()> {
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir)?;
            // Fonts and images settle first, so the picture is what a person would see.
            self.client
                .execute("return document.fonts.ready.then(() => true)", vec![])
                .await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let png = self.client.screenshot().await?;
            std::fs::write(dir.join(format!("{name}.png")), png)?;
        }
        Ok(())
    }

    async fn failure_shot(&self, what: &str) {
        let dir = self.shots.clone().unwrap_or_else(std::env::temp_dir);
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(60)
            .collect();
        if let Ok(png) = self.client.screenshot().await {
            let path = dir.join(format!("console-failure-{name}.png"));
            if std::fs::write(&path, png).is_ok() {
                eprintln!("screen at failure: {}", path.display());
            }
        }
    }
}
