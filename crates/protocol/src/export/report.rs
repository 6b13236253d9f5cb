//! What checking exports found ([`super::verify_exports`]).

use super::Maker;
use serde::Serialize;

/// What checking found: counts of what was verified, what could not be checked for lack of proof,
/// and faults (any fault means the evidence does not hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub devices: u64,
    pub events: u64,
    pub links: u64,
    pub receipts: u64,
    pub tree_heads: u64,
    pub inclusion_proofs: u64,
    pub consistency_proofs: u64,
    pub files: u64,
    /// Sign-ins that verify against their device's key and chain.
    pub sign_ins: u64,
    /// Sign-outs that verify against their device's key, sign-in and chain, and count (the
    /// office kept them, or no office export here holds their sign-in).
    pub sign_outs: u64,
    /// Whose records the events shown are, from those sign-ins and sign-outs (events before a
    /// device's first sign-in in the exports, or after a sign-out and before the next sign-in,
    /// have no maker here).
    pub makers: Vec<Maker>,
    /// Things that could not be checked (e.g. two tree heads without a consistency proof).
    pub unproven: Vec<String>,
    pub faults: Vec<Fault>,
}

/// Why evidence does not hold: a stable code (listed in `docs/evidence.md`) and the details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ExportReport {
    pub(super) fn fault(&mut self, code: &'static str, message: String) {
        self.faults.push(Fault { code, message });
    }

    /// Whether any fault has this code.
    pub fn has(&self, code: &str) -> bool {
        self.faults.iter().any(|f| f.code == code)
    }
}

impl ExportReport {
    pub fn ok(&self) -> bool {
        self.faults.is_empty()
    }
}
