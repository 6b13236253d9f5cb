//! Whose record each event of a device is: the chain heads its sign-ins named.
//!
//! Events carry no author of their own (the device key signs for whoever holds the phone), so the
//! office takes the author from the sign-ins. Every device sign-in names where the device's own
//! chain stood at that moment (`LoginRequest::chain_head`, signed with the login's proof): the
//! events after that point, up to the next sign-in's point, were recorded while that user held the
//! phone and are theirs, whichever user's token later pushes them (a crew's shared phone: records
//! left queued at a handover go up with the next user's sync). The events up to a sign-in's point
//! are fixed by it: [`Makers::breaks_head`] refuses an event at that position with another hash,
//! and the hash chain fixes every event before it. So once a user signs in, nobody can add a
//! record of an earlier user of the phone, a tampered app included.
//!
//! Events before a device's first such sign-in (phones signed in before sign-ins named their
//! chain) keep the older rule: the pusher's own job, else the job of another user who ever signed
//! in on the phone, the most recent first ([`Makers::fallback`]).

use crate::store::{StoreError, StoreResult};
use ed25519_dalek::{Signature, VerifyingKey};
use heatcrew_protocol::log::enrolment_message;
use heatcrew_protocol::{ChainTip, Digest, ErrorCode};
use uuid::Uuid;

/// What a device signed when a user signed in on it (`heatcrew.enrol.v2`, the login's proof), kept
/// with the session so that `heatcrew-office verify` can re-check whose records its events are
/// without trusting the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    pub head: ChainTip,
    /// The office's one-time challenge (64 hex characters).
    pub challenge: String,
    /// The device key's signature (128 hex characters).
    pub proof: String,
}

impl SignedHead {
    /// What a device login carries of it (`None` without a chain head, challenge or proof).
    pub fn of_login(login: &heatcrew_protocol::sync::LoginRequest) -> Option<SignedHead> {
        Some(SignedHead {
            head: login.chain_head?,
            challenge: login.challenge.clone()?,
            proof: login.proof.clone()?,
        })
    }

    /// Whether `proof` is `key`'s signature over this sign-in of `username` on `device_id`.
    pub fn verifies(&self, device_id: Uuid, key: &VerifyingKey, username: &str) -> bool {
        let (mut challenge, mut sig) = ([0u8; 32], [0u8; 64]);
        if hex::decode_to_slice(&self.challenge, &mut challenge).is_err()
            || hex::decode_to_slice(&self.proof, &mut sig).is_err()
        {
            return false;
        }
        let message = enrolment_message(&challenge, device_id, key, username, &self.head);
        key.verify_strict(&message, &Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// A stored sign-in on a device, as `heatcrew-office verify` and exports read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSignIn {
    pub user_id: Uuid,
    pub username: String,
    /// `None`: a sign-in before sign-ins named the chain.
    pub signed: Option<SignedHead>,
    /// The sign-out statement kept on it (its challenge is the sign-in's), if any.
    pub signed_out: Option<SignedHead>,
}

/// A [`StoredSignIn`] from a session row's columns, as both backends store them: user id,
/// username, (chain head seq, hash, challenge, proof), (sign-out seq, hash, proof).
pub fn stored_sign_in(
    user_id: &str,
    username: String,
    (seq, hash, challenge, proof): (Option<i64>, Option<&str>, Option<String>, Option<String>),
    (out_seq, out_hash, out_proof): (Option<i64>, Option<&str>, Option<String>),
) -> StoreResult<StoredSignIn> {
    use crate::store::convert::parse_digest;
    let signed = match (seq, hash, challenge, proof) {
        (Some(seq), Some(hash), Some(challenge), Some(proof)) => Some(SignedHead {
            head: ChainTip {
                seq: seq as u64,
                hash: parse_digest(hash)?,
            },
            challenge,
            proof,
        }),
        _ => None,
    };
    let signed_out = match &signed {
        Some(s) => crate::sign_out::kept_sign_out((out_seq, out_hash, out_proof), &s.challenge)?,
        None => None,
    };
    Ok(StoredSignIn {
        user_id: crate::store::convert::parse_uuid(user_id)?,
        username,
        signed,
        signed_out,
    })
}

/// One sign-in on a device, as the ledger needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceSignIn {
    pub user_id: Uuid,
    /// Where the device's chain stood (`None`: a sign-in before sign-ins named it).
    pub chain_head: Option<ChainTip>,
    /// Where it stood when this user signed out, if the device said so (`crate::sign_out`).
    pub signed_out: Option<ChainTip>,
}

/// Who made which events of one device, from its sign-ins.
#[derive(Debug, Clone, Default)]
pub struct Makers {
    /// (chain head seq, its hash, who signed in, where they signed out), by seq; sign-ins at the
    /// same seq in sign-in order.
    heads: Vec<(u64, Digest, Uuid, Option<ChainTip>)>,
    /// Every user who signed in on the device, the most recent sign-in first.
    users: Vec<Uuid>,
}

impl Makers {
    /// From a device's sign-ins, oldest first.
    pub fn new(sign_ins: &[DeviceSignIn]) -> Makers {
        let mut heads: Vec<(u64, Digest, Uuid, Option<ChainTip>)> = sign_ins
            .iter()
            .filter_map(|s| {
                s.chain_head
                    .map(|h| (h.seq, h.hash, s.user_id, s.signed_out))
            })
            .collect();
        // Stable: at the same seq the later sign-in stays later.
        heads.sort_by_key(|(seq, _, _, _)| *seq);
        let mut users = Vec::new();
        for s in sign_ins.iter().rev() {
            if !users.contains(&s.user_id) {
                users.push(s.user_id);
            }
        }
        Makers { heads, users }
    }

