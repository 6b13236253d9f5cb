//! The chain checkpoints of [`crate::chain_cache`] on PostgreSQL, as `sqlite/chains.rs`: one
//! signed row per device, and the device's stored rows read back as stored for the checkpoint's
//! digest.

use super::PgStore;
use crate::store::convert::{parse_digest, parse_ts, parse_uuid, ts};
use crate::store::{ChainCheckStore, ChainCheckpoint, StoreError, StoreResult};
use heatcrew_protocol::ChainTip;
use postgres::fallible_iterator::FallibleIterator;
use uuid::Uuid;

/// [`LedgerStore::outside_writes`](crate::store::LedgerStore::outside_writes) on PostgreSQL: the
/// count of stored events changed or removed (`event_edits`, migration 0004), by anyone.
///
/// SQLite's `data_version` moves on every commit of another connection, appends included; here
/// several office processes append to one database all the time, so such a number would drop
/// every process's memory on every push of every other one. What the chain cache trusts is only
/// a prefix of a device's chain (its events `1..=tip`, read back and verified), and an append can
/// never change it: a new event takes the next free `device_seq` of its device (the primary key
/// `(device_id, device_seq)` refuses one at a taken place, and a verified prefix has no gaps), and
/// the cache reads every event after its tip again on each use. So only a change of a stored row
/// (its body, id, device or sequence) or a removal can invalidate a prefix, and each moves this
/// count in its own transaction, through a trigger whatever the connection; the offices' own
/// updates of an event's clock offsets do not. The count is read before the rows: an edit that
/// commits after the read moves it for the next use, which then starts again.
pub(super) fn outside_writes(store: &PgStore) -> StoreResult<Option<u64>> {
    let edits: i64 = store
        .conn()?
        .query_one("SELECT edits FROM event_edits WHERE id = 1", &[])?
        .try_get(0)?;
    Ok(Some(edits as u64))
}

/// Rows fetched per round trip while streaming a device's events.
const BATCH: i32 = 1000;

impl ChainCheckStore for PgStore {
    fn device_rows(
        &self,
        device_id: Uuid,
        after: u64,
        upto: u64,
        f: &mut dyn FnMut(u64, &str, &str) -> bool,
    ) -> StoreResult<()> {
        let clamp = |n: u64| n.min(i64::MAX as u64) as i64;
        let mut conn = self.conn()?;
        // One consistent read, streamed through a portal so a long chain is never all in memory.
        let mut tx = conn
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let portal = tx.bind(
            "SELECT device_seq, id, body FROM events
             WHERE device_id = $1 AND device_seq > $2 AND device_seq <= $3 ORDER BY device_seq",
            &[&device_id.to_string(), &clamp(after), &clamp(upto)],
        )?;
        'pages: loop {
            let mut rows = tx.query_portal_raw(&portal, BATCH)?;
            let mut got = 0;
            while let Some(r) = rows.next()? {
                got += 1;
                let seq: i64 = r.try_get(0)?;
                let id: &str = r.try_get(1)?;
                let body: &str = r.try_get(2)?;
                if !f(seq as u64, id, body) {
                    break 'pages;
                }
            }
            if got < BATCH {
                break;
            }
        }
        drop(portal);
        tx.commit()?;
        Ok(())
    }

    fn chain_checkpoint(&self, device_id: Uuid) -> StoreResult<Option<ChainCheckpoint>> {
        let Some(r) = self.conn()?.query_opt(
            "SELECT device_id, public_key, seq, tip_hash, rows_digest, sig, checked_at
             FROM chain_checkpoints WHERE device_id = $1",
            &[&device_id.to_string()],
        )?
        else {
            return Ok(None);
        };
        let mut sig = [0u8; 64];
        hex::decode_to_slice(r.try_get::<_, &str>(5)?, &mut sig)
            .map_err(|_| StoreError::Corrupt("chain checkpoint signature is not hex".into()))?;
        Ok(Some(ChainCheckpoint {
            device_id: parse_uuid(r.try_get(0)?)?,
            public_key: r.try_get(1)?,
            tip: ChainTip {
                seq: u64::try_from(r.try_get::<_, i64>(2)?)
                    .map_err(|_| StoreError::Corrupt("negative checkpoint seq".into()))?,
                hash: parse_digest(r.try_get(3)?)?,
            },
            rows_digest: parse_digest(r.try_get(4)?)?,
            sig,
            checked_at: parse_ts(r.try_get(6)?)?,
        }))
    }

    fn save_chain_checkpoint(&self, c: &ChainCheckpoint) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO chain_checkpoints
                 (device_id, public_key, seq, tip_hash, rows_digest, sig, checked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (device_id) DO UPDATE SET public_key = excluded.public_key,
                 seq = excluded.seq, tip_hash = excluded.tip_hash,
                 rows_digest = excluded.rows_digest, sig = excluded.sig,
                 checked_at = excluded.checked_at",
            &[
                &c.device_id.to_string(),
                &c.public_key,
                &(c.tip.seq.min(i64::MAX as u64) as i64),
                &c.tip.hash.to_hex(),
                &c.rows_digest.to_hex(),
                &hex::encode(c.sig),
                &ts(c.checked_at),
            ],
        )?;
        Ok(())
    }
}
