//! Errors in two layers: [`RuleError`] (from heatcrew-rules) says, in words a technician
//! understands (zh-CN and English), why the checklist refused an action; [`CoreError`] wraps it with
//! storage and media failures. At the app edge both become a closed `{code, message}`.

use heatcrew_protocol::ErrorCode;
use heatcrew_rules::{Lang, RuleError};

/// Anything that can go wrong on the device.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error(
        "the database was written by a newer HeatCrew (schema {found}, this build knows {known}); update the app"
    )]
    DatabaseTooNew { found: i64, known: i64 },
    #[error("the device store is damaged: {0}")]
    Corrupt(String),
    #[error("file storage: {0}")]
    Io(#[from] std::io::Error),
    /// The device's signing key is missing, exposed or not this device's.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    /// The encrypted database's key is missing or does not open it; nothing was written.
    #[error(transparent)]
    Locked(#[from] crate::cipher::LockedError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A photo or signature that cannot be used; nothing was stored.
    #[error(transparent)]
    Media(#[from] heatcrew_media::MediaError),
}

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Rule(r) => r.code(),
            CoreError::Db(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DiskFull =>
            {
                ErrorCode::DiskFull
            }
            CoreError::Io(e) if e.kind() == std::io::ErrorKind::StorageFull => ErrorCode::DiskFull,
            CoreError::Db(_) => ErrorCode::Storage,
            CoreError::DatabaseTooNew { .. } => ErrorCode::DatabaseTooNew,
            CoreError::Corrupt(_) => ErrorCode::StoreCorrupt,
            CoreError::Io(_) => ErrorCode::Storage,
            CoreError::Json(_) => ErrorCode::BadData,
            CoreError::Key(k) => k.code(),
            CoreError::Locked(crate::cipher::LockedError::KeyMissing { .. }) => {
                ErrorCode::DatabaseKeyMissing
            }
            CoreError::Locked(crate::cipher::LockedError::WrongKey { .. }) => {
                ErrorCode::DatabaseKeyWrong
            }
            CoreError::Media(m) => m.code(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang, self.code()) {
            (CoreError::Rule(r), _, _) => r.message(lang),
            (CoreError::Media(m), Lang::Zh, _) => m.message_zh(),
            (CoreError::Media(m), Lang::En, _) => m.message(),
            (_, _, ErrorCode::DiskFull) => ErrorCode::DiskFull.message(lang).into(),
            (CoreError::Locked(_), _, code) => code.message(lang).into(),
            (_, Lang::Zh, _) => format!("本机存储出错，记录未保存：{self}"),
            (_, Lang::En, _) => format!("Nothing was saved: {self}"),
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
