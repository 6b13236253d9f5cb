//! The office's append-only Merkle log in SQLite: `log_leaves` (one row per stored event, in commit
//! order), `log_nodes` (the perfect subtrees, [`heatcrew_protocol::merkle`]), `tree_heads` (the
//! signed heads handed out). [`append_leaf`] runs inside the push transaction, so an event and its
//! leaf commit together or not at all.

use super::{SqliteStore, parse_digest, parse_ts, parse_uuid, select, ts};
use crate::store::{EvidenceLogStore, LogEntry, StoreError, StoreResult};
use heatcrew_protocol::log::{LogLeaf, TreeHead};
use heatcrew_protocol::{ChainTip, Digest, merkle};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

/// The number of leaves in the log as `conn` sees it.
pub(super) fn size(conn: &Connection) -> StoreResult<u64> {
    let n: i64 = conn.query_row(
        "SELECT COALESCE(MAX(log_index) + 1, 0) FROM log_leaves",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

fn node(conn: &Connection, level: u32, index: u64) -> StoreResult<Option<Digest>> {
    let hash: Option<Vec<u8>> = conn
        .prepare_cached("SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2")?
        .query_row(params![level, index as i64], |r| r.get(0))
        .optional()?;
    hash.map(|h| {
        <[u8; 32]>::try_from(h.as_slice()).map(Digest).map_err(|_| {
            StoreError::Corrupt(format!("log node ({level}, {index}) is not 32 bytes"))
        })
    })
    .transpose()
}

/// A node every root and proof of a tree of the current size needs: missing is damage.
fn needed(conn: &Connection) -> impl FnMut(u32, u64) -> StoreResult<Digest> + '_ {
    move |level, index| {
        node(conn, level, index)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the office log has no node at level {level}, index {index}"
            ))
        })
    }
}

/// Append `leaf` as log index `index` (the current size) with its subtrees, inside the caller's
/// transaction.
pub(super) fn append_leaf(
    tx: &Connection,
    index: u64,
    leaf: &LogLeaf,
    received_at: &str,
) -> StoreResult<()> {
    append_leaves(tx, index, std::slice::from_ref(leaf), received_at)
}

/// Append `leaves` as log indexes `first..` with their subtrees, inside the caller's transaction
/// (a push's leaves together): the subtrees a later leaf of the batch needs come from memory, not
/// read back.
pub(super) fn append_leaves(
    tx: &Connection,
    first: u64,
    leaves: &[LogLeaf],
    received_at: &str,
) -> StoreResult<()> {
    let mut made: std::collections::HashMap<(u32, u64), Digest> =
        std::collections::HashMap::with_capacity(leaves.len() * 2);
    let mut stored = needed(tx);
    let mut insert_leaf = tx.prepare_cached(
        "INSERT INTO log_leaves (log_index, device_id, device_seq, event_hash, accepted, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut insert_node =
        tx.prepare_cached("INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?;
    for (index, leaf) in (first..).zip(leaves) {
        insert_leaf.execute(params![
            index as i64,
            leaf.device_id.to_string(),
            leaf.device_seq as i64,
            leaf.event_hash.to_hex(),
            leaf.accepted,
            received_at
        ])?;
        let nodes = merkle::append(index, leaf.hash(), |level, idx| {
            match made.get(&(level, idx)) {
                Some(d) => Ok(*d),
                None => stored(level, idx),
            }
        })?;
        for (level, idx, hash) in nodes {
            insert_node.execute(params![level, idx as i64, hash.0.as_slice()])?;
            made.insert((level, idx), hash);
        }
    }
    Ok(())
}

/// Give every stored event without a leaf one, in the order the office stored them: a database
/// from before the log existed gets its history into the log on the first start that has it.
pub(super) fn backfill(conn: &mut Connection) -> StoreResult<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let missing = select(
        &tx,
        "SELECT e.device_id, e.device_seq, e.hash, e.status, e.received_at FROM events e
         WHERE NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.device_id = e.device_id AND l.device_seq = e.device_seq)
         ORDER BY e.rowid",
        [],
        |r| <(String, i64, String, String, String)>::try_from(r),
        |(dev, seq, hash, status, at)| {
            Ok((
                LogLeaf {
                    device_id: parse_uuid(&dev)?,
                    device_seq: seq as u64,
                    event_hash: parse_digest(&hash)?,
                    accepted: status == "accepted",
                },
                at,
            ))
        },
    )?;
    let start = size(&tx)?;
    for (index, (leaf, at)) in (start..).zip(&missing) {
        append_leaf(&tx, index, leaf, at)?;
    }
    tx.commit()?;
    Ok(missing.len() as u64)
}

