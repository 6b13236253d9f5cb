//! The event envelope: one user action, hash-chained to the device's previous action and signed by
//! the device key. Specified byte for byte in `docs/evidence.md`.
//!
//! The canonical encoding ([`UnsignedEvent::canonical_bytes`]) is frozen per [`Format`]: it is what
//! the hash and the signature cover, and old evidence must keep verifying. Ordering never uses `id`
//! or `recorded_at`; it uses `device_seq` (gap-free per device) and, across devices, the office's
//! commit order.

use crate::canonical::{self, Format, LegacyNumbers};
use crate::{Digest, ErrorCode};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Everything of an event except its hash and signature: what a device fills in before sealing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct UnsignedEvent {
    /// UUIDv7; unique, never used for ordering.
    pub id: Uuid,
    pub device_id: Uuid,
    /// 1, 2, 3, … per device, gap-free.
    pub device_seq: u64,
    pub job_id: Uuid,
    /// The payload's kind, e.g. `step_completed` (see [`crate::EventBody`]).
    pub kind: String,
    /// The payload as JSON; hashed in canonical form (sorted keys, no whitespace).
    pub payload: Value,
    /// Device wall clock, millisecond precision. Informational: clocks can be wrong.
    pub recorded_at: DateTime<Utc>,
    /// Monotonic milliseconds since the device's app-start anchor, so that clock changes cannot
    /// disguise the order or spacing of actions.
    pub elapsed_ms: u64,
    /// The hash of the device's previous event ([`Digest::GENESIS`] for the first).
    pub prev_hash: Digest,
    /// Which canonical encoding the hash covers: absent on the wire for format 1 (events sealed
    /// before formats were versioned), `2` for every event sealed now.
    #[serde(default, skip_serializing_if = "Format::is_v1")]
    pub format: Format,
}

/// A sealed event: [`UnsignedEvent`] plus its SHA-256 hash and the device's Ed25519 signature of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Event {
    #[serde(flatten)]
    pub unsigned: UnsignedEvent,
    pub hash: Digest,
    /// Ed25519 signature over the 32 hash bytes, hex.
    #[serde(with = "hex_sig")]
    #[cfg_attr(feature = "utoipa", schema(value_type = String, pattern = "^[0-9a-f]{128}$"))]
    pub sig: [u8; 64],
}

/// What is wrong with an event, found by [`Event::verify`] or [`verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventFault {
    #[error("event {seq}: its content does not match its hash (edited after it was recorded)")]
    Edited { seq: u64 },
    #[error("event {seq}: the signature does not match the device key")]
    BadSignature { seq: u64 },
    #[error("event {seq}: expected sequence number {expected} (events missing or reordered)")]
    OutOfSequence { seq: u64, expected: u64 },
    #[error(
        "event {seq}: does not link to the previous event's hash (an event was removed, inserted or reordered)"
    )]
    BrokenChain { seq: u64 },
    #[error("event {seq}: belongs to device {found}, not {expected}")]
    WrongDevice {
        seq: u64,
        expected: Uuid,
        found: Uuid,
    },
    /// Well-formed JSON that its canonical format does not allow (a number too large to be exact).
    #[error("event {seq}: {detail}")]
    Malformed { seq: u64, detail: String },
}

impl EventFault {
    /// A stable short code for the fault, for JSON errors and logs.
    pub fn code(&self) -> ErrorCode {
        match self {
            EventFault::Edited { .. } => ErrorCode::Edited,
            EventFault::BadSignature { .. } => ErrorCode::BadSignature,
            EventFault::OutOfSequence { .. } => ErrorCode::OutOfSequence,
            EventFault::BrokenChain { .. } => ErrorCode::BrokenChain,
            EventFault::WrongDevice { .. } => ErrorCode::WrongDevice,
            EventFault::Malformed { .. } => ErrorCode::Malformed,
        }
    }
}

