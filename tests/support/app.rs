//! The real field app for the e2e suite: `heatcrew-app` (built with its front end embedded) started
//! by tauri-driver + WebKitWebDriver on the current X display, driven through WebDriver the way a
//! technician's thumb would: clicks, typed text, files chosen in the photo input, a signature drawn
//! with the pointer.
//!
//! Each [`App`] runs its own tauri-driver on free ports with its own device database, so scenarios
//! share nothing. What the suite needs is found by [`Parts::find`]; when something is missing the
//! scenario is skipped with the reason printed, unless `HEATCREW_E2E_REQUIRED=1` (set by
//! `./dev test`), where a missing part is a failure.

use crate::webdriver::{PATIENCE, Session, on_path};
use anyhow::{Context, bail};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use heatcrew_testkit::free_port;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use crate::webdriver::SHOTS_ENV;

/// The app binary to drive (default: `heatcrew-app` in the workspace's debug target directory).
pub const APP_ENV: &str = "HEATCREW_E2E_APP";
/// `1`: a missing display, driver or app binary fails the suite instead of skipping it.
pub const REQUIRED_ENV: &str = "HEATCREW_E2E_REQUIRED";

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

/// One running app and the tauri-driver that started it (the WebDriver calls are [`Session`]'s).
#[derive(Debug)]
pub struct App {
    session: Session,
}

impl Deref for App {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl App {
    /// Start tauri-driver on free ports with `HEATCREW_DB=db` and open the app through it.
    pub async fn launch(parts: &Parts, db: &Path) -> anyhow::Result<App> {
        let (port, native_port) = (free_port(), free_port());
        let mut driver = Command::new(&parts.tauri_driver);
        driver
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(&parts.native_driver)
            .env("HEATCREW_DB", db)
            // The WebView's own storage (the language choice, the office address) beside the
            // scenario's device database: a scenario starts clean whatever the one before it
            // left, and a restart on the same database keeps it.
            .env("XDG_DATA_HOME", db.with_extension("webview"))
            // The crews work in China: times on screen as they would see them.
            .env("TZ", "Asia/Shanghai");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": parts.app }),
        );
        // Transitions on the phone take a moment longer to settle than the fonts.
        let settle = Duration::from_millis(600);
        let session = Session::start(driver, port, caps, "app", settle).await?;
        Ok(App { session })
    }

    /// Close the session (the app quits) and stop the driver.
    pub async fn quit(self) {
        self.session.quit().await;
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

    /// Tap a job on today's list; the day's first repair or inspection asks for shift readiness
    /// first, which is given (every check ticked), as a technician does once a day.
    pub async fn open_job(&self, job_id: &str) -> anyhow::Result<()> {
        self.tap_job(job_id).await?;
        let first = self
            .until("the job's first screen", PATIENCE, || async {
                let shown = self
                    .all(
                        "[data-testid=\"step-title\"], [data-testid=\"readiness-confirm\"], \
                         [data-testid=\"visit-complete\"]",
                    )
                    .await?;
                match shown.first() {
                    Some(e) => Ok(Some(e.attr("data-testid").await?.unwrap_or_default())),
                    None => Ok(None),
                }
            })
            .await?;
        if first == "readiness-confirm" {
            self.give_readiness().await?;
        }
        Ok(())
    }

    /// Tap a job on today's list, and nothing more.
    pub async fn tap_job(&self, job_id: &str) -> anyhow::Result<()> {
        self.click_css(&format!(
            "[data-testid=\"job-item\"][data-job-id=\"{job_id}\"] a"
        ))
        .await
    }

    /// On the shift readiness screen: tick every check, confirm, and wait for the job's step.
    pub async fn give_readiness(&self) -> anyhow::Result<()> {
        self.el("readiness-confirm").await?;
        for item in self.all("[data-testid=\"readiness-item\"]").await? {
            self.scroll_to(&item).await?;
            if !item.is_selected().await? {
                item.click().await?;
            }
        }
        self.click("readiness-confirm").await?;
        self.el("step-title").await?;
        Ok(())
    }

    /// In customer mode on the rating step: the opinion form's four answers as a satisfied
    /// customer gives them, and `stars` (the comment, submit and hand-back stay with the caller).
    pub async fn answer_opinion(&self, stars: u8) -> anyhow::Result<()> {
        for (q, v) in [
            ("punctuality", "on_time"),
            ("attitude", "good"),
            ("tidiness", "yes"),
            ("gifts", "none"),
        ] {
            self.click_css(&format!(
                "[data-testid=\"opinion-answer\"][data-question=\"{q}\"][data-value=\"{v}\"]"
            ))
            .await
            .with_context(|| format!("answer {q}"))?;
        }
        self.click_css(&format!(
            "[data-testid=\"rating-star\"][data-value=\"{stars}\"]"
        ))
        .await
        .context("the stars")
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
