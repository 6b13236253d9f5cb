//! Each device's ledger at the office in SQLite: [`crate::ledger::push`] applies a push batch (the
//! rules live there) over [`LedgerTx`] on the writer's transaction, each stored event appended to
//! the office log in the same transaction (receipts signed after the commit); the change feed
//! every device pulls, and the stored events read back.

use super::evidence::{append_leaves, entry_of};
use super::jobs::{add_assignment, save_job};
use super::{SqliteStore, json, parse_digest, parse_ts, parse_uuid, select, to_json, ts};
use crate::ledger::makers::DeviceSignIn;
use crate::ledger::{JobFacts, LedgerTx, NewEvent, Settle, StoredVerdict};
use crate::store::{LedgerStore, LogEntry, StoreError, StoreResult, StoredEvent};
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use heatcrew_protocol::log::LogLeaf;
use heatcrew_protocol::sync::{Change, ChangeKind, PushResponse};
use heatcrew_protocol::{ChainTip, Digest, Event, EventBody, Job};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

/// A stored event with its verdict and the clock offset its corrected time uses: the device's
/// offset when it was recorded (issue 13, `kpi::time`), else (stored before migration 13) the
/// device's offset now.
const EVENT_COLS: &str = "e.body, e.user_id, e.status, e.reject_code, e.reject_reason, e.received_at, \
     COALESCE(e.offset_ms, d.clock_offset_ms)";

/// `EVENT_COLS` as read.
type EventRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
);

fn stored_event(t: EventRow) -> StoreResult<StoredEvent> {
    Ok(StoredEvent {
        event: json(&t.0)?,
        user_id: parse_uuid(&t.1)?,
        accepted: t.2 == "accepted",
        reject_code: t.3,
        reject_reason: t.4,
        received_at: parse_ts(&t.5)?,
        device_clock_offset_ms: t.6,
    })
}

/// Stored events matching `filter` (a `WHERE … ORDER BY …` tail over `events e` and `devices d`).
pub(super) fn select_events(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<StoredEvent>> {
    select(
        conn,
        &format!("SELECT {EVENT_COLS} FROM events e JOIN devices d ON d.id = e.device_id {filter}"),
        params,
        |r| EventRow::try_from(r),
        stored_event,
    )
}

/// Queue a change for `user_id`'s devices (`None`: for every device), in commit order.
pub(super) fn add_change(
    tx: &Connection,
    user_id: Option<Uuid>,
    change: &ChangeKind,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO changes (user_id, body, created_at) VALUES (?1, ?2, ?3)",
        params![user_id.map(|u| u.to_string()), to_json(change), ts(now)],
    )?;
    Ok(())
}

fn enrolled_key(hex_key: &str) -> StoreResult<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes)
        .map_err(|_| StoreError::Corrupt("enrolled key is not hex".into()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| StoreError::Corrupt("enrolled key is not an Ed25519 key".into()))
}

/// Parse a device's enrolled public key (hex) as stored.
pub fn parse_public_key(hex_key: &str) -> Option<VerifyingKey> {
    enrolled_key(hex_key).ok()
}

/// [`LedgerTx`] over the writer's open transaction.
pub(super) struct Tx<'a>(pub(super) &'a Connection);

