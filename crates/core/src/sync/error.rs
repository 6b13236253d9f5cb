//! Sync failures, classified by what the sync loop should do about them (retry later, refresh the
//! token, resync, or tell the user), with what to tell the technician in zh-CN and English.

use heatcrew_protocol::PROTOCOL_VERSION;
use heatcrew_rules::Lang;
use std::time::Duration;

/// What went wrong talking to the office, by what to do about it.
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
        code: String,
        message: String,
    },
    /// The office speaks another protocol version.
    #[error("office protocol {0} differs from this app's {PROTOCOL_VERSION}; update the app")]
    ProtocolMismatch(String),
}

impl SyncError {
    pub fn code(&self) -> &str {
        match self {
            SyncError::Offline(_) => "offline",
            SyncError::Unavailable { .. } => "office_unavailable",
            SyncError::Unauthorized(_) => "unauthorized",
            SyncError::SequenceGap { .. } => "sequence_gap",
            SyncError::Refused { code, .. } => code,
            SyncError::ProtocolMismatch(_) => "protocol_mismatch",
        }
    }

    /// Worth trying again later without the user doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SyncError::Offline(_) | SyncError::Unavailable { .. } | SyncError::SequenceGap { .. }
        )
    }

    /// What to tell the technician, in their language (the code stays the same).
    pub fn message(&self, lang: Lang) -> String {
        let zh = matches!(lang, Lang::Zh);
        match self {
            SyncError::Offline(_) if zh => "连不上单位服务器。首次登录需要网络连接,请到有信号的地方重试。".into(),
            SyncError::Offline(_) => {
                "Cannot reach the office. The first sign-in needs a connection; try again where there is signal.".into()
            }
            SyncError::Refused { code, .. } if code == "bad_credentials" && zh => "用户名或密码不正确。".into(),
            SyncError::Refused { code, .. } if code == "bad_credentials" => {
                "Wrong user name or password.".into()
            }
            SyncError::Unavailable { .. } if zh => "单位服务器暂时不可用,稍后自动重试。".into(),
            SyncError::Unauthorized(_) if zh => "登录已过期,请重新登录。".into(),
            SyncError::ProtocolMismatch(_) if zh => "应用版本与单位服务器不匹配,请更新应用。".into(),
            SyncError::Refused { message, .. } if zh => format!("单位服务器拒绝了请求:{message}"),
            other if zh => format!("同步出错:{other}"),
            other => other.to_string(),
        }
    }
}
