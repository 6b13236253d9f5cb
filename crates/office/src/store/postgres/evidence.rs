//! The office's append-only Merkle log on PostgreSQL, read side, as `sqlite/evidence.rs`:
//! `log_leaves` (one row per stored event, in commit order), `log_nodes` (the perfect subtrees,
//! [`heatcrew_protocol::merkle`]), `tree_heads` (the signed heads handed out). The appends happen
//! inside the push transaction, in the ledger's file.
//!
//! Leaves and nodes are never changed once written (triggers refuse it), so a root or proof of a
//! tree no larger than the size read first needs no snapshot: every node it reads is already
//! there and stays as it is.

use super::PgStore;
use crate::store::convert::{parse_digest, parse_ts, parse_uuid, ts};
use crate::store::{EvidenceLogStore, LogEntry, StoreError, StoreResult};
use heatcrew_protocol::log::{LogLeaf, TreeHead};
use heatcrew_protocol::{ChainTip, Digest, merkle};
use postgres::GenericClient;
use postgres::types::ToSql;
use uuid::Uuid;

/// A count or position as a BIGINT (the log never comes near `i64::MAX`; a larger ask matches
/// nothing).
fn big(n: u64) -> i64 {
    n.min(i64::MAX as u64) as i64
}

/// The number of leaves in the log as `c` sees it.
pub(super) fn size(c: &mut impl GenericClient) -> StoreResult<u64> {
    let n: i64 = c
        .query_one(
            "SELECT COALESCE(MAX(log_index) + 1, 0) FROM log_leaves",
            &[],
        )?
        .try_get(0)?;
    Ok(n as u64)
}

/// A stored perfect subtree (level 0: a leaf hash).
pub(super) fn node(
    c: &mut impl GenericClient,
    level: u32,
    index: u64,
) -> StoreResult<Option<Digest>> {
    let hash: Option<Vec<u8>> = c
        .query_opt(
            "SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2",
            &[&i64::from(level), &big(index)],
        )?
        .map(|r| r.try_get(0))
        .transpose()?;
    hash.map(|h| {
        <[u8; 32]>::try_from(h.as_slice()).map(Digest).map_err(|_| {
            StoreError::Corrupt(format!("log node ({level}, {index}) is not 32 bytes"))
        })
    })
    .transpose()
}

/// A node every root and proof of a tree of the current size needs: missing is damage.
pub(super) fn needed<C: GenericClient>(
    c: &mut C,
) -> impl FnMut(u32, u64) -> StoreResult<Digest> + '_ {
    move |level, index| {
        node(c, level, index)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the office log has no node at level {level}, index {index}"
            ))
        })
    }
}

const LEAF_COLS: &str = "log_index, device_id, device_seq, event_hash, accepted, received_at";

