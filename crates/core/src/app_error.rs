//! Refusals at the app's edge that are not checklist rules, and the one that needs the store: whether
//! this device may sign out. The shell turns them into the closed `{code, message}` like any error.

use crate::error::Result;
use crate::store::Store;
use heatcrew_protocol::ErrorCode;
use heatcrew_rules::Lang;

/// Refusals at the app's edge that are not checklist rules: no session, sign-out with records
/// still waiting, a malformed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    NotSignedIn,
    /// Another user's token could not push these records, so signing out would strand them.
    #[error("{0} records not yet synced")]
    UnsyncedRecords(u64),
    /// Every record is at the office but some of their photos are not yet: signing out would
    /// leave them to the next user's sync (which the office accepts from this device).
    #[error("{photos} photos ({bytes} bytes) not yet synced")]
    UnsyncedPhotos { photos: u64, bytes: u64 },
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::NotSignedIn => ErrorCode::NotSignedIn,
            AppError::UnsyncedRecords(_) | AppError::UnsyncedPhotos { .. } => {
                ErrorCode::UnsyncedRecords
            }
            AppError::BadRequest(_) => ErrorCode::BadRequest,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AppError::NotSignedIn, _) => self.code().message(lang).into(),
            (AppError::UnsyncedRecords(n), Lang::Zh) => {
                format!("还有 {n} 条记录未同步。请先同步再退出:换成其他人登录后,这些记录无法上传。")
            }
            (AppError::UnsyncedRecords(n), Lang::En) => format!(
                "{n} records are not synced yet. Sync first: after another user signs in, they could not be uploaded."
            ),
            (AppError::UnsyncedPhotos { photos, bytes }, Lang::Zh) => format!(
                "还有 {photos} 张照片({})未上传。请先同步再退出。",
                human_bytes(*bytes)
            ),
            (AppError::UnsyncedPhotos { photos, bytes }, Lang::En) => format!(
                "{photos} photos ({}) are not uploaded yet. Sync before signing out.",
                human_bytes(*bytes)
            ),
            (AppError::BadRequest(m), Lang::Zh) => format!("请求有误:{m}"),
            (AppError::BadRequest(m), Lang::En) => format!("Bad request: {m}"),
        }
    }
}

/// Whether this device may sign out: never while records or their photos wait for the office,
/// unless forced (they stay on the device either way; signing out only forgets the tokens, and
/// the next user's sync uploads the photos). Returns the refusal, if any.
pub fn sign_out_refusal(store: &Store, force: bool) -> Result<Option<AppError>> {
    let backlog = store.backlog()?;
    if force {
        return Ok(None);
    }
    // Actions held behind photos still being processed are records not yet synced too.
    let queued = backlog.queued + store.held_count()?;
    Ok(if queued > 0 {
        Some(AppError::UnsyncedRecords(queued))
    } else if backlog.attachments > 0 {
        Some(AppError::UnsyncedPhotos {
            photos: backlog.attachments,
            bytes: backlog.attachment_bytes,
        })
    } else {
        None
    })
}

/// "1.2 MB", "340 KB": how much is still to go, for people.
fn human_bytes(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else {
        format!("{} KB", bytes.div_ceil(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use heatcrew_protocol::{EventBody, StepEvidence};

    #[test]
    fn sign_out_is_refused_while_records_wait() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path().join("device.db")).expect("open store");
        let job = demo::home_repair_job(0, None);
        store.add_office_job(&job).expect("add job");
        assert_eq!(
            sign_out_refusal(&store, false).unwrap(),
            None,
            "nothing waits, sign-out is fine"
        );
        store
            .record(
                job.id,
                EventBody::StepCompleted {
                    step: "appointment".into(),
                    evidence: StepEvidence::default(),
                },
            )
            .expect("appointment");
        assert_eq!(
            sign_out_refusal(&store, false).unwrap(),
            Some(AppError::UnsyncedRecords(1)),
            "another user's token could not push this record"
        );
        assert_eq!(
            sign_out_refusal(&store, true).unwrap(),
            None,
            "forced sign-out keeps the records anyway"
        );
        assert!(
            AppError::UnsyncedRecords(1)
                .message(Lang::Zh)
                .contains("同步"),
            "the Chinese message says to sync first"
        );
    }
}
