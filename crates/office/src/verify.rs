//! Re-verify every device chain stored at the office: each event's hash and signature against the
//! enrolled key, the links between them, and that the ledger position matches what is stored.

use crate::files::FileStore;
use crate::store::{OfficeStore, StoreError};
use heatcrew_protocol::ChainTip;

/// The outcome of a full verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub devices: u64,
    /// Received attachment files re-hashed (0 when no file folder was given).
    pub attachments: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("device {code} ({device}): event {seq} ({event_id}): {fault}")]
    Fault {
        code: String,
        device: uuid::Uuid,
        seq: u64,
        event_id: uuid::Uuid,
        fault: String,
    },
    #[error("device {code} ({device}): {problem}")]
    Ledger {
        code: String,
        device: uuid::Uuid,
        problem: String,
    },
    #[error("attachment {sha256}: {problem}")]
    Attachment { sha256: String, problem: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verify every chain, and, given the attachment folder, that every received file still hashes to
/// its address.
pub fn verify_all(
    store: &dyn OfficeStore,
    files: Option<&FileStore>,
) -> Result<VerifyReport, VerifyError> {
    let mut report = VerifyReport {
        events: 0,
        devices: 0,
        attachments: 0,
    };
    if let Some(files) = files {
        for sha in store.complete_attachments()? {
            let problem = match files.final_is_intact(sha) {
                Ok(true) => None,
                Ok(false) => Some("the file no longer matches its SHA-256 (altered)".to_owned()),
                Err(e) => Some(format!("cannot read the file: {e}")),
            };
            if let Some(problem) = problem {
                return Err(VerifyError::Attachment {
                    sha256: sha.to_hex(),
                    problem,
                });
            }
            report.attachments += 1;
        }
    }
    for dev in store.list_devices()? {
        let ledger = |problem: String| VerifyError::Ledger {
            code: dev.code.clone(),
            device: dev.id,
            problem,
        };
        let key = crate::store::sqlite::parse_public_key(&dev.public_key)
            .ok_or_else(|| ledger("the enrolled key is not an Ed25519 key".into()))?;
        let events = store.device_events(dev.id)?;
        let mut tip = ChainTip::START;
        for stored in &events {
            let e = &stored.event;
            tip = tip
                .follow(e, dev.id, &key)
                .map_err(|fault| VerifyError::Fault {
                    code: dev.code.clone(),
                    device: dev.id,
                    seq: e.seq(),
                    event_id: e.unsigned.id,
                    fault: fault.to_string(),
                })?;
        }
        if tip.seq != dev.last_seq {
            return Err(ledger(format!(
                "the ledger says {} events but {} are stored in sequence",
                dev.last_seq, tip.seq
            )));
        }
        report.events += events.len() as u64;
        report.devices += 1;
    }
    Ok(report)
}
