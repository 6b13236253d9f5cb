//! Conversions between stored columns and office types, shared by every backend: both store
//! times as RFC 3339 text with milliseconds in UTC (so they sort as text and a row copies between
//! backends unchanged), ids and digests as text, bodies as the exact JSON text that was hashed.
//! Reading a column cannot fail on content, so rows are read as text first and parsed after, where
//! bad content is [`StoreError::Corrupt`]. The jobs' lookup columns ([`phone_key`], [`board_at`])
//! are derived here too, so both backends index the same values.

use super::{StoreError, StoreResult};
use chrono::{DateTime, SecondsFormat, Utc};
use heatcrew_protocol::{Digest, Job};
use serde::Serialize;
use uuid::Uuid;

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

pub(crate) fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}

pub(crate) fn parse_digest(s: &str) -> StoreResult<Digest> {
    s.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("stored JSON: {e}")))
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("office types always serialize")
}

/// A phone number as the lookup indexes it: its digits only (`138 0013-8000` → `13800138000`).
pub fn phone_key(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// The instant a job belongs on the dispatch board: its appointment, else when it was reported.
pub fn board_at(job: &Job) -> Option<DateTime<Utc>> {
    job.window.map(|w| w.start).or(job.reported_at)
}
