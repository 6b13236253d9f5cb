//! A push batch applied to a device's ledger, knowing no database: the rules every backend shares.
//! A backend verifies the batch outside its write lock ([`check`]), opens one write transaction,
//! hands [`push`] the transaction's primitive reads and writes as a [`LedgerTx`], commits, and only
//! then signs the receipts ([`Pushed::sign`]).
//!
//! The rules, per event, in the order [`push`] applies them:
//! - `device_seq` at or below the device's tip is a retry: the same event again is a `Duplicate`
//!   (or the refusal it got, if it was stored refused), with the receipt it got the first time; a
//!   different event there is a `conflicting_duplicate`; `device_seq` 0 is `out_of_sequence`;
//! - after an event of this batch broke the chain, every later one is `chain_blocked`;
//! - `device_seq` above tip + 1 is a gap: the whole batch is refused with
//!   [`StoreError::SequenceGap`] and nothing is stored (the caller drops the transaction);
//! - the event must name this device, carry a good signature and hash, and link to the tip
//!   (`prev_hash`): otherwise it is refused, not stored, and blocks the rest of the batch; so must
//!   an event at a position a sign-in named as the chain's head with another hash
//!   (`chain_head_mismatch`, [`super::makers`]);
//! - then [`super::judge`] (and [`super::judge_correction`]) decide its content, as the record of
//!   the user who held the phone when it was made ([`super::makers`]): stored `accepted` with its
//!   effects (a field-created job, attachment references), or stored `rejected`; either way it
//!   gets a leaf in the office log and advances the tip.
//!
//! At the end the KPI facts of the pushed range are settled, the tip is written, and the log leaves
//! of the batch are appended together, as the transaction's last write (see [`LedgerTx::append_leaves`]).

use super::makers::{DeviceSignIn, Makers};
use super::{Effect, JobFacts};
use crate::store::{LogEntry, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use heatcrew_protocol::log::{LogLeaf, Receipt};
use heatcrew_protocol::sync::{ChangeKind, PushOutcome, PushResponse, PushResult};
use heatcrew_protocol::{ChainTip, Digest, ErrorCode, Event, EventBody, EventFault, Job};
use std::collections::HashMap;
use uuid::Uuid;

/// An event of a batch after the CPU work done outside the write lock: its signature and hash
/// checked against the enrolled key, and its body serialised as stored.
#[derive(Debug)]
pub struct Checked<'a> {
    pub event: &'a Event,
    /// What [`Event::verify`] found wrong, if anything.
    pub fault: Option<EventFault>,
    /// The event as stored (`events.body`): its JSON.
    pub body_json: String,
}

/// Events per parallel task in [`check`]: one Ed25519 verification is about 50 µs, so a smaller
/// slice costs more in hand-offs than it saves.
const CHECK_SLICE: usize = 16;

/// Verify and serialise a batch pushed by a device enrolled with `key`: every event's hash and
/// signature, each on its own (in parallel across the cores, rayon's pool shared by every request
/// being checked at once), in the batch's order. The links between events need the device's tip,
/// read inside the write transaction: [`push`] checks them there, in order, before an event counts.
pub fn check<'a>(key: &VerifyingKey, events: &'a [Event]) -> Vec<Checked<'a>> {
    use rayon::prelude::*;
    events
        .par_iter()
        .with_min_len(CHECK_SLICE)
        .map(|event| Checked {
            event,
            fault: event.verify(key).err(),
            body_json: crate::store::convert::to_json(event),
        })
        .collect()
}

/// What the office holds at a device's `device_seq`, for the retry rules.
#[derive(Debug, Clone)]
pub struct StoredVerdict {
    /// The stored event's hash, hex, as stored.
    pub hash: String,
    pub accepted: bool,
    pub reject_code: Option<String>,
    pub reject_reason: Option<String>,
}

/// One event row to store.
#[derive(Debug)]
pub struct NewEvent<'a> {
    pub device_id: Uuid,
    pub event: &'a Event,
    pub body_json: &'a str,
    pub user_id: Uuid,
    /// `None`: accepted; else the refusal it is stored with.
    pub refusal: Option<&'a super::Refusal>,
    /// The office's clock, as stored (`ts`).
    pub received_at: &'a str,
}

/// An event this push stored, as the KPI settle needs it.
#[derive(Debug, Clone)]
pub struct Settle {
    pub device_seq: u64,
    /// The device's clocks when it recorded the event.
    pub stamp: crate::kpi::time::Stamp,
    pub job_id: Uuid,
    pub accepted: bool,
}

