//! The chains the exports show, merged: one entry per device and sequence number.

use crate::Digest;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A chain entry as far as the chain check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub prev_hash: Digest,
    pub hash: Digest,
}

pub(super) fn merge(
    chains: &mut HashMap<Uuid, BTreeMap<u64, Entry>>,
    dev: Uuid,
    seq: u64,
    entry: Entry,
    fault: &mut dyn FnMut(&'static str, String),
) {
    let chain = chains.entry(dev).or_default();
    match chain.get(&seq) {
        Some(known) if *known != entry => fault(
            "two_versions",
            format!(
                "device {dev} event {seq}: two different versions in the exports (hash {} and {}): one side rewrote it",
                known.hash, entry.hash
            ),
        ),
        Some(_) => {}
        None => {
            chain.insert(seq, entry);
        }
    }
}

/// Every attachment a payload refers to: each object with a `sha256` digest and a `mime` string
/// (a photo, a signature image).
pub(super) fn attachments(value: &serde_json::Value, found: &mut dyn FnMut(Digest)) {
    match value {
        serde_json::Value::Object(map) => {
            if let (Some(sha), Some(serde_json::Value::String(_))) = (
                map.get("sha256")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok()),
                map.get("mime"),
            ) {
                found(sha);
            }
            map.values().for_each(|v| attachments(v, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| attachments(v, found)),
        _ => {}
    }
}
