//! Signing out, as the device's signed word (`POST /auth/sign-out`): where the device's chain
//! stood when its user signed out. Whose records events are follows from where the chain stood at
//! each sign-in ([`crate::ledger::makers`]); without an end, the events a tampered app made after a
//! sign-out and before the next sign-in counted as the signed-out user's. With the statement kept
//! on its sign-in, the office refuses them (`signed_out`), and an event at its position with
//! another hash (`chain_head_mismatch`), like a sign-in's head.
//!
//! The statement needs no token: the device key's signature over the sign-in's one-time challenge,
//! the user's name and the chain head ([`heatcrew_protocol::log::sign_out_message`], a tag of its
//! own so that no login proof passes for it) is the proof. So the phone sends it even after its
//! tokens are gone, and, signed out offline, as soon as it reaches the office again.

use crate::ledger::makers::SignedHead;
use crate::store::{StoreError, StoreResult};
use ed25519_dalek::{Signature, VerifyingKey};
use heatcrew_protocol::log::sign_out_message;
use heatcrew_protocol::{ChainTip, Digest, ErrorCode};
use uuid::Uuid;

/// A device sign-in as a sign-out statement needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInToEnd {
    pub username: String,
    /// The device's public key (hex).
    pub device_key: String,
}

/// What the office holds of the device's chain around a sign-out's head, read in the transaction
/// that keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainAround {
    /// The stored event's hash at the head's position, if the office holds it.
    pub hash_at_head: Option<Digest>,
    /// Events the office holds after the head and up to the next sign-in's head.
    pub after_head: u64,
    /// A sign-out already kept on this sign-in.
    pub kept: Option<SignedHead>,
}

impl ChainAround {
    /// From what a backend read: the hash at the head's position, the count after it, and a
    /// sign-out already kept on the sign-in (its seq, hash and proof columns).
    pub fn from_columns(
        hash_at_head: Option<&str>,
        after_head: i64,
        kept: (Option<i64>, Option<&str>, Option<String>),
        challenge: &str,
    ) -> StoreResult<ChainAround> {
        Ok(ChainAround {
            hash_at_head: hash_at_head
                .map(crate::store::convert::parse_digest)
                .transpose()?,
            after_head: after_head.max(0) as u64,
            kept: kept_sign_out(kept, challenge)?,
        })
    }
}

/// The sign-out kept on a sign-in, from its session row's columns (seq, hash, proof; all set or
/// none) and the sign-in's challenge, as both backends store it.
pub fn kept_sign_out(
    (seq, hash, proof): (Option<i64>, Option<&str>, Option<String>),
    challenge: &str,
) -> StoreResult<Option<SignedHead>> {
    Ok(match (seq, hash, proof) {
        (Some(seq), Some(hash), Some(proof)) => Some(SignedHead {
            head: ChainTip {
                seq: seq as u64,
                hash: crate::store::convert::parse_digest(hash)?,
            },
            challenge: challenge.to_owned(),
            proof,
        }),
        _ => None,
    })
}

/// A device's sign-outs, each kept on the sign-in (session row) it ends.
pub trait SignOutStore {
    /// The sign-in of `device_id` whose login answered `challenge` (one that named its chain).
    fn sign_in_to_end(&self, device_id: Uuid, challenge: &str) -> StoreResult<Option<SignInToEnd>>;

    /// Keep `signed` (verified by the caller) on the sign-in of `device_id` that answered its
    /// challenge, if [`check`] lets it, in one transaction with what it reads of the chain.
    fn keep_sign_out(&self, device_id: Uuid, signed: &SignedHead) -> StoreResult<()>;
}

/// Whether `proof` is the device key's signature over this sign-out of `username`.
pub fn verifies(device_id: Uuid, key: &VerifyingKey, username: &str, signed: &SignedHead) -> bool {
    use heatcrew_protocol::log::strict_hex;
    let (Some(challenge), Some(sig)) = (
        strict_hex::<32>(&signed.challenge),
        strict_hex::<64>(&signed.proof),
    ) else {
        return false;
    };
    let message = sign_out_message(&challenge, device_id, key, username, &signed.head);
    key.verify_strict(&message, &Signature::from_bytes(&sig))
        .is_ok()
}

