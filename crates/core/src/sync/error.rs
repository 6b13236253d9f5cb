//! Sync failures, classified by what the sync loop should do about them (retry later, refresh the
//! token, resync, or tell the user), with what to tell the technician in zh-CN and English. Failures
//! of the device's own storage are kept apart from the office's answers: a phone with a full disk
//! must not be told that the office refused its records.

use crate::error::CoreError;
use heatcrew_protocol::{ErrorCode, PROTOCOL_VERSION};
use heatcrew_rules::Lang;
use std::time::Duration;

/// What went wrong while syncing with the office, by what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// No connection, timeout, dropped halfway: try again later.
    #[error("office unreachable: {0}")]
    Offline(String),
    /// 5xx or 429: try again later, after `retry_after` if the office said so.
    #[error("office busy or failing ({status}): {message}")]
    Unavailable {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// 401: refresh the token (and if that fails, sign in again).
    #[error("not signed in: {0}")]
    Unauthorized(String),
    /// 409 `sequence_gap`: the office expects a different next event.
    #[error("office expects event {expected_seq} next")]
    SequenceGap { expected_seq: u64 },
    /// Any other 4xx: a problem retrying cannot fix; shown to the user.
    #[error("office refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The office speaks another protocol version.
    #[error("office protocol {0} differs from this app's {PROTOCOL_VERSION}; update the app")]
    ProtocolMismatch(String),
    /// The office's signed answer (a receipt, a tree head) does not hold: it was refused, not
    /// kept. `code` is the fault code of docs/evidence.md. The records themselves are safe.
    #[error("the office's signed answer does not hold ({code}): {message}")]
    Evidence { code: ErrorCode, message: String },
    /// This device could not store or read what sync needed (its database, a photo file); the office
    /// has nothing to do with it. `code` is the device error's stable code (`disk_full`, `storage`,
    /// `store_corrupt`, `file_missing`, …).
    #[error("could not store on this device ({code}): {message}")]
    Local { code: ErrorCode, message: String },
}

impl SyncError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SyncError::Offline(_) => ErrorCode::Offline,
            SyncError::Unavailable { .. } => ErrorCode::OfficeUnavailable,
            SyncError::Unauthorized(_) => ErrorCode::Unauthorized,
            SyncError::SequenceGap { .. } => ErrorCode::SequenceGap,
            SyncError::Refused { code, .. } => *code,
            SyncError::ProtocolMismatch(_) => ErrorCode::ProtocolMismatch,
            SyncError::Local { code, .. } => *code,
            SyncError::Evidence { code, .. } => *code,
        }
    }

    /// A failure of the device's own storage during sync.
    pub fn local(e: CoreError) -> SyncError {
        SyncError::Local {
            code: e.code(),
            message: e.to_string(),
        }
    }

    /// The office's signed answers that did not hold, if any: the first one's code, every message.
    pub fn from_evidence(problems: Vec<super::EvidenceProblem>) -> Result<(), SyncError> {
        let Some(first) = problems.first() else {
            return Ok(());
        };
        Err(SyncError::Evidence {
            code: first.code,
            message: problems
                .iter()
                .map(|p| format!("{}: {}", p.code, p.message))
                .collect::<Vec<_>>()
                .join("; "),
        })
    }

    /// Worth trying again later without the user doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline(_)
            | SyncError::Unavailable { .. }
            | SyncError::SequenceGap { .. } => true,
            // A full disk is retried with backoff: the technician may free space at any moment, and
            // nothing tells the app when they did; the backoff caps at 5 minutes, so a phone that
            // stays full costs one small failed write every few minutes. Other local failures (a
            // damaged or unwritable store, a photo file gone) do not mend themselves: they wait
            // for the user, like a refusal.
            SyncError::Local { code, .. } => *code == ErrorCode::DiskFull,
            SyncError::Unauthorized(_)
            | SyncError::Refused { .. }
            | SyncError::ProtocolMismatch(_)
            | SyncError::Evidence { .. } => false,
        }
    }

    /// What to tell the technician, in their language (the code stays the same).
    pub fn message(&self, lang: Lang) -> String {
        let zh = matches!(lang, Lang::Zh);
        match self {
            // A full disk during sync: unlike a refused tap, what was saved is safe.
            SyncError::Local {
                code: ErrorCode::DiskFull,
                ..
            } if zh => {
                "手机存储空间已满,同步无法继续。请清理空间,之后会自动重试;已保存的记录不会丢失。".into()
            }
            SyncError::Local {
                code: ErrorCode::DiskFull,
                ..
            } => {
                "The phone's storage is full, so sync cannot go on. Free some space; sync retries by itself and saved records are not lost.".into()
            }
            // The device's setting, not its storage: say which file and why.
            SyncError::Local {
                code: ErrorCode::OfficeCa,
                message,
            } => format!("{} ({message})", ErrorCode::OfficeCa.message(lang)),
            // These say what their code says (heatcrew_protocol::ErrorCode).
            SyncError::Offline(_)
            | SyncError::Refused {
                code: ErrorCode::BadCredentials,
                ..
            } => self.code().message(lang).into(),
            SyncError::Unavailable { .. } | SyncError::Unauthorized(_) | SyncError::ProtocolMismatch(_)
                if zh =>
            {
                self.code().message(lang).into()
            }
            SyncError::Local { message, .. } if zh => {
                format!("本机存储出错,同步无法继续(不是单位服务器的问题):{message}")
            }
            SyncError::Local { message, .. } => format!(
                "This device could not store what sync needed (not a problem at the office): {message}"
            ),
            SyncError::Evidence { message, .. } if zh => {
                format!("单位服务器的签名回执不成立,已拒收并记录(本机记录不受影响):{message}")
            }
            SyncError::Refused { message, .. } if zh => format!("单位服务器拒绝了请求:{message}"),
            other if zh => format!("同步出错:{other}"),
            other => other.to_string(),
        }
    }
}
