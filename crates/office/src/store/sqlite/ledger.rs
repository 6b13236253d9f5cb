//! Each device's ledger at the office: pushed events checked against the chain and stored with the
//! office's verdict ([`crate::ledger`] decides what an event may do) and appended to the office log
//! in the same transaction (receipts signed after the commit), the change feed every device pulls,
//! and the stored events read back.

use super::evidence::{append_leaf, entry_of};
use super::jobs::{add_assignment, save_job};
use super::{SqliteStore, json, parse_digest, parse_ts, parse_uuid, select, to_json, ts};
use crate::ledger::{Effect, JobFacts};
use crate::store::{LedgerStore, LogEntry, StoreError, StoreResult, StoredEvent};
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::log::{LogLeaf, Receipt};
use heatcrew_protocol::sync::{Change, ChangeKind, PushOutcome, PushResponse, PushResult};
use heatcrew_protocol::{ChainTip, Event, EventBody, EventFault};
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

/// What [`crate::ledger::judge`] needs to know about `job_id` from `user_id`'s side.
fn job_facts(tx: &Connection, job_id: Uuid, user_id: Uuid) -> StoreResult<JobFacts> {
    let row: Option<(Option<String>, String)> = tx
        .query_row(
            "SELECT assignee, status FROM jobs WHERE id = ?1",
            [job_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((assignee, status)) = row else {
        return Ok(JobFacts::default());
    };
    let current = assignee.as_deref() == Some(user_id.to_string().as_str());
    let was: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM job_assignments WHERE job_id = ?1 AND user_id = ?2)",
        [job_id.to_string(), user_id.to_string()],
        |r| r.get(0),
    )?;
    Ok(JobFacts {
        exists: true,
        user_is_or_was_assignee: current || was,
        user_is_assignee: current,
        cancelled: status == "cancelled",
    })
}

