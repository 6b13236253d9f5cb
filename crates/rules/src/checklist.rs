//! The checklist engine: decides whether an action may be recorded on a job, given the job's
//! template and what has been recorded so far. Pure functions: no clock, no storage.

use crate::error::RuleError;
use crate::lang::Localized;
use crate::progress::{JobProgress, StepRecord};
use crate::template::{Evidence, Incident, StepTemplate, Template};
use chrono::NaiveDate;
use heatcrew_protocol::{
    AttachmentRef, EventBody, Job, JobStatus, Resolution, SignatureRefusal, Signer, Witness,
};

/// A job as the engine sees it: the dispatched job and whether it is still this device's.
#[derive(Debug, Clone, Copy)]
pub struct JobContext<'a> {
    pub job: &'a Job,
    pub template: &'a Template,
    pub progress: &'a JobProgress,
    /// The office reassigned the job to someone else.
    pub revoked: bool,
}

impl<'a> JobContext<'a> {
    /// The steps that apply to this job, in order.
    pub fn steps(&self) -> impl Iterator<Item = &'a StepTemplate> {
        self.template.steps_for(self.job.street_work)
    }

    /// The first step that is neither done nor skipped.
    pub fn current_step(&self) -> Option<&'a StepTemplate> {
        let progress = self.progress;
        self.steps().find(|s| !progress.steps.contains_key(&s.id))
    }

    /// What still stands between the job and closing it (empty when it may close).
    pub fn close_blockers(&self) -> Vec<Localized> {
        let mut out: Vec<Localized> = self
            .steps()
            .filter(|s| !self.progress.steps.contains_key(&s.id))
            .map(|s| {
                Localized::new(
                    format!("未完成步骤「{}」", s.title.zh),
                    format!("step \"{}\" not done", s.title.en),
                )
            })
            .collect();
        // A visit never closes without a signature or a recorded refusal/absence, even if an old
        // template had let the step be skipped.
        for step in self.steps() {
            let wants_signature = step
                .evidence
                .iter()
                .any(|e| matches!(e, Evidence::Signature { .. }));
            if wants_signature && !self.progress.signatures.contains_key(&step.id) {
                out.push(Localized::new(
                    format!("「{}」缺少签字或拒签记录", step.title.zh),
                    format!(
                        "\"{}\" needs a signature or a recorded refusal",
                        step.title.en
                    ),
                ));
            }
        }
        out.dedup();
        out
    }

    /// Check one action against the rules. `today` is the device's local date (for deadlines).
    pub fn check(&self, body: &EventBody, today: NaiveDate) -> Result<(), RuleError> {
        if let EventBody::Correction {
            corrects, reason, ..
        } = body
        {
            let names_rating = self.progress.rating.as_ref().map(|r| r.event_id) == Some(*corrects);
            if names_rating {
                return Err(RuleError::RatingLocked);
            }
            if reason.trim().is_empty() || !self.progress.event_ids.contains(corrects) {
                return Err(RuleError::BadCorrection);
            }
            return Ok(());
        }
        // A customer may phone for another appointment after a not-home closure too.
        if let EventBody::RescheduleRequested { preferred, .. } = body {
            return self.check_reschedule(preferred);
        }
        self.check_active()?;
        match body {
            EventBody::JobCreated { .. } => Err(RuleError::InvalidValue {
                field: "job".into(),
                value: "already exists".into(),
            }),
            EventBody::StepCompleted { step, evidence } => {
                let s = self.check_current(step)?;
                self.check_evidence(s, evidence)
            }
            EventBody::StepSkipped { step, reason } => {
                let s = self.check_current(step)?;
                if !s.skippable || !self.skip_allowed(s) {
                    return Err(RuleError::StepNotSkippable(step.clone()));
                }
                if reason.trim().chars().count() < 2 {
                    return Err(RuleError::SkipReasonMissing);
                }
                Ok(())
            }
            EventBody::PhotoAdded { step, .. } => {
                let s = self.check_current(step)?;
                wants(s, |e| matches!(e, Evidence::Photos { .. }))
            }
            EventBody::SignatureCaptured { step, signer, .. } => {
                let want = self.check_signature_step(step)?;
                if *signer != want {
                    return Err(RuleError::WrongSigner {
                        want: signer_name(want).into(),
                        got: signer_name(*signer).into(),
                    });
                }
                Ok(())
            }
            EventBody::SignatureDeclined {
                step,
                reason,
                witness,
                ..
            } => {
                self.check_signature_step(step)?;
                check_decline(reason, witness.as_ref())
            }
            EventBody::OpinionGiven { stars, answers, .. } => {
                self.check(
                    &EventBody::RatingGiven {
                        stars: *stars,
                        comment: String::new(),
                    },
                    today,
                )?;
                crate::opinion::check_answers(answers)
            }
            EventBody::RatingGiven { stars, .. } => {
                if self.progress.rating.is_some() {
                    return Err(RuleError::RatingLocked);
                }
                let current = self.current_step().ok_or(RuleError::RatingLocked)?;
                wants(current, |e| matches!(e, Evidence::Rating))?;
                if !(1..=5).contains(stars) {
                    return Err(RuleError::RatingOutOfRange);
                }
                Ok(())
            }
            EventBody::DamageRecorded {
                item,
                description,
                customer_signature,
                signature_refused,
                ..
            } => {
                self.allows(Incident::Damage, "damage")?;
                non_empty("item", item)?;
                non_empty("description", description)?;
                check_co_signature(customer_signature.as_ref(), signature_refused.as_ref())
            }
            EventBody::NetworkDamageRecorded {
                equipment,
                cause,
                customer_signature,
                signature_refused,
                ..
            } => {
                self.allows(Incident::NetworkDamage, "network damage")?;
                non_empty("equipment", equipment)?;
                non_empty("cause", cause)?;
                check_co_signature(customer_signature.as_ref(), signature_refused.as_ref())
            }
            EventBody::NoEntryRecorded {
                reason, witness, ..
            } => {
                self.check_before_entry()?;
                if self.progress.no_entry.is_some() {
                    return Err(RuleError::InvalidValue {
                        field: "no_entry".into(),
                        value: "already recorded".into(),
                    });
                }
                check_decline(reason, witness.as_ref())
            }
            EventBody::FindingRecorded { description, .. } => {
                self.allows(Incident::Finding, "finding")?;
                non_empty("description", description)
            }
            EventBody::NoticeIssued {
                number,
                deadline,
                requirements,
                follow_up_on,
            } => {
                self.allows(Incident::Notice, "notice")?;
                non_empty("number", number)?;
                non_empty("requirements", requirements)?;
                if *deadline < today {
                    return Err(RuleError::DeadlineInPast);
                }
                follow_up(*deadline, *follow_up_on)
            }
            EventBody::ReadingRecorded {
                checkpoint,
                readings,
                ..
            } => {
                self.allows(Incident::Reading, "reading")?;
                let cp = self.checkpoint(checkpoint)?;
                if readings.is_empty() {
                    return Err(RuleError::EvidenceMissing {
                        step: checkpoint.clone(),
                        what_zh: "读数".into(),
                        what_en: "readings".into(),
                    });
                }
                for r in readings {
                    let known = cp.readings.iter().any(|spec| spec.key == r.key);
                    if !known || !r.value.is_finite() {
                        return Err(RuleError::InvalidValue {
                            field: r.key.clone(),
                            value: r.value.to_string(),
                        });
                    }
                }
                Ok(())
            }
            EventBody::DefectReported {
                checkpoint,
                category,
                description,
                ..
            } => {
                self.allows(Incident::Defect, "defect")?;
                non_empty("category", category)?;
                non_empty("description", description)?;
                if let Some(cp) = checkpoint
                    && !self.job.checkpoints.iter().any(|c| &c.id == cp)
                {
                    return Err(RuleError::InvalidValue {
                        field: "checkpoint".into(),
                        value: cp.clone(),
                    });
                }
                Ok(())
            }
            // An accident may be reported from any job: safety comes before checklists.
            EventBody::AccidentReported { description, .. } => {
                non_empty("description", description)
            }
            EventBody::JobClosed {
                resolution: Resolution::NoEntry,
                ..
            } => {
                // Not home: no repair, clean-up or signature is owed, only the door's record.
                self.check_before_entry()?;
                if self.progress.no_entry.is_none() {
                    return Err(RuleError::CannotClose(vec![
                        "record the no-entry outcome first (reason and a photo of the door)".into(),
                    ]));
                }
                Ok(())
            }
            EventBody::JobClosed { .. } => {
                let blockers = self.close_blockers();
                if blockers.is_empty() {
                    Ok(())
                } else {
                    Err(RuleError::CannotClose(
                        blockers.into_iter().map(|b| b.en).collect(),
                    ))
                }
            }
            EventBody::Correction { .. } | EventBody::RescheduleRequested { .. } => Ok(()),
            EventBody::CheckpointConfirmed {
                checkpoint, code, ..
            } => {
                self.allows(Incident::Reading, "checkpoint")?;
                let cp = self.checkpoint(checkpoint)?;
                if cp.code_sha256.is_none() {
                    return Err(RuleError::CheckpointHasNoCode(checkpoint.clone()));
                }
                if !cp.code_matches(code) {
                    return Err(RuleError::WrongCheckpointCode(checkpoint.clone()));
                }
                Ok(())
            }
            EventBody::ShiftReadinessConfirmed { day, checks } => {
                if *day != today {
                    return Err(RuleError::InvalidValue {
                        field: "day".into(),
                        value: day.to_string(),
                    });
                }
                crate::readiness::check(checks)
            }
        }
    }

    /// A no-entry outcome belongs at the door: the template must name its entry step and that
    /// step must not be recorded yet.
    fn check_before_entry(&self) -> Result<(), RuleError> {
        let entry = self
            .template
            .entry_step
            .as_deref()
            .ok_or(RuleError::RecordNotAllowed("no entry"))?;
        if self.progress.steps.contains_key(entry) {
            return Err(RuleError::AlreadyEntered);
        }
        Ok(())
    }

    /// A visit to a customer's home (its template names an entry step), open or closed as not-home,
    /// and a window that ends after it starts.
    fn check_reschedule(
        &self,
        preferred: &heatcrew_protocol::AppointmentWindow,
    ) -> Result<(), RuleError> {
        if self.template.entry_step.is_none() {
            return Err(RuleError::RecordNotAllowed("reschedule"));
        }
        let closed_not_home = self
            .progress
            .closed
            .as_ref()
            .is_some_and(|c| c.resolution == Resolution::NoEntry);
        if !closed_not_home {
            self.check_active()?;
        } else if self.job.status == JobStatus::Cancelled {
            return Err(RuleError::JobNotActive("cancelled"));
        } else if self.revoked {
            return Err(RuleError::JobNotActive("revoked"));
        }
        if preferred.end <= preferred.start {
            return Err(RuleError::InvalidValue {
                field: "preferred".into(),
                value: "ends before it starts".into(),
            });
        }
        Ok(())
    }

    fn check_active(&self) -> Result<(), RuleError> {
        if self.progress.closed.is_some() {
            return Err(RuleError::JobNotActive("closed"));
        }
        if self.job.status == JobStatus::Cancelled {
            return Err(RuleError::JobNotActive("cancelled"));
        }
        if self.revoked {
            return Err(RuleError::JobNotActive("revoked"));
        }
        Ok(())
    }

    /// The job's checkpoint `id`; one the job does not have is an invalid value.
    fn checkpoint(&self, id: &str) -> Result<&heatcrew_protocol::Checkpoint, RuleError> {
        self.job
            .checkpoints
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| RuleError::InvalidValue {
                field: "checkpoint".into(),
                value: id.to_owned(),
            })
    }

    /// Whether a skippable step's condition for skipping holds (`skip_only_if`: an earlier
    /// step's choice).
    pub fn skip_allowed(&self, s: &StepTemplate) -> bool {
        let Some(c) = &s.skip_only_if else {
            return true;
        };
        match self.progress.steps.get(&c.step) {
            Some(StepRecord::Done { evidence, .. }) => evidence
                .states
                .get(&c.key)
                .is_some_and(|v| c.any_of.contains(v)),
            _ => false,
        }
    }

    fn allows(&self, incident: Incident, name: &'static str) -> Result<(), RuleError> {
        if self.template.allows(incident) {
            Ok(())
        } else {
            Err(RuleError::RecordNotAllowed(name))
        }
    }

    /// The step must exist, apply to this job, not be done, and be the current one.
    fn check_current(&self, step: &str) -> Result<&'a StepTemplate, RuleError> {
        let s = self
            .steps()
            .find(|s| s.id == step)
            .ok_or_else(|| RuleError::UnknownStep(step.to_owned()))?;
        if self.progress.steps.contains_key(step) {
            return Err(RuleError::StepAlreadyDone(step.to_owned()));
        }
        let current = self
            .current_step()
            .ok_or_else(|| RuleError::StepAlreadyDone(step.to_owned()))?;
        if current.id != step {
            return Err(RuleError::StepOutOfOrder {
                step: step.to_owned(),
                current: current.title.zh.clone() + " / " + &current.title.en,
            });
        }
        Ok(s)
    }

    /// The step must be the current one and take a signature; answers who signs it.
    fn check_signature_step(&self, step: &str) -> Result<Signer, RuleError> {
        let s = self.check_current(step)?;
        wants(s, |e| matches!(e, Evidence::Signature { .. }))?;
        if self.progress.signatures.contains_key(step) {
            return Err(RuleError::AlreadySigned);
        }
        Ok(s.evidence
            .iter()
            .find_map(|e| match e {
                Evidence::Signature { signer } => Some(*signer),
                _ => None,
            })
            .unwrap_or_default())
    }

    fn check_evidence(
        &self,
        step: &StepTemplate,
        given: &heatcrew_protocol::StepEvidence,
    ) -> Result<(), RuleError> {
        let mut missing_zh = Vec::new();
        let mut missing_en = Vec::new();
        let mut miss = |l: &Localized| {
            missing_zh.push(l.zh.clone());
            missing_en.push(l.en.clone());
        };
        for e in &step.evidence {
            match e {
                Evidence::Photos { min, label } => {
                    if self.progress.photo_count(&step.id) < *min as usize {
                        miss(&Localized::new(
                            format!("{}(至少{}张)", label.zh, min),
                            format!("{} (at least {})", label.en, min),
                        ));
                    }
                }
                Evidence::Text {
                    key,
                    label,
                    required,
                    ..
                } => {
                    let blank = given.text.get(key).is_none_or(|t| t.trim().is_empty());
                    if *required && blank {
                        miss(label);
                    }
                }
                Evidence::Choice {
                    key,
                    label,
                    required,
                    options,
                } => match given.states.get(key) {
                    Some(v) if !options.iter().any(|o| &o.value == v) => {
                        return Err(RuleError::InvalidValue {
                            field: key.clone(),
                            value: v.clone(),
                        });
                    }
                    None if *required => miss(label),
                    _ => {}
                },
                Evidence::Readings { specs } => {
                    for spec in specs {
                        match given.readings.iter().find(|r| r.key == spec.key) {
                            Some(r) if r.value.is_finite() => {}
                            Some(r) => {
                                return Err(RuleError::InvalidValue {
                                    field: r.key.clone(),
                                    value: r.value.to_string(),
                                });
                            }
                            None => miss(&Localized::new(
                                spec.label_zh.clone(),
                                spec.label_en.clone(),
                            )),
                        }
                    }
                }
                Evidence::Signature { .. } => {
                    if !self.progress.signatures.contains_key(&step.id) {
                        miss(&Localized::new(
                            "客户签字或拒签/不在场记录",
                            "the customer's signature or a recorded refusal/absence",
                        ));
                    }
                }
                Evidence::Rating => {
                    if self.progress.rating.is_none() {
                        miss(&Localized::new("客户满意度评价", "the customer's rating"));
                    }
                }
                Evidence::Notice => {
                    if self.progress.notices.is_empty() {
                        miss(&Localized::new("整改通知书", "a rectification notice"));
                    }
                }
                Evidence::Checkpoints => {
                    for cp in &self.job.checkpoints {
                        if self.progress.visits.get(&cp.id).is_none_or(Vec::is_empty) {
                            miss(&Localized::new(
                                format!("{} 的巡检记录", cp.name),
                                format!("a reading at {}", cp.name),
                            ));
                        }
                    }
                }
                Evidence::ContactCard { .. } | Evidence::Confirm { .. } => {}
            }
        }
        if missing_en.is_empty() {
            Ok(())
        } else {
            Err(RuleError::EvidenceMissing {
                step: step.id.clone(),
                what_zh: missing_zh.join("、"),
                what_en: missing_en.join(", "),
            })
        }
    }
}