type LeafRow = (i64, String, i64, String, bool, String);

fn log_entry(t: LeafRow) -> StoreResult<LogEntry> {
    Ok(LogEntry {
        index: t.0 as u64,
        leaf: LogLeaf {
            device_id: parse_uuid(&t.1)?,
            device_seq: t.2 as u64,
            event_hash: parse_digest(&t.3)?,
            accepted: t.4,
        },
        received_at: parse_ts(&t.5)?,
    })
}

const LEAF_COLS: &str = "log_index, device_id, device_seq, event_hash, accepted, received_at";

/// The leaf of a device's event as `conn` sees it.
pub(super) fn entry_of(
    conn: &Connection,
    device_id: Uuid,
    device_seq: u64,
) -> StoreResult<Option<LogEntry>> {
    Ok(select(
        conn,
        &format!("SELECT {LEAF_COLS} FROM log_leaves WHERE device_id = ?1 AND device_seq = ?2"),
        params![device_id.to_string(), device_seq as i64],
        |r| LeafRow::try_from(r),
        log_entry,
    )?
    .pop())
}

fn tree_head(t: (i64, String, String, String)) -> StoreResult<TreeHead> {
    let mut sig = [0u8; 64];
    hex::decode_to_slice(&t.3, &mut sig)
        .map_err(|_| StoreError::Corrupt(format!("tree head {} signature is not hex", t.0)))?;
    Ok(TreeHead {
        size: t.0 as u64,
        root: parse_digest(&t.1)?,
        timestamp: parse_ts(&t.2)?,
        sig,
    })
}

fn select_heads(
    conn: &Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> StoreResult<Vec<TreeHead>> {
    select(
        conn,
        &format!("SELECT size, root, timestamp, sig FROM tree_heads {filter}"),
        p,
        |r| <(i64, String, String, String)>::try_from(r),
        tree_head,
    )
}

/// Keep `head` unless one of its size is kept; the kept one.
fn save_head(conn: &Connection, head: &TreeHead) -> StoreResult<TreeHead> {
    conn.execute(
        "INSERT OR IGNORE INTO tree_heads (size, root, timestamp, sig) VALUES (?1, ?2, ?3, ?4)",
        params![
            head.size as i64,
            head.root.to_hex(),
            ts(head.timestamp),
            hex::encode(head.sig)
        ],
    )?;
    select_heads(conn, "WHERE size = ?1", [head.size as i64])?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("a kept tree head vanished".into()))
}

impl EvidenceLogStore for SqliteStore {
    fn log_size(&self) -> StoreResult<u64> {
        size(&self.reader())
    }

    fn log_root(&self, size_: u64) -> StoreResult<Option<Digest>> {
        let conn = self.reader();
        if size_ > size(&conn)? {
            return Ok(None);
        }
        merkle::root(size_, needed(&conn)).map(Some)
    }

    fn log_node(&self, level: u32, index: u64) -> StoreResult<Option<Digest>> {
        node(&self.reader(), level, index)
    }

    fn inclusion_proof(&self, index: u64, size_: u64) -> StoreResult<Option<Vec<Digest>>> {
        let conn = self.reader();
        if size_ > size(&conn)? {
            return Ok(None);
        }
        merkle::inclusion_proof(index, size_, needed(&conn))
    }

    fn consistency_proof(&self, first: u64, second: u64) -> StoreResult<Option<Vec<Digest>>> {
        let conn = self.reader();
        if second > size(&conn)? {
            return Ok(None);
        }
        merkle::consistency_proof(first, second, needed(&conn))
    }

