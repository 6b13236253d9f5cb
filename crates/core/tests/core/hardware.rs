//! The phone's part in being there, as the device store applies it: presence at a patrol station
//! confirmed by the code posted there (a wrong code refused with nothing recorded), the day's shift
//! readiness before the first repair or inspection, and the outage notices at a customer's door.

use super::*;
use heatcrew_core::views;
use heatcrew_protocol::sync::{Change, ChangeKind, PullResponse};
use heatcrew_protocol::{Checkpoint, CodeEntry, OutageNotice};

const EAST: &str = "7K3M-9Q2P";

/// The demo patrol with codes on its first two stations (as the office gives them).
fn patrol_with_codes(store: &mut Store) -> Job {
    let mut job = demo::patrol_job(None);
    for (cp, code) in job.checkpoints.iter_mut().zip([EAST, "HP2X-8R4T"]) {
        cp.code_sha256 = Some(Checkpoint::code_digest(&cp.id, code));
    }
    store.add_office_job(&job).expect("dispatch");
    job
}

#[test]
fn a_wrong_station_code_is_refused_and_records_nothing() {
    let mut d = device();
    let job = patrol_with_codes(&mut d.store);
    let east = job.checkpoints[0].id.clone();
    let before = d.store.events().expect("events").len();
    for (code, why) in [
        ("HP2X-8R4T", "the next station's code"),
        ("7K3M-9Q2", "one character short"),
        ("", "nothing typed"),
    ] {
        let err = d
            .store
            .confirm_checkpoint(job.id, east.clone(), code.into(), CodeEntry::Typed, None)
            .expect_err(why);
        assert_eq!(
            rule(err).code(),
            "wrong_checkpoint_code",
            "{why} is refused as a wrong code"
        );
    }
    let third = job.checkpoints[2].id.clone();
    let err = d
        .store
        .confirm_checkpoint(job.id, third, EAST.into(), CodeEntry::Typed, None)
        .expect_err("a station without a code");
    assert_eq!(
        rule(err).code(),
        "checkpoint_has_no_code",
        "says the station has no code"
    );
    assert_eq!(
        d.store.events().expect("events").len(),
        before,
        "no refusal is recorded"
    );
    let view = views::job(&d.store, job.id).expect("view");
    assert!(
        view.checkpoints[0].confirmed_at.is_none(),
        "nothing confirmed"
    );
    assert!(
        view.checkpoints[0].has_code && !view.checkpoints[2].has_code,
        "the view says which stations have codes"
    );
}

#[test]
fn the_right_code_as_typed_from_the_plate_is_evidence_of_presence() {
    let mut d = device();
    let job = patrol_with_codes(&mut d.store);
    let east = job.checkpoints[0].id.clone();
    let fix = Position {
        lat: Some(45.75),
        lon: Some(126.64),
        accuracy_m: Some(12.5),
        fixed_at: Some(Utc::now()),
        ..Default::default()
    };
    let event = d
        .store
        .confirm_checkpoint(
            job.id,
            east.clone(),
            " 7k3m 9q2p ".into(),
            CodeEntry::Typed,
            Some(fix.clone()),
        )
        .expect("case, spaces and a missing dash do not matter");
    assert_eq!(
        event.unsigned.kind, "checkpoint_confirmed",
        "its own kind, pushed like any record"
    );
    let view = views::job(&d.store, job.id).expect("view");
    let cp = &view.checkpoints[0];
    assert_eq!(
        cp.confirmed_at,
        Some(event.unsigned.recorded_at),
        "when presence was confirmed"
    );
    assert_eq!(cp.confirmed_by, Some(CodeEntry::Typed), "and how");
    assert!(
        view.checkpoints[1].confirmed_at.is_none(),
        "only that station"
    );
    let body = EventBody::from_parts(&event.unsigned.kind, &event.unsigned.payload).expect("body");
    assert!(
        matches!(body, EventBody::CheckpointConfirmed { position: Some(p), .. } if p == fix),
        "the fix with its accuracy and time goes with the record"
    );
    let stored = d.store.job(job.id).expect("job").expect("there");
    d.store.rebuild_projections().expect("rebuild");
    assert_eq!(
        d.store.job(job.id).expect("job").expect("there").progress,
        stored.progress,
        "the confirmation is folded from the log like every record"
    );
}

#[test]
fn readiness_is_asked_once_per_day_before_the_first_repair() {
    let mut d = device();
    let first = demo::home_repair_job(0, None);
    let second = demo::home_repair_job(1, None);
    let patrol = demo::patrol_job(None);
    for j in [&first, &second, &patrol] {
        d.store.add_office_job(j).expect("dispatch");
    }
    let asked = |store: &Store, id: Uuid| views::job(store, id).expect("view").readiness;
    let checks = asked(&d.store, first.id).expect("the day's first repair asks for readiness");
    let keys: Vec<String> = checks.checks.iter().map(|c| c.key.clone()).collect();
    assert_eq!(
        keys,
        ["uniform", "badge", "tools", "ppe"],
        "the four checks a patrol makes too"
    );
    assert!(
        asked(&d.store, patrol.id).is_none(),
        "a patrol has its own readiness step"
    );

    let before = d.store.events().expect("events").len();
    let err = d
        .store
        .confirm_readiness(first.id, keys[..3].to_vec())
        .expect_err("without protective equipment");
    assert_eq!(
        rule(err).code(),
        "readiness_incomplete",
        "every check is needed"
    );
    let mut twice = keys[..3].to_vec();
    twice.push("uniform".into());
    assert!(
        d.store.confirm_readiness(first.id, twice).is_err(),
        "a check twice is not all four"
    );
    assert_eq!(
        d.store.events().expect("events").len(),
        before,
        "refusals record nothing"
    );

    let event = d
        .store
        .confirm_readiness(first.id, keys.clone())
        .expect("ready");
    let body = EventBody::from_parts(&event.unsigned.kind, &event.unsigned.payload).expect("body");
    assert!(
        matches!(&body, EventBody::ShiftReadinessConfirmed { day, .. } if *day == d.store.today()),
        "recorded for today: {body:?}"
    );
    assert!(d.store.ready_today().expect("ready"), "ready for the day");
    assert!(
        asked(&d.store, first.id).is_none(),
        "not asked again on that job"
    );
    assert!(
        asked(&d.store, second.id).is_none(),
        "nor on the day's next one"
    );

    let stale = EventBody::ShiftReadinessConfirmed {
        day: d.store.today() - Duration::days(1),
        checks: keys,
    };
    assert!(
        d.store.record(second.id, stale).is_err(),
        "readiness is for today, not a day written in by hand"
    );
}

