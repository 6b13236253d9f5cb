//! Why the rules refused an action, in words a technician understands (zh-CN and English), with a
//! stable code for the UI to branch on. An action refused with one of these is not recorded.

use crate::lang::Lang;
use heatcrew_protocol::ErrorCode;
use uuid::Uuid;

/// A field rule the action would break. Nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("unknown job {0}")]
    UnknownJob(Uuid),
    /// On a shared phone: a job assigned to another user of this device.
    #[error("job {0} is not assigned to you")]
    NotYourJob(Uuid),
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
    #[error("the follow-up inspection is before the rectification deadline")]
    FollowUpBeforeDeadline,
    /// The code scanned or typed at a checkpoint is not the one posted there.
    #[error("that is not the code posted at checkpoint {0}")]
    WrongCheckpointCode(String),
    /// The office gave this checkpoint no code, so presence cannot be confirmed by one.
    #[error("checkpoint {0} has no code")]
    CheckpointHasNoCode(String),
    /// Not every readiness check was ticked.
    #[error("uniform, badge, tools and protective equipment must all be checked")]
    ReadinessIncomplete,
    /// A job the field may not open ([`crate::field_jobs`]); says why.
    #[error("this job cannot be opened in the field: {0}")]
    FieldJobNotAllowed(String),
    /// Not home / no entry after the entry step was recorded: the technician is already inside.
    #[error("the entry into the home is already recorded; a no-entry outcome is for the door")]
    AlreadyEntered,
    /// A signature by someone other than who signs this step (the contractor's is not the customer's).
    #[error("this step is signed by the {want}, not the {got}")]
    WrongSigner { want: String, got: String },
    /// A time, number, length or count outside what a record may hold; nothing was recorded.
    #[error(transparent)]
    OutOfRange(#[from] heatcrew_protocol::bounds::OutOfRange),
}

impl RuleError {
    /// A stable code for the UI to branch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            RuleError::UnknownJob(_) => ErrorCode::UnknownJob,
            RuleError::NotYourJob(_) => ErrorCode::ForbiddenJob,
            RuleError::UnknownTemplate(_) => ErrorCode::UnknownTemplate,
            RuleError::JobNotActive(_) => ErrorCode::JobNotActive,
            RuleError::StepOutOfOrder { .. } => ErrorCode::StepOutOfOrder,
            RuleError::UnknownStep(_) => ErrorCode::UnknownStep,
            RuleError::StepAlreadyDone(_) => ErrorCode::StepAlreadyDone,
            RuleError::StepNotSkippable(_) => ErrorCode::StepNotSkippable,
            RuleError::SkipReasonMissing => ErrorCode::SkipReasonMissing,
            RuleError::EvidenceMissing { .. } => ErrorCode::EvidenceMissing,
            RuleError::InvalidValue { .. } => ErrorCode::InvalidValue,
            RuleError::WrongStepForRecord(_) => ErrorCode::WrongStepForRecord,
            RuleError::AlreadySigned => ErrorCode::AlreadySigned,
            RuleError::DeclineReasonMissing => ErrorCode::DeclineReasonMissing,
            RuleError::RatingOutOfRange => ErrorCode::RatingOutOfRange,
            RuleError::RatingLocked => ErrorCode::RatingLocked,
            RuleError::RecordNotAllowed(_) => ErrorCode::RecordNotAllowed,
            RuleError::CannotClose(_) => ErrorCode::CannotClose,
            RuleError::BadCorrection => ErrorCode::BadCorrection,
            RuleError::DeadlineInPast => ErrorCode::DeadlineInPast,
            RuleError::FollowUpBeforeDeadline => ErrorCode::FollowUpBeforeDeadline,
            RuleError::FieldJobNotAllowed(_) => ErrorCode::FieldJobNotAllowed,
            RuleError::OutOfRange(_) => ErrorCode::OutOfRange,
            RuleError::AlreadyEntered => ErrorCode::RecordNotAllowed,
            RuleError::WrongSigner { .. } => ErrorCode::InvalidValue,
            RuleError::WrongCheckpointCode(_) => ErrorCode::WrongCheckpointCode,
            RuleError::CheckpointHasNoCode(_) => ErrorCode::CheckpointHasNoCode,
            RuleError::ReadinessIncomplete => ErrorCode::ReadinessIncomplete,
        }
    }

    /// The message to show, in the user's language: an error that carries facts (which step, what
    /// is missing) words them; the others say what their code says ([`ErrorCode::message`]).
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => match self {
                RuleError::OutOfRange(r) => {
                    format!("{} ({r})", ErrorCode::OutOfRange.message(lang))
                }
                RuleError::StepOutOfOrder { current, .. } => {
                    format!("Finish the current step first: {current}.")
                }
                RuleError::EvidenceMissing { what_en, .. } => {
                    format!("Still needed before this step is done: {what_en}.")
                }
                RuleError::SkipReasonMissing
                | RuleError::StepNotSkippable(_)
                | RuleError::RatingLocked
                | RuleError::AlreadySigned
                | RuleError::DeclineReasonMissing
                | RuleError::RatingOutOfRange
                | RuleError::BadCorrection
                | RuleError::DeadlineInPast
                | RuleError::FollowUpBeforeDeadline
                | RuleError::WrongCheckpointCode(_)
                | RuleError::CheckpointHasNoCode(_)
                | RuleError::ReadinessIncomplete => self.code().message(lang).into(),
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
                RuleError::EvidenceMissing { what_zh, .. } => {
                    format!("完成本步骤还需要：{what_zh}。")
                }
                RuleError::InvalidValue { field, value } => {
                    format!("{field} 的值无效：{value}。")
                }
                RuleError::CannotClose(missing) => {
                    format!("还不能完成工单：{}。", missing.join("；"))
                }
                RuleError::OutOfRange(r) => {
                    format!("{}（{}）", ErrorCode::OutOfRange.message(lang), r)
                }
                RuleError::AlreadyEntered => "已记录入户，不能再记录“不在家/未能入户”。".into(),
                RuleError::WrongSigner { want, .. } => {
                    let who = match want.as_str() {
                        "contractor" => "施工方",
                        "witness" => "见证人",
                        "technician" => "维修人员",
                        _ => "客户",
                    };
                    format!("本步骤应由{who}签字。")
                }
                other => other.code().message(lang).into(),
            },
        }
    }
}
