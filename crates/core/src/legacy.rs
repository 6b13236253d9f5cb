//! A device database exactly as builds before event format 2 and the key vault wrote it: schema 1,
//! the Ed25519 secret key in the `device` table, format-1 events. Phones in the field hold such
//! databases; the tests of the upgrade path (migration, key moved out and wiped, old and new events
//! verifying side by side) start from one.

use crate::error::Result;
use crate::migrations;
use crate::store::{format_time, project};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::{ChainTip, Event, EventBody, Format, Job, UnsignedEvent};
use rusqlite::{Connection, params};
use std::path::Path;
use uuid::Uuid;

/// Write a schema-1 database at `path` holding `key` in clear, `job` as dispatched, and one
/// format-1 event per body in `bodies` (projected as the old build did). Returns the events.
pub fn write_schema_1_database(
    path: &Path,
    key: &SigningKey,
    device_id: Uuid,
    job: &Job,
    bodies: &[EventBody],
    at: DateTime<Utc>,
) -> Result<Vec<Event>> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    migrations::run_to(&mut conn, 1, &mut |_, _| Ok(()))?;
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO device (singleton, device_id, secret_key, created_at) VALUES (1, ?1, ?2, ?3)",
        params![
            device_id.to_string(),
            key.to_bytes().to_vec(),
            format_time(at)
        ],
    )?;
    crate::Store::upsert_office_job(&tx, job)?;
    let mut tip = ChainTip::START;
    let mut events = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let (kind, payload) = body.to_parts();
        let event = UnsignedEvent {
            id: Uuid::now_v7(),
            device_id,
            device_seq: tip.seq + 1,
            job_id: job.id,
            kind,
            payload,
            recorded_at: at + chrono::Duration::seconds(i as i64),
            elapsed_ms: 1000 * i as u64,
            prev_hash: tip.hash,
            format: Format::V1,
        }
        .seal(key);
        tx.execute(
            "INSERT INTO events (seq, id, job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                event.seq() as i64,
                event.unsigned.id.to_string(),
                job.id.to_string(),
                event.unsigned.kind,
                serde_json::to_string(&event.unsigned.payload)?,
                format_time(event.unsigned.recorded_at),
                event.unsigned.elapsed_ms as i64,
                event.unsigned.prev_hash.0.to_vec(),
                event.hash.0.to_vec(),
                event.sig.to_vec(),
            ],
        )?;
        tx.execute(
            "INSERT INTO outbox (seq, state, updated_at) VALUES (?1, 'queued', ?2)",
            params![event.seq() as i64, format_time(at)],
        )?;
        project(&tx, &event)?;
        tip = ChainTip {
            seq: event.seq(),
            hash: event.hash,
        };
        tx.execute(
            "UPDATE device SET last_seq = ?1, last_hash = ?2",
            params![tip.seq as i64, tip.hash.0.to_vec()],
        )?;
        events.push(event);
    }
    tx.commit()?;
    Ok(events)
}
