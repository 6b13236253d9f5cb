//! Each device's ledger at the office in PostgreSQL: [`crate::ledger::push`] applies a push batch
//! (the rules live there) over [`LedgerTx`] on one transaction, the change feed every device pulls,
//! and the stored events read back.
//!
//! Several office processes push at once, so what SQLite gets from its single writer is explicit
//! here (docs/design.md, "PostgreSQL: commit order"):
//! - a push reads its device's tip `FOR UPDATE`: two pushes of one device run one after the other;
//! - change-feed numbers (`changes.server_seq`) and log indexes come from the one row of
//!   `ledger_counter`, updated as the last statement before the commit ([`take_numbers`]), so its
//!   row lock is held until the commit and numbers are handed out in commit order: a puller never
//!   skips a change committed later under a smaller number, and the log grows in commit order.

use super::PgStore;
use super::log_append::append_leaves;
use crate::ledger::makers::DeviceSignIn;
use crate::ledger::{JobFacts, LedgerTx, NewEvent, Settle, StoredVerdict};
use crate::store::convert::{json, parse_digest, parse_ts, parse_uuid, to_json, ts};
use crate::store::{LedgerStore, LogEntry, StoreError, StoreResult, StoredEvent};
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use heatcrew_protocol::log::LogLeaf;
use heatcrew_protocol::sync::{Change, ChangeKind, PushResponse};
use heatcrew_protocol::{ChainTip, Digest, Event, EventBody, Job};
use postgres::types::ToSql;
use postgres::{GenericClient, Transaction};
use uuid::Uuid;

/// A stored event with its verdict and the clock offset its corrected time uses (as
/// `sqlite/ledger.rs`).
const EVENT_COLS: &str = "e.body, e.user_id, e.status, e.reject_code, e.reject_reason, e.received_at, \
     COALESCE(e.offset_ms, d.clock_offset_ms)";

/// Stored events matching `filter` (a `WHERE … ORDER BY …` tail over `events e` and `devices d`).
pub(super) fn select_events(
    c: &mut impl GenericClient,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<StoredEvent>> {
    c.query(
        &format!("SELECT {EVENT_COLS} FROM events e JOIN devices d ON d.id = e.device_id {filter}"),
        params,
    )?
    .iter()
    .map(|r| {
        Ok(StoredEvent {
            event: json(r.try_get(0)?)?,
            user_id: parse_uuid(r.try_get(1)?)?,
            accepted: r.try_get::<_, &str>(2)? == "accepted",
            reject_code: r.try_get(3)?,
            reject_reason: r.try_get(4)?,
            received_at: parse_ts(r.try_get(5)?)?,
            device_clock_offset_ms: r.try_get(6)?,
        })
    })
    .collect()
}

/// Take `changes` change-feed numbers and `leaves` log indexes: `(first change, first leaf)`. The
/// counter row stays locked until the transaction ends, so call it last before the commit.
fn take_numbers(c: &mut impl GenericClient, changes: i64, leaves: i64) -> StoreResult<(i64, i64)> {
    let r = c.query_one(
        "UPDATE ledger_counter SET next_change = next_change + $1, log_size = log_size + $2
         WHERE id = 1 RETURNING next_change - $1, log_size - $2",
        &[&changes, &leaves],
    )?;
    Ok((r.try_get(0)?, r.try_get(1)?))
}

/// Insert changes as `server_seq` `first..`.
fn insert_changes(
    c: &mut impl GenericClient,
    first: i64,
    changes: &[(Option<String>, String)],
    now: &str,
) -> StoreResult<()> {
    let seqs: Vec<i64> = (first..).take(changes.len()).collect();
    let users: Vec<Option<&str>> = changes.iter().map(|c| c.0.as_deref()).collect();
    let bodies: Vec<&str> = changes.iter().map(|c| c.1.as_str()).collect();
    c.execute(
        "INSERT INTO changes (server_seq, user_id, body, created_at)
         SELECT s, u, b, $4 FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[]) AS t(s, u, b)",
        &[&seqs, &users, &bodies, &now],
    )?;
    Ok(())
}

