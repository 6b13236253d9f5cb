//! `heatcrew-office verify`: re-check all evidence the office holds, reading only. Each device's
//! chain (hash, signature against the enrolled key, links) and its ledger position; the Merkle log
//! against the ledger (one leaf per stored event, with its hash and verdict) and its stored subtrees
//! against a recomputation; every tree head the office handed out (signed by the office key the
//! database records, and still the root of the log at its size); every received attachment file
//! (present, SHA-256 matches); whose record each event is, from the chain heads the device signed
//! at each sign-in ([`crate::ledger::makers`]).
//!
//! Every problem found is a [`Fault`] with the codes of `docs/evidence.md` ("Checking the office's
//! database"); checking goes on after a fault, so one run names everything wrong.

use crate::objects::Objects;
use crate::office_key::META_PUBLIC_KEY;
use crate::store::{DeviceRecord, OfficeStore, StoreError, StoredEvent};
use heatcrew_protocol::export::Fault;
use heatcrew_protocol::log::parse_public_key;
use heatcrew_protocol::merkle::MemoryTree;
use heatcrew_protocol::{ChainTip, Digest, ErrorCode};
use std::collections::HashMap;
use uuid::Uuid;

/// What a verification checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub devices: u64,
    /// Received attachment files re-hashed (0 when no file folder was given).
    pub attachments: u64,
    /// Leaves of the office log checked against the ledger.
    pub log_entries: u64,
    /// Tree heads handed out, checked against the log.
    pub tree_heads: u64,
    /// Anything wrong: the evidence does not hold.
    pub faults: Vec<Fault>,
}

impl VerifyReport {
    fn fault(&mut self, code: &'static str, message: String) {
        self.faults.push(Fault { code, message });
    }

