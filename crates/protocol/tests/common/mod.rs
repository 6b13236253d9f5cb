//! A device and an office in memory, producing evidence exports: shared by the tamper tests and the
//! test-vector generator.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::export::{
    EXPORT_FORMAT, Export, ExportLine, ExportReport, ExportSource, verify_exports,
};
use heatcrew_protocol::log::{ConsistencyProof, InclusionProof, LogLeaf, Receipt, TreeHead};
use heatcrew_protocol::merkle::MemoryTree;
use heatcrew_protocol::{ChainTip, Digest, Event, Format, UnsignedEvent};
use serde_json::json;
use uuid::Uuid;

pub const DEVICE: u128 = 0xd1;

pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_800_000_000_000).expect("time")
}

pub struct World {
    pub device_key: SigningKey,
    pub office_key: SigningKey,
    pub events: Vec<Event>,
    /// The office's log: (leaf, log index, receipt).
    pub receipts: Vec<Receipt>,
    pub leaves: Vec<LogLeaf>,
    /// The tree head the device kept after its third event was acknowledged.
    pub kept: TreeHead,
}

pub fn event(key: &SigningKey, seq: u64, prev: Digest, payload: serde_json::Value) -> Event {
    UnsignedEvent {
        id: Uuid::from_u128(0x1000 + seq as u128),
        device_id: Uuid::from_u128(DEVICE),
        device_seq: seq,
        job_id: Uuid::from_u128(0xb1),
        kind: "reading_recorded".into(),
        payload,
        recorded_at: t0() + Duration::minutes(seq as i64),
        elapsed_ms: seq * 60_000,
        prev_hash: prev,
        format: Format::V2,
    }
    .seal(key)
}

pub fn chain(key: &SigningKey, n: u64, edit_at: Option<u64>) -> Vec<Event> {
    let mut prev = Digest::GENESIS;
    (1..=n)
        .map(|seq| {
            let value = if Some(seq) == edit_at { 80.0 } else { 95.3 + seq as f64 };
            let e = event(key, seq, prev, json!({"checkpoint": "hs", "readings": [{"key": "t", "value": value, "unit": "°C"}]}));
            prev = e.hash;
            e
        })
        .collect()
}

/// Build the office log from leaves, interleaving another device's events so indexes are not
/// trivially the device's sequence numbers.
pub fn log_of(leaves: &[LogLeaf]) -> MemoryTree {
    let mut t = MemoryTree::new();
    for l in leaves {
        t.push(&l.bytes());
    }
    t
}

pub fn world() -> World {
    let device_key = SigningKey::from_bytes(&[11; 32]);
    let office_key = SigningKey::from_bytes(&[22; 32]);
    let events = chain(&device_key, 6, None);
    let other = Uuid::from_u128(0xd2);
    let mut leaves = Vec::new();
    let mut receipts = Vec::new();
    let mut kept = None;
    for (i, e) in events.iter().enumerate() {
        leaves.push(LogLeaf {
            device_id: other,
            device_seq: i as u64 + 1,
            event_hash: Digest::of(format!("other {i}").as_bytes()),
            accepted: true,
        });
        let leaf = LogLeaf {
            device_id: e.unsigned.device_id,
            device_seq: e.seq(),
            event_hash: e.hash,
            accepted: true,
        };
        leaves.push(leaf);
        let at = t0() + Duration::minutes(e.seq() as i64) + Duration::seconds(5);
        receipts.push(Receipt::sign(
            &office_key,
            &leaf,
            leaves.len() as u64 - 1,
            at,
        ));
        if e.seq() == 3 {
            let tree = log_of(&leaves);
            let size = tree.size();
            kept = Some(TreeHead::sign(
                &office_key,
                size,
                tree.root(size).expect("root"),
                at,
            ));
        }
    }
    World {
        device_key,
        office_key,
        events,
        receipts,
        leaves,
        kept: kept.expect("kept a tree head"),
    }
}

pub fn header(source: ExportSource, office: &SigningKey) -> ExportLine {
    ExportLine::Header {
        format: EXPORT_FORMAT.into(),
        source,
        exported_at: t0() + Duration::days(1),
        scope: "device".into(),
        office_public_key: Some(hex::encode(office.verifying_key().to_bytes())),
    }
}

pub fn device_line(key: &SigningKey, events: &[Event]) -> ExportLine {
    ExportLine::Device {
        device_id: Uuid::from_u128(DEVICE),
        public_key: hex::encode(key.verifying_key().to_bytes()),
        tip: events.last().map_or(ChainTip::START, |e| ChainTip {
            seq: e.seq(),
            hash: e.hash,
        }),
    }
}

/// What the device exports: its chain, the receipts it kept, the tree head it kept.
pub fn device_export(w: &World, events: &[Event], receipts: &[Receipt]) -> Export {
    let mut lines = vec![
        header(ExportSource::Device, &w.office_key),
        device_line(&w.device_key, events),
    ];
    lines.extend(
        events
            .iter()
            .map(|e| ExportLine::Event { event: e.clone() }),
    );
    lines.extend(receipts.iter().map(|r| ExportLine::Receipt { receipt: *r }));
    lines.push(ExportLine::TreeHead { tree_head: w.kept });
    Export {
        name: "device.jsonl".into(),
        lines,
    }
}

