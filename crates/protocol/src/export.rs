//! Evidence exports: JSON lines that stand alone (`docs/evidence.md`), and the checks anyone can run
//! on them. A device export and an office export of the same device can be checked together: the
//! office's receipts and tree heads bind the device, the device's kept receipts and tree heads bind
//! the office.

use crate::log::{ConsistencyProof, InclusionProof, Receipt, TreeHead, parse_public_key};
use crate::{ChainTip, Digest, Event};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Verifier};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

mod chain;
mod report;
mod sign_ins;
mod sign_outs;
use chain::{Entry, attachments, merge};
pub use report::{ExportReport, Fault};
pub use sign_ins::Maker;

/// The `format` of an export's header line, format 1: exports written before 5 December 2026
/// (still read).
pub const EXPORT_FORMAT: &str = "heatcrew.export.v1";
/// Format 1 and `sign_in` lines (whose records the events are): what the office and the
/// devices write.
pub const EXPORT_FORMAT_V2: &str = "heatcrew.export.v2";
/// Format 2 and `sign_out` lines (where a user's records end): what the office and the devices
/// write since 6 December 2026.
pub const EXPORT_FORMAT_V3: &str = "heatcrew.export.v3";

/// Who wrote an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportSource {
    Device,
    Office,
}

/// One line of an export. The first line is a [`ExportLine::Header`]; each
/// [`ExportLine::Device`] starts that device's chain: its entries (events and links) follow in
/// `device_seq` order from 1 to the device's tip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExportLine {
    Header {
        format: String,
        source: ExportSource,
        exported_at: DateTime<Utc>,
        /// What was asked for, in words (`device …`, `job …`, `2026-12-01..2026-12-31`).
        #[serde(default)]
        scope: String,
        /// The office's Ed25519 key (hex) that signed the receipts and tree heads, if any.
        #[serde(default)]
        office_public_key: Option<String>,
    },
    Device {
        device_id: Uuid,
        /// The device's Ed25519 key (hex): as enrolled at the office, or as the device holds it.
        public_key: String,
        /// The last event of the chain as the exporter holds it.
        tip: ChainTip,
    },
    /// A whole event.
    Event {
        event: Event,
    },
    /// An event whose content is withheld (another job's, another customer's): its place in the
    /// signed chain, so that the chain can still be checked end to end.
    Link {
        device_seq: u64,
        prev_hash: Digest,
        hash: Digest,
        #[serde(with = "crate::log::hex_array")]
        sig: [u8; 64],
    },
    Receipt {
        receipt: Receipt,
    },
    TreeHead {
        tree_head: TreeHead,
    },
    Inclusion {
        proof: InclusionProof,
    },
    Consistency {
        proof: ConsistencyProof,
    },
    /// A file that events refer to, stored beside the export at `path` (bundles only).
    File {
        sha256: Digest,
        bytes: u64,
        path: String,
    },
    /// A user's sign-in on a device as the device signed it (format 2 only): the events after
    /// `chain_head`, up to the next sign-in's, are this user's records.
    SignIn {
        device_id: Uuid,
        username: String,
        chain_head: ChainTip,
        /// The office's one-time challenge the device signed.
        #[serde(with = "crate::log::hex_array")]
        challenge: [u8; 32],
        /// The device key's signature over the enrolment message (`heatcrew.enrol.v2`).
        #[serde(with = "crate::log::hex_array")]
        proof: [u8; 64],
    },
    /// A user's sign-out as the device signed it (format 3 only): the events after `chain_head`
    /// are not this sign-in's user's records.
    SignOut {
        device_id: Uuid,
        username: String,
        chain_head: ChainTip,
        /// The challenge of the sign-in this ends.
        #[serde(with = "crate::log::hex_array")]
        challenge: [u8; 32],
        /// The device key's signature over the sign-out message (`heatcrew.sign-out.v1`).
        #[serde(with = "crate::log::hex_array")]
        proof: [u8; 64],
        /// The office key's signature over [`crate::log::sign_out_kept_message`]: the office's
        /// word that it kept this sign-out (absent while the office has not answered).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::log::hex_array_opt"
        )]
        office_sig: Option<[u8; 64]>,
    },
}

/// One export file, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub name: String,
    pub lines: Vec<ExportLine>,
}

