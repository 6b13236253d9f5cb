//! The customer's opinion form and corrections, as bare rules (no store): the form is complete and
//! locked once given; a correction names an original record, carries values that fit it, and never
//! touches the customer's rating or opinion. The same rules through the device store are in
//! crates/core/tests/core/opinion.rs; the office's own check in crates/office/tests/office/ingest.rs.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use heatcrew_protocol::{
    Checkpoint, CheckpointKind, Digest, EventBody, FindingCategory, Job, JobKind, JobStatus,
    Reading, ReadingSpec, StepEvidence,
};
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::correction::{self, Replacement};
use heatcrew_rules::opinion;
use heatcrew_rules::progress::{EventMeta, JobProgress};
use heatcrew_rules::template::{self, Template};
use heatcrew_rules::{RuleError, phrases};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

fn job(kind: JobKind) -> Job {
    Job {
        id: Uuid::now_v7(),
        kind,
        template: template::latest_for(kind).reference(),
        title: "t".into(),
        customer: None,
        site: None,
        reported_at: Some(Utc::now()),
        window: None,
        assignee: None,
        street_work: false,
        checkpoints: vec![Checkpoint {
            id: "hs".into(),
            name: "首站".into(),
            kind: CheckpointKind::HeadStation,
            readings: vec![ReadingSpec {
                key: "supply_temp".into(),
                label_zh: "供水温度".into(),
                label_en: "Supply".into(),
                unit: "°C".into(),
                normal_min: None,
                normal_max: None,
            }],
            interval_minutes: None,
            code_sha256: None,
        }],
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

/// A job and its fold, with each recorded event kept so a correction can be checked against it.
struct Visit {
    job: Job,
    progress: JobProgress,
    events: BTreeMap<Uuid, EventBody>,
}

impl Visit {
    fn new(kind: JobKind) -> Visit {
        Visit {
            job: job(kind),
            progress: JobProgress::default(),
            events: BTreeMap::new(),
        }
    }
    fn template(&self) -> &'static Template {
        template::for_job(&self.job).expect("a bundled template")
    }
    fn record(&mut self, body: EventBody) -> Result<Uuid, RuleError> {
        let ctx = JobContext {
            job: &self.job,
            template: self.template(),
            progress: &self.progress,
            revoked: false,
        };
        ctx.check(&body, NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"))?;
        if let EventBody::Correction {
            corrects,
            replacement,
            ..
        } = &body
        {
            ctx.check_correction(&self.events[corrects], replacement.as_ref())?;
        }
        let meta = EventMeta {
            id: Uuid::now_v7(),
            seq: self.events.len() as u64 + 1,
            at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
                + Duration::minutes(self.events.len() as i64),
        };
        self.progress.apply(meta, &body);
        self.events.insert(meta.id, body);
        Ok(meta.id)
    }
    fn code(&mut self, body: EventBody) -> &'static str {
        match self.record(body) {
            Ok(_) => "recorded",
            Err(e) => e.code().as_str(),
        }
    }
    /// Walk to the current step `until` (confirmations, text, photos, a signature).
    fn walk_until(&mut self, until: &str) {
        let steps: Vec<_> = self.template().steps_for(false).cloned().collect();
        for s in steps.iter().take_while(|s| s.id != until) {
            for e in &s.evidence {
                match e {
                    template::Evidence::Photos { min, .. } => {
                        for n in 0..*min {
                            self.record(EventBody::PhotoAdded {
                                step: s.id.clone(),
                                photo: attachment(n as u8),
                                caption: String::new(),
                            })
                            .expect("photo");
                        }
                    }
                    template::Evidence::Signature { .. } => {
                        self.record(EventBody::SignatureCaptured {
                            step: s.id.clone(),
                            signer: heatcrew_protocol::Signer::Customer,
                            signer_name: "王".into(),
                            image: attachment(99),
                        })
                        .expect("signature");
                    }
                    _ => {}
                }
            }
            self.record(EventBody::StepCompleted {
                step: s.id.clone(),
                evidence: repair_text(),
            })
            .unwrap_or_else(|e| panic!("step {} with its evidence: {e}", s.id));
        }
    }
}

fn attachment(n: u8) -> heatcrew_protocol::AttachmentRef {
    heatcrew_protocol::AttachmentRef {
        sha256: Digest::of(&[n]),
        bytes: 1,
        mime: "image/png".into(),
        width: 0,
        height: 0,
        taken_at: None,
        gps: None,
    }
}

fn repair_text() -> StepEvidence {
    let mut e = StepEvidence::default();
    e.text.insert("fault_found".into(), "阀门堵塞".into());
    e.text.insert("work_done".into(), "清洗阀芯".into());
    e
}

fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

fn full_form() -> BTreeMap<String, String> {
    answers(&[
        ("punctuality", "on_time"),
        ("attitude", "good"),
        ("tidiness", "yes"),
        ("gifts", "none"),
    ])
}

fn opinion(stars: u8, answers: BTreeMap<String, String>) -> EventBody {
    EventBody::OpinionGiven {
        stars,
        comment: "师傅很细心".into(),
        answers,
    }
}

#[test]
fn the_opinion_form_asks_what_the_standard_asks_in_both_languages() {
    let qs = opinion::questions();
    let keys: Vec<&str> = qs.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(
        keys,
        ["punctuality", "attitude", "tidiness", "gifts"],
        "punctuality, manner, shoe covers and tidiness, and 不准接受用户的任何酬谢"
    );
    for q in &qs {
        assert!(
            !q.text.zh.is_empty() && !q.text.en.is_empty(),
            "{} in both languages",
            q.key
        );
        assert!(q.options.len() >= 2, "{} offers a choice", q.key);
        assert!(
            q.options.iter().any(|o| o.concern),
            "{}: some answer is a concern for the office",
            q.key
        );
    }
    let gift = opinion::concerns(&answers(&[("gifts", "accepted")]));
    assert_eq!(gift.len(), 1, "a gift accepted is flagged for the office");
}

#[test]
fn the_opinion_form_must_be_complete_valid_and_is_locked_once_given() {
    let mut v = Visit::new(JobKind::HomeRepair);
    v.walk_until("rating");
    let mut partial = full_form();
    partial.remove("gifts");
    assert_eq!(
        v.code(opinion(5, partial)),
        "evidence_missing",
        "every question answered"
    );
    let mut odd = full_form();
    odd.insert("gifts".into(), "a_little".into());
    assert_eq!(
        v.code(opinion(5, odd)),
        "invalid_value",
        "only the form's own answers"
    );
    let mut extra = full_form();
    extra.insert("tip_amount".into(), "50".into());
    assert_eq!(
        v.code(opinion(5, extra)),
        "invalid_value",
        "no question the form does not ask"
    );
    assert_eq!(
        v.code(opinion(0, full_form())),
        "rating_out_of_range",
        "1 to 5 stars"
    );
    let given = v
        .record(opinion(4, full_form()))
        .expect("the customer fills in the form");
    assert_eq!(
        v.progress
            .rating
            .as_ref()
            .map(|r| (r.stars, r.answers.clone())),
        Some((4, full_form())),
        "the fold keeps the stars and every answer"
    );
    let mut changed = full_form();
    changed.insert("attitude".into(), "poor".into());
    assert_eq!(
        v.code(opinion(5, changed)),
        "rating_locked",
        "the technician cannot give it again"
    );
    assert_eq!(
        v.code(EventBody::RatingGiven {
            stars: 5,
            comment: String::new()
        }),
        "rating_locked",
        "nor overwrite it with a plain rating"
    );
    let correction = EventBody::Correction {
        corrects: given,
        reason: "客户点错了".into(),
        replacement: Some(json!({"text": {"attitude": "good"}})),
    };
    assert_eq!(v.code(correction), "rating_locked", "nor correct it");
    assert_eq!(
        v.progress.rating.as_ref().map(|r| r.stars),
        Some(4),
        "the customer's form stands"
    );
}

#[test]
fn a_correction_of_a_text_keeps_the_original_and_fits_the_step() {
    let mut v = Visit::new(JobKind::HomeRepair);
    v.walk_until("clean_up");
    let repair = *v
        .events
        .iter()
        .find(|(_, b)| matches!(b, EventBody::StepCompleted { step, .. } if step == "diagnose_repair"))
        .expect("the repair step was recorded")
        .0;
    let fix = |reason: &str, replacement| EventBody::Correction {
        corrects: repair,
        reason: reason.into(),
        replacement: Some(replacement),
    };
    assert_eq!(
        v.code(fix("  ", json!({"text": {"fault_found": "x"}}))),
        "bad_correction",
        "a reason is needed"
    );
    assert_eq!(
        v.code(fix("写错", json!({"text": {"no_such_field": "x"}}))),
        "invalid_value",
        "only the step's own fields"
    );
    assert_eq!(
        v.code(fix("写错", json!({"text": {"fault_found": " "}}))),
        "invalid_value",
        "a required text stays filled"
    );
    assert_eq!(
        v.code(fix("写错", json!({"colour": "red"}))),
        "bad_correction",
        "nothing but text, readings, description"
    );
    assert_eq!(
        v.code(fix("写错", json!({}))),
        "bad_correction",
        "a replacement that changes nothing"
    );
    assert_eq!(
        v.code(fix("写错", json!({"description": "x"}))),
        "bad_correction",
        "a step has no description"
    );
    let id = v
        .record(fix(
            "故障原因写错了",
            json!({"text": {"fault_found": "温控阀损坏"}}),
        ))
        .expect("a correction with a reason and the step's own field");
    let c = v
        .progress
        .corrections
        .last()
        .expect("the fold keeps the correction");
    assert_eq!(
        (c.corrects, c.event_id),
        (repair, Some(id)),
        "it names the original"
    );
    let replaced = Replacement::parse(c.replacement.as_ref())
        .expect("parse")
        .expect("values");
    let original = match &v.events[&repair] {
        EventBody::StepCompleted { evidence, .. } => evidence.text.clone(),
        _ => unreachable!(),
    };
    assert_eq!(
        original["fault_found"], "阀门堵塞",
        "the original record is untouched"
    );
    let now = correction::current_text(&original, &[replaced]);
    assert_eq!(
        now["fault_found"], "温控阀损坏",
        "readers show the corrected text as current"
    );
    assert_eq!(
        now["work_done"], "清洗阀芯",
        "fields not corrected keep their value"
    );
    assert_eq!(
        v.code(EventBody::Correction {
            corrects: id,
            reason: "再改".into(),
            replacement: None
        }),
        "bad_correction",
        "a correction names the original, not another correction"
    );
    assert_eq!(
        v.code(EventBody::Correction {
            corrects: Uuid::now_v7(),
            reason: "x".into(),
            replacement: None
        }),
        "bad_correction",
        "an event of this job"
    );
}

#[test]
fn readings_and_findings_are_corrected_within_their_own_shape_and_ranges() {
    let mut v = Visit::new(JobKind::PatrolRound);
    let reading = v
        .record(EventBody::ReadingRecorded {
            checkpoint: "hs".into(),
            readings: vec![Reading {
                key: "supply_temp".into(),
                value: 9.5,
                unit: "°C".into(),
            }],
            note: String::new(),
        })
        .expect("a reading");
    let fix = |r| EventBody::Correction {
        corrects: reading,
        reason: "小数点错位".into(),
        replacement: Some(r),
    };
    assert_eq!(
        v.code(fix(
            json!({"readings": [{"key": "supply_temp", "value": 9000.0, "unit": "°C"}]})
        )),
        "out_of_range",
        "a corrected reading keeps the ranges every reading keeps"
    );
    assert_eq!(
        v.code(fix(
            json!({"readings": [{"key": "return_temp", "value": 50.0, "unit": "°C"}]})
        )),
        "invalid_value",
        "only the checkpoint's own readings"
    );
    assert_eq!(
        v.code(fix(json!({"text": {"note": "x"}}))),
        "bad_correction",
        "a reading takes readings"
    );
    assert_eq!(
        v.code(fix(
            json!({"readings": [{"key": "supply_temp", "value": 95.0, "unit": "°C"}]})
        )),
        "recorded",
        "the corrected reading"
    );

    let mut i = Visit::new(JobKind::HeatTheftInspection);
    let finding = i
        .record(EventBody::FindingRecorded {
            finding_id: Uuid::now_v7(),
            category: FindingCategory::TamperedSeal,
            description: "铅封破损".into(),
            states: BTreeMap::new(),
            photos: vec![],
        })
        .expect("a finding");
    let fix = |r| EventBody::Correction {
        corrects: finding,
        reason: "描述不准确".into(),
        replacement: Some(r),
    };
    assert_eq!(
        v_code(&mut i, fix(json!({"description": " "}))),
        "invalid_value",
        "a description stays filled"
    );
    assert_eq!(
        v_code(&mut i, fix(json!({"description": "表箱铅封被剪断"}))),
        "recorded",
        "the corrected description"
    );
}

fn v_code(v: &mut Visit, body: EventBody) -> &'static str {
    v.code(body)
}

#[test]
fn the_shipped_templates_hold_no_blanks_and_no_company_number() {
    for t in template::catalog().values() {
        for s in &t.steps {
            for text in s.phrase.iter().flat_map(|p| [&p.zh, &p.en]) {
                assert!(
                    !phrases::has_blanks(text),
                    "{}/{}: no ×× left for the technician: {text}",
                    t.id,
                    s.id
                );
            }
            for e in &s.evidence {
                if let template::Evidence::ContactCard { phone, .. } = e {
                    assert_eq!(
                        phone, "{hotline}",
                        "{}/{}: the hotline comes from the office, not the template",
                        t.id, s.id
                    );
                }
            }
        }
    }
}
