//! heatcrew-core's integration tests: the field rules as the device store applies them, the signed
//! log, tampering, crashes. The rules on bare values (templates, clocks) are tested in
//! crates/rules/tests/rules.rs. Every assertion says why it matters.

use chrono::{Duration, NaiveDate, Utc};
use heatcrew_core::CoreError;
use heatcrew_core::audit::audit;
use heatcrew_core::demo::{self, VisitScript};
use heatcrew_core::store::{Clock, Store};
use heatcrew_protocol::{
    AttachmentRef, DeclineKind, Digest, EventBody, Job, JobKind, JobStatus, Position, Reading,
    Resolution, Signer, StepEvidence, Witness,
};
use heatcrew_rules::checklist::JobContext;
use heatcrew_rules::{Lang, RuleError};
use proptest::prelude::*;
use rusqlite::Connection;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use tempfile::TempDir;
use uuid::Uuid;

// ---------------------------------------------------------------- helpers

struct Device {
    _dir: TempDir,
    db: PathBuf,
    store: Store,
}

fn device() -> Device {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("device.db");
    let store = Store::open(&db).expect("open store");
    Device {
        _dir: dir,
        db,
        store,
    }
}

fn png(label: &str, n: u32) -> (Vec<u8>, &'static str) {
    // The file store does not decode; distinct bytes per photo are what matter here.
    (
        format!("photo {label} {n} {}", Uuid::now_v7()).into_bytes(),
        "image/jpeg",
    )
}

