//! The field rules as the device store applies them: a refused action records nothing.

use super::*;

#[test]
fn steps_run_in_order() {
    let mut d = device();
    let job = demo::home_repair_job(0, None);
    d.store.add_office_job(&job).expect("dispatch");
    let err = rule(
        d.store
            .record(job.id, done("identify"))
            .expect_err("out of order"),
    );
    assert_eq!(
        err.code(),
        "step_out_of_order",
        "a step cannot be done before the ones ahead of it"
    );
    assert!(
        err.message(Lang::Zh).contains("预约确认"),
        "the message names the current step in Chinese: {}",
        err.message(Lang::Zh)
    );
    assert!(
        err.message(Lang::En).contains("Confirm the appointment"),
        "and in English: {}",
        err.message(Lang::En)
    );
    d.store
        .record(job.id, done("appointment"))
        .expect("first step is fine");
    let err = rule(
        d.store
            .record(job.id, done("appointment"))
            .expect_err("twice"),
    );
    assert_eq!(
        err.code(),
        "step_already_done",
        "a done step is not done again; corrections are separate events"
    );
}

#[test]
fn a_skipped_step_needs_a_reason_and_permission() {
    let mut d = device();
    let job = demo::home_repair_job(0, None);
    d.store.add_office_job(&job).expect("dispatch");
    let skip = |reason: &str| EventBody::StepSkipped {
        step: "appointment".into(),
        reason: reason.into(),
    };
    assert_eq!(
        rule(d.store.record(job.id, skip("  ")).expect_err("blank")).code(),
        "skip_reason_missing",
        "skipping silently is not allowed"
    );
    d.store
        .record(job.id, skip("客户电话报修后立即上门"))
        .expect("a reasoned skip is recorded");
    let err = rule(
        d.store
            .record(
                job.id,
                EventBody::StepSkipped {
                    step: "arrive".into(),
                    reason: "赶时间".into(),
                },
            )
            .expect_err("arrive is not skippable"),
    );
    assert_eq!(
        err.code(),
        "step_not_skippable",
        "arrival must be recorded, never skipped"
    );
}

#[test]
fn evidence_is_required_before_a_step_counts() {
    let mut d = device();
    let job = visit_until(&mut d.store, "diagnose_repair");
    let err = rule(
        d.store
            .record(job.id, done("diagnose_repair"))
            .expect_err("no evidence"),
    );
    let RuleError::EvidenceMissing {
        what_zh, what_en, ..
    } = &err
    else {
        panic!("expected missing evidence, got {err:?}");
    };
    assert!(
        what_zh.contains("故障原因") && what_zh.contains("维修前后照片"),
        "the Chinese message lists what is missing: {what_zh}"
    );
    assert!(
        what_en.contains("Fault found") && what_en.contains("at least 2"),
        "and the English one: {what_en}"
    );
    let before = d.store.tip().seq;
    assert_eq!(
        d.store.tip().seq,
        before,
        "a refused action records nothing"
    );
}