/// The office's signature (hex) that it keeps `signed` ([`heatcrew_protocol::log::sign_out_kept_message`]);
/// `None` if its challenge or proof is not lowercase hex.
pub fn acknowledge(
    office: &ed25519_dalek::SigningKey,
    device_id: Uuid,
    signed: &SignedHead,
) -> Option<String> {
    use ed25519_dalek::Signer;
    use heatcrew_protocol::log::{sign_out_kept_message, strict_hex};
    let challenge = strict_hex::<32>(&signed.challenge)?;
    let proof = strict_hex::<64>(&signed.proof)?;
    let message = sign_out_kept_message(&challenge, device_id, &signed.head, &proof);
    Some(hex::encode(office.sign(&message).to_bytes()))
}

/// Whether a sign-out may be kept: `Ok(true)` to keep it, `Ok(false)` when the same one is kept
/// already (sent again: nothing to do). Its head must not stand before its sign-in's, must be the
/// event the office holds there, and no event the office holds may fall after it and before the
/// next sign-in (an honest phone records nothing once its user signed out).
pub fn check(sign_in: &ChainTip, signed: &SignedHead, chain: &ChainAround) -> StoreResult<bool> {
    if let Some(kept) = &chain.kept {
        return if kept == signed {
            Ok(false)
        } else {
            Err(StoreError::Conflict {
                code: ErrorCode::SignOutConflict,
                message: "this sign-in already has another sign-out statement".into(),
            })
        };
    }
    let fault = if signed.head.seq < sign_in.seq {
        format!(
            "the sign-out says the chain stood at record {}, before its sign-in's record {}",
            signed.head.seq, sign_in.seq
        )
    } else if signed.head.seq == sign_in.seq && signed.head.hash != sign_in.hash {
        format!(
            "record {} is not the one the sign-in named",
            signed.head.seq
        )
    } else if chain.hash_at_head.is_some_and(|h| h != signed.head.hash) {
        format!(
            "the device's record number {} is not the one the office holds",
            signed.head.seq
        )
    } else if chain.after_head > 0 {
        format!(
            "the office already holds {} records of this device made after this sign-out",
            chain.after_head
        )
    } else {
        return Ok(true);
    };
    Err(StoreError::Conflict {
        code: ErrorCode::ChainHeadMismatch,
        message: fault,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tip(seq: u64) -> ChainTip {
        ChainTip {
            seq,
            hash: Digest::of(&seq.to_be_bytes()),
        }
    }

    fn signed(seq: u64) -> SignedHead {
        SignedHead {
            head: tip(seq),
            challenge: "00".repeat(32),
            proof: "11".repeat(64),
        }
    }

    fn around(hash_at_head: Option<Digest>, after_head: u64) -> ChainAround {
        ChainAround {
            hash_at_head,
            after_head,
            kept: None,
        }
    }

    #[test]
    fn a_sign_out_must_fit_the_chain_the_office_holds() {
        assert_eq!(
            check(&tip(3), &signed(5), &around(None, 0)).ok(),
            Some(true)
        );
        assert_eq!(
            check(&tip(3), &signed(5), &around(Some(tip(5).hash), 0)).ok(),
            Some(true)
        );
        for (why, sign_in, chain) in [
            ("before its sign-in", tip(6), around(None, 0)),
            (
                "another record at the head",
                tip(3),
                around(Some(tip(4).hash), 0),
            ),
            ("records after it", tip(3), around(None, 2)),
        ] {
            match check(&sign_in, &signed(5), &chain) {
                Err(StoreError::Conflict { code, .. }) => {
                    assert_eq!(code, ErrorCode::ChainHeadMismatch, "{why}")
                }
                other => panic!("{why}: {other:?}"),
            }
        }
        let kept = ChainAround {
            kept: Some(signed(5)),
            ..around(None, 0)
        };
        assert_eq!(
            check(&tip(3), &signed(5), &kept).ok(),
            Some(false),
            "sent again"
        );
        assert!(
            matches!(
                check(&tip(3), &signed(6), &kept),
                Err(StoreError::Conflict {
                    code: ErrorCode::SignOutConflict,
                    ..
                })
            ),
            "another statement for the same sign-in"
        );
    }
}