fn photo(store: &Store) -> AttachmentRef {
    let (bytes, mime) = png("p", 0);
    AttachmentRef {
        sha256: store.files().put(&bytes).expect("store file"),
        bytes: bytes.len() as u64,
        mime: mime.into(),
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

fn rule(err: CoreError) -> RuleError {
    match err {
        CoreError::Rule(r) => r,
        other => panic!("expected a rule error, got {other:?}"),
    }
}

/// A home repair job on the device, walked up to (not including) `until`.
fn visit_until(store: &mut Store, until: &str) -> Job {
    let job = demo::home_repair_job(0, None);
    store.add_office_job(&job).expect("dispatch");
    for step in [
        "appointment",
        "arrive",
        "identify",
        "knock_consent",
        "shoe_covers",
        "diagnose_repair",
        "clean_up",
        "signature",
        "rating",
        "contact_card",
    ] {
        if step == until {
            break;
        }
        match step {
            "diagnose_repair" => {
                for _ in 0..2 {
                    let p = photo(store);
                    store
                        .record(
                            job.id,
                            EventBody::PhotoAdded {
                                step: step.into(),
                                photo: p,
                                caption: String::new(),
                            },
                        )
                        .expect("photo");
                }
                let mut ev = StepEvidence::default();
                ev.text.insert("fault_found".into(), "阀门堵塞".into());
                ev.text.insert("work_done".into(), "清洗阀芯".into());
                store
                    .record(
                        job.id,
                        EventBody::StepCompleted {
                            step: step.into(),
                            evidence: ev,
                        },
                    )
                    .expect("diagnose");
            }
            "clean_up" => {
                let p = photo(store);
                store
                    .record(
                        job.id,
                        EventBody::PhotoAdded {
                            step: step.into(),
                            photo: p,
                            caption: String::new(),
                        },
                    )
                    .expect("photo");
                store.record(job.id, done(step)).expect("clean up");
            }
            "signature" => {
                let image = photo(store);
                store
                    .record(
                        job.id,
                        EventBody::SignatureCaptured {
                            step: step.into(),
                            signer: Signer::Customer,
                            signer_name: "王秀英".into(),
                            image,
                        },
                    )
                    .expect("sign");
                store.record(job.id, done(step)).expect("signature step");
            }
            "rating" => {
                store
                    .record(
                        job.id,
                        EventBody::RatingGiven {
                            stars: 4,
                            comment: "好".into(),
                        },
                    )
                    .expect("rate");
                store.record(job.id, done(step)).expect("rating step");
            }
            _ => {
                store.record(job.id, done(step)).expect("confirm step");
            }
        }
    }
    job
}

fn fixed_clock(t: chrono::DateTime<Utc>) -> Clock {
    Arc::new(move || t)
}

// ---------------------------------------------------------------- rules

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
                customer_signature: missing,
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

// ---------------------------------------------------------------- the store

#[test]
fn events_are_append_only_in_the_schema() {
    let mut d = device();
    visit_until(&mut d.store, "identify");
    let conn = Connection::open(&d.db).expect("open");
    let upd = conn.execute("UPDATE events SET payload = '{}' WHERE seq = 1", []);
    assert!(upd.is_err(), "the schema refuses to edit an event");
    let del = conn.execute("DELETE FROM events WHERE seq = 1", []);
    assert!(del.is_err(), "the schema refuses to delete an event");
    let gap = conn.execute(
        "INSERT INTO events (seq, id, job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig) VALUES (99, 'x', 'j', 'k', '{}', 't', 0, x'', x'', x'')",
        [],
    );
    assert!(gap.is_err(), "the schema refuses a gap in the sequence");
}

#[test]
fn a_database_from_a_newer_app_is_refused_untouched() {
    let d = device();
    drop(d.store);
    let conn = Connection::open(&d.db).expect("open");
    conn.pragma_update(None, "user_version", 99).expect("bump");
    drop(conn);
    let err = Store::open(&d.db).expect_err("newer schema");
    assert_eq!(
        err.code(),
        "database_too_new",
        "an old app must not write into a newer database"
    );
    let v: i64 = Connection::open(&d.db)
        .expect("open")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(v, 99, "the newer database is left as it was");
}

#[test]
fn projections_rebuilt_from_events_equal_the_live_ones() {
    let mut d = device();
    let mut images = demo::generated_png;
    demo::field_day(&mut d.store, &mut images, 4).expect("demo day");
    let live = d.store.projection_rows().expect("rows");
    d.store.rebuild_projections().expect("rebuild");
    assert_eq!(
        d.store.projection_rows().expect("rows"),
        live,
        "projections are derivable from the event log alone"
    );
    assert_eq!(
        d.store.outbox().expect("outbox").len() as u64,
        d.store.tip().seq,
        "every event waits in the outbox until the office acknowledges it"
    );
}

#[test]
fn the_device_keeps_its_identity_and_clock_order_across_restarts() {
    let mut d = device();
    visit_until(&mut d.store, "knock_consent");
    let id = d.store.device_id();
    let last = d
        .store
        .events()
        .expect("events")
        .last()
        .expect("one")
        .unsigned
        .elapsed_ms;
    drop(d.store);
    // A wall clock set back a year must not reorder anything.
    let past = Utc::now() - Duration::days(365);
    let mut store = Store::open_with_clock(&d.db, fixed_clock(past)).expect("reopen");
    assert_eq!(
        store.device_id(),
        id,
        "the device id and key survive a restart"
    );
    let job = store.jobs().expect("jobs")[0].job.id;
    let e = store.record(job, done("knock_consent")).expect("next step");
    assert!(
        e.unsigned.elapsed_ms >= last,
        "monotonic time never goes backwards across restarts, whatever the wall clock says"
    );
    assert_eq!(e.seq(), 4, "the sequence continues");
}

// ---------------------------------------------------------------- verify and tampering

fn device_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heatcrew-device"))
}

fn run_verify(db: &Path) -> (bool, String) {
    let out = device_bin()
        .args(["verify", "--db"])
        .arg(db)
        .output()
        .expect("run verify");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A demo database, copied so each tampering starts from a clean log.
fn demo_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("phone.db");
    let out = device_bin()
        .args(["demo", "--visits", "3", "--db"])
        .arg(&db)
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "demo runs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, db)
}

fn tamper(db: &Path, sql: &str) {
    let conn = Connection::open(db).expect("open");
    // An attacker with the file can drop our triggers; the signatures still catch them.
    conn.execute_batch("PRAGMA foreign_keys = OFF; DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; DROP TRIGGER events_gap_free;")
        .expect("drop triggers");
    conn.execute_batch(sql).expect("tamper");
}

#[test]
fn verify_accepts_an_honest_log_and_exports_it() {
    let (_dir, db) = demo_db();
    let (ok, out) = run_verify(&db);
    assert!(ok, "an untouched demo log verifies: {out}");
    assert!(
        out.starts_with("ok: ") && out.contains(" events"),
        "verify prints ok: N events: {out}"
    );
    let export = device_bin()
        .args(["export", "--db"])
        .arg(&db)
        .output()
        .expect("export");
    let lines = String::from_utf8(export.stdout).expect("utf8");
    let n: usize = out
        .trim()
        .trim_start_matches("ok: ")
        .trim_end_matches(" events")
        .parse()
        .expect("count");
    assert_eq!(
        lines.lines().count(),
        n,
        "export writes one JSON line per event"
    );
    for line in lines.lines() {
        serde_json::from_str::<heatcrew_protocol::Event>(line).expect("each line is a wire event");
    }
}

#[test]
fn verify_names_every_kind_of_tampering() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "edit a payload",
            "UPDATE events SET payload = replace(payload, '堵塞', '正常') WHERE seq = (SELECT MIN(seq) FROM events WHERE payload LIKE '%堵塞%')",
            "edited",
        ),
        (
            "edit a time",
            "UPDATE events SET recorded_at = '2020-01-01T00:00:00.000Z' WHERE seq = 5",
            "edited",
        ),
        (
            "delete one in the middle",
            "DELETE FROM events WHERE seq = 7",
            "missing",
        ),
        (
            "delete the newest",
            "DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)",
            "missing",
        ),
        (
            "swap two rows",
            "UPDATE events SET seq = -1 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 4; UPDATE events SET seq = 4 WHERE seq = -1;",
            "reordered",
        ),
        (
            "insert a forged event",
            "UPDATE events SET seq = seq + 1000 WHERE seq >= 6; UPDATE events SET seq = seq - 999 WHERE seq >= 1006; INSERT INTO events SELECT 6, 'forged', job_id, kind, payload, recorded_at, elapsed_ms, prev_hash, hash, sig FROM events WHERE seq = 5;",
            "event 6",
        ),
        (
            "replace a signature",
            "UPDATE events SET sig = zeroblob(64) WHERE seq = 2",
            "bad signature",
        ),
    ];
    for (what, sql, expect) in cases {
        let (_dir, db) = demo_db();
        tamper(&db, sql);
        let (ok, out) = run_verify(&db);
        assert!(!ok, "verify must fail after we {what}: {out}");
        assert!(
            out.contains(expect),
            "after we {what}, verify says {expect:?}: {out}"
        );
    }
}

