//! The outbox: every event waits here, in sequence order, until the office acknowledges or rejects
//! it; urgent ones (accident reports) are marked so they go first.

use super::{Store, parse_time, parse_uuid};
use crate::error::{CoreError, Result};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// The state of a record in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Queued,
    Uploading,
    Acknowledged,
    Rejected,
}

impl OutboxState {
    fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Uploading => "uploading",
            OutboxState::Acknowledged => "acknowledged",
            OutboxState::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Result<OutboxState> {
        Ok(match s {
            "queued" => OutboxState::Queued,
            "uploading" => OutboxState::Uploading,
            "acknowledged" => OutboxState::Acknowledged,
            "rejected" => OutboxState::Rejected,
            other => return Err(CoreError::Corrupt(format!("outbox state {other:?}"))),
        })
    }
}

/// One record in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub seq: u64,
    pub event_id: Uuid,
    pub job_id: Uuid,
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    pub state: OutboxState,
    pub reason: Option<String>,
    pub urgent: bool,
}

impl Store {
    /// The outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.seq, e.id, e.job_id, e.kind, e.recorded_at, o.state, o.reason, o.urgent
             FROM outbox o JOIN events e ON e.seq = o.seq ORDER BY o.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, bool>(7)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, id, job, kind, at, state, reason, urgent) = row?;
            Ok(OutboxEntry {
                seq: seq as u64,
                event_id: parse_uuid(&id)?,
                job_id: parse_uuid(&job)?,
                kind,
                recorded_at: parse_time(&at)?,
                state: OutboxState::parse(&state)?,
                reason,
                urgent,
            })
        })
        .collect()
    }

    /// Set the outbox state of events (after a push).
    pub fn set_outbox_state(
        &mut self,
        updates: &[(u64, OutboxState, Option<String>)],
    ) -> Result<()> {
        let now = self.now().to_rfc3339();
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET state = ?2, reason = ?3, updated_at = ?4 WHERE seq = ?1",
            )?;
            for (seq, state, reason) in updates {
                stmt.execute(params![*seq as i64, state.as_str(), reason, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl Store {
    /// The last urgent record (an accident report) still waiting for the office, if any. The
    /// sync client pushes the chain up to it, and its job's photos, before anything else.
    pub fn last_urgent_pending(&self) -> Result<Option<u64>> {
        let seq: Option<i64> = self.conn.query_row(
            "SELECT MAX(seq) FROM outbox WHERE urgent = 1 AND state IN ('queued', 'uploading')",
            [],
            |r| r.get(0),
        )?;
        Ok(seq.map(|s| s as u64))
    }
}

/// Records marked uploading whose push was never answered (the app stopped, or the pass ended without
/// the office's reply) go back to queued, to be pushed again; the office ignores what it already has.
pub(crate) fn requeue_unanswered_pushes(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'queued' WHERE state = 'uploading'",
        [],
    )?;
    Ok(())
}