impl Settle {
    /// As the backends' KPI settle takes it: `(device_seq, stamp, job id, accepted)`.
    pub fn row(&self) -> (i64, crate::kpi::time::Stamp, String, bool) {
        (
            self.device_seq as i64,
            self.stamp,
            self.job_id.to_string(),
            self.accepted,
        )
    }
}

/// The primitive reads and writes of ONE write transaction that [`push`] needs. A backend
/// implements it over its open transaction; nothing here commits.
pub trait LedgerTx {
    /// The device's ledger position (`None`: not enrolled).
    fn tip(&mut self, device_id: Uuid) -> StoreResult<Option<ChainTip>>;
    /// The stored event at `device_seq`, if any.
    fn stored(&mut self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<StoredVerdict>>;
    /// The office log's leaf of a stored event.
    fn log_entry_of(&mut self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<LogEntry>>;
    /// What [`super::judge`] needs to know about `job_id` from `user_id`'s side.
    fn job_facts(&mut self, job_id: Uuid, user_id: Uuid) -> StoreResult<JobFacts>;
    /// Every sign-in on `device_id` (revoked and expired sessions count), the oldest first.
    fn device_sign_ins(&mut self, device_id: Uuid) -> StoreResult<Vec<DeviceSignIn>>;
    /// An accepted event of `job_id` (the record a correction names), if the office holds one.
    fn accepted_body(&mut self, job_id: Uuid, event_id: Uuid) -> StoreResult<Option<EventBody>>;
    /// Store one event. An accepted urgent event raises its alert in the same transaction (the
    /// schema's `alerts_raise` trigger on both backends).
    fn insert_event(&mut self, row: &NewEvent<'_>) -> StoreResult<()>;
    /// Open a job a device created: saved (with its KPI facts), marked field-created, assigned
    /// to `user_id`.
    fn open_field_job(&mut self, job: &Job, user_id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    /// An accepted event references an attachment (once per event and content).
    fn add_attachment_ref(
        &mut self,
        sha256: Digest,
        device_id: Uuid,
        device_seq: u64,
        user_id: Uuid,
        job_id: Uuid,
    ) -> StoreResult<()>;
    /// Queue a change for `user_id`'s devices (`None`: every device), in commit order.
    fn add_change(
        &mut self,
        user_id: Option<Uuid>,
        change: &ChangeKind,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Append `leaves` to the office log, in order, with their subtrees; returns the log index of
    /// the first. [`push`] calls it last (once, if it stored anything), right before the commit:
    /// a backend with concurrent writers takes its log (and change feed) numbers here, under a lock
    /// held until the commit, so that numbers follow commit order.
    fn append_leaves(&mut self, leaves: &[LogLeaf], received_at: &str) -> StoreResult<u64>;
    /// Honest time and the KPI facts of the jobs the events this push stored touched (issue 13):
    /// `stored` are exactly the events inserted by this push, in `device_seq` order (the rows in
    /// memory, so that nothing is read back and parsed again); nothing when empty.
    fn settle_kpi(&mut self, device_id: Uuid, stored: &[Settle]) -> StoreResult<()>;
    /// Move the device's ledger position.
    fn set_tip(&mut self, device_id: Uuid, tip: ChainTip) -> StoreResult<()>;
}

/// A push applied inside the transaction: the answers, and the log entries whose receipts are
/// signed once it committed.
#[derive(Debug)]
pub struct Pushed {
    results: Vec<PushResult>,
    /// (index into `results`, its log entry).
    receipts: Vec<(usize, LogEntry)>,
    last_seq: u64,
    now: DateTime<Utc>,
}

impl Pushed {
    /// The answer to the device, every stored event's receipt signed with `office`. Call only
    /// after the transaction committed: a receipt promises the event is kept.
    pub fn sign(self, office: &SigningKey) -> PushResponse {
        use rayon::prelude::*;
        let mut results = self.results;
        // One Ed25519 signature per stored event: on every core, after the commit.
        let signed: Vec<(usize, Receipt)> = self
            .receipts
            .into_par_iter()
            .with_min_len(CHECK_SLICE)
            .map(|(slot, entry)| {
                let receipt = Receipt::sign(office, &entry.leaf, entry.index, entry.received_at);
                (slot, receipt)
            })
            .collect();
        for (slot, receipt) in signed {
            results[slot].receipt = Some(receipt);
        }
        PushResponse {
            results,
            last_seq: self.last_seq,
            server_time: self.now,
        }
    }
}

/// Apply a checked batch for `device_id` on behalf of `user_id` inside `tx` (the module docs give
/// the rules). On `Err` nothing may be committed.
pub fn push(
    tx: &mut dyn LedgerTx,
    device_id: Uuid,
    user_id: Uuid,
    batch: Vec<Checked<'_>>,
    now: DateTime<Utc>,
) -> StoreResult<Pushed> {
    let start = tx
        .tip(device_id)?
        .ok_or_else(|| StoreError::not_found(format!("device {device_id}")))?;
    let mut tip = start;
    let mut blocked_by: Option<u64> = None;
    // A batch usually touches one or two jobs: look each up once.
    let mut facts_cache: HashMap<(Uuid, Uuid), JobFacts> = HashMap::new();
    // Who held the phone when each event was made, looked up once, when first needed.
    let mut makers: Option<Makers> = None;
    let mut results = Vec::with_capacity(batch.len());
    let mut receipts: Vec<(usize, LogEntry)> = Vec::with_capacity(batch.len());
    // New leaves, appended together at the end, and the results whose receipts they make:
    // (index into `results`, index into `leaves`).
    let mut leaves: Vec<LogLeaf> = Vec::with_capacity(batch.len());
    let mut new_receipts: Vec<(usize, usize)> = Vec::with_capacity(batch.len());
    let mut settle: Vec<Settle> = Vec::with_capacity(batch.len());
    let received = crate::store::convert::ts(now);
    let received_at = crate::store::convert::parse_ts(&received)?;
    for Checked {
        event: e,
        fault,
        body_json,
    } in batch
    {
        let seq = e.seq();
        let result = |outcome| PushResult {
            device_seq: seq,
            event_id: e.unsigned.id,
            outcome,
            receipt: None,
        };
        if seq <= tip.seq {
            let outcome = retry(tx, device_id, e, seq)?;
            if !matches!(
                &outcome,
                PushOutcome::Rejected {
                    code: ErrorCode::ConflictingDuplicate | ErrorCode::OutOfSequence,
                    ..
                }
            ) {
                // A retry: the receipt it got the first time (or earlier in this batch), again.
                if let Some(pos) = leaves.iter().position(|l| l.device_seq == seq) {
                    new_receipts.push((results.len(), pos));
                } else {
                    let entry = tx.log_entry_of(device_id, seq)?.ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "device {device_id} event {seq} is stored but not in the office log"
                        ))
                    })?;
                    receipts.push((results.len(), entry));
                }
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
            // The caller drops the transaction: nothing this batch did is kept.
            return Err(StoreError::SequenceGap {
                expected: start.seq + 1,
            });
        }
        // ChainTip::follow, with the signature check done before the transaction.
        let link = if e.unsigned.device_id != device_id {
            Err(EventFault::WrongDevice {
                seq,
                expected: device_id,
                found: e.unsigned.device_id,
            })
        } else if let Some(fault) = fault {
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
        if makers.is_none() {
            makers = Some(Makers::new(&tx.device_sign_ins(device_id)?));
        }
        let makers = makers.as_ref().expect("looked up above");
        if makers.breaks_head(seq, &e.hash) {
            // The device vouched for another event here when someone signed in: its history
            // changed since, so nothing after it can link to what it vouched for.
            blocked_by = Some(seq);
            results.push(result(PushOutcome::Rejected {
                code: ErrorCode::ChainHeadMismatch,
                reason: format!(
                    "event {seq} is not the one this device named as its last when a user signed in on it"
                ),
            }));
            continue;
        }
        let u = &e.unsigned;
        let mut facts = |tx: &mut dyn LedgerTx, user| -> StoreResult<JobFacts> {
            Ok(match facts_cache.get(&(u.job_id, user)) {
                Some(f) => f.clone(),
                None => {
                    let f = tx.job_facts(u.job_id, user)?;
                    facts_cache.insert((u.job_id, user), f.clone());
                    f
                }
            })
        };
        // The record of whoever held the phone when it was made, whoever pushes it.
        let mut actor = makers.maker(seq).unwrap_or(user_id);
        let mut verdict = super::judge(e, actor, &facts(tx, actor)?);
        if makers.maker(seq).is_none()
            && matches!(&verdict, Err(r) if r.code == ErrorCode::ForbiddenJob)
        {
            // Made before any sign-in named the chain: the record of whichever user of the phone
            // the job is (or was) assigned to (`super::makers`).
            for other in makers.fallback(user_id) {
                let theirs = super::judge(e, other, &facts(tx, other)?);
                if !matches!(&theirs, Err(r) if r.code == ErrorCode::ForbiddenJob) {
                    (actor, verdict) = (other, theirs);
                    break;
                }
            }
        }
        if makers.signed_out(seq) {
            // Kept as evidence of what the phone did, counted as nobody's work.
            verdict = Err(super::Refusal {
                code: ErrorCode::SignedOut,
                reason: format!(
                    "event {seq} was made after its user signed out on this device and before anyone signed in again"
                ),
            });
        }
        if let Ok(Effect::Record(Some(body))) = &verdict
            && let EventBody::Correction { corrects, .. } = body.as_ref()
        {
            let original = tx.accepted_body(u.job_id, *corrects)?;
            if let Err(r) = super::judge_correction(body, original.as_ref()) {
                verdict = Err(r);
            }
        }
        tx.insert_event(&NewEvent {
            device_id,
            event: e,
            body_json: &body_json,
            user_id: actor,
            refusal: verdict.as_ref().err(),
            received_at: &received,
        })?;
        settle.push(Settle {
            device_seq: seq,
            stamp: crate::kpi::time::Stamp {
                wall: u.recorded_at,
                elapsed_ms: u.elapsed_ms,
            },
            job_id: u.job_id,
            accepted: verdict.is_ok(),
        });
        new_receipts.push((results.len(), leaves.len()));
        leaves.push(LogLeaf {
            device_id,
            device_seq: seq,
            event_hash: e.hash,
            accepted: verdict.is_ok(),
        });
        match verdict {
            Ok(Effect::CreateJob(job)) => {
                // What was cached before it existed (as unknown) is out of date for everyone.
                facts_cache.retain(|(j, _), _| *j != job.id);
                facts_cache.insert((job.id, actor), JobFacts::assigned_to_user());
                tx.open_field_job(&job, actor, now)?;
                tx.add_change(Some(actor), &ChangeKind::JobUpserted { job: *job }, now)?;
                results.push(result(PushOutcome::Accepted));
            }
            Ok(Effect::Record(body)) => {
                for a in body
                    .as_deref()
                    .map(EventBody::attachments)
                    .unwrap_or_default()
                {
                    tx.add_attachment_ref(a.sha256, device_id, seq, actor, u.job_id)?;
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
    debug_assert!(
        settle
            .iter()
            .map(|s| s.device_seq)
            .eq(start.seq + 1..=tip.seq)
    );
    tx.settle_kpi(device_id, &settle)?;
    tx.set_tip(device_id, tip)?;
    // Last, so that a backend that serialises log appends holds that lock only until the commit.
    if !leaves.is_empty() {
        let first = tx.append_leaves(&leaves, &received)?;
        for (slot, pos) in new_receipts {
            receipts.push((
                slot,
                LogEntry {
                    index: first + pos as u64,
                    leaf: leaves[pos],
                    received_at,
                },
            ));
        }
    }
    Ok(Pushed {
        results,
        receipts,
        last_seq: tip.seq,
        now,
    })
}

/// The answer to an event at or below the tip: what the office already holds there.
fn retry(tx: &mut dyn LedgerTx, device_id: Uuid, e: &Event, seq: u64) -> StoreResult<PushOutcome> {
    Ok(match tx.stored(device_id, seq)? {
        None if seq == 0 => PushOutcome::Rejected {
            code: ErrorCode::OutOfSequence,
            reason: "device_seq starts at 1".into(),
        },
        None => {
            return Err(StoreError::Corrupt(format!(
                "device {device_id} ledger has no event {seq} below its tip"
            )));
        }
        Some(s) if s.hash != e.hash.to_hex() => PushOutcome::Rejected {
            code: ErrorCode::ConflictingDuplicate,
            reason: format!("the office already holds a different event {seq} from this device"),
        },
        Some(s) if !s.accepted => PushOutcome::Rejected {
            code: ErrorCode::parse(s.reject_code.as_deref().unwrap_or_default()),
            reason: s.reject_reason.unwrap_or_default(),
        },
        Some(_) => PushOutcome::Duplicate,
    })
}
