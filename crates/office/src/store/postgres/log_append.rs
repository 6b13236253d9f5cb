//! Appending to the office's Merkle log in PostgreSQL (`log_leaves`, `log_nodes`), inside the push
//! transaction, as `sqlite/evidence.rs` `append_leaf` does: a batch's leaves and the perfect
//! subtrees they complete go in with one multi-row insert each. The caller took the log indexes from
//! `ledger_counter` ([`super::ledger`]), whose row lock keeps appends in commit order. Reading the
//! log is `evidence.rs`.

use crate::store::{StoreError, StoreResult};
use heatcrew_protocol::log::LogLeaf;
use heatcrew_protocol::{Digest, merkle};
use postgres::GenericClient;
use std::collections::HashMap;

/// A stored node (level 0: a leaf hash), as the transaction sees it.
fn stored_node(c: &mut impl GenericClient, level: u32, index: u64) -> StoreResult<Option<Digest>> {
    let row = c.query_opt(
        "SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2",
        &[&i64::from(level), &(index as i64)],
    )?;
    row.map(|r| {
        let h: Vec<u8> = r.try_get(0)?;
        <[u8; 32]>::try_from(h.as_slice()).map(Digest).map_err(|_| {
            StoreError::Corrupt(format!("log node ({level}, {index}) is not 32 bytes"))
        })
    })
    .transpose()
}

/// Append `leaves` as log indexes `first..` with their subtrees, stamped `received_at`.
pub(super) fn append_leaves(
    c: &mut impl GenericClient,
    first: u64,
    leaves: &[LogLeaf],
    received_at: &str,
) -> StoreResult<()> {
    // Nodes this batch makes: a later leaf of the batch needs some of them.
    let mut made: HashMap<(u32, u64), Digest> = HashMap::new();
    let mut nodes: Vec<(u32, u64, Digest)> = Vec::with_capacity(leaves.len() * 2);
    for (index, leaf) in (first..).zip(leaves) {
        let new = merkle::append(index, leaf.hash(), |level, idx| {
            if let Some(d) = made.get(&(level, idx)) {
                return Ok(*d);
            }
            stored_node(c, level, idx)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "the office log has no node at level {level}, index {idx}"
                ))
            })
        })?;
        for &(level, idx, hash) in &new {
            made.insert((level, idx), hash);
        }
        nodes.extend(new);
    }
    let n = leaves.len();
    let mut index = Vec::with_capacity(n);
    let mut device = Vec::with_capacity(n);
    let mut seq = Vec::with_capacity(n);
    let mut hash = Vec::with_capacity(n);
    let mut accepted = Vec::with_capacity(n);
    for (i, leaf) in (first..).zip(leaves) {
        index.push(i as i64);
        device.push(leaf.device_id.to_string());
        seq.push(leaf.device_seq as i64);
        hash.push(leaf.event_hash.to_hex());
        accepted.push(i64::from(leaf.accepted));
    }
    c.execute(
        "INSERT INTO log_leaves (log_index, device_id, device_seq, event_hash, accepted, received_at)
         SELECT i, d, s, h, a, $6 FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::BIGINT[]) AS t(i, d, s, h, a)",
        &[&index, &device, &seq, &hash, &accepted, &received_at],
    )?;
    let levels: Vec<i64> = nodes.iter().map(|n| i64::from(n.0)).collect();
    let idxs: Vec<i64> = nodes.iter().map(|n| n.1 as i64).collect();
    let hashes: Vec<Vec<u8>> = nodes.iter().map(|n| n.2.0.to_vec()).collect();
    c.execute(
        "INSERT INTO log_nodes (level, idx, hash) SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BYTEA[])",
        &[&levels, &idxs, &hashes],
    )?;
    Ok(())
}
