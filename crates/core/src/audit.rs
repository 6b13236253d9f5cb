//! Verifying a device's event log as support staff and courts need it: not just "valid or not" but
//! which event is the first bad one and what was done to it (edited, missing, reordered, inserted,
//! bad signature).

use ed25519_dalek::VerifyingKey;
use heatcrew_protocol::{ChainTip, Digest, Event, EventFault};
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

/// What was done to the first bad event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tampering {
    /// Its content no longer matches its hash.
    Edited,
    /// One or more events before it (or at the end of the log) are gone.
    Missing,
    /// It sits in the wrong place in the log.
    Reordered,
    /// It was never part of this device's chain.
    Inserted,
    /// Hash and content agree, but the device did not sign it.
    BadSignature,
}

impl Tampering {
    pub fn as_str(&self) -> &'static str {
        match self {
            Tampering::Edited => "edited",
            Tampering::Missing => "missing",
            Tampering::Reordered => "reordered",
            Tampering::Inserted => "inserted",
            Tampering::BadSignature => "bad signature",
        }
    }
}

/// The first bad event and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFailure {
    /// The sequence number at which the log stops being trustworthy.
    pub seq: u64,
    pub event_id: Option<Uuid>,
    pub tampering: Tampering,
    pub detail: String,
}

impl fmt::Display for AuditFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {}", self.seq)?;
        if let Some(id) = self.event_id {
            write!(f, " ({id})")?;
        }
        write!(f, ": {}: {}", self.tampering.as_str(), self.detail)
    }
}

/// Verify every hash, signature and chain link of `events` (in stored order), and that the log
/// ends at `expected_tip` when one is recorded. Returns the number of events on success.
pub fn audit(
    events: &[Event],
    device_id: Uuid,
    key: &VerifyingKey,
    expected_tip: Option<ChainTip>,
) -> Result<u64, AuditFailure> {
    let position: HashMap<Digest, u64> = events.iter().map(|e| (e.hash, e.seq())).collect();
    let mut tip = ChainTip::START;
    for e in events {
        let fail = |tampering, detail: String| AuditFailure {
            seq: e.seq(),
            event_id: Some(e.unsigned.id),
            tampering,
            detail,
        };
        match tip.follow(e, device_id, key) {
            Ok(next) => tip = next,
            Err(fault) => {
                // Where does this event's link point? A link to a later event means rows were
                // moved; a link to an earlier one means rows in between are gone.
                let linked = position.get(&e.unsigned.prev_hash).copied();
                let moved = linked.is_some_and(|p| p >= e.seq());
                let tampering = match fault {
                    EventFault::OutOfSequence { expected, seq } if seq > expected => {
                        if moved {
                            Tampering::Reordered
                        } else {
                            Tampering::Missing
                        }
                    }
                    EventFault::OutOfSequence { .. } => Tampering::Reordered,
                    EventFault::Edited { .. } if moved => Tampering::Reordered,
                    EventFault::Edited { .. } => Tampering::Edited,
                    EventFault::BadSignature { .. } => Tampering::BadSignature,
                    EventFault::BrokenChain { .. } => match linked {
                        Some(p) if p >= e.seq() => Tampering::Reordered,
                        Some(_) => Tampering::Missing,
                        None => Tampering::Inserted,
                    },
                    EventFault::WrongDevice { .. } => Tampering::Inserted,
                    EventFault::Malformed { .. } => Tampering::Edited,
                };
                return Err(fail(tampering, fault.to_string()));
            }
        }
    }
    if let Some(expected) = expected_tip
        && expected != tip
    {
        let tampering = match expected.seq.cmp(&tip.seq) {
            std::cmp::Ordering::Greater => Tampering::Missing,
            std::cmp::Ordering::Less => Tampering::Inserted,
            std::cmp::Ordering::Equal => Tampering::Edited,
        };
        return Err(AuditFailure {
            seq: tip.seq + 1,
            event_id: None,
            tampering,
            detail: format!(
                "the device recorded {} events but the log holds {}",
                expected.seq, tip.seq
            ),
        });
    }
    Ok(tip.seq)
}
