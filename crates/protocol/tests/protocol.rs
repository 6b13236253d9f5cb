//! heatcrew-protocol's integration tests: the wire format is frozen, so these pin it.

use chrono::DateTime;
use ed25519_dalek::SigningKey;
use heatcrew_protocol::sync::{PushOutcome, PushResult};
use heatcrew_protocol::{Digest, Event, EventBody, Format, Resolution, UnsignedEvent};
use serde_json::json;
use uuid::Uuid;

fn fixed_event() -> UnsignedEvent {
    let body = EventBody::JobClosed {
        resolution: Resolution::Resolved,
        summary: "故障已排除".into(),
    };
    let (kind, payload) = body.to_parts();
    UnsignedEvent {
        id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001),
        device_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00d1),
        device_seq: 42,
        job_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0b01),
        kind,
        payload,
        recorded_at: DateTime::from_timestamp_millis(1_796_000_000_123).expect("time"),
        elapsed_ms: 3_600_000,
        prev_hash: Digest::of(b"previous"),
        format: Format::V1,
    }
}

#[test]
fn the_canonical_hash_is_frozen() {
    // If this changes, every event ever recorded stops verifying: bump the protocol instead.
    assert_eq!(
        fixed_event().compute_hash().to_hex(),
        "5fd475612bcf6906b189bfdc347848a64916b9657f96b726ebcb0772f7157243",
        "the canonical encoding of events must never change"
    );
}

#[test]
fn wire_json_has_the_documented_field_names() {
    let e = fixed_event().seal(&SigningKey::from_bytes(&[1; 32]));
    let v = serde_json::to_value(&e).expect("json");
    for field in [
        "id",
        "device_id",
        "device_seq",
        "job_id",
        "kind",
        "payload",
        "recorded_at",
        "elapsed_ms",
        "prev_hash",
        "hash",
        "sig",
    ] {
        assert!(
            v.get(field).is_some(),
            "the envelope carries `{field}` at top level"
        );
    }
    assert_eq!(
        v["kind"], "job_closed",
        "the kind is the body's snake_case tag"
    );
    assert_eq!(
        v["payload"],
        json!({"resolution": "resolved", "summary": "故障已排除"}),
        "payload is the bare body"
    );
    let back: Event = serde_json::from_value(v).expect("parse");
    assert_eq!(back, e, "the envelope round-trips");
}

#[test]
fn bad_digests_and_signatures_are_refused_when_parsing() {
    assert!(
        "ABC".parse::<Digest>().is_err(),
        "short digests are refused"
    );
    assert!(
        "A".repeat(64).parse::<Digest>().is_err(),
        "upper-case hex is refused so each digest has one spelling"
    );
    let e = fixed_event().seal(&SigningKey::from_bytes(&[1; 32]));
    let mut v = serde_json::to_value(&e).expect("json");
    v["sig"] = json!("00");
    assert!(
        serde_json::from_value::<Event>(v).is_err(),
        "a truncated signature does not parse"
    );
}

#[test]
fn push_results_are_flat_objects() {
    let r = PushResult {
        device_seq: 3,
        event_id: Uuid::nil(),
        outcome: PushOutcome::Rejected {
            code: heatcrew_protocol::ErrorCode::BadSignature,
            reason: "signature does not match".into(),
        },
        receipt: None,
    };
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(v["outcome"], "rejected", "the outcome is a flat tag");
    assert_eq!(v["code"], "bad_signature", "with its code beside it");
}