fn wants(step: &StepTemplate, pred: impl Fn(&Evidence) -> bool) -> Result<(), RuleError> {
    if step.evidence.iter().any(pred) {
        Ok(())
    } else {
        Err(RuleError::WrongStepForRecord(step.id.clone()))
    }
}

fn signer_name(s: Signer) -> &'static str {
    match s {
        Signer::Customer => "customer",
        Signer::Witness => "witness",
        Signer::Technician => "technician",
        Signer::Contractor => "contractor",
    }
}

/// A refusal or absence needs a reason; a witness, if named, needs a name.
fn check_decline(reason: &str, witness: Option<&Witness>) -> Result<(), RuleError> {
    if reason.trim().is_empty() {
        return Err(RuleError::DeclineReasonMissing);
    }
    if witness.is_some_and(|w| w.name.trim().is_empty()) {
        return Err(RuleError::InvalidValue {
            field: "witness".into(),
            value: "no name".into(),
        });
    }
    Ok(())
}

/// A damage record is co-signed by the customer or carries the refusal: one of the two, never both.
fn check_co_signature(
    signature: Option<&AttachmentRef>,
    refused: Option<&SignatureRefusal>,
) -> Result<(), RuleError> {
    match (signature, refused) {
        (Some(_), None) => Ok(()),
        (None, Some(r)) => check_decline(&r.reason, r.witness.as_ref()),
        (Some(_), Some(_)) => Err(RuleError::InvalidValue {
            field: "signature_refused".into(),
            value: "signed and refused at once".into(),
        }),
        (None, None) => Err(RuleError::EvidenceMissing {
            step: "damage".into(),
            what_zh: "客户签字或拒签记录".into(),
            what_en: "the customer's signature or a recorded refusal".into(),
        }),
    }
}