#[test]
fn a_visit_cannot_close_without_a_signature_or_a_refusal() {
    let mut d = device();
    let job = visit_until(&mut d.store, "signature");
    let close = EventBody::JobClosed {
        resolution: Resolution::Resolved,
        summary: String::new(),
    };
    assert_eq!(
        rule(d.store.record(job.id, close.clone()).expect_err("unsigned")).code(),
        "cannot_close",
        "no signature, no closing"
    );
    assert_eq!(
        rule(
            d.store
                .record(job.id, done("signature"))
                .expect_err("no sig")
        )
        .code(),
        "evidence_missing",
        "the signature step is not done without a signature or refusal"
    );
    let err = rule(
        d.store
            .record(
                job.id,
                EventBody::SignatureDeclined {
                    step: "signature".into(),
                    outcome: DeclineKind::Refused,
                    reason: " ".into(),
                    witness: None,
                },
            )
            .expect_err("no reason"),
    );
    assert_eq!(
        err.code(),
        "decline_reason_missing",
        "a refusal needs its reason"
    );
    d.store
        .record(
            job.id,
            EventBody::SignatureDeclined {
                step: "signature".into(),
                outcome: DeclineKind::Absent,
                reason: "客户临时外出,由家属在场".into(),
                witness: Some(Witness {
                    name: "家属 王明".into(),
                    phone: String::new(),
                }),
            },
        )
        .expect("absence with reason and witness");
    d.store
        .record(job.id, done("signature"))
        .expect("a recorded absence completes the step");
    d.store
        .record(
            job.id,
            EventBody::StepSkipped {
                step: "rating".into(),
                reason: "客户不在场".into(),
            },
        )
        .expect("skip rating");
    d.store
        .record(job.id, done("contact_card"))
        .expect("contact card");
    d.store
        .record(job.id, close)
        .expect("a refused or absent signature still completes the visit");
    let stored = d.store.job(job.id).expect("read").expect("job");
    assert!(stored.progress.closed.is_some(), "the visit is closed");
    let err = rule(
        d.store
            .record(job.id, done("contact_card"))
            .expect_err("closed"),
    );
    assert_eq!(
        err.code(),
        "job_not_active",
        "a closed job takes no more records"
    );
}

#[test]
fn the_customer_rating_is_locked_once_given() {
    let mut d = device();
    let job = visit_until(&mut d.store, "rating");
    let rate = |stars| EventBody::RatingGiven {
        stars,
        comment: String::new(),
    };
    assert_eq!(
        rule(d.store.record(job.id, rate(6)).expect_err("6 stars")).code(),
        "rating_out_of_range",
        "ratings are 1 to 5"
    );
    let given = d.store.record(job.id, rate(2)).expect("customer rates");
    assert_eq!(
        rule(d.store.record(job.id, rate(5)).expect_err("again")).code(),
        "rating_locked",
        "the technician cannot change the rating"
    );
    let err = rule(
        d.store
            .record(
                job.id,
                EventBody::Correction {
                    corrects: given.unsigned.id,
                    reason: "客户手误".into(),
                    replacement: None,
                },
            )
            .expect_err("correct the rating"),
    );
    assert_eq!(err.code(), "rating_locked", "not even through a correction");
    assert_eq!(
        d.store
            .job(job.id)
            .expect("read")
            .expect("job")
            .progress
            .rating
            .map(|r| r.stars),
        Some(2),
        "the customer's rating stands"
    );
}

#[test]
fn corrections_reference_an_earlier_event_and_leave_it_in_place() {
    let mut d = device();
    let job = visit_until(&mut d.store, "knock_consent");
    let first = d.store.events().expect("events")[0].clone();
    let err = rule(
        d.store
            .record(
                job.id,
                EventBody::Correction {
                    corrects: Uuid::now_v7(),
                    reason: "错".into(),
                    replacement: None,
                },
            )
            .expect_err("unknown"),
    );
    assert_eq!(
        err.code(),
        "bad_correction",
        "a correction must name an event of this job"
    );
    d.store
        .record(
            job.id,
            EventBody::Correction {
                corrects: first.unsigned.id,
                reason: "预约时间记错".into(),
                replacement: None,
            },
        )
        .expect("correction");
    assert_eq!(
        d.store.events().expect("events")[0],
        first,
        "the corrected event is unchanged: corrections never edit"
    );
}

#[test]
fn street_work_requires_safety_signs() {
    let mut d = device();
    let mut job = demo::home_repair_job(0, None);
    job.street_work = true;
    d.store.add_office_job(&job).expect("dispatch");
    for s in [
        "appointment",
        "arrive",
        "identify",
        "knock_consent",
        "shoe_covers",
    ] {
        d.store.record(job.id, done(s)).expect("step");
    }
    let err = rule(
        d.store
            .record(job.id, done("diagnose_repair"))
            .expect_err("signs first"),
    );
    assert_eq!(
        err.code(),
        "step_out_of_order",
        "street work cannot start before the signs are hung"
    );
    assert_eq!(
        rule(
            d.store
                .record(job.id, done("safety_signs"))
                .expect_err("photo")
        )
        .code(),
        "evidence_missing",
        "the signs need a photo"
    );
}

