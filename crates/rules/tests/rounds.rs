//! Patrol rounds (heatcrew_rules::rounds): where rounds start and end, which a round job owes, how
//! visits judge them, and what the phone shows at each moment of a shift. The office's compliance
//! grid and read-back use the same functions (crates/office/tests/office/patrol_plans.rs proves
//! they agree on a real office).

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use heatcrew_protocol::{
    AppointmentWindow, Checkpoint, CheckpointKind, Job, JobKind, JobStatus, TemplateRef,
};
use heatcrew_rules::rounds::{self, MAX_ROUNDS, RoundState, Rounds, grade};
use heatcrew_rules::sla::CheckpointState;
use uuid::Uuid;

/// 1 December 2026 at `h:m` in China (UTC+8); `h` may run past 24 into the next days.
fn cn(h: i64, m: i64) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .expect("offset")
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("time")
        .with_timezone(&Utc)
        + Duration::hours(h)
        + Duration::minutes(m)
}

fn cp(kind: CheckpointKind, interval_minutes: Option<u32>) -> Checkpoint {
    Checkpoint {
        id: "cp".into(),
        name: "首站".into(),
        kind,
        readings: vec![],
        interval_minutes,
        code_sha256: None,
    }
}

fn round_job(window: Option<(DateTime<Utc>, DateTime<Utc>)>) -> Job {
    Job {
        id: Uuid::from_u128(7),
        kind: JobKind::PatrolRound,
        template: TemplateRef {
            id: "patrol_round".into(),
            version: 1,
        },
        title: "东区巡检".into(),
        customer: None,
        site: None,
        reported_at: None,
        window: window.map(|(start, end)| AppointmentWindow { start, end }),
        assignee: None,
        street_work: false,
        checkpoints: vec![],
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

fn starts(rounds: &[(DateTime<Utc>, DateTime<Utc>)]) -> Vec<DateTime<Utc>> {
    rounds.iter().map(|r| r.0).collect()
}

#[test]
fn a_day_shift_owes_the_rounds_that_start_inside_it_on_local_hours() {
    let job = round_job(Some((cn(8, 0), cn(16, 0))));
    let head = Rounds::of(&cp(CheckpointKind::HeadStation, None), &job);
    let owed = head.owed(&job, cn(9, 0));
    assert_eq!(
        starts(&owed),
        (8..16).map(|h| cn(h, 0)).collect::<Vec<_>>(),
        "the head station: every local hour from 08:00 to 15:00, judged by China's clock, not UTC's"
    );
    assert_eq!(owed[0].1, cn(9, 0), "a head-station round lasts an hour");
    let sub = Rounds::of(&cp(CheckpointKind::Substation, None), &job);
    assert_eq!(
        sub.owed(&job, cn(9, 0)),
        vec![(cn(12, 0), cn(24, 0))],
        "a substation round runs 12:00–24:00; the 00:00 round started before the shift"
    );
    let mut utc = job.clone();
    utc.utc_offset_minutes = Some(0);
    assert_eq!(
        starts(&Rounds::of(&cp(CheckpointKind::Substation, None), &utc).owed(&utc, cn(9, 0))),
        vec![cn(8, 0)],
        "a job in UTC has its substation noon at 20:00 China time — 08:00 the same day is 00:00 UTC"
    );
}

#[test]
fn the_last_round_of_a_day_ends_at_midnight_and_long_intervals_step_from_1970() {
    let seven = Rounds::new(7 * 60, 8 * 60);
    assert_eq!(
        seven.starting_in(cn(0, 0), cn(24, 0)),
        vec![
            (cn(0, 0), cn(7, 0)),
            (cn(7, 0), cn(14, 0)),
            (cn(14, 0), cn(21, 0)),
            (cn(21, 0), cn(24, 0)),
        ],
        "every 7 h: the fourth round is cut at midnight and the next day starts afresh"
    );
    assert_eq!(
        seven.containing(cn(23, 59)),
        (cn(21, 0), cn(24, 0)),
        "23:59 is in the short last round"
    );
    let two_days = Rounds::new(48 * 60, 8 * 60);
    let (start, end) = two_days.containing(cn(12, 0));
    assert_eq!(end - start, Duration::hours(48), "a 48 h round is whole");
    let local_days = (start + Duration::hours(8)).timestamp() / 86_400;
    assert_eq!(
        (
            local_days % 2,
            (start + Duration::hours(8)).timestamp() % 86_400
        ),
        (0, 0),
        "it starts at a local midnight an even number of days after 1970-01-01"
    );
}

#[test]
fn a_visit_in_its_round_is_on_time_in_the_grace_late_and_none_missed() {
    let hourly: Vec<_> = (0..5).map(|h| (cn(h, 0), cn(h + 1, 0))).collect();
    let visits = [cn(0, 30), cn(2, 10), cn(4, 50)];
    let states: Vec<_> = grade(&hourly, &visits, cn(10, 0))
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(
        states,
        [
            RoundState::OnTime, // 0:30 in 0–1
            RoundState::Late,   // none in 1–2; 2:10 within 15 min after
            RoundState::Missed, // 2:10 already served 1–2: a visit serves one round
            RoundState::Missed, // none in 3–4 nor by 4:15
            RoundState::OnTime, // 4:50
        ],
    );
    let states: Vec<_> = grade(&hourly[..3], &[cn(0, 5)], cn(2, 20))
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(
        states,
        [RoundState::OnTime, RoundState::Missed, RoundState::Pending],
        "1–2 is judged at 2:15 (missed by 2:20); 2–3 not before 3:15"
    );
}

#[test]
fn the_phone_shows_each_moment_of_a_shift_as_the_office_will_count_it() {
    let job = round_job(Some((cn(8, 0), cn(12, 0))));
    let head = cp(CheckpointKind::HeadStation, None);
    let at = |visits: &[DateTime<Utc>], now| rounds::checkpoint(&head, &job, visits, now);

    let before = at(&[], cn(7, 30));
    assert_eq!(
        (before.state, before.opens_at, before.next_due_at),
        (CheckpointState::Due, cn(8, 0), cn(9, 0)),
        "before the shift: the first round, 08:00–09:00, is what comes"
    );
    let done = at(&[cn(8, 30)], cn(8, 40));
    assert_eq!(
        (done.state, done.opens_at, done.next_due_at),
        (CheckpointState::Done, cn(9, 0), cn(10, 0)),
        "visited this round: done, the next round opens at 09:00"
    );
    let due = at(&[cn(8, 30)], cn(9, 50));
    assert_eq!(
        (due.state, due.next_due_at),
        (CheckpointState::Due, cn(10, 0)),
        "the 09:00 round is unvisited: due by 10:00"
    );
    let late = at(&[cn(8, 30)], cn(10, 5));
    assert_eq!(
        (late.state, late.opens_at, late.next_due_at),
        (CheckpointState::Late, cn(9, 0), cn(10, 0)),
        "10:05, the 09:00 round unvisited: in its grace, a visit now counts late"
    );
    let after_late = at(&[cn(8, 30), cn(10, 5)], cn(10, 10));
    assert_eq!(
        (
            after_late.state,
            after_late.next_due_at,
            after_late.missed_rounds
        ),
        (CheckpointState::Due, cn(11, 0), 0),
        "the 10:05 visit served the 09:00 round (late), so the 10:00 round is still due"
    );
    let missed = at(&[cn(8, 30), cn(10, 5)], cn(11, 20));
    assert_eq!(
        (missed.state, missed.next_due_at, missed.missed_rounds),
        (CheckpointState::Missed, cn(12, 0), 1),
        "11:20: the 10:00 round's grace ended at 11:15 unvisited: missed, and 11:00 waits"
    );
    let over = at(&[cn(8, 30), cn(10, 5)], cn(13, 0));
    assert_eq!(
        (over.state, over.missed_rounds, over.last_visit_at),
        (CheckpointState::Missed, 2, Some(cn(10, 5))),
        "after the shift: 10:00 and 11:00 missed"
    );
    let perfect: Vec<_> = (8..12).map(|h| cn(h, 20)).collect();
    assert_eq!(
        at(&perfect, cn(13, 0)).state,
        CheckpointState::Done,
        "every round visited: done"
    );
    let judged = grade(
        &Rounds::of(&head, &job).owed(&job, cn(13, 0)),
        &[cn(8, 30), cn(10, 5)],
        cn(13, 0),
    );
    let count = |s| judged.iter().filter(|r| r.state == s).count();
    assert_eq!(
        (
            count(RoundState::OnTime),
            count(RoundState::Late),
            count(RoundState::Missed)
        ),
        (1, 1, 2),
        "the figures behind the phone's view: 08 on time, 09 late, 10 and 11 missed"
    );
}

#[test]
fn a_substation_on_a_day_shift_is_judged_on_its_noon_round_only() {
    let job = round_job(Some((cn(8, 0), cn(16, 0))));
    let sub = cp(CheckpointKind::Substation, None);
    let morning = rounds::checkpoint(&sub, &job, &[], cn(9, 0));
    assert_eq!(
        (morning.state, morning.opens_at, morning.next_due_at),
        (CheckpointState::Due, cn(12, 0), cn(24, 0)),
        "in the morning the substation's round opens at noon"
    );
    let visited = rounds::checkpoint(&sub, &job, &[cn(13, 0)], cn(15, 0));
    assert_eq!(
        (visited.state, visited.missed_rounds),
        (CheckpointState::Done, 0),
        "visited after noon: done for the shift"
    );
    let short = round_job(Some((cn(8, 0), cn(11, 0))));
    let none = rounds::checkpoint(&sub, &short, &[], cn(10, 0));
    assert_eq!(
        (none.state, none.missed_rounds, none.opens_at),
        (CheckpointState::Done, 0, cn(12, 0)),
        "a 08:00–11:00 shift owes the substation nothing (no round starts in it); the next round, \
         12:00, is shown"
    );
}

#[test]
fn a_job_without_a_window_owes_rounds_from_its_report_until_now() {
    let mut job = round_job(None);
    job.reported_at = Some(cn(9, 30));
    let head = cp(CheckpointKind::HeadStation, None);
    assert_eq!(
        starts(&Rounds::of(&head, &job).owed(&job, cn(11, 10))),
        vec![cn(9, 0), cn(10, 0), cn(11, 0)],
        "reported 09:30: the 09:00 round counts, up to the running 11:00 one"
    );
    let clock = rounds::checkpoint(&head, &job, &[cn(9, 40)], cn(11, 10));
    assert_eq!(
        (clock.state, clock.missed_rounds, clock.next_due_at),
        (CheckpointState::Late, 0, cn(11, 0)),
        "10:00 round unvisited, 11:10 is in its grace"
    );
    job.reported_at = None;
    assert_eq!(
        starts(&Rounds::of(&head, &job).owed(&job, cn(11, 10))),
        vec![cn(11, 0)],
        "no report: only the running round"
    );
}

#[test]
fn absurd_times_intervals_and_zones_give_bounded_answers_not_panics() {
    let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    for interval in [None, Some(0), Some(1), Some(u32::MAX)] {
        for offset in [None, Some(i32::MIN), Some(-840), Some(840), Some(i32::MAX)] {
            for (window, now) in [
                (Some((min, max)), cn(0, 0)),
                (Some((max, min)), max),
                (Some((min, min)), min),
                (None, min),
                (None, max),
            ] {
                let mut job = round_job(window);
                job.utc_offset_minutes = offset;
                job.reported_at = Some(min);
                let c = cp(CheckpointKind::HeadStation, interval);
                let owed = Rounds::of(&c, &job).owed(&job, now);
                assert!(owed.len() <= MAX_ROUNDS, "{interval:?} {offset:?}");
                assert!(
                    owed.iter().all(|(s, e)| s <= e),
                    "rounds end after they start"
                );
                let clock = rounds::checkpoint(&c, &job, &[min, max, now], now);
                assert!(
                    clock.opens_at <= clock.next_due_at,
                    "{interval:?} {offset:?} {window:?} {now}: {clock:?}"
                );
            }
        }
    }
}
