//! The customer's opinion form (维修意见征询表): what the standard asks the customer about a visit,
//! beside the overall stars and a comment — punctuality, manner, shoe covers and tidiness, and
//! whether the technician asked for or accepted anything (不准接受用户的任何酬谢). The questions are
//! data, so the device's form, the rules and the office's job page all read the same list.
//!
//! The customer fills it in on the technician's phone in customer mode; once given it is locked
//! like a rating ([`crate::checklist::JobContext::check`]: a second form or a correction naming it
//! is `rating_locked`).

use crate::error::RuleError;
use crate::lang::Localized;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One answer the customer may choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpinionOption {
    pub value: String,
    pub label: Localized,
    /// An answer the office should look at (late, poor attitude, a gift asked for or taken).
    pub concern: bool,
}

/// One question of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpinionQuestion {
    pub key: String,
    pub text: Localized,
    pub options: Vec<OpinionOption>,
}

/// The form as data (`crates/rules/data/opinion_form.v1.json`, embedded at build time; the UI's
/// fake backend keeps a copy that its tests compare).
static FORM: OnceLock<Vec<OpinionQuestion>> = OnceLock::new();

/// The questions, in the order the form asks them. Their keys and values are stored in
/// `opinion_given` records: never change one's meaning; add new ones.
pub fn questions() -> Vec<OpinionQuestion> {
    FORM.get_or_init(|| {
        serde_json::from_str(include_str!("../data/opinion_form.v1.json"))
            .expect("the bundled opinion form parses")
    })
    .clone()
}

/// Every question answered once with one of its options, and nothing else.
pub fn check_answers(answers: &BTreeMap<String, String>) -> Result<(), RuleError> {
    let qs = questions();
    for (key, value) in answers {
        let q = qs
            .iter()
            .find(|q| &q.key == key)
            .ok_or_else(|| RuleError::InvalidValue {
                field: key.clone(),
                value: "(no such question)".into(),
            })?;
        if !q.options.iter().any(|o| &o.value == value) {
            return Err(RuleError::InvalidValue {
                field: key.clone(),
                value: value.clone(),
            });
        }
    }
    let missing: Vec<&OpinionQuestion> = qs
        .iter()
        .filter(|q| !answers.contains_key(&q.key))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(RuleError::EvidenceMissing {
        step: "rating".into(),
        what_zh: missing
            .iter()
            .map(|q| q.text.zh.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        what_en: missing
            .iter()
            .map(|q| q.text.en.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The answers the office should look at: (question, answer) for each concern.
pub fn concerns(answers: &BTreeMap<String, String>) -> Vec<(OpinionQuestion, OpinionOption)> {
    questions()
        .into_iter()
        .filter_map(|q| {
            let chosen = answers.get(&q.key)?;
            let o = q.options.iter().find(|o| &o.value == chosen)?.clone();
            o.concern.then_some((q, o))
        })
        .collect()
}