// ---------------------------------------------------------------- property tests

#[derive(Debug, Clone)]
enum Action {
    Confirm,
    Skip(bool),
    Photo,
    Sign,
    Decline(bool),
    Rate(u8),
    Close,
    Reopen,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => Just(Action::Confirm),
        1 => any::<bool>().prop_map(Action::Skip),
        3 => Just(Action::Photo),
        1 => Just(Action::Sign),
        1 => any::<bool>().prop_map(Action::Decline),
        1 => (0u8..7).prop_map(Action::Rate),
        1 => Just(Action::Close),
        1 => Just(Action::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, .. ProptestConfig::default() })]

    /// Whatever a user taps, in any order, the log stays a valid chain and the projections can be
    /// rebuilt to exactly what was shown live.
    #[test]
    fn random_actions_keep_the_chain_valid_and_projections_rebuildable(actions in proptest::collection::vec(action(), 1..60)) {
        let mut d = device();
        let mut job = demo::home_repair_job(0, None);
        d.store.add_office_job(&job).expect("dispatch");
        let mut accepted = 0u64;
        for a in actions {
            let current = {
                let stored = d.store.job(job.id).expect("read").expect("job");
                let t = stored.template().expect("template");
                JobContext { job: &stored.job, template: t, progress: &stored.progress, revoked: false }
                    .current_step().map(|s| s.id.clone()).unwrap_or_else(|| "contact_card".into())
            };
            let body = match a {
                Action::Confirm => {
                    let mut ev = StepEvidence::default();
                    ev.text.insert("fault_found".into(), "x".into());
                    ev.text.insert("work_done".into(), "y".into());
                    EventBody::StepCompleted { step: current, evidence: ev }
                }
                Action::Skip(with_reason) => EventBody::StepSkipped { step: current, reason: if with_reason { "原因".into() } else { String::new() } },
                Action::Photo => EventBody::PhotoAdded { step: current, photo: photo(&d.store), caption: String::new() },
                Action::Sign => EventBody::SignatureCaptured { step: current, signer: Signer::Customer, signer_name: "客户".into(), image: photo(&d.store) },
                Action::Decline(with_reason) => EventBody::SignatureDeclined { step: current, outcome: DeclineKind::Refused, reason: if with_reason { "拒签".into() } else { String::new() }, witness: None },
                Action::Rate(stars) => EventBody::RatingGiven { stars, comment: String::new() },
                Action::Close => EventBody::JobClosed { resolution: Resolution::Resolved, summary: String::new() },
                Action::Reopen => {
                    // A new job arrives mid-run; later actions go to it.
                    job = demo::home_repair_job(1, None);
                    d.store.add_office_job(&job).expect("dispatch");
                    continue;
                }
            };
            let before = d.store.tip().seq;
            match d.store.record(job.id, body) {
                Ok(_) => { accepted += 1; prop_assert_eq!(d.store.tip().seq, before + 1, "an accepted action appends exactly one event"); }
                Err(e) => { prop_assert_eq!(d.store.tip().seq, before, "a refused action appends nothing ({})", e); }
            }
        }
        let events = d.store.events().expect("events");
        prop_assert_eq!(events.len() as u64, accepted, "one event per accepted action");
        prop_assert_eq!(audit(&events, d.store.device_id(), &d.store.public_key(), Some(d.store.tip())), Ok(accepted), "the chain verifies");
        let live = d.store.projection_rows().expect("rows");
        d.store.rebuild_projections().expect("rebuild");
        prop_assert_eq!(d.store.projection_rows().expect("rows"), live, "rebuilt projections equal the live ones");
    }
}

