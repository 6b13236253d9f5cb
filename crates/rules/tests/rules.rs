//! heatcrew-rules' tests: the templates, the checklist engine and the clocks, with no store at all
//! (the office will apply these rules to what it receives, so they must work on bare values).
//! The same rules seen through the device store are tested in crates/core/tests/core/rules.rs.
//! Every assertion says why it matters.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, DeclineKind, Digest, EventBody, Job, JobKind, JobStatus,
    Resolution, Signer, StepEvidence,
};
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::progress::{EventMeta, JobProgress};
use heatcrew_rules::sla::{self, Arrival, Sla};
use heatcrew_rules::template::{self, Evidence};
use heatcrew_rules::{Lang, RuleError};
use uuid::Uuid;

// ---------------------------------------------------------------- helpers

/// 1 December 2026 at `h:m` UTC.
fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0)
        .single()
        .expect("a valid time")
}

/// A home repair job as the office dispatches it: reported at 08:00, visit window 09:00–11:00.
fn home_repair_job() -> Job {
    Job {
        id: Uuid::now_v7(),
        kind: JobKind::HomeRepair,
        template: template::latest_for(JobKind::HomeRepair).reference(),
        title: "暖气不热".into(),
        customer: None,
        site: None,
        reported_at: Some(at(8, 0)),
        window: Some(AppointmentWindow {
            start: at(9, 0),
            end: at(11, 0),
        }),
        assignee: None,
        street_work: false,
        checkpoints: Vec::new(),
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

fn done(step: &str) -> EventBody {
    EventBody::StepCompleted {
        step: step.into(),
        evidence: StepEvidence::default(),
    }
}

/// A file reference; the rules never open files (that the file exists is the store's check).
fn photo(n: u8) -> AttachmentRef {
    AttachmentRef {
        sha256: Digest::of(&[n]),
        bytes: 1,
        mime: "image/jpeg".into(),
        width: 0,
        height: 0,
        taken_at: None,
        gps: None,
    }
}

/// A job and what was recorded on it, as bare values: what the office holds for a device's job.
struct Visit {
    job: Job,
    progress: JobProgress,
    revoked: bool,
    seq: u64,
}

impl Visit {
    fn new(job: Job) -> Visit {
        Visit {
            job,
            progress: JobProgress::default(),
            revoked: false,
            seq: 0,
        }
    }

    /// Check `body` against the rules and, if they allow it, fold it in. Returns the event's id.
    fn record(&mut self, body: EventBody) -> Result<Uuid, RuleError> {
        let template = template::for_job(&self.job)?;
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("a valid date");
        JobContext {
            job: &self.job,
            template,
            progress: &self.progress,
            revoked: self.revoked,
        }
        .check(&body, today)?;
        self.seq += 1;
        let meta = EventMeta {
            id: Uuid::now_v7(),
            seq: self.seq,
            at: at(9, 0) + Duration::minutes(self.seq as i64),
        };
        self.progress.apply(meta, &body);
        Ok(meta.id)
    }

    fn code(&mut self, body: EventBody) -> &'static str {
        match self.record(body) {
            Ok(_) => "recorded",
            Err(e) => e.code().as_str(),
        }
    }

    fn close_blockers(&self) -> Vec<String> {
        let template = template::for_job(&self.job).expect("a bundled template");
        JobContext {
            job: &self.job,
            template,
            progress: &self.progress,
            revoked: self.revoked,
        }
        .close_blockers()
        .into_iter()
        .map(|b| b.en)
        .collect()
    }

    /// Walk the home repair checklist up to (not including) `until`, with all evidence.
    fn walk_until(&mut self, until: &str) {
        let steps: Vec<String> = template::for_job(&self.job)
            .expect("a bundled template")
            .steps_for(self.job.street_work)
            .map(|s| s.id.clone())
            .collect();
        for step in steps.iter().take_while(|s| *s != until) {
            let result = match step.as_str() {
                "diagnose_repair" => {
                    for n in 0..2 {
                        self.record(EventBody::PhotoAdded {
                            step: step.clone(),
                            photo: photo(n),
                            caption: String::new(),
                        })
                        .expect("a photo at the repair step");
                    }
                    let mut evidence = StepEvidence::default();
                    evidence
                        .text
                        .insert("fault_found".into(), "阀门堵塞".into());
                    evidence.text.insert("work_done".into(), "清洗阀芯".into());
                    self.record(EventBody::StepCompleted {
                        step: step.clone(),
                        evidence,
                    })
                }
                "clean_up" => {
                    self.record(EventBody::PhotoAdded {
                        step: step.clone(),
                        photo: photo(9),
                        caption: String::new(),
                    })
                    .expect("a photo of the cleaned site");
                    self.record(done(step))
                }
                "signature" => {
                    self.record(EventBody::SignatureCaptured {
                        step: step.clone(),
                        signer: Signer::Customer,
                        signer_name: "王秀英".into(),
                        image: photo(10),
                    })
                    .expect("the customer signs");
                    self.record(done(step))
                }
                "rating" => {
                    self.record(EventBody::RatingGiven {
                        stars: 5,
                        comment: String::new(),
                    })
                    .expect("the customer rates");
                    self.record(done(step))
                }
                _ => self.record(done(step)),
            };
            result.unwrap_or_else(|e| panic!("step {step} with its evidence is accepted: {e}"));
        }
    }
}

// ---------------------------------------------------------------- templates

#[test]
fn every_template_is_bilingual_and_well_formed() {
    for t in template::catalog().values() {
        assert!(
            !t.title.zh.is_empty() && !t.title.en.is_empty(),
            "{}: title in both languages",
            t.id
        );
        let mut ids: Vec<_> = t.steps.iter().map(|s| s.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            t.steps.len(),
            "{}: step ids must be unique",
            t.id
        );
        for s in &t.steps {
            assert!(
                !s.title.zh.is_empty() && !s.title.en.is_empty(),
                "{}/{}: step title in both languages",
                t.id,
                s.id
            );
            assert!(
                !s.evidence.is_empty(),
                "{}/{}: every step says what evidence it needs",
                t.id,
                s.id
            );
        }
    }
    for kind in JobKind::ALL {
        assert_eq!(
            template::latest_for(kind).kind,
            kind,
            "every job kind has a template"
        );
    }
}

#[test]
fn the_home_repair_checklist_follows_the_service_standard() {
    let t = template::latest_for(JobKind::HomeRepair);
    let ids: Vec<_> = t.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "appointment",
            "arrive",
            "identify",
            "knock_consent",
            "shoe_covers",
            "safety_signs",
            "diagnose_repair",
            "clean_up",
            "signature",
            "rating",
            "contact_card"
        ],
        "the steps run in the order of docs/domain.md §1"
    );
    let identify = t.step("identify").expect("identify step");
    assert!(
        identify
            .phrase
            .as_ref()
            .is_some_and(|p| p.zh.contains("这是我的工作证")),
        "the standard greeting is shown at the ID step"
    );
    let sig = t.step("signature").expect("signature step");
    assert!(
        !sig.skippable,
        "the signature step can only end in a signature or a recorded refusal"
    );
    assert!(
        sig.evidence.contains(&Evidence::Signature {
            signer: Signer::Customer
        }),
        "the signature step asks for a signature or refusal"
    );
}

