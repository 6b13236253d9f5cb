//! One WebDriver session and the driver process behind it, shared by the app's e2e suite
//! ([`crate::app`]: tauri-driver + WebKitWebDriver under Xvfb) and the console's
//! ([`crate::browser`]: chromedriver + headless Chromium): starting the driver on a free port in its
//! own process group, opening the session, finding elements and waiting for them, clicking and
//! typing as a person would, screenshots (asked for, and at every failure), and stopping the driver
//! with everything it started.

use anyhow::{Context, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A directory to save screenshots in (the main screens, and the screen at any failure).
pub const SHOTS_ENV: &str = "HEATCREW_SCREENSHOTS";

/// How long any one thing may take to appear. Generous: the machine is shared.
pub const PATIENCE: Duration = Duration::from_secs(45);

/// An executable named `name` on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// `[data-testid="…"]`
pub fn tid(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

/// A WebDriver session and its driver. Dropping it stops the driver and what it started.
pub struct Session {
    pub client: Client,
    driver: Child,
    shots: Option<PathBuf>,
    /// Names this session's failure screenshots (`app`, `console`).
    label: &'static str,
    /// How long a screenshot waits for transitions to finish.
    settle: Duration,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("label", &self.label)
            .field("driver_pid", &self.driver.id())
            .finish_non_exhaustive()
    }
}

/// Stop the driver with what it started (the native driver, the browser or the app): SIGKILL to
/// the driver alone would leave them running as orphans.
fn stop_group(driver: &mut Child) {
    let group = format!("-{}", driver.id());
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ = driver.wait();
}

/// Every session stops its driver, also when a test fails half-way.
impl Drop for Session {
    fn drop(&mut self) {
        stop_group(&mut self.driver);
    }
}

impl Session {
    /// Start `driver` (its arguments set, listening on `port`) in a process group of its own and
    /// open a session with `caps`, retrying while the driver comes up (up to [`PATIENCE`]).
    /// `label` names the failure screenshots; screenshots wait `settle` for the screen to settle.
    pub async fn start(
        mut driver: Command,
        port: u16,
        caps: serde_json::Map<String, serde_json::Value>,
        label: &'static str,
        settle: Duration,
    ) -> anyhow::Result<Session> {
        let name = driver.get_program().to_string_lossy().into_owned();
        let mut driver = driver
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {name}"))?;
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
                    bail!("no WebDriver session from {name} at {url}: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        };
        Ok(Session {
            client,
            driver,
            shots: std::env::var_os(SHOTS_ENV).map(PathBuf::from),
            label,
            settle,
        })
    }

    /// Close the session (the app or browser quits); dropping stops the driver.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
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
            // Only a timeout is worth a screen: another error is a page caught re-rendering, which
            // callers polling with `until` ride out (a shot then would look like a failure).
            Err(e @ fantoccini::error::CmdError::WaitTimeout) => {
                self.failure_shot(css).await;
                Err(anyhow::anyhow!("{css} did not appear: {e}"))
            }
            Err(e) => Err(anyhow::anyhow!("looking for {css}: {e}")),
        }
    }

    /// The element with this `data-testid`, waiting for it to appear.
    pub async fn el(&self, testid: &str) -> anyhow::Result<Element> {
        self.css(&tid(testid)).await
    }

    /// Every element matching `css` now (no waiting).
    pub async fn all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    pub async fn click(&self, testid: &str) -> anyhow::Result<()> {
        self.click_css(&tid(testid)).await
    }

    /// Click like a finger: the element is scrolled into view and must not be covered. An item of
    /// a closed menu (`<details>`) is reached as a person reaches it: its menu is opened first.
    pub async fn click_css(&self, css: &str) -> anyhow::Result<()> {
        let e = self.css(css).await?;
        let in_closed_menu = self
            .client
            .execute(
                "const e = arguments[0], d = e.closest('details:not([open])');
                 return !!d && e.closest('summary')?.parentElement !== d;",
                vec![serde_json::to_value(&e)?],
            )
            .await?;
        if in_closed_menu == serde_json::Value::Bool(true) {
            let summary = self
                .css(&format!("details:not([open]):has({css}) > summary"))
                .await?;
            self.scroll_to(&summary).await?;
            summary
                .click()
                .await
                .map_err(|e| anyhow::anyhow!("open the menu of {css}: {e:?}"))?;
        }
        self.scroll_to(&e).await?;
        e.click()
            .await
            .map_err(|e| anyhow::anyhow!("click {css}: {e:?}"))
    }

    /// Type into a field after clearing it (real key events, as from a keyboard).
    pub async fn fill(&self, testid: &str, text: &str) -> anyhow::Result<()> {
        let e = self.el(testid).await?;
        self.scroll_to(&e).await?;
        e.clear()
            .await
            .map_err(|e| anyhow::anyhow!("clear {testid}: {e:?}"))?;
        e.send_keys(text)
            .await
            .map_err(|e| anyhow::anyhow!("type into {testid}: {e:?}"))
    }

    /// Bring an element to the middle of the screen, as a person would scroll to it.
    pub async fn scroll_to(&self, e: &Element) -> anyhow::Result<()> {
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'})",
                vec![serde_json::to_value(e)?],
            )
            .await?;
        Ok(())
    }

    pub async fn text(&self, testid: &str) -> anyhow::Result<String> {
        Ok(self.el(testid).await?.text().await?)
    }

    pub async fn attr(&self, testid: &str, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self.el(testid).await?.attr(name).await?)
    }

    /// Run `script` in the page and return its value.
    pub async fn js(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Poll `check` until it gives `Some`, or fail saying what was awaited (with a screenshot).
    pub async fn until<T, F, Fut>(
        &self,
        what: &str,
        patience: Duration,
        check: F,
    ) -> anyhow::Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
    {
        let deadline = Instant::now() + patience;
        loop {
            // A check may race a re-render (stale element): that counts as "not yet".
            if let Ok(Some(v)) = check().await {
                return Ok(v);
            }
            if Instant::now() > deadline {
                self.failure_shot(what).await;
                bail!("gave up waiting for {what} after {patience:?}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Wait until the element with this `data-testid` shows exactly `expected`.
    pub async fn wait_text(&self, testid: &str, expected: &str) -> anyhow::Result<()> {
        self.until(
            &format!("{testid} to read {expected}"),
            PATIENCE,
            || async { Ok((self.text(testid).await? == expected).then_some(())) },
        )
        .await
    }

    /// Save a screenshot as `<name>.png` when screenshots are asked for ([`SHOTS_ENV`]).
    pub async fn shot(&self, name: &str) -> anyhow::Result<()> {
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir)?;
            // Fonts and transitions settle first, so the picture is what a person would see.
            self.client
                .execute("return document.fonts.ready.then(() => true)", vec![])
                .await?;
            tokio::time::sleep(self.settle).await;
            let png = self.client.screenshot().await?;
            std::fs::write(dir.join(format!("{name}.png")), png)?;
        }
        Ok(())
    }

    /// The screen when `what` failed, as `<label>-fail-<what>.png` in the screenshot directory (or
    /// `heatcrew-e2e-failures` in the temp dir); its path is printed.
    pub async fn failure_shot(&self, what: &str) {
        let dir = self
            .shots
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("heatcrew-e2e-failures"));
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(80)
            .collect();
        if let Ok(png) = self.client.screenshot().await {
            let path = dir.join(format!("{}-fail-{name}.png", self.label));
            let _ = std::fs::create_dir_all(&dir);
            if std::fs::write(&path, png).is_ok() {
                eprintln!("screen at the failure: {}", path.display());
            }
        }
    }
}
