//! What the office signs, so that neither the office nor a device can rewrite history alone
//! (`docs/evidence.md`):
//! - every event the office stores becomes a leaf of its append-only Merkle log ([`LogLeaf`],
//!   [`crate::merkle`]);
//! - every push answer carries an office-signed [`Receipt`] per stored event, which the device keeps;
//! - every pull carries the latest office-signed [`TreeHead`], which the device keeps;
//! - enrolment proves the device holds its private key ([`enrolment_message`]).
//!
//! Each signed message is a fixed byte layout with its own tag, signed with Ed25519 by the office's
//! key (receipts, tree heads) or the device's key (enrolment).

use crate::{Digest, merkle};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One event in the office's log: which device's which event, its hash, and whether the office
/// accepted it (a content-refused event is stored too: it is a link of the device's signed chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLeaf {
    pub device_id: Uuid,
    pub device_seq: u64,
    pub event_hash: Digest,
    pub accepted: bool,
}

impl LogLeaf {
    pub const TAG: &'static [u8] = b"heatcrew.leaf.v1\n";

    /// `tag || device_id (16) || device_seq (u64 BE) || event_hash (32) || accepted (1 byte)`.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::TAG.len() + 57);
        out.extend_from_slice(Self::TAG);
        out.extend_from_slice(self.device_id.as_bytes());
        out.extend_from_slice(&self.device_seq.to_be_bytes());
        out.extend_from_slice(&self.event_hash.0);
        out.push(u8::from(self.accepted));
        out
    }

    /// The leaf's Merkle hash, `SHA-256(0x00 || bytes)`.
    pub fn hash(&self) -> Digest {
        merkle::leaf_hash(&self.bytes())
    }
}

/// The office's signed acknowledgement that it stored a device's event at a place in its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub device_id: Uuid,
    pub device_seq: u64,
    pub event_hash: Digest,
    pub accepted: bool,
    /// The event's leaf index in the office's log (0-based): the office's commit order.
    pub log_index: u64,
    /// The office's clock when it stored the event, millisecond precision.
    pub received_at: DateTime<Utc>,
    /// Ed25519 by the office key over [`Receipt::message`], hex.
    #[serde(with = "hex_array")]
    pub sig: [u8; 64],
}

impl Receipt {
    pub const TAG: &'static [u8] = b"heatcrew.receipt.v1\n";

    /// The leaf this receipt speaks for.
    pub fn leaf(&self) -> LogLeaf {
        LogLeaf {
            device_id: self.device_id,
            device_seq: self.device_seq,
            event_hash: self.event_hash,
            accepted: self.accepted,
        }
    }

    /// `tag || leaf bytes without their tag || log_index (u64 BE) || received_at (i64 BE ms)`.
    pub fn message(leaf: &LogLeaf, log_index: u64, received_at: DateTime<Utc>) -> Vec<u8> {
        let mut out = Self::TAG.to_vec();
        out.extend_from_slice(&leaf.bytes()[LogLeaf::TAG.len()..]);
        out.extend_from_slice(&log_index.to_be_bytes());
        out.extend_from_slice(&received_at.timestamp_millis().to_be_bytes());
        out
    }

    /// Sign a receipt for `leaf` (`received_at` is kept to the millisecond it is signed at).
    pub fn sign(
        key: &SigningKey,
        leaf: &LogLeaf,
        log_index: u64,
        received_at: DateTime<Utc>,
    ) -> Receipt {
        let received_at = whole_millis(received_at);
        let sig = key
            .sign(&Self::message(leaf, log_index, received_at))
            .to_bytes();
        Receipt {
            device_id: leaf.device_id,
            device_seq: leaf.device_seq,
            event_hash: leaf.event_hash,
            accepted: leaf.accepted,
            log_index,
            received_at,
            sig,
        }
    }

    pub fn verify(&self, office: &VerifyingKey) -> bool {
        let m = Self::message(&self.leaf(), self.log_index, self.received_at);
        office.verify(&m, &Signature::from_bytes(&self.sig)).is_ok()
    }
}

/// The office's signed statement of its whole log at a moment: its size and Merkle root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    pub size: u64,
    pub root: Digest,
    pub timestamp: DateTime<Utc>,
    /// Ed25519 by the office key over [`TreeHead::message`], hex.
    #[serde(with = "hex_array")]
    pub sig: [u8; 64],
}

impl TreeHead {
    pub const TAG: &'static [u8] = b"heatcrew.tree-head.v1\n";