#[test]
fn a_job_naming_an_unknown_template_is_refused_by_name() {
    let mut job = home_repair_job();
    job.template.version = 99;
    let err = template::for_job(&job).expect_err("no such version in this build");
    assert_eq!(
        err,
        RuleError::UnknownTemplate("home_repair".into()),
        "a job from a newer office names the template this build lacks"
    );
    assert!(
        err.message(Lang::Zh).contains("请升级应用"),
        "and tells the technician to update the app: {}",
        err.message(Lang::Zh)
    );
}

// ---------------------------------------------------------------- the checklist, without a store

#[test]
fn steps_run_in_order_and_each_is_done_once() {
    let mut v = Visit::new(home_repair_job());
    let err = v.record(done("identify")).expect_err("out of order");
    assert_eq!(
        err.code(),
        "step_out_of_order",
        "a step cannot be done before the ones ahead of it"
    );
    assert!(
        err.message(Lang::Zh).contains("预约确认") && err.message(Lang::En).contains("appointment"),
        "the message names the current step in both languages: {} / {}",
        err.message(Lang::Zh),
        err.message(Lang::En)
    );
    assert_eq!(
        v.code(done("appointment")),
        "recorded",
        "the first step is the current one"
    );
    assert_eq!(
        v.code(done("appointment")),
        "step_already_done",
        "a done step is not done again; corrections are separate events"
    );
    let skip_arrival = EventBody::StepSkipped {
        step: "arrive".into(),
        reason: "赶时间".into(),
    };
    assert_eq!(
        v.code(skip_arrival),
        "step_not_skippable",
        "arrival must be recorded, never skipped"
    );
}

