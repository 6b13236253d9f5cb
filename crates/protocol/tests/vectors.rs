//! The evidence test vectors in `docs/evidence/` are what this build computes, byte for byte, and
//! they are deterministic (fixed keys, fixed times). A third party implements `docs/evidence.md` and
//! checks itself against them; `tests/evidence/verify.py` is such an implementation.
//!
//! Regenerate after an intended change (there should be none: formats are frozen, a change is a new
//! format): `UPDATE_VECTORS=1 cargo test -p heatcrew-protocol --test vectors`.

mod common;

use chrono::Duration;
use common::*;
use ed25519_dalek::{Signer, SigningKey};
use heatcrew_protocol::canonical::{LegacyNumbers, payload_v1, payload_v2};
use heatcrew_protocol::export::{Export, ExportLine};
use heatcrew_protocol::log::{
    LogLeaf, Receipt, TreeHead, enrolment_message, sign_out_kept_message, sign_out_message,
};
use heatcrew_protocol::merkle::MemoryTree;
use heatcrew_protocol::{ChainTip, Digest, Event, Format, UnsignedEvent};
use serde_json::{Value, json};
use std::path::PathBuf;
use uuid::Uuid;

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/evidence")
}

fn hx(b: &[u8]) -> String {
    hex::encode(b)
}

/// An event vector: the event as it travels, its canonical bytes and whether it verifies.
fn event_vector(name: &str, e: &Event, public_key: &SigningKey, why: &str) -> Value {
    let result = e.verify(&public_key.verifying_key());
    json!({
        "name": name,
        "why": why,
        "public_key": hx(public_key.verifying_key().as_bytes()),
        "event": e,
        "canonical_hex": hx(&e.unsigned.canonical_bytes()),
        "valid": result.is_ok(),
        "fault": result.err().map(|f| f.code()),
    })
}

fn base(format: Format, payload: Value) -> UnsignedEvent {
    UnsignedEvent {
        id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001),
        device_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00d1),
        device_seq: 42,
        job_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0b01),
        kind: "reading_recorded".into(),
        payload,
        recorded_at: t0() + Duration::milliseconds(123),
        elapsed_ms: 3_600_000,
        prev_hash: Digest::of(b"previous"),
        format,
    }
}

fn events() -> Vec<Value> {
    let key = SigningKey::from_bytes(&[1; 32]);
    let stranger = SigningKey::from_bytes(&[2; 32]);
    // Format 1 has no range limit (1e21 shows its two renderings); format 2 keeps below 2^53
    // (1.234e-7 shows its exponent form).
    let payload_with = |flow: f64| {
        json!({
            "checkpoint": "首站-1",
            "note": "tab\there \"quoted\" back\\slash \u{1} é 😀",
            "readings": [
                {"key": "supply_temp", "value": 95.3, "unit": "°C"},
                {"key": "pressure", "value": 0.000001234, "unit": "MPa"},
                {"key": "flow", "value": flow, "unit": "t/h"},
                {"key": "count", "value": 42, "unit": ""},
                {"key": "neg", "value": -0.5, "unit": ""}
            ],
            "\u{FB01}": true,
            "\u{1F600}": null
        })
    };
    let payload = payload_with(1.234e-7);
    let payload_v1_big = payload_with(1e21);
    let v2 = base(Format::V2, payload.clone()).seal(&key);
    let v1 = base(Format::V1, payload_v1_big.clone()).seal(&key);
    // Format 1 as sealed by a build whose serde_json wrote `1e+21`.
    let v1_signed = {
        let u = base(Format::V1, payload_v1_big.clone());
        let mut bytes = u.canonical_bytes();
        let plain = payload_v1(&u.payload, LegacyNumbers::PlainExponent);
        let signed = payload_v1(&u.payload, LegacyNumbers::SignedExponent);
        // Swap the payload inside the canonical bytes (same length prefix position).
        let at = bytes
            .windows(plain.len())
            .position(|w| w == plain.as_slice())
            .expect("payload inside");
        bytes.splice(at - 8..at + plain.len(), {
            let mut p = (signed.len() as u64).to_be_bytes().to_vec();
            p.extend_from_slice(&signed);
            p
        });
        let hash = Digest::of(&bytes);
        Event {
            unsigned: u,
            hash,
            sig: key.sign(&hash.0).to_bytes(),
        }
    };
    let mut edited = v2.clone();
    edited.unsigned.payload["readings"][0]["value"] = json!(95.4);
    let foreign = base(Format::V2, payload.clone()).seal(&stranger);
    let too_big = base(Format::V2, json!({"bytes": 9007199254740992u64})).seal(&key);
    vec![
        event_vector("format-2", &v2, &key, "every new event: RFC 8785 payload"),
        event_vector(
            "format-1",
            &v1,
            &key,
            "no `format` field: keys by UTF-8 bytes, 1e21 written `1e21`",
        ),
        event_vector(
            "format-1-signed-exponent",
            &v1_signed,
            &key,
            "format 1 sealed when serde_json wrote `1e+21`: verifies under the second rendering; canonical_hex shows the first",
        ),
        event_vector(
            "edited",
            &edited,
            &key,
            "a reading changed after sealing: fails (edited)",
        ),
        event_vector(
            "foreign-key",
            &foreign,
            &key,
            "signed by another key: fails (bad signature)",
        ),
        event_vector(
            "number-too-large",
            &too_big,
            &key,
            "format 2 allows no magnitude of 2^53 or more: fails (malformed)",
        ),
    ]
}

