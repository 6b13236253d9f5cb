//! What the device keeps as evidence against the office (docs/evidence.md): the office's public key
//! from sign-in, its signed receipt for each pushed event, and every signed tree head it handed
//! out on a pull. Each is checked before it is kept; one that does not hold is refused and
//! reported, never stored (a forged receipt must not later pass as the office's word).

use crate::error::{CoreError, Result};
use crate::store::{Store, format_time};
use heatcrew_protocol::export::ExportLine;
use heatcrew_protocol::log::{Receipt, TreeHead, parse_public_key};
use heatcrew_protocol::sync::PushResult;
use heatcrew_protocol::{ChainTip, Digest, ErrorCode};
use rusqlite::{Connection, OptionalExtension, params};

/// An office answer whose signed part does not hold: what to report, with its code (`bad_receipt`,
/// `receipt_mismatch`, `bad_tree_head`, `no_office_key`, `log_rewritten`: the strings of
/// docs/evidence.md's fault codes, here as the [`ErrorCode`]s a sync failure carries to the UI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceProblem {
    pub code: ErrorCode,
    pub message: String,
}

impl EvidenceProblem {
    fn new(code: ErrorCode, message: String) -> EvidenceProblem {
        EvidenceProblem { code, message }
    }
}

impl Store {
    /// The office key received at the last sign-in (hex), which receipts and tree heads must carry.
    pub fn office_public_key(&self) -> Result<Option<String>> {
        office_public_key(self.connection())
    }

    /// Keep a sign-in the office accepted, as this device signed it: the user, where the chain
    /// stood, the office's challenge and the proof.
    pub fn keep_sign_in(
        &mut self,
        username: &str,
        chain_head: ChainTip,
        challenge: &str,
        proof: &str,
    ) -> Result<()> {
        let line = ExportLine::sign_in(
            self.device_id(),
            username.to_owned(),
            chain_head,
            challenge,
            proof,
        )
        .ok_or_else(|| {
            CoreError::Corrupt(format!(
                "a sign-in's challenge or proof is not lowercase hex: {challenge:?} {proof:?}"
            ))
        })?;
        let now = format_time(self.now());
        self.connection().execute(
            "INSERT OR IGNORE INTO sign_ins (sign_in, kept_at) VALUES (?1, ?2)",
            params![serde_json::to_string(&line)?, now],
        )?;
        Ok(())
    }

    /// Keep the office key from a sign-in answer. An answer without one leaves the known key.
    pub fn save_office_public_key(&mut self, key: Option<&str>) -> Result<()> {
        if let Some(key) = key {
            if parse_public_key(key).is_none() {
                return Err(CoreError::Corrupt(format!(
                    "the office sent a malformed public key {key:?}"
                )));
            }
            self.connection()
                .execute("UPDATE sync_state SET office_public_key = ?1", [key])?;
        }
        Ok(())
    }