#[test]
fn a_step_counts_only_with_its_evidence() {
    let mut v = Visit::new(home_repair_job());
    v.walk_until("diagnose_repair");
    let err = v.record(done("diagnose_repair")).expect_err("no evidence");
    let RuleError::EvidenceMissing {
        what_zh, what_en, ..
    } = &err
    else {
        panic!("expected missing evidence, got {err:?}");
    };
    assert!(
        what_zh.contains("故障原因") && what_en.contains("at least 2"),
        "the refusal lists what is missing, texts and photos: {what_zh} / {what_en}"
    );
    assert_eq!(
        v.progress.steps.get("diagnose_repair"),
        None,
        "a refused step is not folded in"
    );
}

#[test]
fn a_visit_closes_only_with_a_signature_or_a_recorded_refusal() {
    let mut v = Visit::new(home_repair_job());
    v.walk_until("signature");
    let close = EventBody::JobClosed {
        resolution: Resolution::Resolved,
        summary: String::new(),
    };
    assert_eq!(
        v.code(close.clone()),
        "cannot_close",
        "no signature, no closing"
    );
    assert!(
        v.close_blockers()
            .iter()
            .any(|b| b.contains("needs a signature or a recorded refusal")),
        "the blockers say the signature is missing: {:?}",
        v.close_blockers()
    );
    let decline = |reason: &str| EventBody::SignatureDeclined {
        step: "signature".into(),
        outcome: DeclineKind::Refused,
        reason: reason.into(),
        witness: None,
    };
    assert_eq!(
        v.code(decline(" ")),
        "decline_reason_missing",
        "a refusal needs its reason"
    );
    assert_eq!(
        v.code(decline("客户对维修结果有异议")),
        "recorded",
        "a refusal with its reason is a valid outcome"
    );
    for step in ["signature", "rating", "contact_card"] {
        let body = if step == "rating" {
            EventBody::StepSkipped {
                step: step.into(),
                reason: "客户拒绝评价".into(),
            }
        } else {
            done(step)
        };
        assert_eq!(
            v.code(body),
            "recorded",
            "{step}: the rest of the visit goes on"
        );
    }
    assert_eq!(
        v.close_blockers(),
        Vec::<String>::new(),
        "nothing stands in the way of closing"
    );
    assert_eq!(
        v.code(close),
        "recorded",
        "a refused signature still completes the visit"
    );
    assert_eq!(
        v.code(done("contact_card")),
        "job_not_active",
        "a closed job takes no more records"
    );
}

#[test]
fn the_customer_rating_cannot_be_changed_or_corrected() {
    let mut v = Visit::new(home_repair_job());
    v.walk_until("rating");
    let rate = |stars| EventBody::RatingGiven {
        stars,
        comment: String::new(),
    };
    assert_eq!(v.code(rate(0)), "rating_out_of_range", "ratings are 1 to 5");
    let given = v.record(rate(2)).expect("the customer rates");
    assert_eq!(
        v.code(rate(5)),
        "rating_locked",
        "the technician cannot change the rating"
    );
    let correction = EventBody::Correction {
        corrects: given,
        reason: "客户手误".into(),
        replacement: None,
    };
    assert_eq!(
        v.code(correction),
        "rating_locked",
        "not even through a correction"
    );
    assert_eq!(
        v.progress.rating.as_ref().map(|r| r.stars),
        Some(2),
        "the customer's rating stands"
    );
}

