//! The job page's chain status without re-verifying a phone's whole history on every load. Per
//! device, the office remembers the tip (sequence number and hash) up to which its stored chain was
//! verified, in two places:
//!
//! - **In memory**, while nothing outside the office wrote to the database: the next load checks
//!   only the events after the tip, links the first of them to the cached hash, and compares the end
//!   with the ledger's tip as before. The memory is dropped whenever something other than the office
//!   wrote ([`crate::store::LedgerStore::outside_writes`]: SQLite's `data_version`, which moves on
//!   every commit of any other connection or process, such as `sqlite3 office.db "UPDATE events …"`;
//!   on PostgreSQL a count of edited or removed events kept by triggers, which other offices'
//!   appends leave alone: docs/storage.md, "The chain cache with several offices"). The office
//!   itself only appends events, so its own writes never touch a verified prefix.
//! - **In the database, signed** (`chain_checkpoints`, for a restarted office or after an outside
//!   write): the tip, a running SHA-256 over every stored row up to it exactly as stored (sequence
//!   number, length, body), and the office key's signature over the device, its key, the tip and
//!   the digest. Using one costs a read and a hash of the rows, not a signature check per event:
//!   the rows are re-read and re-hashed, and only if they hash to the signed digest is the prefix
//!   taken as verified. A row edited since (any byte of it), removed or inserted changes the digest,
//!   and so does a checkpoint copied from elsewhere; a checkpoint edited or forged in the database
//!   fails the signature (the office key lives outside the database, [`crate::office_key`]). In every
//!   such case the chain is verified from its first event again, which names the bad event.
//!
//! [`ChainCache::warm`] checks every device once (at `serve`'s start, in the background, and at the
//! end of `heatcrew-office seed`), so job pages find their chains verified.

use crate::store::{ChainCheckpoint, DeviceRecord, OfficeStore, StoreResult};
use crate::verify::ChainVerdict;
use chrono::Utc;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use heatcrew_protocol::log::parse_public_key;
use heatcrew_protocol::{ChainTip, Digest, Event};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The verified prefix of each device's chain, in memory while nothing outside the office wrote,
/// and (with the office key) as signed checkpoints in the database.
#[derive(Debug, Default)]
pub struct ChainCache {
    state: Mutex<State>,
    /// Signs and checks the checkpoints; `None`: memory only.
    office: Option<Arc<SigningKey>>,
}

#[derive(Debug, Default)]
struct State {
    /// [`crate::store::LedgerStore::outside_writes`] when the entries were verified.
    stamp: Option<u64>,
    verified: HashMap<Uuid, Verified>,
}

/// A verified prefix of a device's chain.
#[derive(Debug, Clone)]
struct Verified {
    /// The enrolled key it was verified under.
    key: String,
    tip: ChainTip,
    /// [`next_digest`] over the stored rows up to `tip`.
    digest: Digest,
    /// The tip of the device's checkpoint in the database (0: none).
    persisted: u64,
}

/// A device's chain status and how much of it this call verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedVerdict {
    pub verdict: ChainVerdict,
    /// Events of the device that hold (the whole chain when verified).
    pub events: u64,
    /// Events whose hash and signature this call checked (0: all were in the cache).
    pub checked_now: u64,
    /// Events re-read and re-hashed against the device's signed checkpoint (0: none was used).
    pub replayed: u64,
}

/// What [`ChainCache::warm`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WarmReport {
    pub devices: u64,
    /// Events whose signature was checked.
    pub checked: u64,
    /// Events taken from a checkpoint after re-hashing.
    pub replayed: u64,
    /// Devices whose chain does not hold (the job page names the event).
    pub faulty: u64,
}

/// The running digest before a device's first row.
fn rows_start() -> Digest {
    Digest::of(b"heatcrew-office chain rows v1")
}

/// The running digest after the stored row `seq` with `body`.
fn next_digest(prev: &Digest, seq: u64, body: &str) -> Digest {
    let mut h = Sha256::new();
    h.update(prev.0);
    h.update(seq.to_be_bytes());
    h.update((body.len() as u64).to_be_bytes());
    h.update(body.as_bytes());
    Digest(h.finalize().into())
}

/// What the office signs for a checkpoint.
fn checkpoint_message(
    device_id: Uuid,
    public_key: &str,
    tip: ChainTip,
    digest: &Digest,
) -> Vec<u8> {
    let mut m = b"heatcrew-office chain checkpoint v1\n".to_vec();
    m.extend_from_slice(device_id.as_bytes());
    m.extend_from_slice(&(public_key.len() as u64).to_be_bytes());
    m.extend_from_slice(public_key.as_bytes());
    m.extend_from_slice(&tip.seq.to_be_bytes());
    m.extend_from_slice(&tip.hash.0);
    m.extend_from_slice(&digest.0);
    m
}