fn select_leaves(
    c: &mut impl GenericClient,
    tail: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<LogEntry>> {
    c.query(
        &format!("SELECT {LEAF_COLS} FROM log_leaves {tail}"),
        params,
    )?
    .iter()
    .map(|r| {
        Ok(LogEntry {
            index: r.try_get::<_, i64>(0)? as u64,
            leaf: LogLeaf {
                device_id: parse_uuid(r.try_get(1)?)?,
                device_seq: r.try_get::<_, i64>(2)? as u64,
                event_hash: parse_digest(r.try_get(3)?)?,
                accepted: r.try_get::<_, i64>(4)? != 0,
            },
            received_at: parse_ts(r.try_get(5)?)?,
        })
    })
    .collect()
}

/// The leaf of a device's event as `c` sees it (the ledger answers a retried event with it).
pub(super) fn entry_of(
    c: &mut impl GenericClient,
    device_id: Uuid,
    device_seq: u64,
) -> StoreResult<Option<LogEntry>> {
    Ok(select_leaves(
        c,
        "WHERE device_id = $1 AND device_seq = $2",
        &[&device_id.to_string(), &big(device_seq)],
    )?
    .pop())
}

fn select_heads(
    c: &mut impl GenericClient,
    tail: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<TreeHead>> {
    c.query(
        &format!("SELECT size, root, timestamp, sig FROM tree_heads {tail}"),
        params,
    )?
    .iter()
    .map(|r| {
        let size = r.try_get::<_, i64>(0)?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(r.try_get::<_, &str>(3)?, &mut sig)
            .map_err(|_| StoreError::Corrupt(format!("tree head {size} signature is not hex")))?;
        Ok(TreeHead {
            size: size as u64,
            root: parse_digest(r.try_get(1)?)?,
            timestamp: parse_ts(r.try_get(2)?)?,
            sig,
        })
    })
    .collect()
}

impl EvidenceLogStore for PgStore {
    fn log_size(&self) -> StoreResult<u64> {
        size(&mut *self.conn()?)
    }

    fn log_root(&self, size_: u64) -> StoreResult<Option<Digest>> {
        let mut conn = self.conn()?;
        if size_ > size(&mut *conn)? {
            return Ok(None);
        }
        merkle::root(size_, needed(&mut *conn)).map(Some)
    }

    fn log_node(&self, level: u32, index: u64) -> StoreResult<Option<Digest>> {
        node(&mut *self.conn()?, level, index)
    }

    fn inclusion_proof(&self, index: u64, size_: u64) -> StoreResult<Option<Vec<Digest>>> {
        let mut conn = self.conn()?;
        if size_ > size(&mut *conn)? {
            return Ok(None);
        }
        merkle::inclusion_proof(index, size_, needed(&mut *conn))
    }

    fn consistency_proof(&self, first: u64, second: u64) -> StoreResult<Option<Vec<Digest>>> {
        let mut conn = self.conn()?;
        if second > size(&mut *conn)? {
            return Ok(None);
        }
        merkle::consistency_proof(first, second, needed(&mut *conn))
    }

    fn log_entries(&self, from: u64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        select_leaves(
            &mut *self.conn()?,
            "WHERE log_index >= $1 ORDER BY log_index LIMIT $2",
            &[&big(from), &i64::from(limit)],
        )
    }

    fn log_entry_of(&self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<LogEntry>> {
        entry_of(&mut *self.conn()?, device_id, device_seq)
    }

    fn tree_head(&self, size_: u64) -> StoreResult<Option<TreeHead>> {
        Ok(select_heads(&mut *self.conn()?, "WHERE size = $1", &[&big(size_)])?.pop())
    }

    fn tree_heads(&self) -> StoreResult<Vec<TreeHead>> {
        select_heads(&mut *self.conn()?, "ORDER BY size", &[])
    }

    fn save_tree_head(&self, head: &TreeHead) -> StoreResult<TreeHead> {
        let mut conn = self.conn()?;
        // A head of that size kept by another office process first stays (the insert waits for
        // its commit, then does nothing), and is the one answered.
        conn.execute(
            "INSERT INTO tree_heads (size, root, timestamp, sig) VALUES ($1, $2, $3, $4)
             ON CONFLICT (size) DO NOTHING",
            &[
                &big(head.size),
                &head.root.to_hex(),
                &ts(head.timestamp),
                &hex::encode(head.sig),
            ],
        )?;
        select_heads(&mut *conn, "WHERE size = $1", &[&big(head.size)])?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a kept tree head vanished".into()))
    }

    fn newest_tree_head(&self) -> StoreResult<Option<TreeHead>> {
        Ok(select_heads(&mut *self.conn()?, "ORDER BY size DESC LIMIT 1", &[])?.pop())
    }

    fn device_tip(&self, device_id: Uuid) -> StoreResult<Option<ChainTip>> {
        self.conn()?
            .query_opt(
                "SELECT last_seq, last_hash FROM devices WHERE id = $1",
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
}