/// Queue a change for `user_id`'s devices (`None`: for every device) inside `tx`. It takes its
/// number from `ledger_counter`, whose row stays locked until `tx` ends: numbers follow commit
/// order. Every writer of `changes` goes through here.
pub(crate) fn add_change(
    tx: &mut Transaction<'_>,
    user_id: Option<Uuid>,
    change: &ChangeKind,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (first, _) = take_numbers(tx, 1, 0)?;
    insert_changes(
        tx,
        first,
        &[(user_id.map(|u| u.to_string()), to_json(change))],
        &ts(now),
    )
}

fn enrolled_key(hex_key: &str) -> StoreResult<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes)
        .map_err(|_| StoreError::Corrupt("enrolled key is not hex".into()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| StoreError::Corrupt("enrolled key is not an Ed25519 key".into()))
}

/// A device's ledger position, its row locked FOR UPDATE: another push of this device (or a
/// sign-in checking its chain head) waits for this transaction to commit.
pub(super) fn locked_tip(
    tx: &mut Transaction<'_>,
    device_id: Uuid,
) -> StoreResult<Option<ChainTip>> {
    tx.query_opt(
        "SELECT last_seq, last_hash FROM devices WHERE id = $1 FOR UPDATE",
        &[&device_id.to_string()],
    )?
    .map(|r| {
        Ok(ChainTip {
            seq: r.try_get::<_, i64>(0)? as u64,
            hash: parse_digest(r.try_get(1)?)?,
        })
    })
    .transpose()
}

/// An event row waiting in [`Tx::events`] for the batch's one multi-row insert.
struct EventRow {
    device_seq: i64,
    id: String,
    job_id: String,
    kind: String,
    hash: String,
    body: String,
    status: &'static str,
    reject_code: Option<&'static str>,
    reject_reason: Option<String>,
}

/// [`LedgerTx`] over one push transaction. Changes wait in `changes` and go in with the log
/// leaves, under the counter's lock taken last. Event rows wait in `events` and go in with one
/// multi-row insert ([`Tx::flush_events`]) before anything reads the events table or the
/// transaction goes on to its last writes: a round trip per batch instead of one per event.
struct Tx<'a, 'c> {
    tx: &'a mut Transaction<'c>,
    /// (device, user, received_at) of the waiting rows: one push, one of each.
    batch: Option<(String, String, String)>,
    events: Vec<EventRow>,
    changes: Vec<(Option<String>, String)>,
    now: String,
}

impl Tx<'_, '_> {
    /// Insert the waiting event rows, in order (their `rowid`s follow the batch's order, the
    /// office's receipt order).
    fn flush_events(&mut self) -> StoreResult<()> {
        if self.events.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.events);
        let Some((device, user, received_at)) = &self.batch else {
            return Err(StoreError::Corrupt("event rows without their push".into()));
        };
        let seq: Vec<i64> = rows.iter().map(|r| r.device_seq).collect();
        let id: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let job: Vec<&str> = rows.iter().map(|r| r.job_id.as_str()).collect();
        let kind: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
        let hash: Vec<&str> = rows.iter().map(|r| r.hash.as_str()).collect();
        let body: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
        let status: Vec<&str> = rows.iter().map(|r| r.status).collect();
        let code: Vec<Option<&str>> = rows.iter().map(|r| r.reject_code).collect();
        let reason: Vec<Option<&str>> = rows.iter().map(|r| r.reject_reason.as_deref()).collect();
        self.tx.execute(
            "INSERT INTO events (device_id, device_seq, id, job_id, kind, hash, body, user_id, status,
                 reject_code, reject_reason, received_at)
             SELECT $1, s, i, j, k, h, b, $2, st, c, r, $3
             FROM UNNEST($4::BIGINT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[],
                         $10::TEXT[], $11::TEXT[], $12::TEXT[]) WITH ORDINALITY
                  AS t(s, i, j, k, h, b, st, c, r, n)
             ORDER BY n",
            &[
                device,
                user,
                received_at,
                &seq,
                &id,
                &job,
                &kind,
                &hash,
                &body,
                &status,
                &code,
                &reason,
            ],
        )?;
        Ok(())
    }

    /// Write the changes no log append took along (none in a push that stored something).
    fn finish(&mut self) -> StoreResult<()> {
        if self.changes.is_empty() {
            return Ok(());
        }
        let (first, _) = take_numbers(self.tx, self.changes.len() as i64, 0)?;
        insert_changes(
            self.tx,
            first,
            &std::mem::take(&mut self.changes),
            &self.now,
        )
    }
}