impl Export {
    /// Parse JSON lines; a line that does not parse is an error naming it.
    pub fn parse(name: &str, text: &str) -> Result<Export, String> {
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let parsed: ExportLine = serde_json::from_str(line)
                .map_err(|e| format!("{name} line {}: not an export line: {e}", i + 1))?;
            lines.push(parsed);
        }
        Ok(Export {
            name: name.to_owned(),
            lines,
        })
    }
}

/// What a receipt says was stored at a log index.
type LogLeafKey = (Uuid, u64, Digest, bool);

/// Check exports alone and against each other. `file` returns a file's bytes for a
/// [`ExportLine::File`] path (None: the file is missing).
pub fn verify_exports(
    exports: &[Export],
    mut file: impl FnMut(&str) -> Option<Vec<u8>>,
) -> ExportReport {
    let mut r = ExportReport::default();
    let mut office_key: Option<String> = None;
    // Every device's chain as each export shows it, merged: seq -> entry.
    let mut chains: HashMap<Uuid, BTreeMap<u64, Entry>> = HashMap::new();
    let mut keys: HashMap<Uuid, String> = HashMap::new();
    let mut receipts: Vec<(String, Receipt)> = Vec::new();
    let mut heads: Vec<TreeHead> = Vec::new();
    let mut inclusions: Vec<(String, InclusionProof)> = Vec::new();
    let mut consistencies: Vec<(String, ConsistencyProof)> = Vec::new();
    let mut sign_ins: Vec<sign_ins::SignInLine> = Vec::new();
    let mut sign_outs: Vec<sign_outs::SignOutLine> = Vec::new();
    let mut office_views: Vec<sign_ins::OfficeView> = Vec::new();

    for export in exports {
        let name = export.name.as_str();
        let mut fault = |code: &'static str, msg: String| {
            r.faults.push(Fault {
                code,
                message: format!("{name}: {msg}"),
            })
        };
        let (v2, v3, from_office) = match export.lines.first() {
            Some(ExportLine::Header {
                format,
                office_public_key,
                source,
                ..
            }) => {
                if ![EXPORT_FORMAT, EXPORT_FORMAT_V2, EXPORT_FORMAT_V3].contains(&format.as_str()) {
                    fault("bad_header", format!("unknown export format {format:?}"));
                    continue;
                }
                if let Some(k) = office_public_key {
                    match &office_key {
                        Some(known) if known != k => fault(
                            "key_mismatch",
                            format!("office key {k} differs from {known} in another export"),
                        ),
                        _ => office_key = Some(k.clone()),
                    }
                }
                (
                    format != EXPORT_FORMAT,
                    format == EXPORT_FORMAT_V3,
                    *source == ExportSource::Office,
                )
            }
            _ => {
                fault("bad_header", "the first line is not a header".into());
                continue;
            }
        };
        let mut current: Option<(Uuid, ed25519_dalek::VerifyingKey, ChainTip, ChainTip)> = None;
        let mut view = sign_ins::OfficeView {
            file: name.to_owned(),
            devices: HashMap::new(),
        };
        // A bundle (an export with files) must carry every file its events refer to.
        let mut listed: Vec<Digest> = Vec::new();
        let mut referenced: Vec<(Digest, Uuid, u64)> = Vec::new();
        let finish = |current: &Option<(Uuid, ed25519_dalek::VerifyingKey, ChainTip, ChainTip)>,
                      fault: &mut dyn FnMut(&'static str, String)| {
            if let Some((dev, _, want, got)) = current
                && want != got
            {
                fault(
                    "tip_mismatch",
                    format!(
                        "device {dev}: the chain ends at event {} but the export says its tip is event {} ({})",
                        got.seq,
                        want.seq,
                        if got.seq < want.seq {
                            "events are missing at the end"
                        } else {
                            "the tip was altered"
                        }
                    ),
                );
            }
        };
        for line in &export.lines[1..] {
            match line {
                ExportLine::Header { .. } => fault("bad_header", "a second header".into()),
                ExportLine::Device {
                    device_id,
                    public_key,
                    tip,
                } => {
                    finish(&current, &mut fault);
                    current = None;
                    let Some(vk) = parse_public_key(public_key) else {
                        fault(
                            "bad_key",
                            format!("device {device_id}: malformed public key"),
                        );
                        continue;
                    };
                    match keys.get(device_id) {
                        Some(k) if k != public_key => fault(
                            "key_mismatch",
                            format!(
                                "device {device_id}: key {public_key} differs from {k} in another export"
                            ),
                        ),
                        _ => {
                            keys.insert(*device_id, public_key.clone());
                        }
                    }
                    r.devices += 1;
                    current = Some((*device_id, vk, *tip, ChainTip::START));
                }
                ExportLine::Event { event } => {
                    let Some((dev, vk, _, at)) = current.as_mut() else {
                        fault("bad_order", "an event before any device line".into());
                        continue;
                    };
                    let seq = event.seq();
                    let checked = if event.unsigned.device_id != *dev {
                        Err((
                            "chain",
                            format!("event {seq} belongs to device {}", event.unsigned.device_id),
                        ))
                    } else {
                        at.follow(event, *dev, vk)
                            .map_err(|f| ("chain", f.to_string()))
                    };
                    match checked {
                        Ok(next) => {
                            *at = next;
                            view.devices.entry(*dev).or_default().end = seq;
                            r.events += 1;
                            attachments(&event.unsigned.payload, &mut |sha| {
                                referenced.push((sha, *dev, seq))
                            });
                            merge(
                                &mut chains,
                                *dev,
                                seq,
                                Entry {
                                    prev_hash: event.unsigned.prev_hash,
                                    hash: event.hash,
                                },
                                &mut fault,
                            );
                        }
                        Err((code, e)) => {
                            fault(code, format!("device {dev}: {e}"));
                            current = None;
                        }
                    }
                }
                ExportLine::Link {
                    device_seq,
                    prev_hash,
                    hash,
                    sig,
                } => {
                    let Some((dev, vk, _, at)) = current.as_mut() else {
                        fault("bad_order", "a link before any device line".into());
                        continue;
                    };
                    let problem = if *device_seq != at.seq + 1 {
                        Some(format!(
                            "link {device_seq} out of sequence (expected {})",
                            at.seq + 1
                        ))
                    } else if *prev_hash != at.hash {
                        Some(format!(
                            "link {device_seq} does not follow the previous event"
                        ))
                    } else if vk.verify(&hash.0, &Signature::from_bytes(sig)).is_err() {
                        Some(format!(
                            "link {device_seq}: the signature does not match the device key"
                        ))
                    } else {
                        None
                    };
                    match problem {
                        None => {
                            *at = ChainTip {
                                seq: *device_seq,
                                hash: *hash,
                            };
                            view.devices.entry(*dev).or_default().end = *device_seq;
                            r.links += 1;
                            merge(
                                &mut chains,
                                *dev,
                                *device_seq,
                                Entry {
                                    prev_hash: *prev_hash,
                                    hash: *hash,
                                },
                                &mut fault,
                            );
                        }
                        Some(p) => {
                            fault("chain", format!("device {dev}: {p}"));
                            current = None;
                        }
                    }
                }
                ExportLine::Receipt { receipt } => receipts.push((name.to_owned(), *receipt)),
                ExportLine::TreeHead { tree_head } => heads.push(*tree_head),
                ExportLine::Inclusion { proof } => {
                    inclusions.push((name.to_owned(), proof.clone()))
                }
                ExportLine::Consistency { proof } => {
                    consistencies.push((name.to_owned(), proof.clone()))
                }
                ExportLine::File {
                    sha256,
                    bytes,
                    path,
                } => {
                    listed.push(*sha256);
                    match file(path) {
                        None => fault("file_missing", format!("file {path} ({sha256}) is missing")),
                        Some(content) if Digest::of(&content) != *sha256 => fault(
                            "file_mismatch",
                            format!(
                                "file {path} does not have the SHA-256 {sha256} (replaced or damaged)"
                            ),
                        ),
                        Some(content) if content.len() as u64 != *bytes => fault(
                            "file_mismatch",
                            format!("file {path} is {} bytes, not {bytes}", content.len()),
                        ),
                        Some(_) => r.files += 1,
                    }
                }
                ExportLine::SignIn { .. } if !v2 => fault(
                    "bad_header",
                    format!(
                        "a sign-in line in a {EXPORT_FORMAT} export (sign-ins need {EXPORT_FORMAT_V2})"
                    ),
                ),
                ExportLine::SignIn {
                    device_id,
                    username,
                    chain_head,
                    challenge,
                    proof,
                } => {
                    let shown = view.devices.entry(*device_id).or_default();
                    shown.sign_ins.push((*proof, *challenge));
                    sign_ins.push(sign_ins::SignInLine {
                        file: name.to_owned(),
                        device_id: *device_id,
                        username: username.clone(),
                        chain_head: *chain_head,
                        challenge: *challenge,
                        proof: *proof,
                    })
                }
                ExportLine::SignOut { .. } if !v3 => fault(
                    "bad_header",
                    format!("a sign-out line needs {EXPORT_FORMAT_V3}"),
                ),
                ExportLine::SignOut {
                    device_id,
                    username,
                    chain_head,
                    challenge,
                    proof,
                    office_sig,
                } => {
                    let shown = view.devices.entry(*device_id).or_default();
                    shown.sign_outs.push(*challenge);
                    sign_outs.push(sign_outs::SignOutLine {
                        file: name.to_owned(),
                        device_id: *device_id,
                        username: username.clone(),
                        chain_head: *chain_head,
                        challenge: *challenge,
                        proof: *proof,
                        office_sig: *office_sig,
                    })
                }
            }
        }
        finish(&current, &mut fault);
        if from_office && v2 {
            office_views.push(view);
        }
        if !listed.is_empty() {
            for (sha, dev, seq) in referenced {
                if !listed.contains(&sha) {
                    fault(
                        "file_unlisted",
                        format!(
                            "device {dev} event {seq} refers to file {sha}, which the bundle does not carry"
                        ),
                    );
                }
            }
        }
    }

    let office = office_key.as_deref().map(|k| (k, parse_public_key(k)));
    let office_vk = match office {
        Some((k, None)) => {
            r.fault("bad_key", format!("malformed office key {k}"));
            None
        }
        Some((_, vk)) => vk,
        None => None,
    };
    let held = sign_ins::check(&sign_ins, &office_views, &keys, &chains, &mut r);
    let ends = sign_outs::check(
        &sign_outs,
        &held,
        &office_views,
        (&keys, office_vk.as_ref()),
        &chains,
        &mut r,
    );
    sign_ins::makers(&held, &ends, &chains, &mut r);
    let needs_office = !receipts.is_empty() || !heads.is_empty();
    if needs_office && office_vk.is_none() {
        r.fault(
            "no_office_key",
            "receipts or tree heads without the office's key in a header".into(),
        );
        return r;
    }

    // Receipts: the office's word on what it stored, against the device's chain.
    for (name, rc) in &receipts {
        let vk = office_vk.as_ref().expect("checked above");
        if !rc.verify(vk) {
            r.fault(
                "bad_receipt",
                format!(
                    "{name}: receipt for device {} event {} is not signed by the office key",
                    rc.device_id, rc.device_seq
                ),
            );
            continue;
        }
        r.receipts += 1;
        let chain = chains.get(&rc.device_id);
        match chain.and_then(|c| c.get(&rc.device_seq)) {
            Some(e) if e.hash != rc.event_hash => r.fault("receipt_mismatch", format!(
                "device {} event {}: the office acknowledged a different event (hash {}) than the one shown ({}): rewritten after the receipt",
                rc.device_id, rc.device_seq, rc.event_hash, e.hash
            )),
            Some(_) => {}
            None => {
                let shown = chain.and_then(|c| c.keys().next_back().copied());
                match shown {
                    Some(last) if rc.device_seq > last => r.fault("events_removed", format!(
                        "device {}: the office acknowledged event {} but the chain shown ends at event {}: events were removed",
                        rc.device_id, rc.device_seq, last
                    )),
                    _ => r.unproven.push(format!(
                        "receipt for device {} event {}: that event is not in these exports",
                        rc.device_id, rc.device_seq
                    )),
                }
            }
        }
    }

    // One entry per log index, one event per device sequence number, whoever kept the receipt.
    let mut at_index: HashMap<u64, LogLeafKey> = HashMap::new();
    let mut per_event: HashMap<(Uuid, u64), Digest> = HashMap::new();
    let mut event_index: HashMap<(Uuid, u64), u64> = HashMap::new();
    for (name, rc) in &receipts {
        if !office_vk.as_ref().is_some_and(|vk| rc.verify(vk)) {
            continue;
        }
        let key = (rc.device_id, rc.device_seq, rc.event_hash, rc.accepted);
        if let Some(known) = at_index.insert(rc.log_index, key)
            && known != key
        {
            r.fault("log_rewritten", format!(
                "{name}: the office signed two different entries at log index {}: it rewrote its history",
                rc.log_index
            ));
        }
        if let Some(known) = per_event.insert((rc.device_id, rc.device_seq), rc.event_hash)
            && known != rc.event_hash
        {
            r.fault(
                "log_rewritten",
                format!(
                    "{name}: the office acknowledged two different events {} of device {}",
                    rc.device_seq, rc.device_id
                ),
            );
        }
        if let Some(known) = event_index.insert((rc.device_id, rc.device_seq), rc.log_index)
            && known != rc.log_index
        {
            r.fault("log_rewritten", format!(
                "{name}: the office placed event {} of device {} at log index {known} and at {}: each event is appended once",
                rc.device_seq, rc.device_id, rc.log_index
            ));
        }
    }

    // Tree heads: signed, and one root per size.
    let mut by_size: BTreeMap<u64, TreeHead> = BTreeMap::new();
    for h in &heads {
        let vk = office_vk.as_ref().expect("checked above");
        if !h.verify(vk) {
            r.fault(
                "bad_tree_head",
                format!(
                    "tree head of size {} is not signed by the office key",
                    h.size
                ),
            );
            continue;
        }
        match by_size.get(&h.size) {
            Some(known) if known.root != h.root => r.fault(
                "log_rewritten",
                format!(
                    "the office signed two different logs of size {}: it rewrote its history",
                    h.size
                ),
            ),
            Some(_) => {}
            None => {
                r.tree_heads += 1;
                by_size.insert(h.size, *h);
            }
        }
    }

    // Inclusion: a receipt's event is in a tree head's log at the receipt's index.
    let by_index: HashMap<u64, &Receipt> =
        receipts.iter().map(|(_, rc)| (rc.log_index, rc)).collect();
    let mut included: HashMap<(u64, u64), bool> = HashMap::new();
    for (name, p) in &inclusions {
        let (Some(head), Some(rc)) = (by_size.get(&p.size), by_index.get(&p.index)) else {
            r.unproven.push(format!(
                "{name}: inclusion proof for log index {} in size {} has no matching receipt or tree head",
                p.index, p.size
            ));
            continue;
        };
        let ok = p.verify(&rc.leaf(), head);
        included.insert((p.index, p.size), ok);
        if ok {
            r.inclusion_proofs += 1;
        } else {
            r.fault("inclusion_failed", format!(
                "{name}: device {} event {} (log index {}) is not in the office log of size {}: the office removed or changed it",
                rc.device_id, rc.device_seq, p.index, p.size
            ));
        }
    }
    if let Some((&largest, _)) = by_size.iter().next_back() {
        for (_, rc) in &receipts {
            if rc.log_index < largest && !included.contains_key(&(rc.log_index, largest)) {
                r.unproven.push(format!(
                    "device {} event {} (log index {}): no inclusion proof in the log of size {largest}",
                    rc.device_id, rc.device_seq, rc.log_index
                ));
            }
        }
    }

    // Consistency: each later tree head extends each earlier one unchanged.
    let mut proven: HashMap<(u64, u64), bool> = HashMap::new();
    for (name, p) in &consistencies {
        let (Some(older), Some(newer)) = (by_size.get(&p.first), by_size.get(&p.second)) else {
            r.unproven.push(format!(
                "{name}: consistency proof {} → {} has no tree heads of those sizes",
                p.first, p.second
            ));
            continue;
        };
        let ok = p.verify(older, newer);
        proven.insert((p.first, p.second), ok);
        if ok {
            r.consistency_proofs += 1;
        } else {
            r.fault("consistency_failed", format!(
                "{name}: the office log of size {} does not extend the one of size {} it signed earlier: it removed or rewrote entries",
                p.second, p.first
            ));
        }
    }
    let sizes: Vec<u64> = by_size.keys().copied().collect();
    if let Some(&largest) = sizes.last() {
        for &s in &sizes[..sizes.len() - 1] {
            if !proven.contains_key(&(s, largest)) {
                r.unproven.push(format!(
                    "no consistency proof from the tree head of size {s} to the one of size {largest}"
                ));
            }
        }
    }
    r
}