fn non_empty(field: &str, value: &str) -> Result<(), RuleError> {
    if value.trim().is_empty() {
        Err(RuleError::InvalidValue {
            field: field.into(),
            value: "(empty)".into(),
        })
    } else {
        Ok(())
    }
}

/// A notice's follow-up inspection (复查日期), if set, is on or after its deadline: the customer
/// has until the deadline to comply. The office checks the same on every pushed notice.
pub fn follow_up(deadline: NaiveDate, follow_up_on: Option<NaiveDate>) -> Result<(), RuleError> {
    if follow_up_on.is_some_and(|f| f < deadline) {
        return Err(RuleError::FollowUpBeforeDeadline);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template;
    use heatcrew_protocol::{Checkpoint, CheckpointKind, CodeEntry, JobKind, TemplateRef};
    use uuid::Uuid;

    fn patrol(code: Option<&str>) -> Job {
        let mut cp = Checkpoint {
            id: "hs-east".into(),
            name: "东郊热源首站".into(),
            kind: CheckpointKind::HeadStation,
            readings: vec![],
            interval_minutes: None,
            code_sha256: None,
        };
        cp.code_sha256 = code.map(|c| Checkpoint::code_digest(&cp.id, c));
        Job {
            id: Uuid::now_v7(),
            kind: JobKind::PatrolRound,
            template: TemplateRef {
                id: "patrol_round".into(),
                version: 1,
            },
            title: "巡检".into(),
            customer: None,
            site: None,
            reported_at: None,
            window: None,
            assignee: None,
            street_work: false,
            checkpoints: vec![cp],
            status: JobStatus::Open,
            utc_offset_minutes: None,
            revision: 1,
        }
    }

    fn confirm(job: &Job, code: &str) -> Result<(), RuleError> {
        let progress = JobProgress::default();
        let ctx = JobContext {
            job,
            template: template::for_job(job)?,
            progress: &progress,
            revoked: false,
        };
        let body = EventBody::CheckpointConfirmed {
            checkpoint: "hs-east".into(),
            code: code.into(),
            method: CodeEntry::Typed,
            position: None,
        };
        ctx.check(&body, NaiveDate::from_ymd_opt(2026, 12, 2).expect("date"))
    }

    #[test]
    fn only_the_code_posted_at_the_station_confirms_presence() {
        let job = patrol(Some("7K3M-9Q2P"));
        assert_eq!(confirm(&job, "7K3M-9Q2P"), Ok(()), "the code on the plate");
        assert_eq!(
            confirm(&job, " 7k3m 9q2p"),
            Ok(()),
            "as typed: case, spaces, no dash"
        );
        for wrong in ["7K3M-9Q2", "7K3M-9Q2PX", "HP2X-8R4T", ""] {
            assert_eq!(
                confirm(&job, wrong),
                Err(RuleError::WrongCheckpointCode("hs-east".into())),
                "{wrong:?} is not the code"
            );
        }
        let mut elsewhere = patrol(None);
        elsewhere.checkpoints[0].id = "ss-xingfu".into();
        elsewhere.checkpoints[0].code_sha256 =
            Some(Checkpoint::code_digest("ss-xingfu", "7K3M-9Q2P"));
        elsewhere.checkpoints[0].id = "hs-east".into();
        assert!(
            confirm(&elsewhere, "7K3M-9Q2P").is_err(),
            "the same code bound to another station is no use here"
        );
        assert_eq!(
            confirm(&patrol(None), "7K3M-9Q2P"),
            Err(RuleError::CheckpointHasNoCode("hs-east".into())),
            "a station the office gave no code"
        );
    }
}
