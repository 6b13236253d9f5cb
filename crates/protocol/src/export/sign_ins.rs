//! Sign-in lines (export format v2): whose records a device's events are, as the device itself
//! signed it. Events carry no author (the device key signs for whoever holds the phone); every
//! sign-in names, in the device's signature, the user and where the device's chain stood
//! (`heatcrew.enrol.v2`, `docs/evidence.md` "Enrolment"). The events after a sign-in's head, up
//! to the next sign-in's head, are that user's records.

use super::{Entry, ExportLine, ExportReport};
use crate::ChainTip;
use crate::log::{enrolment_message, parse_public_key};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// One `sign_in` line as read, with the file it came from.
#[derive(Debug, Clone)]
pub(super) struct SignInLine {
    pub file: String,
    pub device_id: Uuid,
    pub username: String,
    pub chain_head: ChainTip,
    pub challenge: [u8; 32],
    pub proof: [u8; 64],
}

impl ExportLine {
    /// A `sign_in` line from a sign-in as it is kept (challenge and proof in lowercase hex);
    /// `None` if either is not.
    pub fn sign_in(
        device_id: Uuid,
        username: String,
        chain_head: ChainTip,
        challenge: &str,
        proof: &str,
    ) -> Option<ExportLine> {
        Some(ExportLine::SignIn {
            device_id,
            username,
            chain_head,
            challenge: crate::log::strict_hex(challenge)?,
            proof: crate::log::strict_hex(proof)?,
        })
    }
}

/// What one office export (format 2 or 3) shows of each device.
#[derive(Debug, Default)]
pub(super) struct OfficeView {
    pub file: String,
    pub devices: HashMap<Uuid, Shown>,
}

/// What an export shows of one device: where its chain shown ends, the sign-ins it carries
/// (proof, challenge) and the challenges of the sign-ins whose sign-outs it carries.
#[derive(Debug, Default)]
pub(super) struct Shown {
    pub end: u64,
    pub sign_ins: Vec<([u8; 64], [u8; 32])>,
    pub sign_outs: Vec<[u8; 32]>,
}

/// Per device, the sign-ins that hold, by chain head (at the same head in sign-in order).
pub(super) type Held = BTreeMap<Uuid, Vec<SignInLine>>;

/// Where each sign-in that was ended by a sign-out that counts ended: (device, challenge, user)
/// to the sign-out's chain head seq.
pub(super) type Ends = HashMap<(Uuid, [u8; 32], String), u64>;

/// Whose records a run of a device's events are: the user who signed in on the device at its
/// chain's position `first_seq - 1`, up to the next sign-in, as far as the chain is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Maker {
    pub device_id: Uuid,
    pub username: String,
    pub first_seq: u64,
    pub last_seq: u64,
}

/// The key of device `dev` if the exports show it and `proof` is its signature over
/// `message(key)`. Otherwise `None`, with the reason: unproven without the key, else the fault
/// `code` for `who` (a sign-in or sign-out line).
pub(super) fn device_signed(
    keys: &HashMap<Uuid, String>,
    dev: Uuid,
    message: impl FnOnce(&VerifyingKey) -> Vec<u8>,
    proof: &[u8; 64],
    (code, who): (&'static str, &str),
    r: &mut ExportReport,
) -> Option<VerifyingKey> {
    let Some(key) = keys.get(&dev).and_then(|k| parse_public_key(k)) else {
        r.unproven
            .push(format!("{who}: the device's key is not in these exports"));
        return None;
    };
    if key
        .verify_strict(&message(&key), &Signature::from_bytes(proof))
        .is_err()
    {
        r.fault(
            code,
            format!("{who} is not what the device signed (its user, chain head, challenge or device was altered)"),
        );
        return None;
    }
    Some(key)
}

/// Check every sign-in against its device's key and chain; the ones that hold. `keys`: each device's public key (hex) as the exports show it; `chains`: each device's
/// chain entries as the exports show them, merged. A sign-in that holds must be in every office
/// export showing its device's chain past its head: the office holds a sign-in before the device
/// records anything after it, so one left out was withheld (`sign_in_withheld`).
pub(super) fn check(
    lines: &[SignInLine],
    office_views: &[OfficeView],
    keys: &HashMap<Uuid, String>,
    chains: &HashMap<Uuid, BTreeMap<u64, Entry>>,
    r: &mut ExportReport,
) -> Held {
    // Per device, the sign-ins that hold, in the order the exports give them (sign-in order).
    let mut held = Held::new();
    for s in lines {
        let (dev, seq) = (s.device_id, s.chain_head.seq);
        let who = format!(
            "{}: the sign-in of {:?} on device {dev} at event {seq}",
            s.file, s.username
        );
        let message = |key: &VerifyingKey| {
            enrolment_message(&s.challenge, dev, key, &s.username, &s.chain_head)
        };
        if device_signed(keys, dev, message, &s.proof, ("bad_sign_in", &who), r).is_none() {
            continue;
        }
        let shown = chains.get(&dev).and_then(|c| c.get(&seq)).map(|e| e.hash);
        let contradicts = if seq == 0 {
            s.chain_head != ChainTip::START
        } else {
            shown.is_some_and(|h| h != s.chain_head.hash)
        };
        if contradicts {
            r.fault(
                "chain_head",
                format!("{who}: the device signed event {seq} as {} but the chain shown holds another event there: its history changed after it vouched for it", s.chain_head.hash),
            );
            continue;
        }
        let list = held.entry(dev).or_default();
        if list.iter().any(|k| k.proof == s.proof) {
            continue; // the same sign-in in two exports
        }
        for view in office_views.iter().filter(|v| v.file != s.file) {
            if let Some(Shown { end, sign_ins, .. }) = view.devices.get(&dev)
                && *end > seq
                && !sign_ins.iter().any(|(p, _)| *p == s.proof)
            {
                r.fault(
                    "sign_in_withheld",
                    format!("{who}: {} shows the device's chain up to event {end} but not this sign-in, so the events after it would be credited to the user before", view.file),
                );
            }
        }
        r.sign_ins += 1;
        list.push(s.clone());
    }
    for list in held.values_mut() {
        // Stable: at the same head the later sign-in stays later (and takes the events after it).
        list.sort_by_key(|s| s.chain_head.seq);
    }
    held
}

/// Derive the makers of the events shown: each sign-in's user made the events after its head, up
/// to the next sign-in's head or its own sign-out's, whichever comes first.
pub(super) fn makers(
    held: &Held,
    ends: &Ends,
    chains: &HashMap<Uuid, BTreeMap<u64, Entry>>,
    r: &mut ExportReport,
) {
    for (dev, list) in held {
        let end = chains
            .get(dev)
            .and_then(|c| c.keys().next_back().copied())
            .unwrap_or(0);
        for (i, s) in list.iter().enumerate() {
            let mut next = list.get(i + 1).map_or(end, |n| n.chain_head.seq.min(end));
            if let Some(out) = ends.get(&(*dev, s.challenge, s.username.clone())) {
                next = next.min(*out);
            }
            if s.chain_head.seq < next {
                r.makers.push(Maker {
                    device_id: *dev,
                    username: s.username.clone(),
                    first_seq: s.chain_head.seq + 1,
                    last_seq: next,
                });
            }
        }
    }
}
