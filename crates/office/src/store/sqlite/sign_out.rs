//! A device's sign-outs, kept on the sign-in they end ([`crate::sign_out`]).

use super::{SqliteStore, parse_digest};
use crate::ledger::makers::SignedHead;
use crate::sign_out::{ChainAround, SignInToEnd, SignOutStore, check};
use crate::store::{StoreError, StoreResult};
use heatcrew_protocol::ChainTip;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

/// (session id, username, head seq, head hash, device key, created_at, sign-out seq, hash, proof)
type Row = (
    String,
    String,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn sign_in(
    conn: &rusqlite::Connection,
    device_id: Uuid,
    challenge: &str,
) -> StoreResult<Option<Row>> {
    Ok(conn
        .prepare_cached(
            "SELECT s.id, u.username, s.chain_head_seq, s.chain_head_hash, d.public_key, s.created_at,
                    s.sign_out_seq, s.sign_out_hash, s.sign_out_proof
             FROM sessions s JOIN users u ON u.id = s.user_id JOIN devices d ON d.id = s.device_id
             WHERE s.device_id = ?1 AND s.chain_head_challenge = ?2 AND s.chain_head_seq IS NOT NULL",
        )?
        .query_row(params![device_id.to_string(), challenge], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .optional()?)
}

impl SignOutStore for SqliteStore {
    fn sign_in_to_end(&self, device_id: Uuid, challenge: &str) -> StoreResult<Option<SignInToEnd>> {
        sign_in(&self.reader(), device_id, challenge)?
            .map(|r| {
                Ok(SignInToEnd {
                    username: r.1,
                    device_key: r.4,
                })
            })
            .transpose()
    }

    fn keep_sign_out(&self, device_id: Uuid, signed: &SignedHead) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some((id, _, seq, hash, _, created_at, out_seq, out_hash, out_proof)) =
            sign_in(&tx, device_id, &signed.challenge)?
        else {
            return Err(StoreError::not_found("the sign-in this sign-out ends"));
        };
        let dev = device_id.to_string();
        let head = signed.head.seq as i64;
        let hash_at_head: Option<String> = tx
            .query_row(
                "SELECT hash FROM events WHERE device_id = ?1 AND device_seq = ?2",
                params![dev, head],
                |r| r.get(0),
            )
            .optional()?;
        // The next sign-in on the device (after this one) names where its user's records begin.
        let after_head: i64 = tx.query_row(
            "SELECT COUNT(*) FROM events WHERE device_id = ?1 AND device_seq > ?2
               AND device_seq <= IFNULL((SELECT MIN(chain_head_seq) FROM sessions
                   WHERE device_id = ?1 AND chain_head_seq IS NOT NULL AND (created_at, id) > (?3, ?4)),
                 9223372036854775807)",
            params![dev, head, created_at, id],
            |r| r.get(0),
        )?;
        let chain = ChainAround::from_columns(
            hash_at_head.as_deref(),
            after_head,
            (out_seq, out_hash.as_deref(), out_proof),
            &signed.challenge,
        )?;
        let sign_in = ChainTip {
            seq: seq as u64,
            hash: parse_digest(&hash)?,
        };
        if check(&sign_in, signed, &chain)? {
            tx.execute(
                "UPDATE sessions SET sign_out_seq = ?2, sign_out_hash = ?3, sign_out_proof = ?4
                 WHERE id = ?1",
                params![id, head, signed.head.hash.to_hex(), signed.proof],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