fn numbers() -> Value {
    let cases: Vec<Value> = vec![
        json!(0.0),
        json!(-0.0),
        json!(1),
        json!(-1),
        json!(1.5),
        json!(500.0),
        json!(0.1),
        json!(0.00001),
        json!(0.000001),
        json!(1e-7),
        json!(123456.789),
        json!(1e15),
        json!(1e16),
        json!(1.5e16),
        json!(1e20),
        json!(1e21),
        json!(1.7976931348623157e308),
        json!(5e-324),
        json!(-2.5e-8),
        json!(9007199254740991u64),
        json!(39.9042),
    ];
    Value::Array(
        cases
            .into_iter()
            .map(|v| {
                json!({
                    "json": serde_json::to_string(&v).expect("json"),
                    "format_1_plain": String::from_utf8(payload_v1(&v, LegacyNumbers::PlainExponent)).expect("utf8"),
                    "format_1_signed": String::from_utf8(payload_v1(&v, LegacyNumbers::SignedExponent)).expect("utf8"),
                    "format_2": String::from_utf8(payload_v2(&v)).expect("utf8"),
                })
            })
            .collect(),
    )
}

fn merkle() -> Value {
    let leaves: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; (i as usize) + 1]).collect();
    let mut t = MemoryTree::new();
    for l in &leaves {
        t.push(l);
    }
    let roots: Vec<Value> = (0..=7)
        .map(|n| json!({"size": n, "root": t.root(n).expect("root")}))
        .collect();
    let mut inclusion = Vec::new();
    for size in 1..=7 {
        for index in 0..size {
            inclusion.push(json!({"index": index, "size": size, "path": t.inclusion_proof(index, size).expect("proof")}));
        }
    }
    let mut consistency = Vec::new();
    for second in 1..=7 {
        for first in 1..=second {
            consistency.push(json!({"first": first, "second": second, "path": t.consistency_proof(first, second).expect("proof")}));
        }
    }
    json!({
        "leaves_hex": leaves.iter().map(|l| hx(l)).collect::<Vec<_>>(),
        "roots": roots,
        "inclusion": inclusion,
        "consistency": consistency,
    })
}

