//! The outcomes a real day has besides the visit that goes to plan (issue 15, point 1): nobody home
//! or no entry at the door, a refused co-signature on a damage record, who signed, and the
//! customer's reschedule request. Bare values, no store: the office applies the same rules.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, DeclineKind, Digest, EventBody, Job, JobKind, JobStatus,
    NoEntryKind, Remedy, RequestChannel, Resolution, SignatureRefusal, Signer, StepEvidence,
    Witness,
};
use heatcrew_rules::RuleError;
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::progress::{EventMeta, JobProgress, SignatureRecord};
use heatcrew_rules::template;
use uuid::Uuid;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0)
        .single()
        .expect("a valid time")
}

fn job(kind: JobKind) -> Job {
    Job {
        id: Uuid::now_v7(),
        kind,
        template: template::latest_for(kind).reference(),
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

fn done(step: &str) -> EventBody {
    EventBody::StepCompleted {
        step: step.into(),
        evidence: StepEvidence::default(),
    }
}

fn not_home(reason: &str, witness: Option<Witness>) -> EventBody {
    EventBody::NoEntryRecorded {
        outcome: NoEntryKind::NotHome,
        reason: reason.into(),
        door_photo: photo(1),
        witness,
    }
}

fn close(resolution: Resolution) -> EventBody {
    EventBody::JobClosed {
        resolution,
        summary: String::new(),
    }
}

fn reschedule(start_h: u32, end_h: u32) -> EventBody {
    EventBody::RescheduleRequested {
        channel: RequestChannel::Phone,
        preferred: AppointmentWindow {
            start: at(start_h, 0) + Duration::days(1),
            end: at(end_h, 0) + Duration::days(1),
        },
        note: "下午家里有人".into(),
    }
}

struct Visit {
    job: Job,
    progress: JobProgress,
    seq: u64,
}

impl Visit {
    fn new(kind: JobKind) -> Visit {
        Visit {
            job: job(kind),
            progress: JobProgress::default(),
            seq: 0,
        }
    }

    fn record(&mut self, body: EventBody) -> Result<(), RuleError> {
        let template = template::for_job(&self.job)?;
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("a valid date");
        JobContext {
            job: &self.job,
            template,
            progress: &self.progress,
            revoked: false,
        }
        .check(&body, today)?;
        self.seq += 1;
        let meta = EventMeta {
            id: Uuid::now_v7(),
            seq: self.seq,
            at: at(9, 0) + Duration::minutes(self.seq as i64),
        };
        self.progress.apply(meta, &body);
        Ok(())
    }

    fn code(&mut self, body: EventBody) -> &'static str {
        match self.record(body) {
            Ok(()) => "recorded",
            Err(e) => e.code().as_str(),
        }
    }

    fn at_the_door(kind: JobKind) -> Visit {
        let mut v = Visit::new(kind);
        for step in ["appointment", "arrive", "identify"] {
            v.record(done(step)).expect("the steps before the door");
        }
        v
    }
}

// ---------------------------------------------------------------- not home / no entry

#[test]
fn not_home_closes_the_visit_without_repair_clean_up_or_signature() {
    let mut v = Visit::at_the_door(JobKind::HomeRepair);
    let witness = Witness {
        name: "李物业".into(),
        phone: "13900000000".into(),
    };
    v.record(not_home("敲门无人应答，电话未接", Some(witness.clone())))
        .expect("not home is recorded at the door with reason, door photo and witness");
    v.record(close(Resolution::NoEntry)).expect(
        "the visit closes as not-home although repair, clean-up and signature are not done",
    );
    let recorded = v.progress.no_entry.as_ref().expect("the outcome is kept");
    assert_eq!(
        recorded.witness.as_ref(),
        Some(&witness),
        "with its witness"
    );
    assert_eq!(recorded.door_photo, photo(1), "and the door photo");
    assert_eq!(recorded.at, at(9, 4), "and when it happened");
    assert!(
        v.progress.reschedule_wanted(),
        "a not-home closure asks the office to reschedule"
    );
    assert_eq!(
        v.code(done("knock_consent")),
        "job_not_active",
        "nothing more is recorded on a closed visit"
    );
}

#[test]
fn not_home_is_refused_after_entry() {
    let mut v = Visit::at_the_door(JobKind::HomeRepair);
    v.record(done("knock_consent"))
        .expect("the customer let us in");
    assert_eq!(
        v.code(not_home("没人", None)),
        "record_not_allowed",
        "inside the home there is no not-home outcome"
    );
    let err = v
        .record(close(Resolution::NoEntry))
        .expect_err("a visit that entered cannot close as no entry");
    assert_eq!(err, RuleError::AlreadyEntered, "and says why");
}

#[test]
fn a_not_home_closure_needs_the_door_record_first() {
    let mut v = Visit::at_the_door(JobKind::HomeRepair);
    assert_eq!(
        v.code(close(Resolution::NoEntry)),
        "cannot_close",
        "no reason and door photo, no not-home closure"
    );
    assert_eq!(
        v.code(close(Resolution::Resolved)),
        "cannot_close",
        "and the door record never lets a visit close as resolved"
    );
}

#[test]
fn the_door_record_needs_a_reason_and_a_named_witness() {
    let mut v = Visit::at_the_door(JobKind::HomeRepair);
    assert_eq!(
        v.code(not_home("  ", None)),
        "decline_reason_missing",
        "a blank reason is refused"
    );
    let nameless = Witness {
        name: " ".into(),
        phone: "13900000000".into(),
    };
    assert_eq!(
        v.code(not_home("无人", Some(nameless))),
        "invalid_value",
        "a witness without a name is no witness"
    );
    v.record(EventBody::NoEntryRecorded {
        outcome: NoEntryKind::EntryRefused,
        reason: "客户拒绝入户".into(),
        door_photo: photo(2),
        witness: None,
    })
    .expect("entry refused, without a witness, is a valid outcome too");
    assert_eq!(
        v.code(not_home("又来一次", None)),
        "invalid_value",
        "one door record per visit"
    );
}

#[test]
fn jobs_without_a_door_take_no_not_home_outcome() {
    let mut v = Visit::new(JobKind::PatrolRound);
    assert_eq!(
        v.code(not_home("无人", None)),
        "record_not_allowed",
        "a patrol round has no customer's door"
    );
    assert_eq!(
        v.code(reschedule(14, 16)),
        "record_not_allowed",
        "nor a customer to reschedule"
    );
}

#[test]
fn a_customer_who_comes_home_gets_the_normal_visit() {
    let mut v = Visit::at_the_door(JobKind::HomeRepair);
    v.record(not_home("敲门无人", None))
        .expect("not home at first");
    v.record(done("knock_consent"))
        .expect("the customer arrives: the visit goes on");
    assert_eq!(
        v.code(close(Resolution::NoEntry)),
        "record_not_allowed",
        "and can no longer close as no entry"
    );
}

// ---------------------------------------------------------------- reschedule

#[test]
fn reschedule_requests_reach_the_progress_and_survive_a_not_home_closure() {
    let mut v = Visit::at_the_door(JobKind::HomeRepair);
    v.record(reschedule(14, 16))
        .expect("a reschedule request at the door");
    v.record(not_home("无人", None)).expect("not home");
    v.record(close(Resolution::NoEntry)).expect("closed");
    v.record(reschedule(18, 20))
        .expect("the customer phones after the closure: still taken");
    assert_eq!(
        v.progress.reschedule_requests.len(),
        2,
        "both kept, in order"
    );
    assert_eq!(
        v.progress.reschedule_requests[1]
            .preferred
            .start
            .format("%H")
            .to_string(),
        "18",
        "the last one is the standing request"
    );
    assert_eq!(
        v.code(EventBody::RescheduleRequested {
            channel: RequestChannel::Door,
            preferred: AppointmentWindow {
                start: at(16, 0),
                end: at(14, 0),
            },
            note: String::new(),
        }),
        "invalid_value",
        "a window that ends before it starts is refused"
    );
}

#[test]
fn reschedule_is_refused_on_a_cancelled_job() {
    let mut v = Visit::new(JobKind::HomeRepair);
    v.job.status = JobStatus::Cancelled;
    assert_eq!(
        v.code(reschedule(14, 16)),
        "job_not_active",
        "a cancelled job takes no reschedule request"
    );
}

// ---------------------------------------------------------------- refused co-signature

fn damage(signature: Option<AttachmentRef>, refused: Option<SignatureRefusal>) -> EventBody {
    EventBody::DamageRecorded {
        damage_id: Uuid::now_v7(),
        item: "木地板".into(),
        description: "划痕 5 cm".into(),
        remedy: Remedy::Compensation,
        remedy_detail: String::new(),
        photos: vec![photo(3)],
        customer_signature: signature,
        signature_refused: refused,
    }
}

fn network_damage(
    signature: Option<AttachmentRef>,
    refused: Option<SignatureRefusal>,
) -> EventBody {
    EventBody::NetworkDamageRecorded {
        damage_id: Uuid::now_v7(),
        equipment: "入户阀门".into(),
        cause: "客户私自拆卸".into(),
        photos: vec![photo(4)],
        customer_signature: signature,
        signature_refused: refused,
    }
}

fn refusal(reason: &str, witness: Option<&str>) -> SignatureRefusal {
    SignatureRefusal {
        outcome: DeclineKind::Refused,
        reason: reason.into(),
        witness: witness.map(|n| Witness {
            name: n.into(),
            phone: String::new(),
        }),
    }
}

#[test]
fn a_refused_co_signature_is_recorded_with_reason_and_witness() {
    for record in [damage, network_damage] {
        let mut v = Visit::new(JobKind::HomeRepair);
        v.record(record(
            None,
            Some(refusal("不认可赔偿方式", Some("邻居张先生"))),
        ))
        .expect("a refused co-signature with reason and witness is a valid record");
        let kept = v.progress.damages.last().expect("the damage is kept");
        assert!(kept.customer_signature.is_none(), "without a signature");
        assert_eq!(
            kept.signature_refused.as_ref().map(|r| r.reason.as_str()),
            Some("不认可赔偿方式"),
            "and with the refusal's reason"
        );
        assert_eq!(
            v.code(record(None, None)),
            "evidence_missing",
            "neither signature nor refusal: refused"
        );
        assert_eq!(
            v.code(record(Some(photo(5)), Some(refusal("拒签", None)))),
            "invalid_value",
            "both a signature and a refusal: refused"
        );
        assert_eq!(
            v.code(record(None, Some(refusal(" ", None)))),
            "decline_reason_missing",
            "a refusal without a reason: refused"
        );
        assert_eq!(
            v.code(record(None, Some(refusal("拒签", Some(" "))))),
            "invalid_value",
            "a witness without a name: refused"
        );
        v.record(record(Some(photo(6)), None))
            .expect("a signed record is still taken as before");
    }
}

// ---------------------------------------------------------------- signer roles

#[test]
fn the_acceptance_inspection_is_signed_by_the_contractor_not_the_customer() {
    let mut v = Visit::new(JobKind::AcceptanceInspection);
    v.record(done("arrive")).expect("arrive");
    let mut evidence = StepEvidence::default();
    evidence.states.insert("result".into(), "passed".into());
    v.record(EventBody::PhotoAdded {
        step: "inspect".into(),
        photo: photo(7),
        caption: String::new(),
    })
    .expect("an inspection photo");
    v.record(EventBody::StepCompleted {
        step: "inspect".into(),
        evidence,
    })
    .expect("inspect");
    v.record(EventBody::StepSkipped {
        step: "rectification".into(),
        reason: "验收合格，无需整改".into(),
    })
    .expect("nothing to rectify");
    let sign = |signer| EventBody::SignatureCaptured {
        step: "signature".into(),
        signer,
        signer_name: "赵工（施工方）".into(),
        image: photo(8),
    };
    let err = v
        .record(sign(Signer::Customer))
        .expect_err("the contractor's signature is not the customer's");
    assert_eq!(
        err.code().as_str(),
        "invalid_value",
        "refused as a wrong value"
    );
    assert!(
        err.message(heatcrew_rules::Lang::Zh).contains("施工方"),
        "and says who signs: {}",
        err.message(heatcrew_rules::Lang::Zh)
    );
    v.record(sign(Signer::Contractor))
        .expect("the contractor signs the acceptance");
    assert!(
        matches!(
            v.progress.signatures.get("signature"),
            Some(SignatureRecord::Signed {
                signer: Signer::Contractor,
                ..
            })
        ),
        "stored as the contractor's signature"
    );
}

/// 供热工程验收中……留下书面整改意见 (现场服务 8): an acceptance that passes only after remedies, or
/// fails, leaves a written rectification opinion (a notice with its deadline) before the
/// contractor signs; only one that passed may skip it. Jobs made under version 1 read as before.
#[test]
fn an_acceptance_that_does_not_pass_leaves_a_written_rectification_opinion() {
    let inspected = |result: &str| {
        let mut v = Visit::new(JobKind::AcceptanceInspection);
        assert_eq!(
            v.job.template.version, 2,
            "new jobs get the newest template"
        );
        v.record(done("arrive")).expect("arrive");
        v.record(EventBody::PhotoAdded {
            step: "inspect".into(),
            photo: photo(7),
            caption: String::new(),
        })
        .expect("a photo");
        let mut evidence = StepEvidence::default();
        evidence.states.insert("result".into(), result.into());
        v.record(EventBody::StepCompleted {
            step: "inspect".into(),
            evidence,
        })
        .expect("inspect");
        v
    };
    let skip = || EventBody::StepSkipped {
        step: "rectification".into(),
        reason: "无需整改".into(),
    };
    let followed_up =
        |deadline: NaiveDate, follow_up_on: Option<NaiveDate>| EventBody::NoticeIssued {
            number: "YS-2026-001".into(),
            deadline,
            requirements: "二次网回水管保温层破损，按设计补做保温。".into(),
            follow_up_on,
        };
    let notice = |deadline: NaiveDate| followed_up(deadline, None);
    let contractor_signs = || EventBody::SignatureCaptured {
        step: "signature".into(),
        signer: Signer::Contractor,
        signer_name: "赵工（施工方）".into(),
        image: photo(8),
    };
    let in_a_week = NaiveDate::from_ymd_opt(2026, 12, 8).expect("date");
    for result in ["passed_with_remarks", "failed"] {
        let mut v = inspected(result);
        assert_eq!(
            v.code(skip()),
            "step_not_skippable",
            "{result}: no skipping"
        );
        assert_eq!(
            v.code(contractor_signs()),
            "step_out_of_order",
            "{result}: no signature before the opinion"
        );
        assert_eq!(
            v.code(done("rectification")),
            "evidence_missing",
            "{result}: the step needs the notice itself"
        );
        let early = followed_up(in_a_week, in_a_week.pred_opt());
        assert_eq!(
            v.code(early),
            "follow_up_before_deadline",
            "{result}: the follow-up inspection is not before the deadline"
        );
        v.record(followed_up(in_a_week, Some(in_a_week)))
            .expect("the written opinion, followed up on the deadline day");
        assert_eq!(v.progress.notices[0].follow_up_on, Some(in_a_week));
        v.record(done("rectification")).expect("then the step");
        v.record(contractor_signs())
            .expect("then the contractor signs");
        assert_eq!(v.progress.notices.len(), 1);
    }
    let mut passed = inspected("passed");
    passed
        .record(skip())
        .expect("a passed acceptance may skip it, with a reason");
    passed.record(contractor_signs()).expect("signed");

    // A job created under version 1 keeps version 1's checklist: no rectification step.
    let mut old = Visit::new(JobKind::AcceptanceInspection);
    old.job.template.version = 1;
    old.record(done("arrive")).expect("arrive");
    assert_eq!(
        old.code(notice(in_a_week)),
        "record_not_allowed",
        "version 1 had no notice"
    );
}

#[test]
fn signatures_projected_before_roles_were_stored_read_as_the_customers() {
    let old = serde_json::json!({
        "state": "signed", "signer_name": "王秀英", "at": "2026-12-01T09:00:00Z",
        "image": {"sha256": "00".repeat(32), "bytes": 1, "mime": "image/png"}
    });
    let record: SignatureRecord = serde_json::from_value(old)
        .expect("a projection kept before roles were stored still reads");
    assert!(
        matches!(
            record,
            SignatureRecord::Signed {
                signer: Signer::Customer,
                ..
            }
        ),
        "and reads as the customer's, which it was"
    );
}