impl LedgerTx for Tx<'_, '_> {
    fn tip(&mut self, device_id: Uuid) -> StoreResult<Option<ChainTip>> {
        locked_tip(self.tx, device_id)
    }

    fn stored(&mut self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<StoredVerdict>> {
        self.flush_events()?;
        self.tx
            .query_opt(
                "SELECT hash, status, reject_code, reject_reason FROM events WHERE device_id = $1 AND device_seq = $2",
                &[&device_id.to_string(), &(device_seq as i64)],
            )?
            .map(|r| {
                Ok(StoredVerdict {
                    hash: r.try_get(0)?,
                    accepted: r.try_get::<_, &str>(1)? == "accepted",
                    reject_code: r.try_get(2)?,
                    reject_reason: r.try_get(3)?,
                })
            })
            .transpose()
    }

    fn log_entry_of(&mut self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<LogEntry>> {
        self.tx
            .query_opt(
                "SELECT log_index, event_hash, accepted, received_at FROM log_leaves WHERE device_id = $1 AND device_seq = $2",
                &[&device_id.to_string(), &(device_seq as i64)],
            )?
            .map(|r| {
                Ok(LogEntry {
                    index: r.try_get::<_, i64>(0)? as u64,
                    leaf: LogLeaf {
                        device_id,
                        device_seq,
                        event_hash: parse_digest(r.try_get(1)?)?,
                        accepted: r.try_get::<_, i64>(2)? == 1,
                    },
                    received_at: parse_ts(r.try_get(3)?)?,
                })
            })
            .transpose()
    }

    fn job_facts(&mut self, job_id: Uuid, user_id: Uuid) -> StoreResult<JobFacts> {
        let (job, user) = (job_id.to_string(), user_id.to_string());
        let Some(r) = self.tx.query_opt(
            "SELECT assignee, status,
                    EXISTS (SELECT 1 FROM job_assignments WHERE job_id = $1 AND user_id = $2)
             FROM jobs WHERE id = $1",
            &[&job, &user],
        )?
        else {
            return Ok(JobFacts::default());
        };
        let current = r.try_get::<_, Option<&str>>(0)? == Some(user.as_str());
        Ok(JobFacts {
            exists: true,
            user_is_or_was_assignee: current || r.try_get::<_, bool>(2)?,
            user_is_assignee: current,
            cancelled: r.try_get::<_, &str>(1)? == "cancelled",
        })
    }

    fn device_sign_ins(&mut self, device_id: Uuid) -> StoreResult<Vec<DeviceSignIn>> {
        self.tx
            .query(
                "SELECT user_id, chain_head_seq, chain_head_hash, sign_out_seq, sign_out_hash
                 FROM sessions WHERE device_id = $1 ORDER BY created_at, id",
                &[&device_id.to_string()],
            )?
            .iter()
            .map(|r| {
                let tip = |seq: usize| -> StoreResult<Option<ChainTip>> {
                    Ok(
                        match (
                            r.try_get::<_, Option<i64>>(seq)?,
                            r.try_get::<_, Option<&str>>(seq + 1)?,
                        ) {
                            (Some(seq), Some(hash)) => Some(ChainTip {
                                seq: seq as u64,
                                hash: parse_digest(hash)?,
                            }),
                            _ => None,
                        },
                    )
                };
                Ok(DeviceSignIn {
                    user_id: parse_uuid(r.try_get::<_, &str>(0)?)?,
                    chain_head: tip(1)?,
                    signed_out: tip(3)?,
                })
            })
            .collect()
    }

    fn accepted_body(&mut self, job_id: Uuid, event_id: Uuid) -> StoreResult<Option<EventBody>> {
        self.flush_events()?;
        let row = self.tx.query_opt(
            "SELECT body FROM events WHERE job_id = $1 AND id = $2 AND status = 'accepted'",
            &[&job_id.to_string(), &event_id.to_string()],
        )?;
        let body: Option<String> = row.map(|r| r.try_get(0)).transpose()?;
        Ok(body
            .and_then(|b| serde_json::from_str::<Event>(&b).ok())
            .and_then(|e| EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload).ok()))
    }

    fn insert_event(&mut self, row: &NewEvent<'_>) -> StoreResult<()> {
        let u = &row.event.unsigned;
        let push = (
            row.device_id.to_string(),
            row.user_id.to_string(),
            row.received_at.to_owned(),
        );
        match &self.batch {
            Some(b) if *b == push => {}
            Some(_) => {
                // Not within one push (no caller does this): keep the rows apart.
                self.flush_events()?;
                self.batch = Some(push);
            }
            None => self.batch = Some(push),
        }
        let (status, code, reason) = match row.refusal {
            None => ("accepted", None, None),
            Some(r) => ("rejected", Some(r.code.as_str()), Some(r.reason.clone())),
        };
        self.events.push(EventRow {
            device_seq: u.device_seq as i64,
            id: u.id.to_string(),
            job_id: u.job_id.to_string(),
            kind: u.kind.clone(),
            hash: row.event.hash.to_hex(),
            body: row.body_json.to_owned(),
            status,
            reject_code: code,
            reject_reason: reason,
        });
        Ok(())
    }

    fn open_field_job(&mut self, job: &Job, user_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        super::jobs::save_job(self.tx, job, now)?;
        self.tx.execute(
            "UPDATE jobs SET field_created = 1 WHERE id = $1",
            &[&job.id.to_string()],
        )?;
        super::jobs::add_assignment(self.tx, job.id, user_id, now)
    }

    fn add_attachment_ref(
        &mut self,
        sha256: Digest,
        device_id: Uuid,
        device_seq: u64,
        user_id: Uuid,
        job_id: Uuid,
    ) -> StoreResult<()> {
        // attachment_refs name their event.
        self.flush_events()?;
        self.tx.execute(
            "INSERT INTO attachment_refs (sha256, device_id, device_seq, user_id, job_id)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &sha256.to_hex(),
                &device_id.to_string(),
                &(device_seq as i64),
                &user_id.to_string(),
                &job_id.to_string(),
            ],
        )?;
        Ok(())
    }