#[test]
fn damage_to_property_needs_the_customers_co_signature_file() {
    let mut d = device();
    let job = visit_until(&mut d.store, "diagnose_repair");
    let missing = AttachmentRef {
        sha256: Digest::of(b"never stored"),
        bytes: 12,
        mime: "image/png".into(),
        width: 0,
        height: 0,
        taken_at: None,
        gps: None,
    };
    let before = d.store.tip().seq;
    let err = d
        .store
        .record(
            job.id,
            EventBody::DamageRecorded {
                damage_id: Uuid::now_v7(),
                item: "地板".into(),
                description: "划伤".into(),
                remedy: heatcrew_protocol::Remedy::Compensation,
                remedy_detail: "赔偿200元".into(),
                photos: vec![],
                customer_signature: Some(missing),
                signature_refused: None,
            },
        )
        .expect_err("signature file missing");
    assert_eq!(
        err.code(),
        "evidence_missing",
        "no row may refer to a file that is not stored"
    );
    assert_eq!(d.store.tip().seq, before, "nothing was recorded");
}

#[test]
fn notice_numbers_never_collide_between_devices_offline() {
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let mut d = device();
        let job = demo::inspection_job(None);
        d.store.add_office_job(&job).expect("dispatch");
        for _ in 0..2 {
            let today = d.store.today();
            let e = d
                .store
                .issue_notice(job.id, today + Duration::days(7), "拆除旁通管".into(), None)
                .expect("notice");
            let EventBody::NoticeIssued { number, .. } =
                EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload).expect("body")
            else {
                panic!("not a notice");
            };
            numbers.push(number);
        }
        let err = rule(
            d.store
                .issue_notice(
                    job.id,
                    NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
                    "x".into(),
                    None,
                )
                .expect_err("past"),
        );
        assert_eq!(
            err.code(),
            "deadline_in_past",
            "a deadline in the past is refused"
        );
    }
    let mut unique = numbers.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        numbers.len(),
        "notice numbers issued offline on three devices are unique: {numbers:?}"
    );
    assert!(
        numbers.iter().all(|n| n.starts_with("ZG-")),
        "numbers have the notice prefix: {numbers:?}"
    );
}

#[test]
fn patrol_readings_are_checked_against_the_route() {
    let mut d = device();
    let job = demo::patrol_job(None);
    d.store.add_office_job(&job).expect("dispatch");
    d.store.record(job.id, done("shift_ready")).expect("ready");
    let reading = |cp: &str, key: &str, value: f64| EventBody::ReadingRecorded {
        checkpoint: cp.into(),
        readings: vec![Reading {
            key: key.into(),
            value,
            unit: "°C".into(),
        }],
        note: String::new(),
    };
    assert_eq!(
        rule(
            d.store
                .record(job.id, reading("nowhere", "supply_temp", 70.0))
                .expect_err("cp")
        )
        .code(),
        "invalid_value",
        "unknown checkpoint"
    );
    assert_eq!(
        rule(
            d.store
                .record(job.id, reading("hs-east", "supply_temp", f64::NAN))
                .expect_err("nan")
        )
        .code(),
        "invalid_value",
        "a reading must be a number"
    );
    d.store
        .record(job.id, reading("hs-east", "supply_temp", 85.0))
        .expect("reading");
    let err = rule(
        d.store
            .record(job.id, done("checkpoints"))
            .expect_err("not all"),
    );
    assert_eq!(
        err.code(),
        "evidence_missing",
        "the round is not done until every checkpoint has a reading"
    );
}

#[test]
fn cancelled_or_revoked_jobs_take_no_new_records() {
    let mut d = device();
    let mut job = demo::home_repair_job(0, None);
    job.status = JobStatus::Cancelled;
    d.store.add_office_job(&job).expect("dispatch");
    assert_eq!(
        rule(
            d.store
                .record(job.id, done("appointment"))
                .expect_err("cancelled")
        )
        .code(),
        "job_not_active",
        "the office cancelled it"
    );
}

