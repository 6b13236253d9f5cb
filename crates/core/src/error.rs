//! Errors in two layers: [`RuleError`] says, in words a technician understands (zh-CN and English),
//! why the checklist refused an action; [`CoreError`] wraps it with storage and sync failures. At the
//! app edge both become a closed `{code, message}`.

use crate::template::Lang;
use uuid::Uuid;

/// A field rule the action would break. Nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("unknown job {0}")]
    UnknownJob(Uuid),
    #[error("job uses unknown checklist template {0}")]
    UnknownTemplate(String),
    #[error("the job is {0} and takes no more records")]
    JobNotActive(&'static str),
    #[error("step {step} is not the current step ({current})")]
    StepOutOfOrder { step: String, current: String },
    #[error("unknown step {0}")]
    UnknownStep(String),
    #[error("step {0} is already done")]
    StepAlreadyDone(String),
    #[error("step {0} cannot be skipped")]
    StepNotSkippable(String),
    #[error("a skipped step needs a reason")]
    SkipReasonMissing,
    #[error("missing evidence for {step}: {what_en}")]
    EvidenceMissing {
        step: String,
        what_zh: String,
        what_en: String,
    },
    #[error("invalid value for {field}: {value}")]
    InvalidValue { field: String, value: String },
    #[error("step {0} takes no such record")]
    WrongStepForRecord(String),
    #[error("already signed or declined")]
    AlreadySigned,
    #[error("refusal or absence needs a reason")]
    DeclineReasonMissing,
    #[error("rating must be 1 to 5 stars")]
    RatingOutOfRange,
    #[error("the customer's rating is locked once given")]
    RatingLocked,
    #[error("this job kind does not take {0} records")]
    RecordNotAllowed(&'static str),
    #[error("cannot close yet: {}", .0.join("; "))]
    CannotClose(Vec<String>),
    #[error("a correction must name an earlier event of this job and a reason")]
    BadCorrection,
    #[error("the rectification deadline is in the past")]
    DeadlineInPast,
}

impl RuleError {
    /// A stable code for the UI to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::UnknownJob(_) => "unknown_job",
            RuleError::UnknownTemplate(_) => "unknown_template",
            RuleError::JobNotActive(_) => "job_not_active",
            RuleError::StepOutOfOrder { .. } => "step_out_of_order",
            RuleError::UnknownStep(_) => "unknown_step",
            RuleError::StepAlreadyDone(_) => "step_already_done",
            RuleError::StepNotSkippable(_) => "step_not_skippable",
            RuleError::SkipReasonMissing => "skip_reason_missing",
            RuleError::EvidenceMissing { .. } => "evidence_missing",
            RuleError::InvalidValue { .. } => "invalid_value",
            RuleError::WrongStepForRecord(_) => "wrong_step_for_record",
            RuleError::AlreadySigned => "already_signed",
            RuleError::DeclineReasonMissing => "decline_reason_missing",
            RuleError::RatingOutOfRange => "rating_out_of_range",
            RuleError::RatingLocked => "rating_locked",
            RuleError::RecordNotAllowed(_) => "record_not_allowed",
            RuleError::CannotClose(_) => "cannot_close",
            RuleError::BadCorrection => "bad_correction",
            RuleError::DeadlineInPast => "deadline_in_past",
        }
    }

    /// The message to show, in the user's language.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => match self {
                RuleError::StepOutOfOrder { current, .. } => {
                    format!("Finish the current step first: {current}.")
                }
                RuleError::EvidenceMissing { what_en, .. } => {
                    format!("Still needed before this step is done: {what_en}.")
                }
                RuleError::SkipReasonMissing => "Say why you skip this step.".into(),
                RuleError::StepNotSkippable(_) => {
                    "This step cannot be skipped; it must be done.".into()
                }
                RuleError::RatingLocked => {
                    "The customer has already rated this visit; a rating cannot be changed.".into()
                }
                RuleError::AlreadySigned => {
                    "This step already has a signature or a recorded refusal.".into()
                }
                RuleError::DeclineReasonMissing => {
                    "Record why the customer refuses or is absent.".into()
                }
                other => {
                    let mut s = other.to_string();
                    if let Some(first) = s.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    s.push('.');
                    s
                }
            },
            Lang::Zh => match self {
                RuleError::UnknownJob(_) => "找不到该工单。".into(),
                RuleError::UnknownTemplate(t) => {
                    format!("工单使用的检查模板 {t} 不存在，请升级应用。")
                }
                RuleError::JobNotActive(state) => format!(
                    "该工单{}，不能再记录。",
                    match *state {
                        "closed" => "已完成",
                        "cancelled" => "已取消",
                        _ => "已转派他人",
                    }
                ),
                RuleError::StepOutOfOrder { current, .. } => {
                    format!("请先完成当前步骤：{current}。")
                }
                RuleError::UnknownStep(s) => format!("没有这个步骤：{s}。"),
                RuleError::StepAlreadyDone(_) => "该步骤已完成，如需更正请提交更正记录。".into(),
                RuleError::StepNotSkippable(_) => "该步骤不能跳过，必须完成。".into(),
                RuleError::SkipReasonMissing => "跳过步骤必须填写原因。".into(),
                RuleError::EvidenceMissing { what_zh, .. } => {
                    format!("完成本步骤还需要：{what_zh}。")
                }
                RuleError::InvalidValue { field, value } => {
                    format!("{field} 的值无效：{value}。")
                }
                RuleError::WrongStepForRecord(_) => "当前步骤不需要这项记录。".into(),
                RuleError::AlreadySigned => "本步骤已有签字或拒签记录。".into(),
                RuleError::DeclineReasonMissing => "请填写客户拒签或不在场的原因。".into(),
                RuleError::RatingOutOfRange => "评价须为1至5星。".into(),
                RuleError::RatingLocked => "客户已评价，评价不可修改。".into(),
                RuleError::RecordNotAllowed(_) => "此类工单不能添加这项记录。".into(),
                RuleError::CannotClose(missing) => {
                    format!("还不能完成工单：{}。", missing.join("；"))
                }
                RuleError::BadCorrection => "更正记录必须指明本工单的原记录并填写原因。".into(),
                RuleError::DeadlineInPast => "整改期限不能早于今天。".into(),
            },
        }
    }
}

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
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A photo or signature that cannot be used; nothing was stored.
    #[error(transparent)]
    Media(#[from] heatcrew_media::MediaError),
}

impl CoreError {
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Rule(r) => r.code(),
            CoreError::Db(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DiskFull =>
            {
                "disk_full"
            }
            CoreError::Io(e) if e.kind() == std::io::ErrorKind::StorageFull => "disk_full",
            CoreError::Db(_) => "storage",
            CoreError::DatabaseTooNew { .. } => "database_too_new",
            CoreError::Corrupt(_) => "store_corrupt",
            CoreError::Io(_) => "storage",
            CoreError::Json(_) => "bad_data",
            CoreError::Media(m) => m.code(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang, self.code()) {
            (CoreError::Rule(r), _, _) => r.message(lang),
            (CoreError::Media(m), Lang::Zh, _) => m.message_zh(),
            (CoreError::Media(m), Lang::En, _) => m.message(),
            (_, Lang::Zh, "disk_full") => "手机存储空间已满，记录未保存。请清理空间后重试。".into(),
            (_, Lang::En, "disk_full") => {
                "The phone's storage is full; nothing was saved. Free some space and try again."
                    .into()
            }
            (_, Lang::Zh, _) => format!("本机存储出错，记录未保存：{self}"),
            (_, Lang::En, _) => format!("Nothing was saved: {self}"),
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
