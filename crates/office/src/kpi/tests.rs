//! Each KPI's definition on hand-made jobs, and the office's rule re-check on hand-made visits.

use super::conformance;
use super::facts::{KpiFacts, facts};
use super::figures::*;
use crate::store::{JobRecord, StoredEvent};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, Customer, Digest, EventBody, Job, JobKind, JobStatus,
    Resolution, Signer, StepEvidence, TemplateRef, UnsignedEvent,
};
use uuid::Uuid;

/// 2026-12-01 00:00 in China (UTC+8).
fn day0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00+08:00")
        .expect("time")
        .with_timezone(&Utc)
}

fn h(hours: f64) -> DateTime<Utc> {
    day0() + Duration::minutes((hours * 60.0) as i64)
}

fn repair(reported: f64) -> KpiFacts {
    KpiFacts {
        job_id: Uuid::now_v7(),
        kind: JobKind::HomeRepair,
        title: "暖气不热".into(),
        person: Some(Uuid::from_u128(7)),
        anchor_at: h(reported),
        reported_at: Some(h(reported)),
        window_start: None,
        window_end: None,
        arrived_at: None,
        resolution: None,
        closed_at: None,
        rating: None,
        cancelled: false,
        counted: true,
        conforming: true,
    }
}

fn closed(mut f: KpiFacts, r: Resolution, at: f64) -> KpiFacts {
    f.resolution = Some(r);
    f.closed_at = Some(h(at));
    f
}

fn figure(facts: &[KpiFacts], key: &str, now: DateTime<Utc>) -> (u64, u64) {
    let mut t = Tally::new();
    for f in facts {
        t.add(f, now);
    }
    let f = t
        .figures(default_target)
        .into_iter()
        .find(|f| f.key == key)
        .expect("figure");
    (f.numerator, f.denominator)
}

#[test]
fn timely_repair_counts_repairs_resolved_within_4_hours_of_the_report() {
    let late_night = closed(repair(23.0), Resolution::Resolved, 25.5);
    let late = closed(repair(9.0), Resolution::Resolved, 13.5);
    let running = repair(20.0);
    let follow_up = closed(repair(8.0), Resolution::FollowUpNeeded, 10.0);
    let mut cancelled = repair(8.0);
    cancelled.cancelled = true;
    let no_entry = closed(repair(8.0), Resolution::NoEntry, 9.0);
    let mut made_up = closed(repair(8.0), Resolution::Resolved, 9.0);
    made_up.conforming = false;
    let mut unaccepted = closed(repair(8.0), Resolution::Resolved, 9.0);
    unaccepted.counted = false;
    let mut inspection = closed(repair(8.0), Resolution::Resolved, 9.0);
    inspection.kind = JobKind::HeatTheftInspection;
    let all = [
        late_night, late, running, follow_up, cancelled, no_entry, made_up, unaccepted, inspection,
    ];
    // At 22:00 the 20:00 repair's 4 hours are still running: not due yet. Due: the 23:00 report
    // resolved at 01:30 (timely: it belongs to the day it was reported), the late one, the
    // follow-up (its clock does not stop) and the made-up closure.
    assert_eq!(figure(&all, TIMELY_REPAIR, h(22.0)), (1, 4));
    // Next day noon: the 20:00 one breached.
    assert_eq!(figure(&all, TIMELY_REPAIR, h(36.0)), (1, 5));
    // A customer who chose an appointment the next afternoon: the clock runs from its start.
    let mut rescheduled = closed(repair(9.0), Resolution::Resolved, 30.0);
    rescheduled.window_start = Some(h(28.0));
    rescheduled.window_end = Some(h(30.0));
    assert_eq!(figure(&[rescheduled], TIMELY_REPAIR, h(40.0)), (1, 1));
}

#[test]
fn closure_counts_repairs_closed_as_resolved_and_shows_no_entry_apart() {
    let resolved = closed(repair(8.0), Resolution::Resolved, 9.0);
    let follow_up = closed(repair(8.0), Resolution::FollowUpNeeded, 10.0);
    let open = repair(8.0);
    let no_entry = closed(repair(8.0), Resolution::NoEntry, 9.0);
    let mut made_up = resolved.clone();
    made_up.conforming = false;
    let mut cancelled = resolved.clone();
    cancelled.cancelled = true;
    let all = [resolved, follow_up, open, no_entry, made_up, cancelled];
    assert_eq!(
        figure(&all, CLOSURE, h(20.0)),
        (1, 4),
        "no-entry is neither closed nor open: it is out of the closure rate"
    );
    assert_eq!(figure(&all, NO_ENTRY, h(20.0)), (1, 5));
}