/// What the office exports from `leaves`: the chain, receipts, its current tree head, an inclusion
/// proof per receipt and a consistency proof from the tree head the device kept.
pub fn office_export(w: &World, events: &[Event], leaves: &[LogLeaf], key: &SigningKey) -> Export {
    let tree = log_of(leaves);
    let size = tree.size();
    let head = TreeHead::sign(
        key,
        size,
        tree.root(size).expect("root"),
        t0() + Duration::days(1),
    );
    let mut lines = vec![
        header(ExportSource::Office, key),
        device_line(&w.device_key, events),
    ];
    lines.extend(
        events
            .iter()
            .map(|e| ExportLine::Event { event: e.clone() }),
    );
    for (i, leaf) in leaves.iter().enumerate() {
        if leaf.device_id != Uuid::from_u128(DEVICE) {
            continue;
        }
        let at = t0() + Duration::minutes(leaf.device_seq as i64) + Duration::seconds(5);
        lines.push(ExportLine::Receipt {
            receipt: Receipt::sign(key, leaf, i as u64, at),
        });
        lines.push(ExportLine::Inclusion {
            proof: InclusionProof {
                index: i as u64,
                size,
                path: tree.inclusion_proof(i as u64, size).expect("proof"),
            },
        });
    }
    lines.push(ExportLine::TreeHead { tree_head: head });
    if let Some(path) = tree.consistency_proof(w.kept.size, size) {
        lines.push(ExportLine::Consistency {
            proof: ConsistencyProof {
                first: w.kept.size,
                second: size,
                path,
            },
        });
    }
    Export {
        name: "office.jsonl".into(),
        lines,
    }
}

pub fn check(exports: &[Export]) -> ExportReport {
    // Exports survive being written and read back as JSON lines.
    let reparsed: Vec<Export> = exports
        .iter()
        .map(|e| {
            let text: String = e
                .lines
                .iter()
                .map(|l| serde_json::to_string(l).expect("json") + "\n")
                .collect();
            Export::parse(&e.name, &text).expect("parse")
        })
        .collect();
    verify_exports(&reparsed, |_| None)
}

/// What the device signs when `username` signs in on it with its chain at `head`, as an export's
/// `sign_in` line (the office's challenge made of `challenge` repeated).
pub fn sign_in(key: &SigningKey, username: &str, head: ChainTip, challenge: u8) -> ExportLine {
    use ed25519_dalek::Signer;
    let device_id = Uuid::from_u128(DEVICE);
    let message = heatcrew_protocol::log::enrolment_message(
        &[challenge; 32],
        device_id,
        &key.verifying_key(),
        username,
        &head,
    );
    ExportLine::SignIn {
        device_id,
        username: username.into(),
        chain_head: head,
        challenge: [challenge; 32],
        proof: key.sign(&message).to_bytes(),
    }
}

/// `export` in format 2 with `sign_ins` added: an office export that says whose records the
/// events are.
pub fn with_sign_ins(export: &Export, sign_ins: Vec<ExportLine>) -> Export {
    let mut lines = export.lines.clone();
    if let Some(ExportLine::Header { format, .. }) = lines.first_mut() {
        *format = heatcrew_protocol::export::EXPORT_FORMAT_V2.into();
    }
    lines.extend(sign_ins);
    Export {
        name: export.name.clone(),
        lines,
    }
}

/// Alice signs in on the new phone, records events 1..3, hands it to Bob, who records 4..6.
pub fn handover(w: &World) -> Vec<ExportLine> {
    let at = |seq: usize| ChainTip {
        seq: seq as u64,
        hash: w.events[seq - 1].hash,
    };
    vec![
        sign_in(&w.device_key, "alice", ChainTip::START, 0x51),
        sign_in(&w.device_key, "bob", at(3), 0x52),
    ]
}

/// What the device signs when the user of the sign-in with `challenge` signs out with its chain at
/// `head`, as an export's `sign_out` line; with the office's acknowledgement signed by `office`.
pub fn sign_out(
    key: &SigningKey,
    username: &str,
    head: ChainTip,
    challenge: u8,
    office: Option<&SigningKey>,
) -> ExportLine {
    use ed25519_dalek::Signer;
    let device_id = Uuid::from_u128(DEVICE);
    let message = heatcrew_protocol::log::sign_out_message(
        &[challenge; 32],
        device_id,
        &key.verifying_key(),
        username,
        &head,
    );
    let proof = key.sign(&message).to_bytes();
    let office_sig = office.map(|o| {
        let kept = heatcrew_protocol::log::sign_out_kept_message(
            &[challenge; 32],
            device_id,
            &head,
            &proof,
        );
        o.sign(&kept).to_bytes()
    });
    ExportLine::SignOut {
        device_id,
        username: username.into(),
        chain_head: head,
        challenge: [challenge; 32],
        proof,
        office_sig,
    }
}

/// `export` in format 3 with `lines` added (sign-ins and sign-outs).
pub fn with_v3(export: &Export, lines: Vec<ExportLine>) -> Export {
    let mut out = with_sign_ins(export, lines);
    if let Some(ExportLine::Header { format, .. }) = out.lines.first_mut() {
        *format = heatcrew_protocol::export::EXPORT_FORMAT_V3.into();
    }
    out
}