    /// `tag || size (u64 BE) || root (32) || timestamp (i64 BE ms)`.
    pub fn message(size: u64, root: &Digest, timestamp: DateTime<Utc>) -> Vec<u8> {
        let mut out = Self::TAG.to_vec();
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&root.0);
        out.extend_from_slice(&timestamp.timestamp_millis().to_be_bytes());
        out
    }

    /// Sign a tree head (`timestamp` is kept to the millisecond it is signed at).
    pub fn sign(key: &SigningKey, size: u64, root: Digest, timestamp: DateTime<Utc>) -> TreeHead {
        let timestamp = whole_millis(timestamp);
        let sig = key.sign(&Self::message(size, &root, timestamp)).to_bytes();
        TreeHead {
            size,
            root,
            timestamp,
            sig,
        }
    }

    pub fn verify(&self, office: &VerifyingKey) -> bool {
        let m = Self::message(self.size, &self.root, self.timestamp);
        office.verify(&m, &Signature::from_bytes(&self.sig)).is_ok()
    }
}

/// Proof that leaf `index` is in the tree of `size` leaves (RFC 9162 audit path, leaf upwards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub path: Vec<Digest>,
}

impl InclusionProof {
    pub fn verify(&self, leaf: &LogLeaf, head: &TreeHead) -> bool {
        self.size == head.size
            && merkle::verify_inclusion(&leaf.hash(), self.index, self.size, &self.path, &head.root)
    }
}

/// Proof that the tree of `second` leaves extends the tree of `first` leaves unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub path: Vec<Digest>,
}

impl ConsistencyProof {
    pub fn verify(&self, older: &TreeHead, newer: &TreeHead) -> bool {
        self.first == older.size
            && self.second == newer.size
            && merkle::verify_consistency(
                self.first,
                self.second,
                &older.root,
                &newer.root,
                &self.path,
            )
    }
}

/// Tag of the message a device signs to prove it holds its key when it signs in. Version 2 adds
/// where the device's chain stands (version 1 had no chain head; the office no longer takes it).
pub const ENROLMENT_TAG: &[u8] = b"heatcrew.enrol.v2\n";

/// `tag || challenge (32) || device_id (16) || device public key (32) || username length (u64 BE)
/// || username (UTF-8) || chain head seq (u64 BE) || chain head hash (32)`: the device signs the
/// office's one-time challenge bound to itself, its key, the account it signs in to and the point
/// of its chain where that user's records begin, so a signed answer cannot be replayed for
/// another, and the handover is the device's signed word.
pub fn enrolment_message(
    challenge: &[u8; 32],
    device_id: Uuid,
    device_key: &VerifyingKey,
    username: &str,
    chain_head: &crate::ChainTip,
) -> Vec<u8> {
    let mut out = ENROLMENT_TAG.to_vec();
    out.extend_from_slice(challenge);
    out.extend_from_slice(device_id.as_bytes());
    out.extend_from_slice(device_key.as_bytes());
    out.extend_from_slice(&(username.len() as u64).to_be_bytes());
    out.extend_from_slice(username.as_bytes());
    out.extend_from_slice(&chain_head.seq.to_be_bytes());
    out.extend_from_slice(&chain_head.hash.0);
    out
}

/// Tag of the message a device signs when its user signs out: where its chain stood then.
pub const SIGN_OUT_TAG: &[u8] = b"heatcrew.sign-out.v1\n";

/// [`enrolment_message`] with the [`SIGN_OUT_TAG`]: `challenge` is the one of the sign-in this
/// ends, `chain_head` where the device's chain stood as its user signed out. The events after it
/// and up to the next sign-in's head were made while nobody was signed in: no user's records.
pub fn sign_out_message(
    challenge: &[u8; 32],
    device_id: Uuid,
    device_key: &VerifyingKey,
    username: &str,
    chain_head: &crate::ChainTip,
) -> Vec<u8> {
    let mut out = enrolment_message(challenge, device_id, device_key, username, chain_head);
    out.splice(..ENROLMENT_TAG.len(), SIGN_OUT_TAG.iter().copied());
    out
}

/// Tag of the office's acknowledgement that it kept a device's sign-out statement.
pub const SIGN_OUT_KEPT_TAG: &[u8] = b"heatcrew.sign-out-kept.v1\n";