/// An accepted event of `job_id` (the record a correction names), if the office holds one.
fn accepted_event(tx: &Connection, job_id: Uuid, event_id: Uuid) -> StoreResult<Option<EventBody>> {
    let body: Option<String> = tx
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
        let dev = device_id.to_string();
        // The enrolled key never changes, so hashing, signature checks and serialisation (the CPU
        // work) run before the write lock is taken, in parallel across devices. The transaction
        // below then only checks sequence and links.
        let key_hex: String = self
            .reader()
            .query_row(
                "SELECT public_key FROM devices WHERE id = ?1",
                [&dev],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::not_found(format!("device {device_id}")))?;
        let key = enrolled_key(&key_hex)?;
        let prechecked: Vec<(Option<EventFault>, String)> = events
            .iter()
            .map(|e| (e.verify(&key).err(), to_json(e)))
            .collect();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (last_seq, last_hash): (i64, String) = tx.query_row(
            "SELECT last_seq, last_hash FROM devices WHERE id = ?1",
            [&dev],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let start = ChainTip {
            seq: last_seq as u64,
            hash: parse_digest(&last_hash)?,
        };
        let mut tip = start;
        let mut blocked_by: Option<u64> = None;
        let mut facts_cache: std::collections::HashMap<Uuid, JobFacts> = Default::default();
        let mut results = Vec::with_capacity(events.len());
        // Receipts to sign once committed: (index into `results`, the event's log entry).
        let mut receipts: Vec<(usize, LogEntry)> = Vec::with_capacity(events.len());
        let mut log_size = super::evidence::size(&tx)?;
        let received = ts(now);
        let received_at = parse_ts(&received)?;
        let user = user_id.to_string();
        for (e, (verified, body_json)) in events.iter().zip(prechecked) {
            let seq = e.seq();
            let result = |outcome| PushResult {
                device_seq: seq,
                event_id: e.unsigned.id,
                outcome,
                receipt: None,
            };
            if seq <= tip.seq {
                let stored: Option<(String, String, Option<String>, Option<String>)> = tx
                    .query_row(
                        "SELECT hash, status, reject_code, reject_reason FROM events WHERE device_id = ?1 AND device_seq = ?2",
                        params![dev, seq as i64],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .optional()?;
                let outcome = match stored {
                    None if seq == 0 => PushOutcome::Rejected {
                        code: ErrorCode::OutOfSequence,
                        reason: "device_seq starts at 1".into(),
                    },
                    None => {
                        return Err(StoreError::Corrupt(format!(
                            "device {device_id} ledger has no event {seq} below its tip"
                        )));
                    }
                    Some((hash, _, _, _)) if hash != e.hash.to_hex() => PushOutcome::Rejected {
                        code: ErrorCode::ConflictingDuplicate,
                        reason: format!(
                            "the office already holds a different event {seq} from this device"
                        ),
                    },
                    Some((_, status, code, reason)) if status == "rejected" => {
                        PushOutcome::Rejected {
                            code: ErrorCode::parse(code.as_deref().unwrap_or_default()),
                            reason: reason.unwrap_or_default(),
                        }
                    }
                    Some(_) => PushOutcome::Duplicate,
                };
                if !matches!(
                    &outcome,
                    PushOutcome::Rejected {
                        code: ErrorCode::ConflictingDuplicate | ErrorCode::OutOfSequence,
                        ..
                    }
                ) {
                    // A retry: the receipt it got the first time, again.
                    let entry = entry_of(&tx, device_id, seq)?.ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "device {device_id} event {seq} is stored but not in the office log"
                        ))
                    })?;
                    receipts.push((results.len(), entry));
                }
                results.push(result(outcome));
                continue;
            }
            if let Some(bad) = blocked_by {
                results.push(result(PushOutcome::Rejected {
                    code: ErrorCode::ChainBlocked,
                    reason: format!(
                        "event {bad} before it was rejected, so this one cannot link to the chain"
                    ),
                }));
                continue;
            }
            if seq > tip.seq + 1 {
                // Dropping the transaction rolls back anything this batch did.
                return Err(StoreError::SequenceGap {
                    expected: start.seq + 1,
                });
            }
            // ChainTip::follow, with the signature check done above.
            let link = if e.unsigned.device_id != device_id {
                Err(EventFault::WrongDevice {
                    seq,
                    expected: device_id,
                    found: e.unsigned.device_id,
                })
            } else if let Some(fault) = verified {
                Err(fault)
            } else if e.unsigned.prev_hash != tip.hash {
                Err(EventFault::BrokenChain { seq })
            } else {
                Ok(ChainTip { seq, hash: e.hash })
            };
            let next = match link {
                Ok(next) => next,
                Err(fault) => {
                    blocked_by = Some(seq);
                    results.push(result(PushOutcome::Rejected {
                        code: fault.code(),
                        reason: fault.to_string(),
                    }));
                    continue;
                }
            };
            let u = &e.unsigned;
            // A batch usually touches one or two jobs: look each up once.
            let facts = match facts_cache.get(&u.job_id) {
                Some(f) => f.clone(),
                None => {
                    let f = job_facts(&tx, u.job_id, user_id)?;
                    facts_cache.insert(u.job_id, f.clone());
                    f
                }
            };
            let mut verdict = crate::ledger::judge(e, user_id, &facts);
            if let Ok(Effect::Record(Some(body))) = &verdict
                && let EventBody::Correction { corrects, .. } = body.as_ref()
            {
                let original = accepted_event(&tx, u.job_id, *corrects)?;
                if let Err(r) = crate::ledger::judge_correction(body, original.as_ref()) {
                    verdict = Err(r);
                }
            }
            let (status, code, reason) = match &verdict {
                Ok(_) => ("accepted", None, None),
                Err(r) => ("rejected", Some(r.code.as_str()), Some(r.reason.clone())),
            };
            tx.prepare_cached(
                "INSERT INTO events (device_id, device_seq, id, job_id, kind, hash, body, user_id, status, reject_code, reject_reason, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![dev, seq as i64, u.id.to_string(), u.job_id.to_string(), u.kind, e.hash.to_hex(), body_json, user, status, code, reason, received],
            )?;
            let leaf = LogLeaf {
                device_id,
                device_seq: seq,
                event_hash: e.hash,
                accepted: verdict.is_ok(),
            };
            append_leaf(&tx, log_size, &leaf, &received)?;
            receipts.push((
                results.len(),
                LogEntry {
                    index: log_size,
                    leaf,
                    received_at,
                },
            ));
            log_size += 1;
            match verdict {
                Ok(Effect::CreateJob(job)) => {
                    facts_cache.insert(job.id, JobFacts::assigned_to_user());
                    save_job(&tx, &job, now)?;
                    tx.execute(
                        "UPDATE jobs SET field_created = 1 WHERE id = ?1",
                        [job.id.to_string()],
                    )?;
                    add_assignment(&tx, job.id, user_id, now)?;
                    add_change(
                        &tx,
                        Some(user_id),
                        &ChangeKind::JobUpserted { job: *job },
                        now,
                    )?;
                    results.push(result(PushOutcome::Accepted));
                }
                Ok(Effect::Record(body)) => {
                    for a in body
                        .as_deref()
                        .map(EventBody::attachments)
                        .unwrap_or_default()
                    {
                        tx.prepare_cached(
                            "INSERT OR IGNORE INTO attachment_refs (sha256, device_id, device_seq, user_id, job_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?
                        .execute(params![a.sha256.to_hex(), dev, seq as i64, user, u.job_id.to_string()],
                        )?;
                    }
                    results.push(result(PushOutcome::Accepted));
                }
                Err(r) => results.push(result(PushOutcome::Rejected {
                    code: r.code,
                    reason: r.reason,
                })),
            }
            tip = next;
        }
        // Honest time and the KPI facts of the jobs this push touched (issue 13).
        super::kpi::settle_push(&tx, device_id, start.seq + 1, tip.seq)?;
        tx.execute(
            "UPDATE devices SET last_seq = ?2, last_hash = ?3 WHERE id = ?1",
            params![dev, tip.seq as i64, tip.hash.to_hex()],
        )?;
        tx.commit()?;
        drop(conn);
        for (slot, entry) in receipts {
            results[slot].receipt = Some(Receipt::sign(
                office,
                &entry.leaf,
                entry.index,
                entry.received_at,
            ));
        }
        Ok(PushResponse {
            results,
            last_seq: tip.seq,
            server_time: now,
        })
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
