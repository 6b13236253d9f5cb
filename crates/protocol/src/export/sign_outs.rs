//! Sign-out lines (export format v3): where a user's records on a device end, as the device signed
//! it (`heatcrew.sign-out.v1`, `docs/evidence.md` "Signing out"). The events after a sign-out's
//! head and up to the next sign-in's are nobody's records.
//!
//! The device signs a sign-out alone, so a device could sign one later to disown records it made.
//! The office keeps a sign-out only while it holds no event it would disown, and signs that it kept
//! it (`heatcrew.sign-out-kept.v1`); the phone keeps that signature. So a sign-out counts when the
//! office kept it, or when no office export here holds events it would disown. One the office kept
//! but an office export leaves out while showing the events it disowns was withheld
//! (`sign_out_withheld`): the office refused those events as nobody's, and the export would credit
//! them to the user who had signed out.

use super::sign_ins::{Ends, Held, OfficeView, SignInLine, device_signed};
use super::{Entry, ExportReport};
use crate::ChainTip;
use crate::log::{sign_out_kept_holds, sign_out_message};
use ed25519_dalek::VerifyingKey;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// One `sign_out` line as read, with the file it came from.
#[derive(Debug, Clone)]
pub(super) struct SignOutLine {
    pub file: String,
    pub device_id: Uuid,
    pub username: String,
    pub chain_head: ChainTip,
    pub challenge: [u8; 32],
    pub proof: [u8; 64],
    pub office_sig: Option<[u8; 64]>,
}

/// A sign-out that holds, as all the exports show it.
struct Holding<'a> {
    line: &'a SignOutLine,
    sign_in: &'a SignInLine,
    /// The head of the sign-in after its own on the device, if any: the sign-out disowns the
    /// events up to it (none if it stands before the sign-out).
    next_head: Option<u64>,
    /// The office's word that it kept it: its signature, or the sign-out in an office export.
    kept: bool,
}

/// Check every sign-out against its device's key, its sign-in (among the `held` ones), the
/// chain shown and the office's acknowledgement; where each sign-in that counts ends.
pub(super) fn check(
    lines: &[SignOutLine],
    held: &Held,
    office_views: &[OfficeView],
    (keys, office): (&HashMap<Uuid, String>, Option<&VerifyingKey>),
    chains: &HashMap<Uuid, BTreeMap<u64, Entry>>,
    r: &mut ExportReport,
) -> Ends {
    let from_office: Vec<&str> = office_views.iter().map(|v| v.file.as_str()).collect();
    let mut holding: BTreeMap<(Uuid, [u8; 32], String), Holding> = BTreeMap::new();
    for s in lines {
        let (dev, seq) = (s.device_id, s.chain_head.seq);
        let who = format!(
            "{}: the sign-out of {:?} on device {dev} at event {seq}",
            s.file, s.username
        );
        let message = |key: &VerifyingKey| {
            sign_out_message(&s.challenge, dev, key, &s.username, &s.chain_head)
        };
        if device_signed(keys, dev, message, &s.proof, ("bad_sign_out", &who), r).is_none() {
            continue;
        }
        let acknowledged = match (s.office_sig, office) {
            (None, _) => false,
            (Some(_), None) => {
                r.unproven.push(format!(
                    "{who}: the office's acknowledgement cannot be checked without the office's key"
                ));
                false
            }
            (Some(sig), Some(vk)) => {
                let signed = (&s.challenge, dev, &s.chain_head);
                if !sign_out_kept_holds(vk, signed, &s.proof, &sig) {
                    r.fault(
                        "bad_sign_out",
                        format!("{who}: the office's acknowledgement is not the office key's signature over this sign-out"),
                    );
                    continue;
                }
                true
            }
        };
        let list = held.get(&dev).map(Vec::as_slice).unwrap_or_default();
        let Some(i) = list
            .iter()
            .position(|i| i.challenge == s.challenge && i.username == s.username)
        else {
            r.unproven.push(format!(
                "{who}: the sign-in it ends is not in these exports (or does not hold)"
            ));
            continue;
        };
        let sign_in = &list[i];
        let start = sign_in.chain_head;
        if seq < start.seq || (seq == start.seq && s.chain_head.hash != start.hash) {
            r.fault(
                "bad_sign_out",
                format!("{who} stands before its own sign-in at event {}: the device signed a contradiction", start.seq),
            );
            continue;
        }
        let shown = chains.get(&dev).and_then(|c| c.get(&seq)).map(|e| e.hash);
        if seq > 0 && shown.is_some_and(|h| h != s.chain_head.hash) {
            r.fault(
                "chain_head",
                format!("{who}: the device signed event {seq} as {} but the chain shown holds another event there: its history changed after it vouched for it", s.chain_head.hash),
            );
            continue;
        }
        let kept = acknowledged || from_office.contains(&s.file.as_str());
        let k = (dev, s.challenge, s.username.clone());
        match holding.get_mut(&k) {
            Some(h) if h.line.chain_head != s.chain_head => r.fault(
                "bad_sign_out",
                format!("{who}: the device also signed this sign-in's sign-out at event {} ({}): two different sign-outs", h.line.chain_head.seq, h.line.file),
            ),
            Some(h) => h.kept |= kept,
            None => {
                let next_head = list.get(i + 1).map(|n| n.chain_head.seq);
                holding.insert(
                    k,
                    Holding {
                        line: s,
                        sign_in,
                        next_head,
                        kept,
                    },
                );
            }
        }
    }

    let mut ends = Ends::new();
    for (k, h) in holding {
        let (dev, seq) = (h.line.device_id, h.line.chain_head.seq);
        let who = format!(
            "{}: the sign-out of {:?} on device {dev} at event {seq}",
            h.line.file, h.line.username
        );
        // An office export that carries the sign-in and shows events the sign-out disowns, without
        // carrying the sign-out.
        let leaves_out = office_views.iter().find(|v| {
            v.devices.get(&dev).is_some_and(|shown| {
                shown.end > seq
                    && h.next_head.is_none_or(|n| n > seq)
                    && shown
                        .sign_ins
                        .iter()
                        .any(|(_, c)| *c == h.sign_in.challenge)
                    && !shown.sign_outs.contains(&h.line.challenge)
            })
        });
        match (leaves_out, h.kept) {
            (Some(v), true) => {
                r.fault(
                    "sign_out_withheld",
                    format!("{who}: the office kept it (its acknowledgement is shown), but {} shows the device's chain up to event {} without it, so the events after it would be credited to {:?}", v.file, v.devices[&dev].end, h.line.username),
                );
            }
            (Some(v), false) => {
                r.unproven.push(format!(
                    "{who}: the office never acknowledged it, and {} holds events after it: without the office's acknowledgement they stay {:?}'s here",
                    v.file, h.line.username
                ));
                continue;
            }
            (None, _) => {}
        }
        r.sign_outs += 1;
        ends.insert(k, seq);
    }
    ends
}

impl super::ExportLine {
    /// A `sign_out` line from a sign-out as it is kept (challenge, proof and the office's
    /// signature in lowercase hex); `None` if one is not.
    pub fn sign_out(
        device_id: Uuid,
        username: String,
        chain_head: ChainTip,
        (challenge, proof): (&str, &str),
        office_sig: Option<&str>,
    ) -> Option<super::ExportLine> {
        Some(super::ExportLine::SignOut {
            device_id,
            username,
            chain_head,
            challenge: crate::log::strict_hex(challenge)?,
            proof: crate::log::strict_hex(proof)?,
            office_sig: match office_sig {
                Some(sig) => Some(crate::log::strict_hex(sig)?),
                None => None,
            },
        })
    }
}