#[test]
fn cancelled_or_revoked_jobs_take_no_records() {
    let mut cancelled = home_repair_job();
    cancelled.status = JobStatus::Cancelled;
    assert_eq!(
        Visit::new(cancelled).code(done("appointment")),
        "job_not_active",
        "the office cancelled the job"
    );
    let mut revoked = Visit::new(home_repair_job());
    revoked.revoked = true;
    let err = revoked.record(done("appointment")).expect_err("revoked");
    assert_eq!(
        err,
        RuleError::JobNotActive("revoked"),
        "the office gave the job to someone else"
    );
    assert!(
        err.message(Lang::Zh).contains("已转派他人"),
        "the technician is told it went to someone else: {}",
        err.message(Lang::Zh)
    );
}

// ---------------------------------------------------------------- SLA and patrol clocks

#[test]
fn the_four_hour_clock() {
    let reported = at(8, 0);
    let mut job = home_repair_job();
    job.reported_at = Some(reported);
    let mut p = JobProgress::default();
    let at = |h: i64, m: i64| reported + Duration::hours(h) + Duration::minutes(m);
    let due = at(4, 0);
    assert_eq!(
        sla::resolution(&job, &p, at(1, 0)),
        Sla::OnTrack { due_at: due },
        "one hour in, on track"
    );
    assert_eq!(
        sla::resolution(&job, &p, at(3, 30)),
        Sla::AtRisk { due_at: due },
        "half an hour left is at risk"
    );
    assert_eq!(
        sla::resolution(&job, &p, at(4, 1)),
        Sla::Breached { due_at: due },
        "past four hours is breached"
    );
    p.apply(
        EventMeta {
            id: Uuid::now_v7(),
            seq: 1,
            at: at(3, 59),
        },
        &EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: String::new(),
        },
    );
    assert_eq!(
        sla::resolution(&job, &p, at(9, 0)),
        Sla::Met {
            due_at: due,
            resolved_at: at(3, 59)
        },
        "resolved within 4 hours is met, whenever asked"
    );
    let mut late = JobProgress::default();
    late.apply(
        EventMeta {
            id: Uuid::now_v7(),
            seq: 1,
            at: at(4, 30),
        },
        &EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: String::new(),
        },
    );
    assert!(
        matches!(sla::resolution(&job, &late, at(5, 0)), Sla::MetLate { .. }),
        "resolved after 4 hours is late"
    );
    let mut follow_up = JobProgress::default();
    follow_up.apply(
        EventMeta {
            id: Uuid::now_v7(),
            seq: 1,
            at: at(1, 0),
        },
        &EventBody::JobClosed {
            resolution: Resolution::FollowUpNeeded,
            summary: String::new(),
        },
    );
    assert!(
        matches!(
            sla::resolution(&job, &follow_up, at(5, 0)),
            Sla::Breached { .. }
        ),
        "closing without resolving does not stop the clock"
    );
}

#[test]
fn arrival_is_judged_against_the_window() {
    let job = home_repair_job();
    let w = job.window.expect("the job has a visit window");
    let arrive_at = |t| {
        let mut p = JobProgress::default();
        p.apply(
            EventMeta {
                id: Uuid::now_v7(),
                seq: 1,
                at: t,
            },
            &done("arrive"),
        );
        sla::arrival(&job, &p)
    };
    assert!(
        matches!(
            arrive_at(w.start - Duration::minutes(5)),
            Arrival::Early { .. }
        ),
        "before the window is early"
    );
    assert!(
        matches!(
            arrive_at(w.start + Duration::minutes(5)),
            Arrival::OnTime { .. }
        ),
        "inside the window is on time"
    );
    assert!(
        matches!(
            arrive_at(w.end + Duration::minutes(1)),
            Arrival::Late { .. }
        ),
        "after the window is late"
    );
    assert_eq!(
        sla::arrival(&job, &JobProgress::default()),
        Arrival::NotArrived,
        "no arrival recorded yet"
    );
}
