//! The job page's chain status without re-verifying a phone's whole history on every load: per
//! device, the tip (sequence number and hash) up to which its stored chain was verified. The next
//! load checks only the events after it, links the first of them to the cached hash, and compares
//! the end with the ledger's tip as before.
//!
//! Why a cached prefix cannot hide tampering: the cache lives only in the office's memory (a copy
//! in the database would be one more row for whoever edits the database), and it is dropped
//! whenever something other than the office wrote to the database
//! ([`crate::store::LedgerStore::outside_writes`]: SQLite's `data_version`, which moves on every commit of any
//! other connection or process, such as `sqlite3 office.db "UPDATE events …"`). The office itself
//! only appends events, so its own writes never touch a verified prefix. A database edited while the
//! office was stopped starts with an empty cache. A backend that cannot tell caches nothing.

use crate::store::{DeviceRecord, OfficeStore, StoreResult};
use crate::verify::ChainVerdict;
use heatcrew_protocol::ChainTip;
use heatcrew_protocol::log::parse_public_key;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Events read per page while verifying.
const PAGE: u32 = 2000;

/// The verified prefix of each device's chain, while nothing outside the office wrote.
#[derive(Debug, Default)]
pub struct ChainCache {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// [`crate::store::LedgerStore::outside_writes`] when the entries were verified.
    stamp: Option<u64>,
    /// Device → (its enrolled key, the tip verified).
    verified: HashMap<Uuid, (String, ChainTip)>,
}

/// A device's chain status and how much of it this call verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedVerdict {
    pub verdict: ChainVerdict,
    /// Events of the device that hold (the whole chain when verified).
    pub events: u64,
    /// Events whose hash and signature this call checked (0: all were in the cache).
    pub checked_now: u64,
}

impl ChainCache {
    /// Verify `dev`'s stored chain from the cached tip on, and its end against the ledger.
    pub fn verdict(
        &self,
        store: &dyn OfficeStore,
        dev: &DeviceRecord,
    ) -> StoreResult<CachedVerdict> {
        let stamp = store.outside_writes()?;
        let start = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if stamp.is_none() || s.stamp != stamp {
                s.verified.clear();
                s.stamp = stamp;
            }
            s.verified
                .get(&dev.id)
                .filter(|(key, _)| *key == dev.public_key)
                .map(|(_, tip)| *tip)
                .unwrap_or(ChainTip::START)
        };
        let Some(key) = parse_public_key(&dev.public_key) else {
            return Ok(CachedVerdict {
                verdict: ChainVerdict::BadKey,
                events: 0,
                checked_now: 0,
            });
        };
        let mut tip = start;
        let mut checked_now = 0;
        let mut broken = None;
        'pages: loop {
            let page = store.device_events_after(dev.id, tip.seq, PAGE)?;
            for stored in &page {
                let e = &stored.event;
                checked_now += 1;
                match tip.follow(e, dev.id, &key) {
                    Ok(next) => tip = next,
                    Err(fault) => {
                        broken = Some(ChainVerdict::Broken {
                            seq: e.seq(),
                            event_id: e.unsigned.id,
                            reason: fault.to_string(),
                        });
                        break 'pages;
                    }
                }
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
        self.remember(stamp, dev, tip);
        if let Some(verdict) = broken {
            return Ok(CachedVerdict {
                verdict,
                events: tip.seq,
                checked_now,
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
        })
    }

    /// Keep the verified prefix, unless the database changed from outside meanwhile.
    fn remember(&self, stamp: Option<u64>, dev: &DeviceRecord, tip: ChainTip) {
        if stamp.is_none() {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.stamp == stamp {
            s.verified.insert(dev.id, (dev.public_key.clone(), tip));
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