    fn add_change(
        &mut self,
        user_id: Option<Uuid>,
        change: &ChangeKind,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        debug_assert_eq!(ts(now), self.now, "one push, one time");
        self.changes
            .push((user_id.map(|u| u.to_string()), to_json(change)));
        Ok(())
    }

    fn append_leaves(&mut self, leaves: &[LogLeaf], received_at: &str) -> StoreResult<u64> {
        self.flush_events()?;
        let changes = std::mem::take(&mut self.changes);
        let (first_change, first_leaf) =
            take_numbers(self.tx, changes.len() as i64, leaves.len() as i64)?;
        append_leaves(self.tx, first_leaf as u64, leaves, received_at)?;
        if !changes.is_empty() {
            insert_changes(self.tx, first_change, &changes, &self.now)?;
        }
        Ok(first_leaf as u64)
    }

    fn settle_kpi(&mut self, device_id: Uuid, stored: &[Settle]) -> StoreResult<()> {
        self.flush_events()?;
        super::kpi::settle_push(self.tx, device_id, stored)
    }

    fn set_tip(&mut self, device_id: Uuid, tip: ChainTip) -> StoreResult<()> {
        self.flush_events()?;
        self.tx.execute(
            "UPDATE devices SET last_seq = $2, last_hash = $3 WHERE id = $1",
            &[
                &device_id.to_string(),
                &(tip.seq as i64),
                &tip.hash.to_hex(),
            ],
        )?;
        Ok(())
    }
}

