//! A technician's phone for the console's end-to-end test: the real device core (`Store` and
//! `Syncer`) on its own database, signing in and syncing from a blocking thread as the app does.

use anyhow::Context;
use heatcrew_core::Store;
use heatcrew_core::sync::{self, Syncer};
use heatcrew_core::views::OfficeAckView;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What the phone reports.
pub const ACCIDENT: &str = "供热管道爆裂，热水涌上人行道";
pub const MEASURES: &str = "设置围挡，关闭上游阀门，疏散行人";
pub const ACCIDENT_PLACE: &str = "中山路 88 号门前";

/// A technician's phone on site: sign in as `username`, report an accident (measures taken, nobody hurt) and
/// sync; the report goes up first. Returns (the accident's job, the accident event).
pub fn report_accident(
    db: &Path,
    url: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<(Uuid, Uuid)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = Arc::new(Mutex::new(Store::open(db)?));
    rt.block_on(sync::login(&store, url, username, password))
        .map_err(|e| anyhow::anyhow!("device sign-in: {e}"))?;
    let (job, events) = store.lock().expect("store").report_accident(
        ACCIDENT.into(),
        MEASURES.into(),
        heatcrew_protocol::Position {
            lat: Some(45.7567),
            lon: Some(126.6424),
            description: ACCIDENT_PLACE.into(),
            ..Default::default()
        },
        false,
    )?;
    let report = events
        .iter()
        .find(|e| e.unsigned.kind == "accident_reported")
        .context("the accident event")?
        .unsigned
        .id;
    let pushed = rt
        .block_on(Syncer::new(store.clone()).sync_once())
        .map_err(|e| anyhow::anyhow!("push: {e}"))?;
    anyhow::ensure!(pushed.pushed > 0, "the report was pushed: {pushed:?}");
    Ok((job, report))
}

/// The same phone (already signed in) reports a critical defect (a hazard) on `job` and syncs: the
/// phone pushes it first, as an accident. Returns the defect event's id.
pub fn report_critical_defect(db: &Path, job: Uuid) -> anyhow::Result<Uuid> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = Arc::new(Mutex::new(Store::open(db)?));
    let event = store.lock().expect("store").record(
        job,
        heatcrew_testkit::defect(heatcrew_protocol::Severity::Critical),
    )?;
    let pushed = rt
        .block_on(Syncer::new(store.clone()).sync_once())
        .map_err(|e| anyhow::anyhow!("push: {e}"))?;
    anyhow::ensure!(pushed.pushed > 0, "the defect was pushed: {pushed:?}");
    Ok(event.unsigned.id)
}

/// The same phone pulls until the office's acknowledgement of `report` is on `job`, as the app's
/// job screen reads it.
pub fn pull_acknowledgement(db: &Path, job: Uuid, report: Uuid) -> anyhow::Result<OfficeAckView> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = Arc::new(Mutex::new(Store::open(db)?));
    let syncer = Syncer::new(store.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        rt.block_on(syncer.sync_once())
            .map_err(|e| anyhow::anyhow!("pull: {e}"))?;
        let view = heatcrew_core::views::job(&store.lock().expect("store"), job)?;
        if let Some(ack) = view.office_acks.into_iter().find(|a| a.event_id == report) {
            return Ok(ack);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the acknowledgement never reached the device"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
