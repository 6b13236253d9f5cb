//! The device applies the protocol's range check before it records (heatcrew_protocol::bounds):
//! a clock outside 2000..2200 or an absurd value is refused with `out_of_range` and nothing is
//! recorded; only emergencies reported now may be opened in the field; and the screens' clocks
//! survive an office job with absurd times.

use super::*;
use chrono::DateTime;
use heatcrew_core::views;
use heatcrew_protocol::AppointmentWindow;

fn event_count(store: &Store) -> usize {
    store.events().expect("events").len()
}

#[test]
fn a_clock_outside_2000_to_2200_records_nothing() {
    let mut d = device();
    visit_until(&mut d.store, "knock_consent");
    let job = d.store.jobs().expect("jobs")[0].job.id;
    let before = event_count(&d.store);
    drop(d.store);
    for (why, at) in [
        (
            "a phone clock reset to 1970",
            DateTime::from_timestamp(0, 0),
        ),
        (
            "a clock in 2300",
            DateTime::from_timestamp(10_413_792_000, 0),
        ),
    ] {
        let at = at.expect("time");
        let mut store = Store::open_with_clock(&d.db, fixed_clock(at)).expect("reopen");
        let err = store
            .record(job, done("knock_consent"))
            .expect_err("refused");
        assert_eq!(err.code(), "out_of_range", "{why}: {err}");
        assert!(
            err.message(Lang::En).contains("recorded_at"),
            "{why}: the message names the field: {}",
            err.message(Lang::En)
        );
        assert_eq!(event_count(&store), before, "{why}: nothing recorded");
    }
}

#[test]
fn absurd_values_and_forbidden_field_jobs_are_refused_before_recording() {
    let mut d = device();
    let before = event_count(&d.store);
    let err = d
        .store
        .report_accident(
            "井盖缺失".into(),
            "设置警戒线".into(),
            Position {
                lat: Some(1000.0),
                lon: Some(0.0),
                description: "友谊路".into(),
                ..Default::default()
            },
            false,
        )
        .expect_err("a latitude of 1000° is refused");
    assert_eq!(err.code(), "out_of_range", "{err}");
    let err = d
        .store
        .report_accident(
            "井".repeat(10_001),
            "设置警戒线".into(),
            Position::default(),
            false,
        )
        .expect_err("a description of 10,001 characters is refused");
    assert_eq!(err.code(), "out_of_range", "{err}");
    let mut home = demo::home_repair_job(0, None);
    home.reported_at = Some(Utc::now());
    let err = d
        .store
        .create_job(home, vec![])
        .expect_err("a home repair is the office's to open");
    assert_eq!(err.code(), "field_job_not_allowed", "{err}");
    assert_eq!(
        event_count(&d.store),
        before,
        "nothing was recorded, not even the job_created of a refused report"
    );
}

#[test]
fn the_screens_clocks_survive_office_jobs_with_absurd_times() {
    let mut d = device();
    let max = DateTime::<Utc>::MAX_UTC;
    let min = DateTime::<Utc>::MIN_UTC;
    let mut repair = demo::home_repair_job(0, None);
    repair.reported_at = Some(max - Duration::hours(1));
    repair.window = Some(AppointmentWindow {
        start: max,
        end: min,
    });
    let mut patrol = demo::patrol_job(None);
    patrol.window = Some(AppointmentWindow {
        start: min,
        end: max,
    });
    for cp in &mut patrol.checkpoints {
        cp.interval_minutes = Some(u32::MAX);
    }
    for job in [&repair, &patrol] {
        d.store.add_office_job(job).expect("dispatch");
    }
    views::today(&d.store).expect("today's screen answers");
    for job in [&repair, &patrol] {
        let view = views::job(&d.store, job.id).expect("the job's screen answers");
        assert_eq!(view.summary.id, job.id, "the right job");
    }
}
