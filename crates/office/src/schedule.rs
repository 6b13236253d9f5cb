//! The office's periodic follow-up (`serve` runs it every minute; tests run it at their own pace
//! and move the office [`Clock`](crate::clock::Clock) instead of waiting): re-inspections of
//! notices that fell due ([`crate::notices::run_due`]), the rounds of patrol plans and the defects
//! register ([`crate::patrols::run_due`]). Every step is idempotent and safe to run from several
//! processes on one database at once: the store decides under its write lock.

use crate::OfficeState;
use crate::notices::{self, NoticeRun};
use crate::patrols::{self, PatrolRun};
use crate::store::{OfficeStore, StoreResult};
use chrono::{DateTime, FixedOffset, Utc};

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleRun {
    pub notices: NoticeRun,
    pub patrols: PatrolRun,
}

/// The office's time zone for notice deadlines (the console's default, China).
pub fn office_tz() -> FixedOffset {
    FixedOffset::east_opt(crate::api::console::board::DEFAULT_UTC_OFFSET_MINUTES * 60)
        .expect("the default offset is valid")
}

/// One run at `now`.
pub fn run_once(store: &dyn OfficeStore, now: DateTime<Utc>) -> StoreResult<ScheduleRun> {
    Ok(ScheduleRun {
        notices: notices::run_due(store, now, office_tz())?,
        patrols: patrols::run_due(store, now)?,
    })
}

/// Run every `every` on the blocking pool at the office clock's now, until the task is aborted. A
/// failed run is logged and tried again at the next tick.
pub fn spawn(state: OfficeState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (store, now) = (state.store.clone(), state.now());
            match tokio::task::spawn_blocking(move || run_once(&*store, now)).await {
                Ok(Ok(run)) if run != ScheduleRun::default() => {
                    tracing::info!(?run, "periodic follow-up");
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!("periodic follow-up failed: {e}"),
                Err(e) => tracing::warn!("periodic follow-up panicked: {e}"),
            }
        }
    })
}
