//! The outbox: every event waits, in sequence order, until the office acknowledges or rejects it;
//! urgent ones (accident reports) go first.
//!
//! Since schema 12 the outbox is not a row per event (each such row and its index entry were two of
//! the seven encrypted pages every action wrote: docs/design.md, "What one action costs"). The
//! office answers a device's pushes in `device_seq` order, so what it has answered is a prefix of
//! the log: `sync_state.acked_through`. Every event after it waits (queued, or uploading up to
//! `sync_state.uploading_through` while a push is out); every event up to it was acknowledged,
//! except the few listed in `outbox_rejected` with the office's reason. Urgent events are listed
//! in `urgent_events`, written only when an urgent event is recorded. Schema 12 (crate::migrations)
//! carries an older build's outbox over with every answer.

use super::{Store, parse_time, parse_uuid};
use crate::error::Result;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// Whether the office has answered it (and will not be asked again).
    pub fn is_answered(self) -> bool {
        matches!(self, OutboxState::Acknowledged | OutboxState::Rejected)
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

/// Where the office's answers stand: every event up to `acked_through` is answered, the ones after
/// it up to `uploading_through` are in a push not answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    acked_through: u64,
    uploading_through: u64,
}

impl Cursor {
    fn read(conn: &Connection) -> Result<Cursor> {
        let (acked, uploading): (i64, i64) = conn
            .prepare_cached("SELECT acked_through, uploading_through FROM sync_state")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(Cursor {
            acked_through: acked.max(0) as u64,
            uploading_through: uploading.max(0) as u64,
        })
    }

    /// The state of event `seq`, `rejected` if `outbox_rejected` lists it.
    fn state(self, seq: u64, rejected: bool) -> OutboxState {
        if seq > self.acked_through {
            if seq <= self.uploading_through {
                OutboxState::Uploading
            } else {
                OutboxState::Queued
            }
        } else if rejected {
            OutboxState::Rejected
        } else {
            OutboxState::Acknowledged
        }
    }
}

/// Mark an urgent event (in the transaction that records it): it goes before everything else.
pub(super) fn mark_urgent(tx: &Transaction<'_>, seq: i64) -> Result<()> {
    tx.prepare_cached("INSERT INTO urgent_events (seq) VALUES (?1)")?
        .execute([seq])?;
    Ok(())
}

impl Store {
    /// The outbox, oldest first: every event, with what the office made of it.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let cursor = Cursor::read(&self.conn)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.seq, e.id, e.job_id, e.kind, e.recorded_at, r.seq IS NOT NULL, r.reason,
                    u.seq IS NOT NULL
             FROM events e
             LEFT JOIN outbox_rejected r ON r.seq = e.seq
             LEFT JOIN urgent_events u ON u.seq = e.seq
             ORDER BY e.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, bool>(7)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, id, job, kind, at, rejected, reason, urgent) = row?;
            let seq = seq as u64;
            let state = cursor.state(seq, rejected);
            Ok(OutboxEntry {
                seq,
                event_id: parse_uuid(&id)?,
                job_id: parse_uuid(&job)?,
                kind,
                recorded_at: parse_time(&at)?,
                state,
                reason: if state == OutboxState::Rejected {
                    reason
                } else {
                    None
                },
                urgent,
            })
        })
        .collect()
    }

    /// Set the outbox state of events: the office's answers (acknowledged, rejected with a reason)
    /// and the pushes out (uploading) or given up (queued). The office answers in sequence order,
    /// so answers move the answered prefix forward; an answer after a record still waiting
    /// changes nothing (that record and the ones after it are pushed again, and answered again).
    pub fn set_outbox_state(
        &mut self,
        updates: &[(u64, OutboxState, Option<String>)],
    ) -> Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let now = super::format_time(self.now());
        let tx = self.conn.transaction()?;
        let cursor = Cursor::read(&tx)?;
        let answers: BTreeMap<u64, Option<&str>> = updates
            .iter()
            .filter(|(_, state, _)| state.is_answered())
            .map(|(seq, state, reason)| {
                let reason = match state {
                    OutboxState::Rejected => Some(reason.as_deref().unwrap_or_default()),
                    _ => None,
                };
                (*seq, reason)
            })
            .collect();
        let mut acked = cursor.acked_through;
        while answers.contains_key(&(acked + 1)) {
            acked += 1;
        }
        for (seq, rejected) in answers.range(..=acked) {
            match rejected {
                Some(reason) => tx
                    .prepare_cached(
                        "INSERT INTO outbox_rejected (seq, reason, rejected_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT(seq) DO UPDATE SET reason = excluded.reason,
                             rejected_at = excluded.rejected_at",
                    )?
                    .execute(params![*seq as i64, reason, now])?,
                None => tx
                    .prepare_cached("DELETE FROM outbox_rejected WHERE seq = ?1")?
                    .execute([*seq as i64])?,
            };
        }
        let mut uploading = cursor.uploading_through;
        for (seq, state, _) in updates {
            match state {
                OutboxState::Uploading => uploading = uploading.max(*seq),
                OutboxState::Queued => uploading = uploading.min(seq.saturating_sub(1)),
                _ => {}
            }
        }
        tx.prepare_cached("UPDATE sync_state SET acked_through = ?1, uploading_through = ?2")?
            .execute(params![acked as i64, uploading as i64])?;
        tx.commit()?;
        Ok(())
    }

    /// The office expects `expected_seq` next: everything from there on goes again, everything
    /// before it the office already holds (never past the newest event: a log restored from an
    /// older copy pushes what it records next).
    pub fn resync_from(&mut self, expected_seq: u64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let expected = expected_seq.max(1) as i64;
        tx.execute(
            "UPDATE sync_state SET uploading_through = 0,
                 acked_through = MIN(?1 - 1, (SELECT IFNULL(MAX(seq), 0) FROM events))",
            [expected],
        )?;
        tx.execute("DELETE FROM outbox_rejected WHERE seq >= ?1", [expected])?;
        tx.commit()?;
        Ok(())
    }

    /// The last urgent record (an accident report) still waiting for the office, if any. The
    /// sync client pushes the chain up to it, and its job's photos, before anything else.
    pub fn last_urgent_pending(&self) -> Result<Option<u64>> {
        let seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT MAX(seq) FROM urgent_events
                 WHERE seq > (SELECT acked_through FROM sync_state)",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(seq.map(|s| s as u64))
    }
}

/// Records marked uploading whose push was never answered (the app stopped, or the pass ended without
/// the office's reply) go back to queued, to be pushed again; the office ignores what it already has.
pub(crate) fn requeue_unanswered_pushes(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE sync_state SET uploading_through = 0 WHERE uploading_through <> 0",
        [],
    )?;
    Ok(())
}