impl UnsignedEvent {
    /// The frozen byte encoding that the hash covers: the format's tag, then every field in a fixed
    /// order, variable-length fields prefixed with their length, the payload in canonical JSON.
    /// Format 1 events use the first of their two number renderings (see [`canonical`]).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.canonical_bytes_with(LegacyNumbers::PlainExponent)
    }

    fn canonical_bytes_with(&self, numbers: LegacyNumbers) -> Vec<u8> {
        let payload = match self.format {
            Format::V1 => canonical::payload_v1(&self.payload, numbers),
            Format::V2 => canonical::payload_v2(&self.payload),
        };
        let tag = self.format.event_tag();
        let mut out = Vec::with_capacity(tag.len() + 128 + self.kind.len() + payload.len());
        out.extend_from_slice(tag);
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(self.device_id.as_bytes());
        out.extend_from_slice(&self.device_seq.to_be_bytes());
        out.extend_from_slice(self.job_id.as_bytes());
        put_prefixed(&mut out, self.kind.as_bytes());
        put_prefixed(&mut out, &payload);
        out.extend_from_slice(&self.recorded_at.timestamp_millis().to_be_bytes());
        out.extend_from_slice(&self.elapsed_ms.to_be_bytes());
        out.extend_from_slice(&self.prev_hash.0);
        out
    }

    /// SHA-256 of [`Self::canonical_bytes`].
    pub fn compute_hash(&self) -> Digest {
        Digest::of(&self.canonical_bytes())
    }

    /// Whether `hash` is this content's hash. A format-1 event matches under either of the two
    /// number renderings serde_json used when format 1 was current.
    pub fn matches_hash(&self, hash: &Digest) -> bool {
        if self.compute_hash() == *hash {
            return true;
        }
        self.format == Format::V1
            && canonical::v1_renderings_differ(&self.payload)
            && Digest::of(&self.canonical_bytes_with(LegacyNumbers::SignedExponent)) == *hash
    }

    /// Whether the payload may be sealed in this event's format (format 2 allows no number of
    /// magnitude 2^53 or more, so that every language reads every number exactly).
    pub fn check_payload(&self) -> Result<(), EventFault> {
        match self.format {
            Format::V1 => Ok(()),
            Format::V2 => canonical::check_v2(&self.payload).map_err(|e| EventFault::Malformed {
                seq: self.device_seq,
                detail: e.to_string(),
            }),
        }
    }

    /// Hash and sign with the device key. The caller checks [`Self::check_payload`] first; an event
    /// sealed without that check still fails [`Event::verify`].
    pub fn seal(self, key: &SigningKey) -> Event {
        let hash = self.compute_hash();
        let sig = key.sign(&hash.0).to_bytes();
        Event {
            unsigned: self,
            hash,
            sig,
        }
    }
}

impl Event {
    pub fn seq(&self) -> u64 {
        self.unsigned.device_seq
    }

    /// Check that the content matches the hash and the hash carries the device's signature.
    /// Chain links and sequence are checked by [`verify_chain`].
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), EventFault> {
        let seq = self.seq();
        self.unsigned.check_payload()?;
        if !self.unsigned.matches_hash(&self.hash) {
            return Err(EventFault::Edited { seq });
        }
        key.verify(&self.hash.0, &Signature::from_bytes(&self.sig))
            .map_err(|_| EventFault::BadSignature { seq })
    }
}

/// Where a device's chain stands: the last verified sequence number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ChainTip {
    pub seq: u64,
    /// The event's hash (SHA-256, 64 hex characters); all zeros before the first event.
    #[cfg_attr(feature = "utoipa", schema(value_type = String, pattern = "^[0-9a-f]{64}$"))]
    pub hash: Digest,
}

impl ChainTip {
    pub const START: ChainTip = ChainTip {
        seq: 0,
        hash: Digest::GENESIS,
    };

    /// Verify that `event` is the next link after this tip on `device_id`'s chain; return the new tip.
    pub fn follow(
        &self,
        event: &Event,
        device_id: Uuid,
        key: &VerifyingKey,
    ) -> Result<ChainTip, EventFault> {
        let seq = event.seq();
        if event.unsigned.device_id != device_id {
            return Err(EventFault::WrongDevice {
                seq,
                expected: device_id,
                found: event.unsigned.device_id,
            });
        }
        if seq != self.seq + 1 {
            return Err(EventFault::OutOfSequence {
                seq,
                expected: self.seq + 1,
            });
        }
        event.verify(key)?;
        if event.unsigned.prev_hash != self.hash {
            return Err(EventFault::BrokenChain { seq });
        }
        Ok(ChainTip {
            seq,
            hash: event.hash,
        })
    }
}

/// Verify a whole chain from `start`; return the final tip or the first fault.
pub fn verify_chain<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    device_id: Uuid,
    key: &VerifyingKey,
    start: ChainTip,
) -> Result<ChainTip, EventFault> {
    events
        .into_iter()
        .try_fold(start, |tip, e| tip.follow(e, device_id, key))
}

fn put_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