    fn log_entries(&self, from: u64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        select(
            &self.reader(),
            &format!(
                "SELECT {LEAF_COLS} FROM log_leaves WHERE log_index >= ?1 ORDER BY log_index LIMIT ?2"
            ),
            params![from.min(i64::MAX as u64) as i64, limit as i64],
            |r| LeafRow::try_from(r),
            log_entry,
        )
    }

    fn log_entry_of(&self, device_id: Uuid, device_seq: u64) -> StoreResult<Option<LogEntry>> {
        entry_of(&self.reader(), device_id, device_seq)
    }

    fn tree_head(&self, size_: u64) -> StoreResult<Option<TreeHead>> {
        Ok(select_heads(
            &self.reader(),
            "WHERE size = ?1",
            [size_.min(i64::MAX as u64) as i64],
        )?
        .pop())
    }

    fn tree_heads(&self) -> StoreResult<Vec<TreeHead>> {
        select_heads(&self.reader(), "ORDER BY size", [])
    }

    fn save_tree_head(&self, head: &TreeHead) -> StoreResult<TreeHead> {
        save_head(&self.conn(), head)
    }

    fn newest_tree_head(&self) -> StoreResult<Option<TreeHead>> {
        Ok(select_heads(&self.reader(), "ORDER BY size DESC LIMIT 1", [])?.pop())
    }

    fn try_save_tree_head(&self, head: &TreeHead) -> StoreResult<Option<TreeHead>> {
        // The one writer is busy (a push's transaction, most likely): do not queue behind it.
        match self.conn.try_lock() {
            Ok(conn) => save_head(&conn, head).map(Some),
            Err(std::sync::TryLockError::WouldBlock) => Ok(None),
            Err(std::sync::TryLockError::Poisoned(p)) => save_head(&p.into_inner(), head).map(Some),
        }
    }

    fn device_tip(&self, device_id: Uuid) -> StoreResult<Option<ChainTip>> {
        let row: Option<(i64, String)> = self
            .reader()
            .query_row(
                "SELECT last_seq, last_hash FROM devices WHERE id = ?1",
                [device_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(seq, hash)| {
            Ok(ChainTip {
                seq: seq as u64,
                hash: parse_digest(&hash)?,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::pull_tree_head;
    use chrono::Utc;
    use ed25519_dalek::SigningKey;

    fn leaf(seq: u64) -> LogLeaf {
        LogLeaf {
            device_id: Uuid::nil(),
            device_seq: seq,
            event_hash: Digest::of(&seq.to_be_bytes()),
            accepted: true,
        }
    }

    #[test]
    fn a_pull_hands_out_the_newest_kept_head_while_the_writer_is_busy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("office.db")).expect("store");
        let key = SigningKey::from_bytes(&[7; 32]);
        let at = ts(Utc::now());
        append_leaf(&store.conn(), 0, &leaf(1), &at).expect("leaf");
        let first = pull_tree_head(&store, &key, Utc::now()).expect("head");
        assert_eq!(first.size, 1);
        assert_eq!(store.tree_head(1).expect("read"), Some(first), "kept");

        append_leaf(&store.conn(), 1, &leaf(2), &at).expect("leaf");
        {
            // A push holds the one writer: the pull does not wait for it…
            let _busy = store.conn();
            let during = pull_tree_head(&store, &key, Utc::now()).expect("head");
            assert_eq!(during, first, "the newest kept head, never an unkept one");
            assert_eq!(store.tree_head(2).expect("read"), None);
        }
        // …and once the writer is free the pull signs and keeps the head of the whole log.
        let after = pull_tree_head(&store, &key, Utc::now()).expect("head");
        assert_eq!(after.size, 2);
        assert_eq!(store.tree_head(2).expect("read"), Some(after), "kept");
        assert_eq!(store.newest_tree_head().expect("read"), Some(after));
        assert!(after.verify(&key.verifying_key()));
    }
}
