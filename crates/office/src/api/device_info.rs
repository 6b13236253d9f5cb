//! What the console's devices page shows beside the sync position: when a device last synced and
//! the app version it runs (issue 12 point 6). Recorded on every push, pull and device sign-in.
//!
//! The version comes from the `User-Agent` the device core sends (`heatcrew-device/<version>`,
//! `heatcrew_core::sync::http`). A header is the client's word, so it is bounded before it is kept:
//! at most [`MAX_APP_VERSION`] printable ASCII characters, anything else is kept as
//! [`UNKNOWN_VERSION`], and a failure to record never fails the sync itself.

use super::extract::blocking;
use crate::OfficeState;
use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use chrono::{DateTime, Utc};
use uuid::Uuid;

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

/// Remember that `device` synced at `now` with the version its headers name. A store failure is
/// logged, not returned: the push or pull it rides on has already done its work.
pub async fn record(state: &OfficeState, device: Uuid, headers: &HeaderMap, now: DateTime<Utc>) {
    let version = app_version(headers);
    if let Err(e) = blocking(state, move |s| s.record_device_sync(device, &version, now)).await {
        tracing::warn!(code = %e.body.code, device = %device, "could not record the device's last sync");
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
}