// ---------------------------------------------------------------- crash safety

const CRASH_CHILD_DB: &str = "HEATCREW_CRASH_CHILD_DB";

/// Run as a child process by `kill_at_random_moments`: records visits forever, printing the
/// sequence number and id of each action after its call returned.
#[test]
fn crash_child() {
    let Ok(db) = std::env::var(CRASH_CHILD_DB) else {
        return; // only meaningful as a child
    };
    let mut store = Store::open(&db).expect("child opens store");
    let mut images = demo::generated_png;
    // Print each action as soon as its record call has committed.
    store.on_recorded(Box::new(|events| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for e in events {
            // A marker, because libtest may print "test crash_child ... " on the same line.
            writeln!(out, "@@{} {}", e.seq(), e.unsigned.id).expect("print");
        }
        out.flush().expect("flush");
    }));
    loop {
        let job = demo::home_repair_job(0, None);
        store.add_office_job(&job).expect("dispatch");
        demo::home_repair_visit(&mut store, &mut images, &job, VisitScript::SignedWithDamage)
            .expect("visit");
    }
}

#[test]
fn kill_at_random_moments() {
    let kills: u32 = std::env::var("HEATCREW_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("crash.db");
    let mut promised: std::collections::BTreeMap<u64, String> = Default::default();
    let mut seed: u64 = 0x5eed_1234_abcd;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..kills {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CRASH_CHILD_DB, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        std::thread::sleep(std::time::Duration::from_millis(rnd(250)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        for line in reader.join().expect("reader") {
            let Some(at) = line.find("@@") else { continue };
            if let Some((seq, id)) = line[at + 2..].split_once(' ')
                && let Ok(seq) = seq.parse::<u64>()
            {
                promised.insert(seq, id.to_owned());
            }
        }

        let conn = Connection::open(&db).expect("open after kill");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity");
        assert_eq!(check, "ok", "round {round}: SQLite is intact after SIGKILL");
        let orphans: i64 = conn
            .query_row("SELECT COUNT(*) FROM events e LEFT JOIN outbox o ON o.seq = e.seq WHERE o.seq IS NULL", [], |r| r.get(0))
            .expect("count");
        assert_eq!(
            orphans, 0,
            "round {round}: no event without its outbox row (nothing half-applied)"
        );
        drop(conn);
        let mut store = Store::open(&db).expect("reopen after kill");
        let events = store.events().expect("events");
        audit(
            &events,
            store.device_id(),
            &store.public_key(),
            Some(store.tip()),
        )
        .unwrap_or_else(|f| panic!("round {round}: the chain verifies after a kill: {f}"));
        for (seq, id) in &promised {
            let e = events
                .get(*seq as usize - 1)
                .unwrap_or_else(|| panic!("round {round}: returned action {seq} is lost"));
            assert_eq!(
                &e.unsigned.id.to_string(),
                id,
                "round {round}: returned action {seq} is the same event"
            );
        }
        for e in &events {
            for a in EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload)
                .expect("body")
                .attachments()
            {
                assert!(
                    store.files().contains(&a.sha256),
                    "round {round}: event {} has its file",
                    e.seq()
                );
            }
        }
        if round % 20 == 0 || round + 1 == kills {
            let live = store.projection_rows().expect("rows");
            store.rebuild_projections().expect("rebuild");
            assert_eq!(
                store.projection_rows().expect("rows"),
                live,
                "round {round}: projections match the log: nothing half-applied"
            );
        }
    }
    assert!(
        !promised.is_empty(),
        "the children recorded something between kills"
    );
    eprintln!(
        "crash test: {kills} kills, {} actions confirmed and all present",
        promised.len()
    );
}

// ---------------------------------------------------------------- photos and files

#[test]
fn photos_go_through_the_pipeline_and_bad_files_store_nothing() {
    let d = device();
    let (png_bytes, _) = demo::generated_png("before", 1);
    let photo = d
        .store
        .ingest_photo(&png_bytes)
        .expect("a real image is accepted");
    assert_eq!(photo.mime, "image/jpeg", "photos are stored as JPEG");
    assert!(
        d.store.files().contains(&photo.sha256),
        "the file is stored under its hash"
    );
    assert_eq!(
        Digest::of(&d.store.files().read(&photo.sha256).expect("read")),
        photo.sha256,
        "the reference is the SHA-256 of the stored bytes"
    );
    assert!(
        !d.store.thumbnail(&photo.sha256).expect("thumb").is_empty(),
        "a thumbnail is there for lists"
    );
    let files_before = std::fs::read_dir(d.store.files().dir())
        .expect("dir")
        .count();
    for bad in [
        &b""[..],
        b"not an image at all",
        &png_bytes[..png_bytes.len() / 2],
    ] {
        let err = d.store.ingest_photo(bad).expect_err("bad input");
        assert!(
            ["empty_file", "not_an_image", "truncated", "corrupt"].contains(&err.code()),
            "a bad file gets a clear code, got {}",
            err.code()
        );
        assert!(
            !err.message(Lang::Zh).is_empty(),
            "and a message in Chinese"
        );
    }
    assert_eq!(
        std::fs::read_dir(d.store.files().dir())
            .expect("dir")
            .count(),
        files_before,
        "bad files leave nothing behind"
    );
    assert!(
        d.store
            .ingest_signature(&demo::generated_signature(0))
            .is_ok(),
        "a drawn signature is accepted"
    );
}

#[test]
fn orphan_files_are_cleaned_up_but_referenced_ones_stay() {
    let mut d = device();
    visit_until(&mut d.store, "clean_up");
    // A crash between storing a file and recording its event leaves an orphan.
    let orphan = d
        .store
        .files()
        .put(b"photo whose event never committed")
        .expect("put");
    let referenced: Vec<_> = d
        .store
        .events()
        .expect("events")
        .iter()
        .flat_map(|e| {
            EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload)
                .expect("body")
                .attachments()
                .into_iter()
                .map(|a| a.sha256)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!referenced.is_empty(), "the visit has photos");
    assert_eq!(
        d.store
            .remove_orphan_files(std::time::Duration::from_secs(3600))
            .expect("clean"),
        0,
        "a fresh file may still be a form being filled in: kept for a while"
    );
    assert!(
        d.store
            .remove_orphan_files(std::time::Duration::ZERO)
            .expect("clean")
            >= 1,
        "old orphans are removed"
    );
    assert!(!d.store.files().contains(&orphan), "the orphan is gone");
    for sha in referenced {
        assert!(
            d.store.files().contains(&sha),
            "files that events refer to are never removed"
        );
    }
}