impl LedgerTx for Tx<'_> {
    fn tip(&mut self, device_id: Uuid) -> StoreResult<Option<ChainTip>> {
        let row: Option<(i64, String)> = self
            .0
            .prepare_cached("SELECT last_seq, last_hash FROM devices WHERE id = ?1")?
            .query_row([device_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(seq, hash)| {
            Ok(ChainTip {
                seq: seq as u64,
                hash: parse_digest(&hash)?,
            })
        })
        .transpose()
    }

    fn stored(&mut self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<StoredVerdict>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT hash, status, reject_code, reject_reason FROM events WHERE device_id = ?1 AND device_seq = ?2",
            )?
            .query_row(params![device_id.to_string(), device_seq as i64], |r| {
                Ok(StoredVerdict {
                    hash: r.get(0)?,
                    accepted: r.get::<_, String>(1)? == "accepted",
                    reject_code: r.get(2)?,
                    reject_reason: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn log_entry_of(&mut self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<LogEntry>> {
        entry_of(self.0, device_id, device_seq)
    }

    fn job_facts(&mut self, job_id: Uuid, user_id: Uuid) -> StoreResult<JobFacts> {
        let tx = self.0;
        let row: Option<(Option<String>, String)> = tx
            .prepare_cached("SELECT assignee, status FROM jobs WHERE id = ?1")?
            .query_row([job_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((assignee, status)) = row else {
            return Ok(JobFacts::default());
        };
        let current = assignee.as_deref() == Some(user_id.to_string().as_str());
        let was: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM job_assignments WHERE job_id = ?1 AND user_id = ?2)",
            )?
            .query_row([job_id.to_string(), user_id.to_string()], |r| r.get(0))?;
        Ok(JobFacts {
            exists: true,
            user_is_or_was_assignee: current || was,
            user_is_assignee: current,
            cancelled: status == "cancelled",
        })
    }

    fn device_sign_ins(&mut self, device_id: Uuid) -> StoreResult<Vec<DeviceSignIn>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT user_id, chain_head_seq, chain_head_hash, sign_out_seq, sign_out_hash
             FROM sessions WHERE device_id = ?1 ORDER BY created_at, id",
        )?;
        type Row = (
            String,
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<String>,
        );
        let rows = stmt
            .query_map([device_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<Vec<Row>, _>>()?;
        let tip = |seq: Option<i64>, hash: &Option<String>| -> StoreResult<Option<ChainTip>> {
            Ok(match (seq, hash) {
                (Some(seq), Some(hash)) => Some(ChainTip {
                    seq: seq as u64,
                    hash: parse_digest(hash)?,
                }),
                _ => None,
            })
        };
        rows.iter()
            .map(|(user, seq, hash, out_seq, out_hash)| {
                Ok(DeviceSignIn {
                    user_id: parse_uuid(user)?,
                    chain_head: tip(*seq, hash)?,
                    signed_out: tip(*out_seq, out_hash)?,
                })
            })
            .collect()
    }

    fn accepted_body(&mut self, job_id: Uuid, event_id: Uuid) -> StoreResult<Option<EventBody>> {
        let body: Option<String> = self
            .0
            .query_row(
                "SELECT body FROM events WHERE job_id = ?1 AND id = ?2 AND status = 'accepted'",
                [job_id.to_string(), event_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(body
            .and_then(|b| serde_json::from_str::<Event>(&b).ok())
            .and_then(|e| EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload).ok()))
    }

    fn insert_event(&mut self, row: &NewEvent<'_>) -> StoreResult<()> {
        let u = &row.event.unsigned;
        let (status, code, reason) = match row.refusal {
            None => ("accepted", None, None),
            Some(r) => ("rejected", Some(r.code.as_str()), Some(r.reason.as_str())),
        };
        self.0
            .prepare_cached(
                "INSERT INTO events (device_id, device_seq, id, job_id, kind, hash, body, user_id, status, reject_code, reject_reason, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                row.device_id.to_string(),
                u.device_seq as i64,
                u.id.to_string(),
                u.job_id.to_string(),
                u.kind,
                row.event.hash.to_hex(),
                row.body_json,
                row.user_id.to_string(),
                status,
                code,
                reason,
                row.received_at
            ])?;
        Ok(())
    }

    fn open_field_job(&mut self, job: &Job, user_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        save_job(self.0, job, now)?;
        self.0.execute(
            "UPDATE jobs SET field_created = 1 WHERE id = ?1",
            [job.id.to_string()],
        )?;
        add_assignment(self.0, job.id, user_id, now)
    }

    fn add_attachment_ref(
        &mut self,
        sha256: Digest,
        device_id: Uuid,
        device_seq: u64,
        user_id: Uuid,
        job_id: Uuid,
    ) -> StoreResult<()> {
        self.0
            .prepare_cached(
                "INSERT OR IGNORE INTO attachment_refs (sha256, device_id, device_seq, user_id, job_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                sha256.to_hex(),
                device_id.to_string(),
                device_seq as i64,
                user_id.to_string(),
                job_id.to_string()
            ])?;
        Ok(())
    }

    fn add_change(
        &mut self,
        user_id: Option<Uuid>,
        change: &ChangeKind,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        add_change(self.0, user_id, change, now)
    }

    fn append_leaves(&mut self, leaves: &[LogLeaf], received_at: &str) -> StoreResult<u64> {
        let first = super::evidence::size(self.0)?;
        append_leaves(self.0, first, leaves, received_at)?;
        Ok(first)
    }

    fn settle_kpi(&mut self, device_id: Uuid, stored: &[Settle]) -> StoreResult<()> {
        super::kpi::settle_push(self.0, device_id, stored)
    }

    fn set_tip(&mut self, device_id: Uuid, tip: ChainTip) -> StoreResult<()> {
        self.0
            .prepare_cached("UPDATE devices SET last_seq = ?2, last_hash = ?3 WHERE id = ?1")?
            .execute(params![
                device_id.to_string(),
                tip.seq as i64,
                tip.hash.to_hex()
            ])?;
        Ok(())
    }
}

impl LedgerStore for SqliteStore {
    /// SQLite's `data_version` on the writer connection: it moves on every commit of another
    /// connection or process. The readers never write, so only outside writes move it.
    fn outside_writes(&self) -> StoreResult<Option<u64>> {
        let v: i64 = self
            .conn()
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok(Some(v as u64))
    }

    fn push(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        events: &[Event],
        now: DateTime<Utc>,
        office: &SigningKey,
    ) -> StoreResult<PushResponse> {
        // The enrolled key never changes, so hashing, signature checks and serialisation (the CPU
        // work) run before the write lock is taken, in parallel across devices. The transaction
        // then only checks sequence and links.
        let key_hex: String = self
            .reader()
            .query_row(
                "SELECT public_key FROM devices WHERE id = ?1",
                [device_id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::not_found(format!("device {device_id}")))?;
        let batch = crate::ledger::check(&enrolled_key(&key_hex)?, events);
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // On an error the transaction is dropped: nothing of the batch is kept.
        let pushed = crate::ledger::push(&mut Tx(&tx), device_id, user_id, batch, now)?;
        tx.commit()?;
        drop(conn);
        Ok(pushed.sign(office))
    }

    fn pull(
        &self,
        user_id: Uuid,
        cursor: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Change>, u64, bool)> {
        let conn = self.reader();
        let mut st = conn.prepare_cached(
            "SELECT server_seq, body FROM changes WHERE server_seq > ?1 AND (user_id = ?2 OR user_id IS NULL)
             ORDER BY server_seq LIMIT ?3",
        )?;
        let rows = st
            .query_map(
                params![
                    cursor.min(i64::MAX as u64) as i64,
                    user_id.to_string(),
                    limit as i64 + 1
                ],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = rows.len() > limit as usize;
        let changes = rows
            .into_iter()
            .take(limit as usize)
            .map(|(seq, body)| {
                Ok(Change {
                    server_seq: seq as u64,
                    change: json(&body)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let next = changes.last().map_or(cursor, |c| c.server_seq);
        Ok((changes, next, has_more))
    }

    fn device_events(&self, device_id: Uuid) -> StoreResult<Vec<StoredEvent>> {
        select_events(
            &self.reader(),
            "WHERE e.device_id = ?1 ORDER BY e.device_seq",
            [device_id.to_string()],
        )
    }

    fn device_events_after(
        &self,
        device_id: Uuid,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        select_events(
            &self.reader(),
            "WHERE e.device_id = ?1 AND e.device_seq > ?2 ORDER BY e.device_seq LIMIT ?3",
            params![
                device_id.to_string(),
                after.min(i64::MAX as u64) as i64,
                limit as i64
            ],
        )
    }

    fn job_events(&self, job_id: Uuid) -> StoreResult<Vec<StoredEvent>> {
        select_events(
            &self.reader(),
            "WHERE e.job_id = ?1 ORDER BY e.rowid",
            [job_id.to_string()],
        )
    }
}