#[test]
fn on_time_arrival_is_arrival_by_the_end_of_the_window() {
    let visit = |arrived: Option<f64>| {
        let mut f = repair(7.0);
        f.window_start = Some(h(9.0));
        f.window_end = Some(h(11.0));
        f.arrived_at = arrived.map(h);
        f
    };
    let all = [
        visit(Some(8.5)),  // early: there before the customer's window, on time
        visit(Some(10.0)), // inside
        visit(Some(11.5)), // late
        visit(None),       // not arrived
    ];
    assert_eq!(
        figure(&all, ON_TIME_ARRIVAL, h(10.5)),
        (2, 3),
        "not arrived inside a window still open is not due yet"
    );
    assert_eq!(figure(&all, ON_TIME_ARRIVAL, h(12.0)), (2, 4));
}

#[test]
fn satisfaction_is_the_share_rated_4_or_5_and_the_mean() {
    let rated = |stars: u8, conforming: bool| {
        let mut f = closed(repair(8.0), Resolution::Resolved, 9.0);
        f.rating = Some(stars);
        f.conforming = conforming;
        f
    };
    let all = [
        rated(5, true),
        rated(4, true),
        rated(3, true),
        rated(5, false),
        repair(8.0),
    ];
    assert_eq!(figure(&all, SATISFACTION, h(20.0)), (2, 3));
    assert_eq!(figure(&all, SATISFACTION_MEAN, h(20.0)), (12, 3));
    let mut t = Tally::new();
    all.iter().for_each(|f| t.add(f, h(20.0)));
    let mean = t
        .figures(default_target)
        .into_iter()
        .find(|f| f.key == SATISFACTION_MEAN)
        .expect("mean");
    assert_eq!(mean.value, Some(4.0));
    assert_eq!(mean.met, Some(false), "below the default 4.5 target");
    assert_eq!(mean.unit, "stars");
    let none = Figure::new(SATISFACTION, 0, 0, Some(0.95));
    assert_eq!(
        (none.value, none.met),
        (None, None),
        "nothing rated: no value"
    );
}

#[test]
fn targets_are_shares_or_star_means_within_range() {
    assert!(valid_target(TIMELY_REPAIR, 0.98));
    assert!(!valid_target(TIMELY_REPAIR, 98.0));
    assert!(!valid_target(SATISFACTION_MEAN, 0.5));
    assert!(!valid_target(NO_ENTRY, 0.1));
    assert!(!valid_target("made_up", 0.5));
    assert!(!valid_target(CLOSURE, f64::NAN));
}

// ---- the office's rule re-check, on hand-made visits ----

