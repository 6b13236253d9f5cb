//! Corrections: nothing recorded is edited. A technician who wrote the wrong fault, typed a wrong
//! reading or described a finding badly records a `correction` naming the original event, with a
//! reason and, for a text, reading or finding, the corrected values ([`Replacement`]). The original
//! stays in the chain; readers show both, and the newest correction's values as current.
//!
//! Two checks: [`check_shape`] needs only the original record (the office applies it to what
//! devices push); [`JobContext::check_correction`] also holds the replacement against the job's
//! template (the device, before recording). The customer's rating or opinion form is never
//! corrected: `rating_locked`.

use crate::checklist::JobContext;
use crate::error::RuleError;
use crate::template::Evidence;
use heatcrew_protocol::bounds::{check_number, reading_range};
use heatcrew_protocol::{EventBody, Reading};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The corrected values a correction carries (its `replacement`), for the kinds that take them:
/// a completed step's text fields and readings, a checkpoint's readings, a finding's description.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    /// Text fields by key, each the whole corrected text.
    #[serde(default)]
    pub text: BTreeMap<String, String>,
    /// Readings by key, each the corrected value.
    #[serde(default)]
    pub readings: Vec<Reading>,
    /// A finding's corrected description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub description: Option<String>,
}

impl Replacement {
    /// Read a correction's `replacement` (absent: a correction that only says what was wrong).
    pub fn parse(value: Option<&Value>) -> Result<Option<Replacement>, RuleError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|_| RuleError::BadCorrection),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.readings.is_empty() && self.description.is_none()
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a replacement serializes")
    }
}

/// The kinds a correction may carry values for.
pub fn takes_values(original: &EventBody) -> bool {
    matches!(
        original,
        EventBody::StepCompleted { .. }
            | EventBody::ReadingRecorded { .. }
            | EventBody::FindingRecorded { .. }
    )
}

/// What any reader can check knowing only the original record: the customer's rating and opinion
/// are locked, a correction names an original (not another correction), and the values fit the
/// original's kind and the ranges every record keeps.
pub fn check_shape(
    original: &EventBody,
    replacement: Option<&Replacement>,
) -> Result<(), RuleError> {
    match original {
        EventBody::RatingGiven { .. } | EventBody::OpinionGiven { .. } => {
            return Err(RuleError::RatingLocked);
        }
        EventBody::Correction { .. } => return Err(RuleError::BadCorrection),
        _ => {}
    }
    let Some(r) = replacement else {
        return Ok(());
    };
    if r.is_empty() || !takes_values(original) {
        return Err(RuleError::BadCorrection);
    }
    for (i, reading) in r.readings.iter().enumerate() {
        let (lo, hi) = reading_range(&reading.unit);
        check_number(
            &format!("replacement.readings[{i}].value"),
            reading.value,
            lo,
            hi,
        )?;
    }
    match original {
        EventBody::StepCompleted { .. } if r.description.is_none() => Ok(()),
        EventBody::ReadingRecorded { .. }
            if r.text.is_empty() && r.description.is_none() && !r.readings.is_empty() =>
        {
            Ok(())
        }
        EventBody::FindingRecorded { .. } if r.text.is_empty() && r.readings.is_empty() => {
            match &r.description {
                Some(d) if !d.trim().is_empty() => Ok(()),
                _ => Err(RuleError::InvalidValue {
                    field: "description".into(),
                    value: "(empty)".into(),
                }),
            }
        }
        _ => Err(RuleError::BadCorrection),
    }
}

impl JobContext<'_> {
    /// A correction of `original` (an event of this job) with `replacement`, held against the
    /// job's template: a step's text keys and readings are that step's own, a required text stays
    /// filled, a checkpoint's readings are that checkpoint's. [`JobContext::check`] has already
    /// checked the reason and that the original is this job's.
    pub fn check_correction(
        &self,
        original: &EventBody,
        replacement: Option<&Value>,
    ) -> Result<(), RuleError> {
        let r = Replacement::parse(replacement)?;
        check_shape(original, r.as_ref())?;
        let Some(r) = r else { return Ok(()) };
        match original {
            EventBody::StepCompleted { step, .. } => {
                let s = self
                    .template
                    .step(step)
                    .ok_or_else(|| RuleError::UnknownStep(step.clone()))?;
                for (key, value) in &r.text {
                    let spec = s.evidence.iter().find_map(|e| match e {
                        Evidence::Text {
                            key: k, required, ..
                        } if k == key => Some(*required),
                        _ => None,
                    });
                    match spec {
                        None => return Err(unknown(key, value)),
                        Some(true) if value.trim().is_empty() => {
                            return Err(RuleError::InvalidValue {
                                field: key.clone(),
                                value: "(empty)".into(),
                            });
                        }
                        Some(_) => {}
                    }
                }
                for reading in &r.readings {
                    let known = s.evidence.iter().any(|e| match e {
                        Evidence::Readings { specs } => specs.iter().any(|x| x.key == reading.key),
                        _ => false,
                    });
                    if !known || !reading.value.is_finite() {
                        return Err(unknown(&reading.key, &reading.value.to_string()));
                    }
                }
                Ok(())
            }
            EventBody::ReadingRecorded { checkpoint, .. } => {
                let cp = self.job.checkpoints.iter().find(|c| &c.id == checkpoint);
                for reading in &r.readings {
                    let known = cp.is_some_and(|c| c.readings.iter().any(|x| x.key == reading.key));
                    if !known || !reading.value.is_finite() {
                        return Err(unknown(&reading.key, &reading.value.to_string()));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn unknown(field: &str, value: &str) -> RuleError {
    RuleError::InvalidValue {
        field: field.into(),
        value: value.into(),
    }
}

/// The values shown as current for a record: the original's, overridden by each correction's in
/// order (a later correction of the same field wins).
pub fn current_text(
    original: &BTreeMap<String, String>,
    corrections: &[Replacement],
) -> BTreeMap<String, String> {
    let mut text = original.clone();
    for r in corrections {
        text.extend(r.text.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    text
}
