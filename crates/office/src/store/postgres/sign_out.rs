//! A device's sign-outs, kept on the sign-in they end ([`crate::sign_out`]); as
//! `sqlite/sign_out.rs`. The device's row is locked first (`FOR UPDATE`, as a push of the device
//! takes it, in the same order), then the session's: a push at another process waits until the
//! sign-out is kept and then judges its events with it, and two statements for one sign-in are
//! judged one after the other.

use super::PgStore;
use crate::ledger::makers::SignedHead;
use crate::sign_out::{ChainAround, SignInToEnd, SignOutStore, check};
use crate::store::convert::parse_digest;
use crate::store::{StoreError, StoreResult};
use heatcrew_protocol::ChainTip;
use postgres::GenericClient;
use uuid::Uuid;

const SIGN_IN: &str = "SELECT s.id, u.username, s.chain_head_seq, s.chain_head_hash, d.public_key,
        s.created_at, s.sign_out_seq, s.sign_out_hash, s.sign_out_proof
     FROM sessions s JOIN users u ON u.id = s.user_id JOIN devices d ON d.id = s.device_id
     WHERE s.device_id = $1 AND s.chain_head_challenge = $2 AND s.chain_head_seq IS NOT NULL";

fn sign_in(
    c: &mut impl GenericClient,
    device_id: Uuid,
    challenge: &str,
    lock: bool,
) -> StoreResult<Option<postgres::Row>> {
    let sql = if lock {
        format!("{SIGN_IN} FOR UPDATE OF s")
    } else {
        SIGN_IN.to_owned()
    };
    Ok(c.query_opt(&sql, &[&device_id.to_string(), &challenge])?)
}

impl SignOutStore for PgStore {
    fn sign_in_to_end(&self, device_id: Uuid, challenge: &str) -> StoreResult<Option<SignInToEnd>> {
        sign_in(&mut *self.conn()?, device_id, challenge, false)?
            .map(|r| {
                Ok(SignInToEnd {
                    username: r.try_get(1)?,
                    device_key: r.try_get(4)?,
                })
            })
            .transpose()
    }

    fn keep_sign_out(&self, device_id: Uuid, signed: &SignedHead) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "SELECT 1 FROM devices WHERE id = $1 FOR UPDATE",
                &[&device_id.to_string()],
            )?;
            let Some(r) = sign_in(tx, device_id, &signed.challenge, true)? else {
                return Err(StoreError::not_found("the sign-in this sign-out ends"));
            };
            let id: String = r.try_get(0)?;
            let created_at: String = r.try_get(5)?;
            let dev = device_id.to_string();
            let head = signed.head.seq as i64;
            let hash_at_head: Option<String> = tx
                .query_opt(
                    "SELECT hash FROM events WHERE device_id = $1 AND device_seq = $2",
                    &[&dev, &head],
                )?
                .map(|r| r.try_get(0))
                .transpose()?;
            let after_head: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM events WHERE device_id = $1 AND device_seq > $2
                       AND device_seq <= COALESCE((SELECT MIN(chain_head_seq) FROM sessions
                           WHERE device_id = $1 AND chain_head_seq IS NOT NULL
                             AND (created_at, id) > ($3::TEXT COLLATE \"C\", $4::TEXT COLLATE \"C\")),
                         9223372036854775807)",
                    &[&dev, &head, &created_at, &id],
                )?
                .try_get(0)?;
            let chain = ChainAround::from_columns(
                hash_at_head.as_deref(),
                after_head,
                (r.try_get(6)?, r.try_get(7)?, r.try_get(8)?),
                &signed.challenge,
            )?;
            let sign_in = ChainTip {
                seq: r.try_get::<_, i64>(2)? as u64,
                hash: parse_digest(r.try_get(3)?)?,
            };
            if check(&sign_in, signed, &chain)? {
                tx.execute(
                    "UPDATE sessions SET sign_out_seq = $2, sign_out_hash = $3, sign_out_proof = $4
                     WHERE id = $1",
                    &[&id, &head, &signed.head.hash.to_hex(), &signed.proof],
                )?;
            }
            Ok(())
        })
    }
}