fn home_job() -> Job {
    Job {
        id: Uuid::from_u128(99),
        kind: JobKind::HomeRepair,
        template: TemplateRef {
            id: "home_repair".into(),
            version: 1,
        },
        title: "暖气不热".into(),
        customer: Some(Customer {
            name: "王秀英".into(),
            phone: "13800000000".into(),
            address: "幸福里".into(),
            account_no: String::new(),
        }),
        site: None,
        reported_at: Some(h(8.0)),
        window: Some(AppointmentWindow {
            start: h(9.0),
            end: h(11.0),
        }),
        assignee: Some(Uuid::from_u128(7)),
        street_work: false,
        checkpoints: vec![],
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

fn att(n: u8) -> AttachmentRef {
    AttachmentRef {
        sha256: Digest([n; 32]),
        bytes: 1000,
        mime: "image/jpeg".into(),
        width: 10,
        height: 10,
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

fn photo(step: &str, n: u8) -> EventBody {
    EventBody::PhotoAdded {
        step: step.into(),
        photo: att(n),
        caption: String::new(),
    }
}

fn signature() -> EventBody {
    EventBody::SignatureCaptured {
        step: "signature".into(),
        signer: Signer::Customer,
        signer_name: "王秀英".into(),
        image: att(9),
    }
}

fn repair_done() -> EventBody {
    EventBody::StepCompleted {
        step: "diagnose_repair".into(),
        evidence: StepEvidence {
            text: [
                ("fault_found".to_owned(), "阀门堵塞".to_owned()),
                ("work_done".to_owned(), "清洗阀芯".to_owned()),
            ]
            .into(),
            ..StepEvidence::default()
        },
    }
}

/// An honest visit, in the order the app records it.
fn honest() -> Vec<EventBody> {
    vec![
        done("appointment"),
        done("arrive"),
        done("identify"),
        done("knock_consent"),
        done("shoe_covers"),
        photo("diagnose_repair", 1),
        photo("diagnose_repair", 2),
        repair_done(),
        photo("clean_up", 3),
        done("clean_up"),
        signature(),
        done("signature"),
        EventBody::RatingGiven {
            stars: 5,
            comment: "很好".into(),
        },
        done("rating"),
        done("contact_card"),
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "故障已排除".into(),
        },
    ]
}

/// `bodies` as stored events, one every 10 minutes from 09:30 on a device clock `skew` off, kept
/// with the offset that undoes it.
fn stored(job: &Job, bodies: &[EventBody], skew: Duration) -> Vec<StoredEvent> {
    let key = SigningKey::from_bytes(&[5; 32]);
    bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (kind, payload) = b.to_parts();
            let event = UnsignedEvent {
                id: Uuid::now_v7(),
                device_id: Uuid::from_u128(3),
                device_seq: i as u64 + 1,
                job_id: job.id,
                kind,
                payload,
                recorded_at: h(9.5) + Duration::minutes(10 * i as i64) + skew,
                elapsed_ms: 600_000 * i as u64,
                prev_hash: Digest::GENESIS,
                format: heatcrew_protocol::Format::V2,
            }
            .seal(&key);
            StoredEvent {
                event,
                user_id: Uuid::from_u128(7),
                accepted: true,
                reject_code: None,
                reject_reason: None,
                received_at: h(12.0),
                device_clock_offset_ms: Some(-skew.num_milliseconds()),
            }
        })
        .collect()
}

fn record(job: &Job) -> JobRecord {
    JobRecord {
        job: job.clone(),
        created_at: h(8.0),
        cancel_reason: None,
        field_created: false,
        accepted_at: None,
    }
}

#[test]
fn an_honest_visit_conforms_and_counts() {
    let job = home_job();
    let events = stored(&job, &honest(), Duration::zero());
    let v = conformance::check(&job, &events);
    assert!(v.is_empty(), "an honest visit breaks no rule: {v:?}");
    let f = facts(&record(&job), &events, v.is_empty());
    assert_eq!(f.resolution, Some(Resolution::Resolved));
    assert_eq!(f.rating, Some(5));
    assert_eq!(f.arrived_at, Some(h(9.5) + Duration::minutes(10)));
    assert_eq!(figure(&[f], TIMELY_REPAIR, h(20.0)), (1, 1));
}

#[test]
fn a_signature_before_the_repair_is_kept_but_the_job_does_not_conform() {
    let job = home_job();
    let mut bodies = honest();
    // The customer "signs" before any repair was recorded.
    let sig = bodies.remove(10);
    bodies.insert(5, sig);
    let events = stored(&job, &bodies, Duration::zero());
    let v = conformance::check(&job, &events);
    assert_eq!(
        v.first().map(|v| v.code.as_str()),
        Some("step_out_of_order")
    );
    assert_eq!(
        v[0].event_id, events[5].event.unsigned.id,
        "the event that broke it"
    );
    assert_eq!(v[0].kind, "signature_captured");
    let f = facts(&record(&job), &events, v.is_empty());
    assert_eq!(f.resolution, Some(Resolution::Resolved), "kept as recorded");
    assert_eq!(
        figure(std::slice::from_ref(&f), TIMELY_REPAIR, h(20.0)),
        (0, 1)
    );
    assert_eq!(figure(&[f], CLOSURE, h(20.0)), (0, 1));
}

#[test]
fn closing_without_the_required_steps_does_not_conform() {
    let job = home_job();
    let bodies = vec![
        done("appointment"),
        done("arrive"),
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "已修好".into(),
        },
    ];
    let events = stored(&job, &bodies, Duration::zero());
    let v = conformance::check(&job, &events);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].code, "cannot_close");
    assert!(!v[0].message_zh.is_empty() && !v[0].message_en.is_empty());
}

#[test]
fn a_skewed_device_clock_gives_the_same_facts_as_a_true_one() {
    let job = home_job();
    let truth = facts(
        &record(&job),
        &stored(&job, &honest(), Duration::zero()),
        true,
    );
    for skew in [Duration::hours(72), Duration::hours(-72)] {
        let skewed = facts(&record(&job), &stored(&job, &honest(), skew), true);
        assert_eq!(skewed, truth, "a clock {skew} off, corrected");
    }
}