mod hex_sig {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(sig))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 64];
        hex::decode_to_slice(&s, &mut out)
            .map_err(|_| serde::de::Error::custom("signature: want 128 hex characters"))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn unsigned(seq: u64, prev: Digest) -> UnsignedEvent {
        UnsignedEvent {
            id: Uuid::from_u128(seq as u128),
            device_id: Uuid::from_u128(1),
            device_seq: seq,
            job_id: Uuid::from_u128(99),
            kind: "step_completed".into(),
            payload: json!({"b": 1, "a": [1.5, "x"], "c": {"z": null, "y": true}}),
            recorded_at: DateTime::from_timestamp_millis(1_800_000_000_000).expect("valid"),
            elapsed_ms: seq * 1000,
            prev_hash: prev,
            format: Format::V2,
        }
    }

    #[test]
    fn a_format_1_event_verifies_under_either_number_rendering() {
        let k = key();
        let mut e = unsigned(1, Digest::GENESIS);
        e.format = Format::V1;
        e.payload = json!({"reading": 1e16});
        let plain = e.clone().seal(&k);
        // What a build on serde_json with zmij sealed: `1e+16` in the hashed bytes.
        let signed_hash = Digest::of(&e.canonical_bytes_with(LegacyNumbers::SignedExponent));
        assert_ne!(plain.hash, signed_hash, "the renderings differ for 1e16");
        let signed = Event {
            sig: k.sign(&signed_hash.0).to_bytes(),
            hash: signed_hash,
            unsigned: e,
        };
        for ev in [plain, signed] {
            let back: Event =
                serde_json::from_str(&serde_json::to_string(&ev).expect("json")).expect("parse");
            back.verify(&k.verifying_key())
                .expect("format-1 evidence sealed by either serde_json rendering still verifies");
        }
    }

    #[test]
    fn format_2_refuses_numbers_that_are_not_exact_everywhere() {
        let k = key();
        let mut e = unsigned(1, Digest::GENESIS);
        e.payload = json!({"bytes": 9007199254740993u64});
        assert!(
            e.check_payload().is_err(),
            "a device must not seal a number JavaScript cannot hold"
        );
        assert_eq!(
            e.seal(&k).verify(&k.verifying_key()).map_err(|f| f.code()),
            Err(ErrorCode::Malformed),
            "and a verifier refuses one that was sealed anyway"
        );
    }

    #[test]
    fn a_sealed_event_survives_a_json_round_trip_and_verifies() {
        let k = key();
        let e = unsigned(1, Digest::GENESIS).seal(&k);
        let wire = serde_json::to_string(&e).expect("serialize");
        let back: Event = serde_json::from_str(&wire).expect("deserialize");
        assert_eq!(back, e, "the wire form must round-trip exactly");
        back.verify(&k.verifying_key()).expect(
            "a round-tripped event must still verify, or the office would reject honest devices",
        );
    }

    #[test]
    fn any_edit_breaks_the_hash() {
        let k = key();
        let mut e = unsigned(1, Digest::GENESIS).seal(&k);
        e.unsigned.payload["b"] = json!(2);
        assert_eq!(
            e.verify(&k.verifying_key()),
            Err(EventFault::Edited { seq: 1 }),
            "changing one payload value must be detected as an edit"
        );
    }

    #[test]
    fn a_foreign_key_fails_the_signature() {
        let e = unsigned(1, Digest::GENESIS).seal(&key());
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert_eq!(
            e.verify(&other),
            Err(EventFault::BadSignature { seq: 1 }),
            "an event signed by another device must not pass as this device's"
        );
    }

    #[test]
    fn the_chain_detects_gaps_and_reordering() {
        let k = key();
        let e1 = unsigned(1, Digest::GENESIS).seal(&k);
        let e2 = unsigned(2, e1.hash).seal(&k);
        let e3 = unsigned(3, e2.hash).seal(&k);
        let dev = Uuid::from_u128(1);
        let vk = k.verifying_key();
        assert_eq!(
            verify_chain([&e1, &e2, &e3], dev, &vk, ChainTip::START).map(|t| t.seq),
            Ok(3),
            "an intact chain verifies to its last event"
        );
        assert_eq!(
            verify_chain([&e1, &e3], dev, &vk, ChainTip::START),
            Err(EventFault::OutOfSequence {
                seq: 3,
                expected: 2
            }),
            "a missing event is named"
        );
        let forged = unsigned(2, Digest::GENESIS).seal(&k);
        assert_eq!(
            verify_chain([&e1, &forged], dev, &vk, ChainTip::START),
            Err(EventFault::BrokenChain { seq: 2 }),
            "an event re-signed with the wrong link is caught"
        );
    }
}