#[test]
fn an_accident_report_opens_an_urgent_emergency_job() {
    let mut d = device();
    let (job_id, events) = d
        .store
        .report_accident(
            "井盖缺失,热水外溢".into(),
            "设置警戒线,关闭上游阀门".into(),
            Position {
                lat: None,
                lon: None,
                description: "友谊路与黄河道交口".into(),
                ..Default::default()
            },
            false,
        )
        .expect("report");
    assert_eq!(
        events.len(),
        2,
        "the job and the report are recorded together"
    );
    let stored = d.store.job(job_id).expect("read").expect("job exists");
    assert_eq!(
        stored.job.kind,
        JobKind::EmergencyRepair,
        "an accident opens an emergency repair"
    );
    let outbox = d.store.outbox().expect("outbox");
    assert!(
        outbox
            .iter()
            .any(|o| o.urgent && o.kind == "accident_reported"),
        "the report is urgent in the outbox"
    );
}

/// The arrival and the 4-hour clock on a phone whose clock is 20 minutes slow, after a sync told it
/// the office's time: judged on the office's clock, as the office will judge them.
#[test]
fn a_slow_phone_judges_arrival_and_the_4_hour_clock_on_the_office_clock() {
    use heatcrew_core::views;
    use heatcrew_rules::sla::{Arrival, Sla};
    use std::sync::Mutex;
    // Whole seconds: the store keeps milliseconds.
    let reported =
        chrono::DateTime::from_timestamp(Utc::now().timestamp() - 86_400, 0).expect("time");
    let device_now = Arc::new(Mutex::new(reported));
    let clock: Clock = {
        let t = device_now.clone();
        Arc::new(move || *t.lock().expect("clock"))
    };
    let set = |t| *device_now.lock().expect("clock") = t;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_with_clock(dir.path().join("device.db"), clock).expect("open");
    store
        .note_server_time(Some(reported + Duration::minutes(20)))
        .expect("the office's time from a sync");
    let job = |n| {
        let mut j = demo::home_repair_job(n, None);
        j.reported_at = Some(reported);
        j.window = Some(heatcrew_protocol::AppointmentWindow {
            start: reported + Duration::hours(1),
            end: reported + Duration::hours(3),
        });
        j
    };
    let mut images = demo::generated_png;
    let (late, slow) = (job(0), job(1));
    for j in [&late, &slow] {
        store.add_office_job(j).expect("dispatch");
    }
    // 2:50 on the phone is 3:10 at the office: after the window.
    set(reported + Duration::minutes(170));
    demo::home_repair_visit(&mut store, &mut images, &late, VisitScript::Signed).expect("visit");
    // 3:50 on the phone is 4:10 at the office: past the 4 hours.
    set(reported + Duration::minutes(230));
    demo::home_repair_visit(&mut store, &mut images, &slow, VisitScript::Signed).expect("visit");

    let late_view = views::job(&store, late.id).expect("view").summary;
    assert_eq!(
        late_view.arrival,
        Arrival::Late {
            arrived_at: reported + Duration::minutes(190)
        },
        "arrived at 3:10 office time, after the 1:00–3:00 window (2:50 by the phone's own clock)"
    );
    let slow_view = views::job(&store, slow.id).expect("view").summary;
    assert_eq!(
        slow_view.sla,
        Sla::MetLate {
            due_at: reported + Duration::hours(4),
            resolved_at: reported + Duration::minutes(250)
        },
        "resolved at 4:10 office time: late (3:50 by the phone's own clock)"
    );
    let today = views::today(&store).expect("today");
    let listed = today
        .jobs
        .iter()
        .find(|j| j.id == slow.id)
        .expect("the job is listed");
    assert_eq!(
        (listed.sla, listed.arrival),
        (slow_view.sla, slow_view.arrival),
        "the day's list says the same as the job"
    );
}