fn signed_messages() -> Value {
    let office = SigningKey::from_bytes(&[22; 32]);
    let device = SigningKey::from_bytes(&[11; 32]);
    let leaf = LogLeaf {
        device_id: Uuid::from_u128(DEVICE),
        device_seq: 7,
        event_hash: Digest::of(b"event 7"),
        accepted: false,
    };
    let at = t0() + Duration::milliseconds(456);
    let receipt = Receipt::sign(&office, &leaf, 1234, at);
    let head = TreeHead::sign(&office, 1235, Digest::of(b"root"), at);
    let challenge = [7u8; 32];
    let chain_head = heatcrew_protocol::ChainTip {
        seq: 41,
        hash: Digest::of(b"event 41"),
    };
    let enrol = enrolment_message(
        &challenge,
        Uuid::from_u128(DEVICE),
        &device.verifying_key(),
        "zhangwei",
        &chain_head,
    );
    // Zhangwei signs out of that sign-in with the chain at event 45; the office keeps it.
    let out_head = heatcrew_protocol::ChainTip {
        seq: 45,
        hash: Digest::of(b"event 45"),
    };
    let out = sign_out_message(
        &challenge,
        Uuid::from_u128(DEVICE),
        &device.verifying_key(),
        "zhangwei",
        &out_head,
    );
    let out_proof = device.sign(&out).to_bytes();
    let kept = sign_out_kept_message(&challenge, Uuid::from_u128(DEVICE), &out_head, &out_proof);
    json!({
        "office_public_key": hx(office.verifying_key().as_bytes()),
        "leaf": {"leaf": leaf, "bytes_hex": hx(&leaf.bytes()), "leaf_hash": leaf.hash()},
        "receipt": {"receipt": receipt, "message_hex": hx(&Receipt::message(&leaf, 1234, receipt.received_at))},
        "tree_head": {"tree_head": head, "message_hex": hx(&TreeHead::message(head.size, &head.root, head.timestamp))},
        "enrolment": {
            "challenge": hx(&challenge),
            "device_id": Uuid::from_u128(DEVICE),
            "device_public_key": hx(device.verifying_key().as_bytes()),
            "username": "zhangwei",
            "chain_head": chain_head,
            "message_hex": hx(&enrol),
            "proof": hx(&device.sign(&enrol).to_bytes()),
        },
        "sign_out": {
            "challenge": hx(&challenge),
            "device_id": Uuid::from_u128(DEVICE),
            "device_public_key": hx(device.verifying_key().as_bytes()),
            "username": "zhangwei",
            "chain_head": out_head,
            "message_hex": hx(&out),
            "proof": hx(&out_proof),
        },
        "sign_out_kept": {
            "challenge": hx(&challenge),
            "device_id": Uuid::from_u128(DEVICE),
            "chain_head": out_head,
            "proof": hx(&out_proof),
            "message_hex": hx(&kept),
            "office_sig": hx(&office.sign(&kept).to_bytes()),
        },
    })
}

fn jsonl(e: &Export) -> String {
    e.lines
        .iter()
        .map(|l| serde_json::to_string(l).expect("json") + "\n")
        .collect()
}

/// The chain at event `seq` of `w`'s device.
fn tip(w: &World, seq: u64) -> ChainTip {
    ChainTip {
        seq,
        hash: w.events[seq as usize - 1].hash,
    }
}

/// [`world`] where the office kept Alice's sign-out at event 3 before event 4 came, so it refused
/// event 4 (made while nobody was signed in) and keeps it as a link of the chain: its leaf and its
/// receipt say `accepted` false.
fn signed_out_world() -> World {
    let mut w = world();
    let device = Uuid::from_u128(DEVICE);
    let at = w
        .leaves
        .iter()
        .position(|l| l.device_id == device && l.device_seq == 4)
        .expect("leaf of event 4");
    w.leaves[at].accepted = false;
    let old = w.receipts[3];
    w.receipts[3] = Receipt::sign(&w.office_key, &w.leaves[at], old.log_index, old.received_at);
    w
}