/// What the office signs when it keeps a sign-out: `tag || challenge (32) || device id (16) ||
/// chain head seq (u64 BE) || chain head hash (32) || the device's proof (64)`. The device's proof
/// covers the user's name and the device key, so this binds them too. With it the phone holds the
/// office's word that the sign-out was kept: an office export without it, showing events after it,
/// withheld it (`sign_out_withheld`).
pub fn sign_out_kept_message(
    challenge: &[u8; 32],
    device_id: Uuid,
    chain_head: &crate::ChainTip,
    proof: &[u8; 64],
) -> Vec<u8> {
    let mut out = SIGN_OUT_KEPT_TAG.to_vec();
    out.extend_from_slice(challenge);
    out.extend_from_slice(device_id.as_bytes());
    out.extend_from_slice(&chain_head.seq.to_be_bytes());
    out.extend_from_slice(&chain_head.hash.0);
    out.extend_from_slice(proof);
    out
}

/// Whether `sig` is `office`'s signature that it kept the sign-out (`challenge`, `device_id`,
/// `chain_head`, the device's `proof`): the one check the phone and both verifiers make.
pub fn sign_out_kept_holds(
    office: &VerifyingKey,
    (challenge, device_id, chain_head): (&[u8; 32], Uuid, &crate::ChainTip),
    proof: &[u8; 64],
    sig: &[u8; 64],
) -> bool {
    let message = sign_out_kept_message(challenge, device_id, chain_head, proof);
    office
        .verify_strict(&message, &Signature::from_bytes(sig))
        .is_ok()
}

/// `t` without its sub-millisecond part: what a signed message carries of it.
fn whole_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Parse an Ed25519 public key written as 64 lowercase hex characters.
pub fn parse_public_key(hex_key: &str) -> Option<VerifyingKey> {
    let mut bytes = [0u8; 32];
    if hex_key.len() != 64 || hex_key.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode_to_slice(hex_key, &mut bytes).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// `s` as `N` bytes: exactly `2 * N` lowercase hex characters (exports are strict).
pub fn strict_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    (s.len() == 2 * N
        && !s.bytes().any(|b| b.is_ascii_uppercase())
        && hex::decode_to_slice(s, &mut out).is_ok())
    .then_some(out)
}

/// Serde for a fixed number of bytes (a signature, a challenge) as [`strict_hex`].
pub(crate) mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<const N: usize, S: Serializer>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, const N: usize, D: Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let s = String::deserialize(d)?;
        super::strict_hex(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("want {} lowercase hex characters", 2 * N))
        })
    }
}

/// [`hex_array`] for an optional value (absent when `None`).
pub(crate) mod hex_array_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<const N: usize, S: Serializer>(
        bytes: &Option<[u8; N]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, const N: usize, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| {
                super::strict_hex(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!("want {} lowercase hex characters", 2 * N))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    fn leaf() -> LogLeaf {
        LogLeaf {
            device_id: Uuid::from_u128(7),
            device_seq: 3,
            event_hash: Digest::of(b"event"),
            accepted: true,
        }
    }

    #[test]
    fn receipts_verify_and_any_changed_field_breaks_them() {
        let t = DateTime::from_timestamp_millis(1_800_000_000_123).expect("time");
        let r = Receipt::sign(&office(), &leaf(), 41, t);
        let vk = office().verifying_key();
        assert!(r.verify(&vk), "a receipt verifies with the office key");
        let json: Receipt =
            serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parse");
        assert!(json.verify(&vk), "and after a JSON round trip");
        type Edit = Box<dyn Fn(&mut Receipt)>;
        let edits: Vec<Edit> = vec![
            Box::new(|r| r.device_seq += 1),
            Box::new(|r| r.event_hash = Digest::of(b"other")),
            Box::new(|r| r.accepted = false),
            Box::new(|r| r.log_index += 1),
            Box::new(|r| r.received_at += chrono::Duration::milliseconds(1)),
            Box::new(|r| r.device_id = Uuid::from_u128(8)),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut bad = r;
            edit(&mut bad);
            assert!(!bad.verify(&vk), "edit {i} of a receipt is detected");
        }
        assert!(
            !r.verify(&SigningKey::from_bytes(&[1; 32]).verifying_key()),
            "another key's receipt is not the office's"
        );
    }

    #[test]
    fn tree_heads_verify_and_sub_millisecond_times_are_dropped_before_signing() {
        let t = DateTime::from_timestamp_nanos(1_800_000_000_123_456_789);
        let h = TreeHead::sign(&office(), 10, Digest::of(b"root"), t);
        assert_eq!(
            h.timestamp.timestamp_subsec_nanos() % 1_000_000,
            0,
            "the signed time is what the message carries"
        );
        assert!(h.verify(&office().verifying_key()), "tree head verifies");
        let mut bad = h;
        bad.size = 11;
        assert!(
            !bad.verify(&office().verifying_key()),
            "a changed size fails"
        );
    }
}