    /// Whose record the event at `seq` is: the user of the last sign-in whose chain head lies
    /// before it. `None`: the event was recorded before any sign-in named the chain.
    pub fn maker(&self, seq: u64) -> Option<Uuid> {
        let after = self.heads.partition_point(|(s, _, _, _)| *s < seq);
        after.checked_sub(1).map(|i| self.heads[i].2)
    }

    /// Whether the event at `seq` was made after the user of the sign-in before it signed out (and
    /// before anyone signed in again): nobody's record.
    pub fn signed_out(&self, seq: u64) -> bool {
        let after = self.heads.partition_point(|(s, _, _, _)| *s < seq);
        after
            .checked_sub(1)
            .and_then(|i| self.heads[i].3)
            .is_some_and(|out| seq > out.seq)
    }

    /// Whether an event at `seq` with `hash` differs from what a sign-in named as the chain's
    /// head at `seq`: the device's history changed after it vouched for it.
    pub fn breaks_head(&self, seq: u64, hash: &Digest) -> bool {
        self.heads.iter().any(|(s, h, _, out)| {
            (*s == seq && h != hash) || out.is_some_and(|o| o.seq == seq && o.hash != *hash)
        })
    }

    /// For an event no sign-in's head places (and that the pusher may not record): the other
    /// users who signed in on the device, the most recent first.
    pub fn fallback(&self, pusher: Uuid) -> impl Iterator<Item = Uuid> + '_ {
        self.users.iter().copied().filter(move |u| *u != pusher)
    }
}

/// A sign-in's chain head against what the office already holds of the device (`office`: its
/// tip): the device cannot stand before what it pushed, nor hold another event at the office's
/// tip. Both backends call this inside the transaction that opens the session.
pub fn check_chain_head(office: ChainTip, head: ChainTip) -> StoreResult<()> {
    let fault = if head.seq < office.seq {
        format!(
            "the device says its last record is number {}, but the office already holds {} of its records",
            head.seq, office.seq
        )
    } else if head.seq == office.seq && head.hash != office.hash {
        format!(
            "the device's record number {} is not the one the office holds",
            head.seq
        )
    } else {
        return Ok(());
    };
    Err(StoreError::Conflict {
        code: ErrorCode::ChainHeadMismatch,
        message: fault,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(seq: u64) -> Option<ChainTip> {
        Some(ChainTip {
            seq,
            hash: Digest::of(&seq.to_be_bytes()),
        })
    }

    #[test]
    fn each_event_is_the_record_of_whoever_signed_in_before_it() {
        let (li, zhang, wang) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let sign_ins = [
            DeviceSignIn {
                user_id: wang,
                chain_head: None,
                signed_out: None,
            },
            DeviceSignIn {
                user_id: li,
                chain_head: head(3),
                signed_out: None,
            },
            DeviceSignIn {
                user_id: zhang,
                chain_head: head(7),
                signed_out: None,
            },
            // li again, with nothing recorded in between: li's from 8 on.
            DeviceSignIn {
                user_id: li,
                chain_head: head(7),
                signed_out: None,
            },
        ];
        let m = Makers::new(&sign_ins);
        let makers: Vec<Option<Uuid>> = (1..=9).map(|s| m.maker(s)).collect();
        let l = Some(li);
        // zhang signed in, then li again before anything was recorded: zhang made nothing.
        assert_eq!(makers, [None, None, None, l, l, l, l, l, l]);
        assert_eq!(m.maker(u64::MAX), Some(li));
        assert_eq!(m.fallback(li).collect::<Vec<_>>(), [zhang, wang]);
        assert!(m.breaks_head(7, &Digest::of(b"another")));
        assert!(!m.breaks_head(7, &Digest::of(&7u64.to_be_bytes())));
        assert!(
            !m.breaks_head(5, &Digest::of(b"another")),
            "no sign-in named 5"
        );
        let only_zhang = Makers::new(&sign_ins[..3]);
        assert_eq!(only_zhang.maker(7), Some(li));
        assert_eq!(only_zhang.maker(8), Some(zhang));
    }

    #[test]
    fn a_chain_head_behind_the_office_or_off_its_tip_is_refused() {
        let tip = ChainTip {
            seq: 5,
            hash: Digest::of(b"5"),
        };
        assert!(check_chain_head(tip, tip).is_ok());
        assert!(check_chain_head(tip, head(9).expect("head")).is_ok());
        for bad in [
            ChainTip::START,
            head(4).expect("head"),
            ChainTip {
                seq: 5,
                hash: Digest::of(b"other"),
            },
        ] {
            assert!(matches!(
                check_chain_head(tip, bad),
                Err(StoreError::Conflict {
                    code: ErrorCode::ChainHeadMismatch,
                    ..
                })
            ));
        }
        assert!(check_chain_head(ChainTip::START, ChainTip::START).is_ok());
    }

    #[test]
    fn a_sign_out_ends_its_users_records_and_fixes_its_position() {
        let (li, zhang) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let makers = Makers::new(&[
            DeviceSignIn {
                user_id: li,
                chain_head: head(3),
                signed_out: head(5),
            },
            DeviceSignIn {
                user_id: zhang,
                chain_head: head(8),
                signed_out: None,
            },
        ]);
        let nobody: Vec<u64> = (1..=10).filter(|s| makers.signed_out(*s)).collect();
        assert_eq!(
            nobody,
            [6, 7, 8],
            "after li signed out at 5, up to zhang's head at 8"
        );
        assert_eq!(makers.maker(5), Some(li));
        assert_eq!(makers.maker(9), Some(zhang));
        assert!(
            makers.breaks_head(5, &Digest::of(b"another")),
            "the sign-out's position is fixed"
        );
        assert!(!makers.breaks_head(5, &head(5).unwrap().hash));
    }
}
