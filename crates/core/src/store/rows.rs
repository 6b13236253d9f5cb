//! Reading stored rows back: events (as written by any schema version), times, ids and digests.

use crate::error::{CoreError, Result};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{Digest, Event, Format, UnsignedEvent};
use rusqlite::{Connection, params};
use uuid::Uuid;

/// Up to `limit` events of `device_id` after `seq` from a device database; `has_format`: whether
/// its schema records the format (from schema 2; every earlier event is format 1).
pub(crate) fn read_events(
    conn: &Connection,
    device_id: Uuid,
    seq: u64,
    limit: usize,
    has_format: bool,
) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(if has_format {
        "SELECT seq, id, job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig, format
         FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    } else {
        "SELECT seq, id, job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig, 1
         FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    })?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![seq as i64, limit], |r| {
        Ok(RawEvent {
            seq: r.get(0)?,
            id: r.get(1)?,
            job_id: r.get(2)?,
            kind: r.get(3)?,
            payload: r.get(4)?,
            recorded_at: r.get(5)?,
            elapsed_ms: r.get(6)?,
            prev_hash: r.get(7)?,
            hash: r.get(8)?,
            sig: r.get(9)?,
            format: r.get(10)?,
        })
    })?;
    rows.map(|r| r?.into_event(device_id)).collect()
}

/// An events row as stored, before it is checked to be a well-formed event.
struct RawEvent {
    seq: i64,
    id: String,
    job_id: String,
    kind: String,
    payload: String,
    recorded_at: String,
    elapsed_ms: i64,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    sig: Vec<u8>,
    format: i64,
}

impl RawEvent {
    fn into_event(self, device_id: Uuid) -> Result<Event> {
        let seq = self.seq;
        let bad = |what: &str| CoreError::Corrupt(format!("event {seq}: malformed {what}"));
        Ok(Event {
            unsigned: UnsignedEvent {
                id: parse_uuid(&self.id).map_err(|_| bad("id"))?,
                device_id,
                device_seq: seq as u64,
                job_id: parse_uuid(&self.job_id).map_err(|_| bad("job id"))?,
                kind: self.kind,
                payload: serde_json::from_str(&self.payload).map_err(|_| bad("payload"))?,
                recorded_at: parse_time(&self.recorded_at).map_err(|_| bad("time"))?,
                elapsed_ms: self.elapsed_ms as u64,
                prev_hash: digest_from(&self.prev_hash).map_err(|_| bad("prev_hash"))?,
                format: match self.format {
                    1 => Format::V1,
                    2 => Format::V2,
                    _ => return Err(bad("format")),
                },
            },
            hash: digest_from(&self.hash).map_err(|_| bad("hash"))?,
            sig: self
                .sig
                .as_slice()
                .try_into()
                .map_err(|_| bad("signature"))?,
        })
    }
}

pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| CoreError::Corrupt(format!("time {s:?}: {e}")))
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| CoreError::Corrupt(format!("id {s:?}: {e}")))
}

pub(crate) fn digest_from(bytes: &[u8]) -> Result<Digest> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| CoreError::Corrupt("digest length".into()))?;
    Ok(Digest(arr))
}
