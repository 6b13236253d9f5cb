//! What the console's devices page shows beside the sync position: when a device last synced and
//! the app version it runs (issue 12 point 6). Recorded at every device sign-in, and at a push or
//! pull when the kept time is [`MARK_EVERY`] old or more or the version changed: the page shows the
//! time to the minute, and a write per sync request (an fsync on the one SQLite writer, queued
//! behind every push) is what 1,000 devices syncing at once cannot afford (issue 14, point 6).
//! Which devices were marked when is remembered per office process ([`SyncMarks`]); another
//! process, or this one after a restart, writes once more.
//!
//! The version comes from the `User-Agent` the device core sends (`heatcrew-device/<version>`,
//! `heatcrew_core::sync::http`). A header is the client's word, so it is bounded before it is kept:
//! at most [`MAX_APP_VERSION`] printable ASCII characters, anything else is kept as
//! [`UNKNOWN_VERSION`], and a failure to record never fails the sync itself.

use super::extract::blocking;
use crate::OfficeState;
use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// A sync writes the device's last sync time only when the kept one is at least this old.
pub const MARK_EVERY: TimeDelta = TimeDelta::seconds(60);

/// The product name the device core puts in its `User-Agent`.
pub const DEVICE_PRODUCT: &str = "heatcrew-device/";
/// The longest app version kept.
pub const MAX_APP_VERSION: usize = 64;
/// What is kept for a missing, foreign, too long or unprintable version.
pub const UNKNOWN_VERSION: &str = "unknown";

/// The app version in `headers`' `User-Agent` (`heatcrew-device/1.2.3 …` → `1.2.3`), bounded:
/// 1 to 64 printable ASCII characters, else `"unknown"`.
pub fn app_version(headers: &HeaderMap) -> String {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.strip_prefix(DEVICE_PRODUCT))
        .map(|rest| rest.split(' ').next().unwrap_or_default())
        .filter(|v| {
            (1..=MAX_APP_VERSION).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .unwrap_or(UNKNOWN_VERSION)
        .to_owned()
}

/// When this process last wrote each device's last sync time, and the version it wrote.
#[derive(Debug, Default)]
pub struct SyncMarks(Mutex<HashMap<Uuid, (DateTime<Utc>, String)>>);

impl SyncMarks {
    /// Whether this process wrote `device`'s last sync with `version` less than [`MARK_EVERY`]
    /// before `now` (a clock that went back counts as stale).
    pub fn is_fresh(&self, device: Uuid, version: &str, now: DateTime<Utc>) -> bool {
        let marks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        marks
            .get(&device)
            .is_some_and(|(at, v)| v == version && *at <= now && now - *at < MARK_EVERY)
    }

    fn mark(&self, device: Uuid, version: String, now: DateTime<Utc>) {
        let mut marks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        marks.insert(device, (now, version));
    }
}

/// Remember that `device` synced at `now` with the version its headers name, unless this process
/// wrote the same version less than [`MARK_EVERY`] ago. A store failure is logged, not returned:
/// the push or pull it rides on has already done its work.
pub async fn record(state: &OfficeState, device: Uuid, headers: &HeaderMap, now: DateTime<Utc>) {
    let version = app_version(headers);
    if state.sync_marks.is_fresh(device, &version, now) {
        return;
    }
    write(state, device, version, now).await;
}

/// As [`record`], always written: a sign-in (a new session, maybe a new user) is news.
pub async fn record_sign_in(
    state: &OfficeState,
    device: Uuid,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) {
    write(state, device, app_version(headers), now).await;
}

async fn write(state: &OfficeState, device: Uuid, version: String, now: DateTime<Utc>) {
    let kept = version.clone();
    match blocking(state, move |s| s.record_device_sync(device, &kept, now)).await {
        Ok(()) => state.sync_marks.mark(device, version, now),
        Err(e) => {
            tracing::warn!(code = %e.body.code, device = %device, "could not record the device's last sync");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn version_of(ua: &[u8]) -> String {
        let mut h = HeaderMap::new();
        h.insert(
            USER_AGENT,
            HeaderValue::from_bytes(ua).expect("header value"),
        );
        app_version(&h)
    }

    #[test]
    fn versions_are_bounded_and_printable() {
        assert_eq!(version_of(b"heatcrew-device/0.4.1"), "0.4.1");
        assert_eq!(version_of(b"heatcrew-device/0.4.1 (android)"), "0.4.1");
        assert_eq!(
            version_of(&[b"heatcrew-device/".as_slice(), &[b'9'; 64]].concat()),
            "9".repeat(64)
        );
        assert_eq!(
            version_of(&[b"heatcrew-device/".as_slice(), &[b'9'; 65]].concat()),
            "unknown"
        );
        assert_eq!(version_of(b"heatcrew-device/1.0\tbeta"), "unknown");
        assert_eq!(version_of(b"heatcrew-device/1.\xff"), "unknown");
        assert_eq!(version_of(b"heatcrew-device/"), "unknown");
        assert_eq!(version_of(b"curl/8.5.0"), "unknown");
        assert_eq!(app_version(&HeaderMap::new()), "unknown");
    }

    #[test]
    fn a_mark_is_fresh_for_a_minute_of_the_same_version() {
        let marks = SyncMarks::default();
        let (d, now) = (Uuid::now_v7(), Utc::now());
        assert!(!marks.is_fresh(d, "1.0", now), "never written");
        marks.mark(d, "1.0".into(), now);
        assert!(marks.is_fresh(d, "1.0", now + TimeDelta::seconds(59)));
        assert!(!marks.is_fresh(d, "1.0", now + MARK_EVERY), "a minute old");
        assert!(!marks.is_fresh(d, "1.1", now), "another version");
        assert!(
            !marks.is_fresh(d, "1.0", now - TimeDelta::seconds(1)),
            "the clock went back"
        );
        assert!(
            !marks.is_fresh(Uuid::now_v7(), "1.0", now),
            "another device"
        );
    }
}