#[test]
fn yesterdays_readiness_does_not_count_today() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("device.db");
    let clock_at = |at: chrono::DateTime<Utc>| -> Clock { Arc::new(move || at) };
    let yesterday = Utc::now() - Duration::days(1);
    let job = demo::home_repair_job(0, None);
    {
        let mut store = Store::open_with_clock(&db, clock_at(yesterday)).expect("open");
        store
            .add_office_job(&demo::home_repair_job(5, None))
            .expect("dispatch");
        let old = store.jobs().expect("jobs")[0].job.id;
        let keys = ["uniform", "badge", "tools", "ppe"]
            .map(String::from)
            .to_vec();
        store.confirm_readiness(old, keys).expect("ready yesterday");
        store.add_office_job(&job).expect("dispatch");
    }
    let store = Store::open(&db).expect("reopen today");
    assert!(!store.ready_today().expect("query"), "a new day asks again");
    assert!(
        views::job(&store, job.id)
            .expect("view")
            .readiness
            .is_some(),
        "on today's first repair"
    );
}

#[test]
fn an_outage_covering_the_address_is_on_the_visit() {
    let mut d = device();
    let job = demo::home_repair_job(0, None);
    d.store.add_office_job(&job).expect("dispatch");
    let address = job.customer.as_ref().expect("a customer").address.clone();
    let now = Utc::now();
    let notice = |area: &str, starts: i64| OutageNotice {
        id: Uuid::now_v7(),
        area: area.into(),
        reason: "二次管网漏水抢修".into(),
        starts_at: now + Duration::hours(starts),
        expected_restore_at: now + Duration::hours(5),
    };
    let here = notice(&address, -1);
    let page = PullResponse {
        changes: [
            here.clone(),
            notice("不存在的小区", -1),
            notice(&address, 2),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, notice)| Change {
            server_seq: i as u64 + 1,
            change: ChangeKind::OutageUpserted { notice },
        })
        .collect(),
        next_cursor: 3,
        has_more: false,
        server_time: now,
        tree_head: None,
        acknowledgements: Vec::new(),
        company: None,
    };
    d.store.apply_pull(&page).expect("pull");
    let view = views::job(&d.store, job.id).expect("view");
    assert_eq!(
        view.outages,
        vec![here],
        "only the notice in force that covers this address: not another estate's, not a future one"
    );
}

#[test]
fn the_phone_cuts_patrol_rounds_and_places_visits_on_the_office_clock() {
    use chrono::{FixedOffset, TimeZone};
    use heatcrew_protocol::AppointmentWindow;
    use heatcrew_rules::sla::CheckpointState;
    let cn = |h: u32, m: u32| {
        FixedOffset::east_opt(8 * 3600)
            .and_then(|z| z.with_ymd_and_hms(2026, 12, 1, h, m, 0).single())
            .expect("time")
            .with_timezone(&Utc)
    };
    // The phone's clock is 30 minutes slow: 08:50 on the phone is 09:20 at the office.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store =
        Store::open_with_clock(dir.path().join("device.db"), fixed_clock(cn(8, 50))).expect("open");
    store
        .note_server_time(Some(cn(9, 20)))
        .expect("the office's time from a sync");
    let mut job = demo::patrol_job(None);
    job.window = Some(AppointmentWindow {
        start: cn(8, 0),
        end: cn(12, 0),
    });
    store.add_office_job(&job).expect("dispatch");
    store.record(job.id, done("shift_ready")).expect("ready");
    store
        .record(job.id, demo::normal_readings(&job.checkpoints[0], 0.0))
        .expect("a reading at the head station");
    let view = views::job(&store, job.id).expect("view");
    let hs = &view.checkpoints[0];
    assert_eq!(
        (hs.state, hs.last_visit_at, hs.missed_rounds),
        (CheckpointState::Done, Some(cn(9, 20)), 1),
        "at office time the visit (09:20) serves the 09:00 round and the 08:00 round was missed — \
         as the office will count it, not on time for 08:00 as the phone's own clock would say"
    );
    assert_eq!(
        (hs.opens_at, hs.next_due_at),
        (cn(10, 0), cn(11, 0)),
        "the next round shown is 10:00–11:00"
    );
    assert_eq!(
        (view.checkpoints[1].state, view.checkpoints[1].missed_rounds),
        (CheckpointState::Done, 0),
        "a substation owes this 08:00–12:00 shift nothing: no round of it starts inside"
    );
    assert_eq!(
        view.checkpoints[1].opens_at,
        cn(12, 0),
        "its next round is shown: 12:00"
    );
}