/// Export cases: sets of files and what a verifier must conclude.
fn exports() -> Vec<(String, String)> {
    let w = world();
    let mut files = Vec::new();
    let mut cases = Vec::new();
    let mut add = |name: &str, e: &Export| files.push((format!("{name}.jsonl"), jsonl(e)));
    let honest_device = device_export(&w, &w.events, &w.receipts);
    let honest_office = office_export(&w, &w.events, &w.leaves, &w.office_key);
    add("honest-device", &honest_device);
    add("honest-office", &honest_office);
    cases.push(json!({"files": ["honest-device.jsonl", "honest-office.jsonl"], "ok": true, "faults": [],
        "why": "an honest device and office: every signature, link, receipt, inclusion and consistency proof holds"}));
    let forged = chain(&w.device_key, 6, Some(4));
    add(
        "device-rewrote-event-4",
        &device_export(&w, &forged, &w.receipts),
    );
    cases.push(json!({"files": ["device-rewrote-event-4.jsonl"], "ok": false, "faults": ["receipt_mismatch"],
        "why": "the device changed event 4 after the office's receipt and re-signed 4..6 with its own key: receipt 4 names another hash"}));
    add(
        "device-dropped-5-6",
        &device_export(&w, &w.events[..4], &w.receipts),
    );
    cases.push(json!({"files": ["device-dropped-5-6.jsonl"], "ok": false, "faults": ["events_removed"],
        "why": "events 5 and 6 removed and the tip line rewound: the office's receipts for 5 and 6 remain"}));
    let cut = w
        .leaves
        .iter()
        .position(|l| l.device_id == Uuid::from_u128(DEVICE) && l.device_seq == 2)
        .expect("leaf");
    let mut deleted: Vec<LogLeaf> = w.leaves[..cut].to_vec();
    deleted.extend(w.leaves[cut + 1..].iter().copied());
    add(
        "office-deleted-event-2",
        &office_export(&w, &w.events, &deleted, &w.office_key),
    );
    cases.push(json!({"files": ["honest-device.jsonl", "office-deleted-event-2.jsonl"], "ok": false, "faults": ["consistency_failed", "log_rewritten"],
        "why": "the office removed the device's event 2 from its log after handing out a tree head: the consistency proof fails"}));
    // Format 2: a crew's shared phone, and an office that credits Bob's records to Alice.
    let shared = with_sign_ins(&honest_office, handover(&w));
    add("office-shared-phone", &shared);
    let maker =
        |user: &str, first: u64, last: u64| json!([Uuid::from_u128(DEVICE), user, first, last]);
    cases.push(json!({"files": ["honest-device.jsonl", "office-shared-phone.jsonl"], "ok": true, "faults": [],
        "makers": [maker("alice", 1, 3), maker("bob", 4, 6)],
        "why": "format 2: Alice signed in on the new phone and recorded events 1..3, then Bob signed in with the chain at event 3 and recorded 4..6; each sign-in is the device's signature"}));
    let mut renamed = shared.clone();
    if let Some(ExportLine::SignIn { username, .. }) = renamed.lines.last_mut() {
        *username = "alice".into();
    }
    add("office-renamed-sign-in", &renamed);
    cases.push(json!({"files": ["office-renamed-sign-in.jsonl"], "ok": false, "faults": ["bad_sign_in"],
        "why": "the office changed the user of Bob's sign-in to Alice, to credit events 4..6 to her: the device did not sign that"}));
    let device_shared = with_sign_ins(&honest_device, handover(&w));
    add("device-shared-phone", &device_shared);
    let withheld = with_sign_ins(&honest_office, handover(&w)[..1].to_vec());
    add("office-withheld-sign-in", &withheld);
    cases.push(json!({"files": ["device-shared-phone.jsonl", "office-shared-phone.jsonl"], "ok": true, "faults": [],
        "makers": [maker("alice", 1, 3), maker("bob", 4, 6)],
        "why": "format 2 on both sides: the device kept both sign-ins the office accepted, and the office's export carries them"}));
    cases.push(json!({"files": ["device-shared-phone.jsonl", "office-withheld-sign-in.jsonl"], "ok": false, "faults": ["sign_in_withheld"],
        "why": "the office left Bob's sign-in out of its export, which shows the chain past it: alone, events 4..6 would pass as Alice's; the device's export carries the sign-in"}));
    // Format 3: Alice signs out at event 3; a tampered app records event 4 while nobody is signed
    // in; Bob signs in at event 4 and records 5..6.
    let out = signed_out_world();
    let sign_ins = || {
        vec![
            sign_in(&out.device_key, "alice", ChainTip::START, 0x51),
            sign_in(&out.device_key, "bob", tip(&out, 4), 0x52),
        ]
    };
    let alice_out = |office: Option<&SigningKey>| {
        sign_out(&out.device_key, "alice", tip(&out, 3), 0x51, office)
    };
    let v3 = |e: &Export, extra: Vec<ExportLine>| {
        let mut lines = sign_ins();
        lines.extend(extra);
        with_v3(e, lines)
    };
    let out_device = device_export(&out, &out.events, &out.receipts);
    let out_office = office_export(&out, &out.events, &out.leaves, &out.office_key);
    let kept = alice_out(Some(&out.office_key));
    add("device-signed-out", &v3(&out_device, vec![kept.clone()]));
    add("office-signed-out", &v3(&out_office, vec![kept]));
    add("office-withheld-sign-out", &v3(&out_office, vec![]));
    let handed = [maker("alice", 1, 3), maker("bob", 5, 6)];
    cases.push(json!({"files": ["device-signed-out.jsonl", "office-signed-out.jsonl"], "ok": true, "faults": [],
        "sign_outs": 1, "unproven": 0, "makers": handed,
        "why": "format 3: Alice signed out with the chain at event 3 and the office kept her sign-out (its signature over it is in both exports); event 4 came while nobody was signed in (the office refused it, `accepted` false in its receipt, but holds it as a link of the chain) and is nobody's; Bob signed in at event 4 and recorded 5..6"}));
    cases.push(json!({"files": ["device-signed-out.jsonl", "office-withheld-sign-out.jsonl"], "ok": false, "faults": ["sign_out_withheld"],
        "sign_outs": 1, "makers": handed,
        "why": "the office left Alice's sign-out out of its export, which shows event 4, so that event 4 would pass as hers; the phone kept the office's signature that it kept the sign-out"}));
    add(
        "device-unacknowledged-sign-out",
        &v3(
            &honest_device,
            vec![sign_out(&w.device_key, "alice", tip(&w, 3), 0x51, None)],
        ),
    );
    add("office-holds-event-4", &v3(&honest_office, vec![]));
    cases.push(json!({"files": ["device-unacknowledged-sign-out.jsonl", "office-holds-event-4.jsonl"], "ok": false, "faults": [],
        "sign_outs": 0, "unproven": 1, "makers": [maker("alice", 1, 4), maker("bob", 5, 6)],
        "why": "the device signed Alice's sign-out at event 3, but the office never acknowledged it and accepted event 4 from the phone as Alice's: the device's word alone cannot take event 4 from her (unproven, no fault); without an office export it would count"}));
    files.push((
        "index.json".to_owned(),
        serde_json::to_string_pretty(&cases).expect("json") + "\n",
    ));
    files
}