    /// Check and keep the receipts in a push answer. Returns what was refused.
    pub fn keep_receipts(&mut self, results: &[PushResult]) -> Result<Vec<EvidenceProblem>> {
        let with_receipt: Vec<(&PushResult, &Receipt)> = results
            .iter()
            .filter_map(|r| Some((r, r.receipt.as_ref()?)))
            .collect();
        if with_receipt.is_empty() {
            return Ok(Vec::new());
        }
        let device_id = self.device_id();
        let office = self.office_public_key()?;
        let Some(office) = office.as_deref().and_then(parse_public_key) else {
            return Ok(vec![EvidenceProblem::new(
                ErrorCode::NoOfficeKey,
                "the office sent receipts but no key to check them with at sign-in; sign in again"
                    .into(),
            )]);
        };
        let now = format_time(self.now());
        let mut problems = Vec::new();
        let tx = self.connection_mut().transaction()?;
        for (result, receipt) in with_receipt {
            let seq = result.device_seq;
            let problem = if !receipt.verify(&office) {
                Some(EvidenceProblem::new(
                    ErrorCode::BadReceipt,
                    format!("the receipt for event {seq} is not signed by the office key"),
                ))
            } else if receipt.device_id != device_id || receipt.device_seq != seq {
                Some(EvidenceProblem::new(
                    ErrorCode::ReceiptMismatch,
                    format!(
                        "the receipt for event {seq} names device {} event {}",
                        receipt.device_id, receipt.device_seq
                    ),
                ))
            } else if event_hash(&tx, seq)? != Some(receipt.event_hash) {
                Some(EvidenceProblem::new(
                    ErrorCode::ReceiptMismatch,
                    format!(
                        "the office acknowledged event {seq} with hash {}, which is not the event this device recorded",
                        receipt.event_hash
                    ),
                ))
            } else {
                None
            };
            match problem {
                Some(p) => problems.push(p),
                None => {
                    tx.prepare_cached(
                        "INSERT OR IGNORE INTO receipts (device_seq, log_index, receipt, kept_at)
                         VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![
                        seq as i64,
                        receipt.log_index as i64,
                        serde_json::to_string(receipt)?,
                        now
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(problems)
    }

    /// Every receipt kept, in sequence order.
    pub fn receipts(&self) -> Result<Vec<Receipt>> {
        receipts(self.connection())
    }

    /// Every tree head kept, oldest first.
    pub fn tree_heads(&self) -> Result<Vec<TreeHead>> {
        tree_heads(self.connection())
    }
}

/// Check a pulled tree head and keep it (inside the pull's transaction). A validly signed head is
/// kept even when it contradicts an earlier one: the contradiction is the evidence.
pub(crate) fn keep_tree_head(
    tx: &rusqlite::Transaction<'_>,
    head: &TreeHead,
    now: &str,
) -> Result<Vec<EvidenceProblem>> {
    let Some(office) = office_public_key(tx)?.as_deref().and_then(parse_public_key) else {
        return Ok(vec![EvidenceProblem::new(
            ErrorCode::NoOfficeKey,
            "the office sent a tree head but no key to check it with at sign-in; sign in again"
                .into(),
        )]);
    };
    if !head.verify(&office) {
        return Ok(vec![EvidenceProblem::new(
            ErrorCode::BadTreeHead,
            format!(
                "the tree head of size {} is not signed by the office key",
                head.size
            ),
        )]);
    }
    let mut problems = Vec::new();
    for known in tree_heads(tx)? {
        if known.size == head.size && known.root != head.root {
            problems.push(EvidenceProblem::new(
                ErrorCode::LogRewritten,
                format!(
                    "the office signed two different logs of size {}: it rewrote its history",
                    head.size
                ),
            ));
        } else if known.size > head.size {
            problems.push(EvidenceProblem::new(
                ErrorCode::LogRewritten,
                format!(
                    "the office's log shrank from {} to {} entries",
                    known.size, head.size
                ),
            ));
        }
    }
    tx.execute(
        "INSERT OR IGNORE INTO tree_heads (size, tree_head, kept_at) VALUES (?1, ?2, ?3)",
        params![head.size as i64, serde_json::to_string(head)?, now],
    )?;
    Ok(problems)
}

fn event_hash(conn: &Connection, seq: u64) -> Result<Option<Digest>> {
    let hash = conn
        .prepare_cached("SELECT hash FROM events WHERE seq = ?1")?
        .query_row([seq as i64], |r| r.get::<_, Vec<u8>>(0))
        .optional()?;
    Ok(hash.and_then(|h| Some(Digest(h.try_into().ok()?))))
}

pub(crate) fn office_public_key(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT office_public_key FROM sync_state", [], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

pub(crate) fn receipts(conn: &Connection) -> Result<Vec<Receipt>> {
    let mut stmt = conn.prepare("SELECT receipt FROM receipts ORDER BY device_seq, id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
}

pub(crate) fn tree_heads(conn: &Connection) -> Result<Vec<TreeHead>> {
    let mut stmt = conn.prepare("SELECT tree_head FROM tree_heads ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
}

/// The sign-ins this device kept, as export lines, in the order they happened.
pub(crate) fn sign_ins(conn: &Connection) -> Result<Vec<ExportLine>> {
    let mut stmt = conn.prepare("SELECT sign_in FROM sign_ins ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
}
