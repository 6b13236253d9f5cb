//! Corrections and personal details in the views.
//!
//! - A job's corrections ([`CorrectionView`]) and the records a technician may correct with what
//!   they hold now ([`correctable`]: a step's text fields and readings, a checkpoint's readings, a
//!   finding's description), read from the job's own events, so the original stays visible beside
//!   the corrected values.
//! - The standard phrases and the contact card filled with the signed-in technician's name and
//!   badge, the company's name and hotline (from the office, with sync) and the appointment
//!   ([`fill_details`]).

use super::types::JobView;
use crate::error::Result;
use crate::store::{Store, StoredJob};
use chrono::{DateTime, Local, Utc};
use heatcrew_protocol::{EventBody, Reading};
use heatcrew_rules::correction::{Replacement, current_text};
use heatcrew_rules::opinion::{self, OpinionQuestion};
use heatcrew_rules::phrases::{self, Details};
use heatcrew_rules::progress::JobProgress;
use heatcrew_rules::template::{Evidence, Template};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;
use uuid::Uuid;

/// A correction recorded on the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CorrectionView {
    /// The correction's own event.
    pub event_id: Option<Uuid>,
    /// The record it corrects (unchanged in the log).
    pub corrects: Uuid,
    pub reason: String,
    pub at: DateTime<Utc>,
    /// The corrected values, if any (a correction may only say what was wrong).
    pub replacement: Option<Replacement>,
}

/// A record of the job a technician may correct, with its values as first recorded and as they
/// stand after every correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CorrectableRecord {
    pub event_id: Uuid,
    /// `step_completed`, `reading_recorded` or `finding_recorded`.
    pub kind: String,
    pub step: Option<String>,
    pub checkpoint: Option<String>,
    pub finding_id: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    /// The values as recorded: the log keeps them whatever follows.
    pub original: Replacement,
    /// The values now: the original overridden by each correction in turn.
    pub current: Replacement,
    pub corrections: Vec<CorrectionView>,
}

/// The job's corrections, oldest first.
pub fn corrections(p: &JobProgress) -> Vec<CorrectionView> {
    p.corrections
        .iter()
        .map(|c| CorrectionView {
            event_id: c.event_id,
            corrects: c.corrects,
            reason: c.reason.clone(),
            at: c.at,
            replacement: Replacement::parse(c.replacement.as_ref()).ok().flatten(),
        })
        .collect()
}

/// The opinion form's questions when the template asks for a rating.
pub fn opinion_form(template: &Template) -> Vec<OpinionQuestion> {
    let rated = template
        .steps
        .iter()
        .any(|s| s.evidence.iter().any(|e| matches!(e, Evidence::Rating)));
    if rated {
        opinion::questions()
    } else {
        Vec::new()
    }
}

/// The records of `job_id` a technician may correct (texts, readings, findings), oldest first.
pub fn correctable(store: &Store, job_id: Uuid) -> Result<Vec<CorrectableRecord>> {
    store.check_theirs(job_id)?;
    let records = store.job_records(job_id)?;
    let mut fixes: BTreeMap<Uuid, Vec<CorrectionView>> = BTreeMap::new();
    for r in &records {
        if let EventBody::Correction {
            corrects,
            reason,
            replacement,
        } = &r.body
        {
            fixes.entry(*corrects).or_default().push(CorrectionView {
                event_id: Some(r.event_id),
                corrects: *corrects,
                reason: reason.clone(),
                at: r.recorded_at,
                replacement: Replacement::parse(replacement.as_ref()).ok().flatten(),
            });
        }
    }
    let mut out = Vec::new();
    for r in records {
        let (kind, step, checkpoint, finding_id, original) = match r.body {
            EventBody::StepCompleted { step, evidence } => {
                let original = Replacement {
                    text: evidence.text,
                    readings: evidence.readings,
                    description: None,
                };
                ("step_completed", Some(step), None, None, original)
            }
            EventBody::ReadingRecorded {
                checkpoint,
                readings,
                ..
            } => {
                let original = Replacement {
                    readings,
                    ..Replacement::default()
                };
                ("reading_recorded", None, Some(checkpoint), None, original)
            }
            EventBody::FindingRecorded {
                finding_id,
                description,
                ..
            } => {
                let original = Replacement {
                    description: Some(description),
                    ..Replacement::default()
                };
                ("finding_recorded", None, None, Some(finding_id), original)
            }
            _ => continue,
        };
        let corrections = fixes.remove(&r.event_id).unwrap_or_default();
        let current = current_values(&original, &corrections);
        out.push(CorrectableRecord {
            event_id: r.event_id,
            kind: kind.into(),
            step,
            checkpoint,
            finding_id,
            recorded_at: r.recorded_at,
            original,
            current,
            corrections,
        });
    }
    Ok(out)
}

fn current_values(original: &Replacement, corrections: &[CorrectionView]) -> Replacement {
    let fixes: Vec<Replacement> = corrections
        .iter()
        .filter_map(|c| c.replacement.clone())
        .collect();
    let mut readings: Vec<Reading> = original.readings.clone();
    for f in &fixes {
        for r in &f.readings {
            match readings.iter_mut().find(|x| x.key == r.key) {
                Some(x) => *x = r.clone(),
                None => readings.push(r.clone()),
            }
        }
    }
    Replacement {
        text: current_text(&original.text, &fixes),
        readings,
        description: fixes
            .iter()
            .rev()
            .find_map(|f| f.description.clone())
            .or_else(|| original.description.clone()),
    }
}

/// Fill the standard phrases and the contact card with who is speaking and for which company.
pub fn fill_details(store: &Store, job: &StoredJob, view: &mut JobView) -> Result<()> {
    let company = store.company_profile()?.unwrap_or_default();
    let user = store.session()?.map(|s| s.user);
    let window = job
        .job
        .window
        .map(|w| {
            let (s, e) = (w.start.with_timezone(&Local), w.end.with_timezone(&Local));
            format!("{}–{}", s.format("%m-%d %H:%M"), e.format("%H:%M"))
        })
        .unwrap_or_default();
    let details = Details {
        company: &company.name,
        name: user.as_ref().map_or("", |u| u.display_name.as_str()),
        badge: user.as_ref().map_or("", |u| u.badge_no.as_str()),
        hotline: &company.hotline,
        window: &window,
    };
    for step in &mut view.steps {
        if let Some(p) = &step.phrase {
            step.phrase = Some(phrases::fill(p, &details));
        }
        for e in &mut step.evidence {
            if let Evidence::ContactCard { phone, .. } = e {
                // An unknown hotline stays empty: the card says it is not synced yet.
                *phone = phone.replace("{hotline}", company.hotline.trim());
            }
        }
    }
    Ok(())
}