    /// Whether any fault has this code.
    pub fn has(&self, code: &str) -> bool {
        self.faults.iter().any(|f| f.code == code)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Faults(Vec<Fault>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// [`check`], as an error if anything is wrong.
pub fn verify_all(
    store: &dyn OfficeStore,
    files: Option<&Objects>,
) -> Result<VerifyReport, VerifyError> {
    let report = check(store, files)?;
    if report.faults.is_empty() {
        Ok(report)
    } else {
        Err(VerifyError::Faults(report.faults))
    }
}

/// Check everything; faults are collected in the report. An error means the store could not be
/// read at all. Reads attachment bytes blocking: with S3 objects, call it from a thread that may
/// block (not inside an async task).
pub fn check(store: &dyn OfficeStore, files: Option<&Objects>) -> Result<VerifyReport, StoreError> {
    let mut r = VerifyReport::default();
    if let Some(files) = files {
        check_files(store, files, &mut r)?;
    }
    let ledger = check_chains(store, &mut r)?;
    check_log(store, &ledger, &mut r)?;
    Ok(r)
}

fn check_files(
    store: &dyn OfficeStore,
    files: &Objects,
    r: &mut VerifyReport,
) -> Result<(), StoreError> {
    for sha in store.complete_attachments()? {
        match files.is_intact_blocking(sha) {
            Ok(true) => r.attachments += 1,
            Ok(false) => r.fault(
                "file_mismatch",
                format!(
                    "attachment {sha}: the file no longer matches its SHA-256 (replaced or damaged)"
                ),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => r.fault(
                "file_missing",
                format!("attachment {sha}: the office counted it received but the file is gone"),
            ),
            Err(e) => r.fault(
                "file_missing",
                format!("attachment {sha}: cannot read the file: {e}"),
            ),
        }
    }
    Ok(())
}

/// What the ledger holds of each stored event: `(device, seq) -> (hash, accepted)`.
type Ledger = HashMap<(Uuid, u64), (Digest, bool)>;

fn check_chains(store: &dyn OfficeStore, r: &mut VerifyReport) -> Result<Ledger, StoreError> {
    let mut ledger = Ledger::new();
    for dev in store.list_devices()? {
        let name = format!("device {} ({})", dev.code, dev.id);
        r.devices += 1;
        let events = store.device_events(dev.id)?;
        r.events += events.len() as u64;
        for stored in &events {
            ledger.insert(
                (dev.id, stored.event.seq()),
                (stored.event.hash, stored.accepted),
            );
        }
        check_makers(store, &dev, &events, r)?;
        match device_chain(store, &dev, &events)? {
            ChainVerdict::Verified { .. } => {}
            ChainVerdict::BadKey => r.fault(
                "bad_key",
                format!("{name}: the enrolled key is not an Ed25519 key"),
            ),
            ChainVerdict::Broken {
                seq,
                event_id,
                reason,
            } => r.fault(
                "chain",
                format!("{name}: event {seq} ({event_id}): {reason}"),
            ),
            ChainVerdict::TipMismatch { ledger, chain } => r.fault(
                "tip_mismatch",
                format!(
                    "{name}: the ledger says its last event is {ledger} but the stored chain ends at event {chain}"
                ),
            ),
        }
    }
    Ok(ledger)
}

/// Whose record each stored event of `dev` is, re-derived from what the device signed at each
/// sign-in, not from the database's word: a sign-in whose signature no longer verifies (its chain
/// head, user or proof altered) is `bad_sign_in`; an event at a signed head with another hash is
/// `chain_head`; an event stored as another user's than the one who held the phone is `wrong_maker`.
/// A kept sign-out whose signature no longer verifies is `bad_sign_out`; an event refused as made
/// after a sign-out that no kept sign-out covers is `sign_out_missing` (the sign-out was removed).
fn check_makers(
    store: &dyn OfficeStore,
    dev: &DeviceRecord,
    events: &[StoredEvent],
    r: &mut VerifyReport,
) -> Result<(), StoreError> {
    use crate::ledger::makers::{DeviceSignIn, Makers};
    let Some(key) = parse_public_key(&dev.public_key) else {
        return Ok(()); // `bad_key`, reported with the chain.
    };
    let name = format!("device {} ({})", dev.code, dev.id);
    let mut sign_ins = Vec::new();
    for s in store.sign_ins_of_device(dev.id)? {
        let chain_head = match &s.signed {
            Some(signed) if !signed.verifies(dev.id, &key, &s.username) => {
                r.fault(
                    "bad_sign_in",
                    format!("{name}: the sign-in of {} at event {} is not what the device signed (its chain head, user or proof was altered)", s.username, signed.head.seq),
                );
                continue;
            }
            signed => signed.as_ref().map(|s| s.head),
        };
        let signed_out = match &s.signed_out {
            Some(out) if !crate::sign_out::verifies(dev.id, &key, &s.username, out) => {
                r.fault(
                    "bad_sign_out",
                    format!("{name}: the sign-out of {} at event {} is not what the device signed (its chain head or proof was altered)", s.username, out.head.seq),
                );
                None
            }
            out => out.as_ref().map(|o| o.head),
        };
        sign_ins.push(DeviceSignIn {
            user_id: s.user_id,
            chain_head,
            signed_out,
        });
    }
    let makers = Makers::new(&sign_ins);
    for stored in events {
        let (seq, id) = (stored.event.seq(), stored.event.unsigned.id);
        if makers.breaks_head(seq, &stored.event.hash) {
            r.fault(
                "chain_head",
                format!("{name}: event {seq} ({id}) is not the event the device signed as its head when a user signed in"),
            );
        }
        let refused_signed_out =
            stored.reject_code.as_deref() == Some(ErrorCode::SignedOut.as_str());
        if refused_signed_out && !makers.signed_out(seq) {
            r.fault(
                "sign_out_missing",
                format!("{name}: event {seq} ({id}) was refused as made after its user signed out, but no sign-out kept covers it: the sign-out was removed"),
            );
        }
        if let Some(maker) = makers.maker(seq)
            && maker != stored.user_id
        {
            r.fault(
                "wrong_maker",
                format!("{name}: event {seq} ({id}) is stored as user {}'s record, but user {maker} held the phone when it was made", stored.user_id),
            );
        }
    }
    Ok(())
}

/// Where one device's stored chain stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Every event's hash, signature (against the enrolled key) and link holds, up to the ledger's tip.
    Verified { events: u64 },
    /// The enrolled key is not an Ed25519 key.
    BadKey,
    /// The first event that does not hold, and why.
    Broken {
        seq: u64,
        event_id: Uuid,
        reason: String,
    },
    /// The chain holds but ends elsewhere than the ledger says.
    TipMismatch { ledger: u64, chain: u64 },
}

/// Check a device's stored events (all of them, in sequence order) against its enrolled key and
/// its ledger tip.
pub fn device_chain(
    store: &dyn OfficeStore,
    dev: &DeviceRecord,
    events: &[StoredEvent],
) -> Result<ChainVerdict, StoreError> {
    let Some(key) = parse_public_key(&dev.public_key) else {
        return Ok(ChainVerdict::BadKey);
    };
    let mut tip = ChainTip::START;
    for stored in events {
        let e = &stored.event;
        match tip.follow(e, dev.id, &key) {
            Ok(next) => tip = next,
            Err(fault) => {
                return Ok(ChainVerdict::Broken {
                    seq: e.seq(),
                    event_id: e.unsigned.id,
                    reason: fault.to_string(),
                });
            }
        }
    }
    let ledger_tip = store.device_tip(dev.id)?.unwrap_or(ChainTip::START);
    if tip != ledger_tip {
        return Ok(ChainVerdict::TipMismatch {
            ledger: ledger_tip.seq,
            chain: tip.seq,
        });
    }
    Ok(ChainVerdict::Verified {
        events: events.len() as u64,
    })
}

const PAGE: u32 = 10_000;

fn check_log(
    store: &dyn OfficeStore,
    ledger: &Ledger,
    r: &mut VerifyReport,
) -> Result<(), StoreError> {
    // The log against the ledger, leaf by leaf, rebuilt in memory.
    let mut tree = MemoryTree::new();
    let mut seen: HashMap<(Uuid, u64), u64> = HashMap::new();
    loop {
        let page = store.log_entries(tree.size(), PAGE)?;
        if page.is_empty() {
            break;
        }
        for entry in page {
            let expected = tree.size();
            if entry.index != expected {
                r.fault(
                    "log_rewritten",
                    format!(
                        "the office log skips from index {expected} to {}",
                        entry.index
                    ),
                );
                return Ok(());
            }
            let leaf = entry.leaf;
            let what = format!(
                "log index {}: device {} event {}",
                entry.index, leaf.device_id, leaf.device_seq
            );
            match ledger.get(&(leaf.device_id, leaf.device_seq)) {
                None => r.fault(
                    "events_removed",
                    format!("{what} is in the office log but not in the ledger: it was removed"),
                ),
                Some((hash, accepted)) if *hash != leaf.event_hash || *accepted != leaf.accepted => {
                    r.fault(
                        "receipt_mismatch",
                        format!("{what}: the ledger holds another event (or verdict) than the log acknowledged: it was rewritten"),
                    )
                }
                Some(_) => {}
            }
            if let Some(first) = seen.insert((leaf.device_id, leaf.device_seq), entry.index) {
                r.fault(
                    "log_rewritten",
                    format!("{what} is in the log twice (also at index {first})"),
                );
            }
            tree.push_hash(leaf.hash());
            r.log_entries += 1;
        }
    }
    for (dev, seq) in ledger.keys() {
        if !seen.contains_key(&(*dev, *seq)) {
            r.fault(
                "log_rewritten",
                format!("device {dev} event {seq} is in the ledger but not in the office log"),
            );
        }
    }
    // Stored subtrees against the recomputation: the proofs the office hands out come from them.
    let size = tree.size();
    let mut level = 0u32;
    let mut width = size;
    while width > 0 {
        for index in 0..width {
            let want = tree.node(level, index);
            if store.log_node(level, index)? != want {
                r.fault(
                    "log_rewritten",
                    format!("the office log's stored node at level {level}, index {index} does not match its leaves"),
                );
                break;
            }
        }
        level += 1;
        width /= 2;
    }
    // Tree heads handed out: the office's signature, and the log still has that root at that size.
    let heads = store.tree_heads()?;
    let office_key = store.meta(META_PUBLIC_KEY)?;
    let vk = office_key.as_deref().and_then(parse_public_key);
    if vk.is_none() && !heads.is_empty() {
        r.fault(
            "no_office_key",
            "the database records no (valid) office public key, so its tree heads cannot be checked".into(),
        );
    }
    for head in heads {
        r.tree_heads += 1;
        if let Some(vk) = &vk
            && !head.verify(vk)
        {
            r.fault(
                "bad_tree_head",
                format!(
                    "the tree head of size {} is not signed by the office key",
                    head.size
                ),
            );
        }
        match tree.root(head.size) {
            Some(root) if root == head.root => {}
            Some(_) => r.fault(
                "consistency_failed",
                format!(
                    "the office log no longer has the root it signed for size {}: entries were rewritten after the tree head was handed out",
                    head.size
                ),
            ),
            None => r.fault(
                "consistency_failed",
                format!(
                    "the office signed a log of {} entries but holds {size}: entries were removed after the tree head was handed out",
                    head.size
                ),
            ),
        }
    }
    Ok(())
}