impl LedgerStore for PgStore {
    fn outside_writes(&self) -> StoreResult<Option<u64>> {
        super::chains::outside_writes(self)
    }

    fn push(
        &self,
        device_id: Uuid,
        user_id: Uuid,
        events: &[Event],
        now: DateTime<Utc>,
        office: &SigningKey,
    ) -> StoreResult<PushResponse> {
        let mut conn = self.conn()?;
        // The enrolled key never changes: signatures, hashes and serialisation are checked
        // before the transaction.
        let key_hex: String = conn
            .query_opt(
                "SELECT public_key FROM devices WHERE id = $1",
                &[&device_id.to_string()],
            )?
            .ok_or_else(|| StoreError::not_found(format!("device {device_id}")))?
            .try_get(0)?;
        drop(conn);
        let key = enrolled_key(&key_hex)?;
        let mut checked = Some(crate::ledger::check(&key, events));
        // On an error the transaction is dropped (rolled back): nothing of the batch is kept. A
        // push aborted for a deadlock runs again whole (`write`), checking the batch again.
        let pushed = self.write(|tx| {
            let batch = checked
                .take()
                .unwrap_or_else(|| crate::ledger::check(&key, events));
            let mut t = Tx {
                tx,
                batch: None,
                events: Vec::new(),
                changes: Vec::new(),
                now: ts(now),
            };
            let pushed = crate::ledger::push(&mut t, device_id, user_id, batch, now)?;
            t.flush_events()?;
            t.finish()?;
            Ok(pushed)
        })?;
        Ok(pushed.sign(office))
    }

    fn pull(
        &self,
        user_id: Uuid,
        cursor: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Change>, u64, bool)> {
        let rows = self.conn()?.query(
            "SELECT server_seq, body FROM changes WHERE server_seq > $1 AND (user_id = $2 OR user_id IS NULL)
             ORDER BY server_seq LIMIT $3",
            &[
                &(cursor.min(i64::MAX as u64) as i64),
                &user_id.to_string(),
                &(i64::from(limit) + 1),
            ],
        )?;
        let has_more = rows.len() > limit as usize;
        let changes = rows
            .iter()
            .take(limit as usize)
            .map(|r| {
                Ok(Change {
                    server_seq: r.try_get::<_, i64>(0)? as u64,
                    change: json(r.try_get(1)?)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let next = changes.last().map_or(cursor, |c| c.server_seq);
        Ok((changes, next, has_more))
    }

    fn device_events(&self, device_id: Uuid) -> StoreResult<Vec<StoredEvent>> {
        select_events(
            &mut *self.conn()?,
            "WHERE e.device_id = $1 ORDER BY e.device_seq",
            &[&device_id.to_string()],
        )
    }

    fn device_events_after(
        &self,
        device_id: Uuid,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        select_events(
            &mut *self.conn()?,
            "WHERE e.device_id = $1 AND e.device_seq > $2 ORDER BY e.device_seq LIMIT $3",
            &[
                &device_id.to_string(),
                &(after.min(i64::MAX as u64) as i64),
                &i64::from(limit),
            ],
        )
    }

    fn job_events(&self, job_id: Uuid) -> StoreResult<Vec<StoredEvent>> {
        select_events(
            &mut *self.conn()?,
            "WHERE e.job_id = $1 ORDER BY e.rowid",
            &[&job_id.to_string()],
        )
    }
}
