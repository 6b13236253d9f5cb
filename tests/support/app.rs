//! The real field app for the e2e suite: `heatcrew-app` (built with its front end embedded) started
//! by tauri-driver + WebKitWebDriver on the current X display, driven through WebDriver the way a
//! technician's thumb would: clicks, typed text, files chosen in the photo input, a signature drawn
//! with the pointer.
//!
//! Each [`App`] runs its own tauri-driver on free ports with its own device database, so scenarios
//! share nothing. What the suite needs is found by [`Parts::find`]; when something is missing the
//! scenario is skipped with the reason printed, unless `HEATCREW_E2E_REQUIRED=1` (set by
//! `./dev test`), where a missing part is a failure.

use anyhow::{Context, bail};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use heatcrew_testkit::free_port;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The app binary to drive (default: `heatcrew-app` in the workspace's debug target directory).
pub const APP_ENV: &str = "HEATCREW_E2E_APP";
/// `1`: a missing display, driver or app binary fails the suite instead of skipping it.
pub const REQUIRED_ENV: &str = "HEATCREW_E2E_REQUIRED";
/// A directory to save screenshots in (the main screens, and the screen at any failure).
pub const SHOTS_ENV: &str = "HEATCREW_SCREENSHOTS";

/// How long any one thing may take to appear on screen. Generous: the machine is shared.
const PATIENCE: Duration = Duration::from_secs(45);

/// What the suite needs from the machine.
#[derive(Debug, Clone)]
pub struct Parts {
    pub app: PathBuf,
    tauri_driver: PathBuf,
    native_driver: PathBuf,
}

impl Parts {
    /// The display, the two drivers and the app binary; `None` (with the reason on stderr) when a
    /// part is missing and the suite may skip.
    pub fn find() -> Option<Parts> {
        match Self::try_find() {
            Ok(p) => Some(p),
            Err(why) if std::env::var(REQUIRED_ENV).as_deref() == Ok("1") => {
                panic!("e2e required ({REQUIRED_ENV}=1) but {why}")
            }
            Err(why) => {
                eprintln!("e2e skipped: {why}");
                None
            }
        }
    }

    fn try_find() -> Result<Parts, String> {
        if std::env::var_os("DISPLAY").is_none() {
            return Err("no DISPLAY (run under xvfb-run)".into());
        }
        let tauri_driver = on_path("tauri-driver")
            .ok_or("tauri-driver is not on PATH (cargo install tauri-driver --locked)")?;
        let native_driver = on_path("WebKitWebDriver")
            .ok_or("WebKitWebDriver is not on PATH (apt-get install webkit2gtk-driver)")?;
        let app = match std::env::var_os(APP_ENV) {
            Some(p) => PathBuf::from(p),
            None => {
                let target = std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
                target.join("debug/heatcrew-app")
            }
        };
        if !app.is_file() {
            return Err(format!(
                "no app binary at {} (cargo build -p heatcrew-app, or set {APP_ENV})",
                app.display()
            ));
        }
        Ok(Parts {
            app,
            tauri_driver,
            native_driver,
        })
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// One running app and the tauri-driver that started it.
pub struct App {
    client: Client,
    driver: Child,
    shots: Option<PathBuf>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("driver_pid", &self.driver.id())
            .finish_non_exhaustive()
    }
}

/// Stop tauri-driver with what it started: SIGKILL to tauri-driver alone would leave
/// WebKitWebDriver (and perhaps the app) running as orphans.
fn stop_group(driver: &mut Child) {
    let group = format!("-{}", driver.id());
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ = driver.wait();
}

/// Every App stops its drivers, also when a scenario fails half-way.
impl Drop for App {
    fn drop(&mut self) {
        stop_group(&mut self.driver);
    }
}

impl App {
    /// Start tauri-driver on free ports with `HEATCREW_DB=db` and open the app through it.
    pub async fn launch(parts: &Parts, db: &Path) -> anyhow::Result<App> {
        let (port, native_port) = (free_port(), free_port());
        let mut driver = Command::new(&parts.tauri_driver)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(&parts.native_driver)
            .env("HEATCREW_DB", db)
            // The crews work in China: times on screen as they would see them.
            .env("TZ", "Asia/Shanghai")
            // Its own process group: tauri-driver, WebKitWebDriver and the app stop together.
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start tauri-driver")?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": parts.app }),
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
                    bail!("no WebDriver session from tauri-driver at {url}: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        };
        let shots = std::env::var_os(SHOTS_ENV).map(PathBuf::from);
        Ok(App {
            client,
            driver,
            shots,
        })
    }

    /// Close the session (the app quits) and stop the driver.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
        // Drop stops the driver.
    }

    fn tid(testid: &str) -> String {
        format!("[data-testid=\"{testid}\"]")
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn css(&self, css: &str) -> anyhow::Result<Element> {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .every(Duration::from_millis(150))
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

    /// The element with this `data-testid`, waiting for it to appear.
    pub async fn el(&self, testid: &str) -> anyhow::Result<Element> {
        self.css(&Self::tid(testid)).await
    }

    /// Every element matching `css` now (no waiting).
    pub async fn all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    pub async fn click(&self, testid: &str) -> anyhow::Result<()> {
        self.click_css(&Self::tid(testid)).await
    }

    /// Click like a finger: the element is scrolled into view and must not be covered.
    pub async fn click_css(&self, css: &str) -> anyhow::Result<()> {
        let e = self.css(css).await?;
        self.scroll_to(&e).await?;
        e.click()
            .await
            .map_err(|e| anyhow::anyhow!("click {css}: {e:?}"))
    }

    /// Type into an empty field (real key events, so the UI sees input as from a keyboard).
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

    /// Bring an element to the middle of the screen, as a thumb would scroll to it.
    async fn scroll_to(&self, e: &Element) -> anyhow::Result<()> {
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

    /// Poll `check` until it gives `Some`, or fail saying what was awaited.
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
            tokio::time::sleep(Duration::from_millis(200)).await;
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

    /// Run `script` in the page and return its value.
    pub async fn js(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Save a screenshot of the current screen as `<name>.png` when screenshots are asked for.
    pub async fn shot(&self, name: &str) -> anyhow::Result<()> {
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir)?;
            // Let transitions and fonts settle so the picture is what a person would see.
            tokio::time::sleep(Duration::from_millis(600)).await;
            let png = self.client.screenshot().await?;
            std::fs::write(dir.join(format!("{name}.png")), png)?;
        }
        Ok(())
    }

    async fn failure_shot(&self, what: &str) {
        let dir = self
            .shots
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("heatcrew-e2e-failures"));
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        if let Ok(png) = self.client.screenshot().await {
            let path = dir.join(format!("fail-{name}.png"));
            let _ = std::fs::create_dir_all(&dir);
            if std::fs::write(&path, png).is_ok() {
                eprintln!("screen at the failure: {}", path.display());
            }
        }
    }

    // ---- what a field worker does -------------------------------------------------------

    /// Sign in on the first screen (enrolling this device) and wait for today's jobs.
    pub async fn sign_in(&self, office: &str, user: &str, password: &str) -> anyhow::Result<()> {
        self.fill("login-office", office).await?;
        self.fill("login-user", user).await?;
        self.fill("login-password", password).await?;
        self.click("login-submit").await?;
        self.el("job-list").await?;
        Ok(())
    }

    /// The id of the first job of this kind on today's list.
    pub async fn job_of_kind(&self, kind: &str) -> anyhow::Result<String> {
        let css = format!("[data-testid=\"job-item\"][data-kind=\"{kind}\"]");
        self.css(&css)
            .await?
            .attr("data-job-id")
            .await?
            .context("job-item without data-job-id")
    }

    /// Tap a job on today's list.
    pub async fn open_job(&self, job_id: &str) -> anyhow::Result<()> {
        self.click_css(&format!(
            "[data-testid=\"job-item\"][data-job-id=\"{job_id}\"] a"
        ))
        .await
    }

    /// The id of the step on screen (`data-step` of the step title).
    pub async fn step(&self) -> anyhow::Result<String> {
        self.attr("step-title", "data-step")
            .await?
            .context("step-title without data-step")
    }

    /// Confirm the step on screen and wait until the next screen replaced it.
    pub async fn confirm_step(&self) -> anyhow::Result<()> {
        let before = self.step().await?;
        self.click("step-confirm").await?;
        self.until(&format!("the step after {before}"), PATIENCE, || async {
            let now = self
                .all("[data-testid=\"step-title\"], [data-testid=\"visit-complete\"]")
                .await?;
            let Some(first) = now.first() else {
                return Ok(None);
            };
            let step = first.attr("data-step").await?;
            Ok((step.as_deref() != Some(before.as_str())).then_some(()))
        })
        .await
    }

    /// Choose a photo file in the step's camera input and wait for its thumbnail.
    pub async fn add_photo(&self, file: &Path) -> anyhow::Result<()> {
        let thumbs = self.all("[data-testid=\"photo-thumb\"]").await?.len();
        let input = self.el("photo-input").await?;
        input
            .send_keys(&file.display().to_string())
            .await
            .map_err(|e| anyhow::anyhow!("choose a photo file: {e:?}"))?;
        self.until("a new photo thumbnail", PATIENCE, || async {
            let n = self.all("[data-testid=\"photo-thumb\"]").await?.len();
            Ok((n > thumbs).then_some(()))
        })
        .await
    }

    /// Draw a signature on the pad with the pointer: three strokes, like a short name.
    pub async fn draw_signature(&self) -> anyhow::Result<()> {
        let pad = self.el("signature-pad").await?;
        self.scroll_to(&pad).await?;
        let strokes: [&[(f64, f64)]; 3] = [
            &[
                (-110.0, 10.0),
                (-90.0, -25.0),
                (-70.0, 20.0),
                (-50.0, -15.0),
            ],
            &[(-20.0, -20.0), (0.0, 25.0), (20.0, -20.0)],
            &[(50.0, 0.0), (80.0, -22.0), (100.0, 18.0), (120.0, -5.0)],
        ];
        let mut mouse = MouseActions::new("finger".into());
        for stroke in strokes {
            let (x0, y0) = stroke[0];
            mouse = mouse
                .then(PointerAction::MoveToElement {
                    element: pad.clone(),
                    duration: None,
                    x: x0,
                    y: y0,
                })
                .then(PointerAction::Down {
                    button: MOUSE_BUTTON_LEFT,
                });
            for &(x, y) in &stroke[1..] {
                mouse = mouse.then(PointerAction::MoveToElement {
                    element: pad.clone(),
                    duration: Some(Duration::from_millis(60)),
                    x,
                    y,
                });
            }
            mouse = mouse.then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        }
        self.client.perform_actions(mouse).await?;
        self.client.release_actions().await?;
        Ok(())
    }

    /// Open the outbox through the always-visible sync indicator.
    pub async fn open_outbox(&self) -> anyhow::Result<()> {
        self.click("sync-status").await?;
        self.el("sync-now").await?;
        Ok(())
    }

    /// The state of every record in the outbox, as shown.
    pub async fn outbox_states(&self) -> anyhow::Result<Vec<String>> {
        let mut states = Vec::new();
        for e in self.all("[data-testid=\"outbox-item\"]").await? {
            states.push(e.attr("data-state").await?.unwrap_or_default());
        }
        Ok(states)
    }

    /// Tap "sync now" in the outbox and wait until every record shows as acknowledged by the
    /// office; returns how many there are.
    pub async fn sync_until_acknowledged(&self, patience: Duration) -> anyhow::Result<usize> {
        self.open_outbox().await?;
        self.click("sync-now").await?;
        let done = self
            .until("every record acknowledged", patience, || async {
                let s = self.outbox_states().await?;
                Ok((!s.is_empty() && s.iter().all(|x| x == "acknowledged")).then_some(s.len()))
            })
            .await;
        match done {
            Ok(n) => Ok(n),
            Err(e) => bail!(
                "{e}; the outbox shows {:?}",
                self.outbox_states().await.unwrap_or_default()
            ),
        }
    }
}
