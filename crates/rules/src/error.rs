//! Why the rules refused an action, in words a technician understands (zh-CN and English), with a
//! stable code for the UI to branch on. An action refused with one of these is not recorded.

use crate::lang::Lang;
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