impl ChainCache {
    /// A cache that also keeps signed checkpoints in the database, signed with `office`.
    pub fn with_checkpoints(office: Arc<SigningKey>) -> ChainCache {
        ChainCache {
            state: Mutex::default(),
            office: Some(office),
        }
    }

    /// Verify every enrolled device's chain (from its checkpoint where one holds), so the job
    /// pages that follow find it verified.
    pub fn warm(&self, store: &dyn OfficeStore) -> StoreResult<WarmReport> {
        let mut report = WarmReport::default();
        for dev in store.list_devices()? {
            let v = self.verdict(store, &dev)?;
            report.devices += 1;
            report.checked += v.checked_now;
            report.replayed += v.replayed;
            if !matches!(v.verdict, ChainVerdict::Verified { .. }) {
                report.faulty += 1;
            }
        }
        Ok(report)
    }

    /// Verify `dev`'s stored chain from the verified prefix on, and its end against the ledger.
    pub fn verdict(
        &self,
        store: &dyn OfficeStore,
        dev: &DeviceRecord,
    ) -> StoreResult<CachedVerdict> {
        let stamp = store.outside_writes()?;
        let cached = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if stamp.is_none() || s.stamp != stamp {
                s.verified.clear();
                s.stamp = stamp;
            }
            s.verified
                .get(&dev.id)
                .filter(|v| v.key == dev.public_key)
                .cloned()
        };
        let Some(key) = parse_public_key(&dev.public_key) else {
            return Ok(CachedVerdict {
                verdict: ChainVerdict::BadKey,
                events: 0,
                checked_now: 0,
                replayed: 0,
            });
        };
        let mut replayed = 0;
        let start = match cached {
            Some(v) => v,
            None => match self.checkpointed_prefix(store, dev)? {
                Some(v) => {
                    replayed = v.tip.seq;
                    v
                }
                None => Verified {
                    key: dev.public_key.clone(),
                    tip: ChainTip::START,
                    digest: rows_start(),
                    persisted: 0,
                },
            },
        };
        let (mut tip, mut digest) = (start.tip, start.digest);
        let mut checked_now = 0;
        let mut broken = None;
        store.device_rows(dev.id, tip.seq, u64::MAX, &mut |seq, id, body| {
            checked_now += 1;
            let fault = match serde_json::from_str::<Event>(body) {
                Ok(e) => match tip.follow(&e, dev.id, &key) {
                    Ok(next) => {
                        tip = next;
                        digest = next_digest(&digest, seq, body);
                        return true;
                    }
                    Err(fault) => (e.unsigned.id, fault.to_string()),
                },
                Err(e) => (
                    Uuid::parse_str(id).unwrap_or_default(),
                    format!("the stored event {seq} is not a readable event: {e}"),
                ),
            };
            broken = Some(ChainVerdict::Broken {
                seq,
                event_id: fault.0,
                reason: fault.1,
            });
            false
        })?;
        let verified = Verified {
            key: dev.public_key.clone(),
            tip,
            digest,
            persisted: start.persisted,
        };
        let verified = self.persist(store, dev, verified)?;
        self.remember(stamp, dev, verified);
        if let Some(verdict) = broken {
            return Ok(CachedVerdict {
                verdict,
                events: tip.seq,
                checked_now,
                replayed,
            });
        }
        let ledger = store.device_tip(dev.id)?.unwrap_or(ChainTip::START);
        let verdict = if tip == ledger {
            ChainVerdict::Verified { events: tip.seq }
        } else {
            ChainVerdict::TipMismatch {
                ledger: ledger.seq,
                chain: tip.seq,
            }
        };
        Ok(CachedVerdict {
            verdict,
            events: tip.seq,
            checked_now,
            replayed,
        })
    }

    /// The device's signed checkpoint, if its signature holds and the stored rows up to it still
    /// hash to its digest.
    fn checkpointed_prefix(
        &self,
        store: &dyn OfficeStore,
        dev: &DeviceRecord,
    ) -> StoreResult<Option<Verified>> {
        let Some(office) = &self.office else {
            return Ok(None);
        };
        let Some(cp) = store.chain_checkpoint(dev.id)? else {
            return Ok(None);
        };
        let signed = checkpoint_message(dev.id, &dev.public_key, cp.tip, &cp.rows_digest);
        if cp.device_id != dev.id
            || cp.public_key != dev.public_key
            || office
                .verifying_key()
                .verify(&signed, &Signature::from_bytes(&cp.sig))
                .is_err()
        {
            tracing::warn!(device = %dev.id, "a chain checkpoint is not the office's: verifying the chain from the start");
            return Ok(None);
        }
        let (mut digest, mut next, mut in_order) = (rows_start(), 1u64, true);
        store.device_rows(dev.id, 0, cp.tip.seq, &mut |seq, _, body| {
            in_order = seq == next;
            digest = next_digest(&digest, seq, body);
            next += 1;
            in_order
        })?;
        if !in_order || next != cp.tip.seq + 1 || digest != cp.rows_digest {
            tracing::warn!(device = %dev.id, seq = cp.tip.seq, "stored events changed since the chain was verified: verifying it from the start");
            return Ok(None);
        }
        Ok(Some(Verified {
            key: dev.public_key.clone(),
            tip: cp.tip,
            digest,
            persisted: cp.tip.seq,
        }))
    }

    /// Sign and keep a checkpoint at `v`'s tip if it is past the one in the database.
    fn persist(
        &self,
        store: &dyn OfficeStore,
        dev: &DeviceRecord,
        mut v: Verified,
    ) -> StoreResult<Verified> {
        let Some(office) = &self.office else {
            return Ok(v);
        };
        if v.tip.seq <= v.persisted {
            return Ok(v);
        }
        let sig = office
            .sign(&checkpoint_message(dev.id, &v.key, v.tip, &v.digest))
            .to_bytes();
        store.save_chain_checkpoint(&ChainCheckpoint {
            device_id: dev.id,
            public_key: v.key.clone(),
            tip: v.tip,
            rows_digest: v.digest,
            sig,
            checked_at: Utc::now(),
        })?;
        v.persisted = v.tip.seq;
        Ok(v)
    }

    /// Keep the verified prefix, unless the database changed from outside meanwhile.
    fn remember(&self, stamp: Option<u64>, dev: &DeviceRecord, v: Verified) {
        if stamp.is_none() {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.stamp == stamp {
            s.verified.insert(dev.id, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{SeedPlan, seed};
    use crate::store::{EnrolmentStore, SqliteStore};
    use chrono::Utc;
    use ed25519_dalek::SigningKey;

    #[test]
    fn a_verified_prefix_is_not_checked_again_until_someone_edits_the_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("office.db");
        let store = SqliteStore::open(&db).expect("open");
        let plan = SeedPlan {
            jobs: 40,
            events: 400,
            days: 3,
            field_users: 4,
            seed: 7,
            now: Utc::now(),
        };
        seed(&store, &SigningKey::from_bytes(&[7; 32]), &plan).expect("seed");
        let dev = store
            .list_devices()
            .expect("devices")
            .into_iter()
            .max_by_key(|d| d.last_seq)
            .expect("a device");
        assert!(dev.last_seq > 10, "the device recorded visits");
        let cache = ChainCache::default();
        let first = cache.verdict(&store, &dev).expect("verify");
        assert_eq!(
            first.verdict,
            ChainVerdict::Verified {
                events: dev.last_seq
            },
            "the seeded chain holds"
        );
        assert_eq!(first.checked_now, dev.last_seq, "a first load checks all");
        let again = cache.verdict(&store, &dev).expect("verify");
        assert_eq!(again.verdict, first.verdict, "the same answer");
        assert_eq!(again.checked_now, 0, "from the cache: nothing re-checked");

        // Someone with the database edits the first event, which the cache vouches for.
        let outside = rusqlite::Connection::open(&db).expect("a second connection");
        let changed = outside
            .execute(
                "UPDATE events SET body = replace(body, '\"step\":\"', '\"step\":\"x')
                 WHERE device_id = ?1 AND device_seq = 1",
                [dev.id.to_string()],
            )
            .expect("tamper");
        assert_eq!(changed, 1, "the edit took");
        drop(outside);
        let after = cache.verdict(&store, &dev).expect("verify");
        assert!(
            matches!(after.verdict, ChainVerdict::Broken { seq: 1, .. }),
            "the outside write drops the cache and the edit is found: {:?}",
            after.verdict
        );
        let still = cache.verdict(&store, &dev).expect("verify");
        assert!(
            matches!(still.verdict, ChainVerdict::Broken { seq: 1, .. }),
            "and stays found on the next load: {:?}",
            still.verdict
        );
    }
}

#[cfg(test)]
mod checkpoint_tests {
    use super::*;
    use crate::seed::{SeedPlan, seed};
    use crate::store::{ChainCheckStore, EnrolmentStore, SqliteStore};
    use chrono::Utc;
    use std::path::Path;

    const OFFICE: [u8; 32] = [9; 32];

    /// A small seeded office (which leaves every chain's checkpoint) and its busiest device.
    fn seeded(db: &Path) -> (SqliteStore, DeviceRecord) {
        let store = SqliteStore::open(db).expect("open");
        let plan = SeedPlan {
            jobs: 30,
            events: 300,
            days: 3,
            field_users: 4,
            seed: 11,
            now: Utc::now(),
        };
        seed(&store, &SigningKey::from_bytes(&OFFICE), &plan).expect("seed");
        let dev = store
            .list_devices()
            .expect("devices")
            .into_iter()
            .max_by_key(|d| d.last_seq)
            .expect("a device");
        assert!(dev.last_seq > 10, "the device recorded visits");
        (store, dev)
    }

    /// The office as it starts again: nothing in memory, the same key.
    fn restarted() -> ChainCache {
        ChainCache::with_checkpoints(Arc::new(SigningKey::from_bytes(&OFFICE)))
    }

    fn outside(db: &Path, sql: &str, dev: &DeviceRecord) {
        let conn = rusqlite::Connection::open(db).expect("a second connection");
        let changed = conn.execute(sql, [dev.id.to_string()]).expect("edit");
        assert_eq!(changed, 1, "the edit took: {sql}");
    }

    #[test]
    fn a_restarted_office_rehashes_the_signed_prefix_instead_of_checking_signatures() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("office.db");
        let (store, dev) = seeded(&db);
        let cp = store
            .chain_checkpoint(dev.id)
            .expect("read")
            .expect("the seed left a checkpoint");
        assert_eq!(cp.tip.seq, dev.last_seq, "at the device's tip");
        let v = restarted().verdict(&store, &dev).expect("verify");
        assert_eq!(
            v.verdict,
            ChainVerdict::Verified {
                events: dev.last_seq
            }
        );
        assert_eq!(v.checked_now, 0, "no signature checked again");
        assert_eq!(v.replayed, dev.last_seq, "every row re-hashed");
    }

    #[test]
    fn an_event_edited_while_the_office_was_stopped_is_named_despite_the_checkpoint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("office.db");
        let (store, dev) = seeded(&db);
        let cache = restarted();
        assert!(matches!(
            cache.verdict(&store, &dev).expect("verify").verdict,
            ChainVerdict::Verified { .. }
        ));
        drop(store);
        // Stopped; someone edits event 3, under both the checkpoint and what was in memory.
        outside(
            &db,
            "UPDATE events SET body = replace(body, '\"recorded_at\":\"2', '\"recorded_at\":\"1')
             WHERE device_id = ?1 AND device_seq = 3",
            &dev,
        );
        let store = SqliteStore::open(&db).expect("reopen");
        let v = restarted().verdict(&store, &dev).expect("verify");
        assert!(
            matches!(v.verdict, ChainVerdict::Broken { seq: 3, .. }),
            "the digest no longer matches, the chain is checked from the start: {v:?}"
        );
        assert_eq!(v.checked_now, 3, "up to the bad event");
        // And again after a new checkpoint of the good prefix (events 1–2): still named.
        let again = restarted().verdict(&store, &dev).expect("verify");
        assert!(
            matches!(again.verdict, ChainVerdict::Broken { seq: 3, .. }),
            "{again:?}"
        );
    }

    #[test]
    fn an_edit_while_the_office_runs_is_named_through_the_checkpoint_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("office.db");
        let (store, dev) = seeded(&db);
        let cache = restarted();
        cache.verdict(&store, &dev).expect("verify");
        // Only the signature field of the last event: the content hashes the same.
        outside(
            &db,
            "UPDATE events SET body = substr(body, 1, instr(body, '\"sig\":\"') + 6)
                 || CASE substr(body, instr(body, '\"sig\":\"') + 7, 1) WHEN '0' THEN '1' ELSE '0' END
                 || substr(body, instr(body, '\"sig\":\"') + 8)
             WHERE device_id = ?1 AND device_seq = (SELECT MAX(device_seq) FROM events WHERE device_id = ?1)",
            &dev,
        );
        let v = cache.verdict(&store, &dev).expect("verify");
        assert!(
            matches!(v.verdict, ChainVerdict::Broken { seq, .. } if seq == dev.last_seq),
            "the memory is dropped, the checkpoint's digest fails, the bad signature is named: {v:?}"
        );
    }

    #[test]
    fn a_checkpoint_edited_or_signed_by_another_key_is_not_trusted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("office.db");
        let (store, dev) = seeded(&db);
        // Someone moves the checkpoint back one event, keeping the office's signature.
        outside(
            &db,
            "UPDATE chain_checkpoints SET seq = seq - 1 WHERE device_id = ?1",
            &dev,
        );
        let v = restarted().verdict(&store, &dev).expect("verify");
        assert_eq!(v.replayed, 0, "the edited checkpoint is not used");
        assert_eq!(v.checked_now, dev.last_seq, "every signature checked");
        assert!(matches!(v.verdict, ChainVerdict::Verified { .. }));
        // Another office's key (a checkpoint copied in from elsewhere) is not this office's.
        let other = ChainCache::with_checkpoints(Arc::new(SigningKey::from_bytes(&[1; 32])));
        let v = other.verdict(&store, &dev).expect("verify");
        assert_eq!(v.replayed, 0, "not this office's signature");
        assert_eq!(v.checked_now, dev.last_seq);
    }
}