#[test]
fn the_published_vectors_are_what_this_build_computes() {
    let vectors = json!({
        "about": "HeatCrew evidence test vectors (docs/evidence.md). Keys are Ed25519 secret keys of 32 repeated bytes: device [1;32], stranger [2;32] for events; office [22;32] and device [11;32] for the log and exports.",
        "events": events(),
        "numbers": numbers(),
        "merkle": merkle(),
        "signed_messages": signed_messages(),
    });
    let mut outputs = vec![(
        "vectors.json".to_owned(),
        serde_json::to_string_pretty(&vectors).expect("json") + "\n",
    )];
    outputs.extend(
        exports()
            .into_iter()
            .map(|(name, text)| (format!("exports/{name}"), text)),
    );
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    for (name, text) in outputs {
        let path = docs().join(&name);
        if update {
            std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
            std::fs::write(&path, &text).expect("write");
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "docs/evidence/{name} differs from what this build computes: formats are frozen; if the change is intended, run UPDATE_VECTORS=1 cargo test -p heatcrew-protocol --test vectors"
        );
    }
}

#[test]
fn the_export_cases_conclude_as_their_index_says() {
    let dir = docs().join("exports");
    let index: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).expect("index.json"))
            .expect("json");
    assert!(!index.is_empty(), "there are export cases");
    for case in index {
        let exports: Vec<Export> = case["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| {
                let name = f.as_str().expect("name");
                Export::parse(
                    name,
                    &std::fs::read_to_string(dir.join(name)).expect("read"),
                )
                .expect("parse")
            })
            .collect();
        let report = heatcrew_protocol::export::verify_exports(&exports, |_| None);
        if let Some(makers) = case.get("makers") {
            let found: Vec<Value> = report
                .makers
                .iter()
                .map(|m| json!([m.device_id, m.username, m.first_seq, m.last_seq]))
                .collect();
            assert_eq!(&Value::Array(found), makers, "{}", case["why"]);
        }
        if let Some(n) = case.get("sign_outs") {
            assert_eq!(Some(report.sign_outs), n.as_u64(), "{}", case["why"]);
        }
        if let Some(n) = case.get("unproven") {
            assert_eq!(
                Some(report.unproven.len() as u64),
                n.as_u64(),
                "{}: {:?}",
                case["why"],
                report.unproven
            );
        }
        let codes = case["faults"].as_array().expect("faults");
        assert!(
            !codes.is_empty() || report.ok(),
            "{}: no fault expected, got {:?}",
            case["why"],
            report.faults
        );
        for code in codes {
            let code = code.as_str().expect("code");
            assert!(
                report.has(code),
                "{}: expected a {code} fault, got {:?}",
                case["why"],
                report.faults
            );
        }
        assert_eq!(
            report.ok() && report.unproven.is_empty(),
            case["ok"].as_bool().expect("ok"),
            "{}: {:?} {:?}",
            case["why"],
            report.faults,
            report.unproven
        );
    }
}

#[test]
fn the_event_vectors_verify_as_labelled() {
    for v in events() {
        assert_eq!(
            v["valid"].as_bool(),
            Some(matches!(
                v["name"].as_str(),
                Some("format-2" | "format-1" | "format-1-signed-exponent")
            )),
            "{}: {}",
            v["name"],
            v["why"]
        );
    }
}
