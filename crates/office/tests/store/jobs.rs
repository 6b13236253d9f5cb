//! [`JobStore`]: work orders created, assigned, scheduled, cancelled, accepted, and found again
//! (the board, a customer's history, their events).

use crate::field::{Phone, at, emergency, job, step, t0, user};
use heatcrew_office::store::{
    AccountStore, CustomerKey, EnrolmentStore, JobStore, LedgerStore, StoreError,
};
use heatcrew_protocol::sync::{ChangeKind, Role};
use heatcrew_protocol::{AppointmentWindow, ErrorCode, EventBody, JobStatus};
use uuid::Uuid;

crate::both!(
    a_job_is_created_read_back_and_listed,
    a_job_id_is_created_once,
    rescheduling_and_cancelling_change_a_job_once,
    the_board_holds_its_window_then_undated_open_jobs_newest_first,
    customers_are_found_by_phone_digits_or_account_prefix,
    an_office_job_has_nothing_to_accept,
    jobs_without_events_have_empty_lists,
    an_assignee_must_exist,
    reassignments_at_once_are_each_counted,
    a_reassignment_revokes_the_job_from_the_previous_assignee,
    a_field_created_job_is_accepted_once,
    each_jobs_events_come_in_receipt_order,
);

fn is_conflict(e: &StoreError, want: ErrorCode) -> bool {
    matches!(e, StoreError::Conflict { code, .. } if *code == want)
}

fn a_job_is_created_read_back_and_listed(s: &impl JobStore) {
    let first = s
        .create_job(job("暖气不热", "138 0013-8000", "RL-1", Some(at(0))), at(1))
        .expect("create");
    let second = s
        .create_job(job("漏水", "", "", None), at(2))
        .expect("create");
    let rec = s.job(first.id).expect("read").expect("stored");
    assert_eq!(rec.job, first, "the job comes back as created");
    assert_eq!(rec.created_at, at(1));
    assert!(!rec.field_created && rec.accepted_at.is_none() && rec.cancel_reason.is_none());
    let listed: Vec<Uuid> = s
        .list_jobs()
        .expect("list")
        .iter()
        .map(|r| r.job.id)
        .collect();
    assert_eq!(listed, [first.id, second.id], "listed in creation order");
    assert!(
        s.job(Uuid::now_v7()).expect("read").is_none(),
        "an unknown job is none"
    );
}

fn a_job_id_is_created_once(s: &impl JobStore) {
    let j = s
        .create_job(job("暖气不热", "1", "A", None), t0())
        .expect("create");
    let mut again = j.clone();
    again.title = "另一个".into();
    let err = s.create_job(again, at(1)).expect_err("same id");
    assert!(is_conflict(&err, ErrorCode::JobExists), "{err:?}");
    assert_eq!(
        s.job(j.id).expect("read").expect("kept").job.title,
        "暖气不热",
        "the first stays"
    );
}

fn rescheduling_and_cancelling_change_a_job_once(s: &impl JobStore) {
    let j = s
        .create_job(job("暖气不热", "1", "A", None), t0())
        .expect("create");
    let window = AppointmentWindow {
        start: at(60),
        end: at(180),
    };
    let once = s.schedule_job(j.id, window, at(1)).expect("schedule");
    assert_eq!((once.window, once.revision), (Some(window), j.revision + 1));
    let twice = s.schedule_job(j.id, window, at(2)).expect("same window");
    assert_eq!(
        twice.revision, once.revision,
        "the same window changes nothing"
    );
    let cancelled = s.cancel_job(j.id, "客户取消", at(3)).expect("cancel");
    assert_eq!(
        (cancelled.status, cancelled.revision),
        (JobStatus::Cancelled, once.revision + 1)
    );
    let again = s
        .cancel_job(j.id, "另一个原因", at(4))
        .expect("cancel again");
    assert_eq!(
        again.revision, cancelled.revision,
        "cancelling twice changes nothing"
    );
    let rec = s.job(j.id).expect("read").expect("stored");
    assert_eq!(
        rec.cancel_reason.as_deref(),
        Some("客户取消"),
        "the first reason stays"
    );
    assert_eq!(rec.job, again, "what was answered is what is stored");
    let err = s.schedule_job(j.id, window, at(5)).expect_err("cancelled");
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                code: ErrorCode::JobCancelled,
                ..
            }
        ),
        "{err:?}"
    );
    let err = s
        .cancel_job(Uuid::now_v7(), "x", at(6))
        .expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

fn the_board_holds_its_window_then_undated_open_jobs_newest_first(s: &impl JobStore) {
    let booked = |title: &str, start: i64| {
        let j = s
            .create_job(job(title, "", "", None), t0())
            .expect("create");
        s.schedule_job(
            j.id,
            AppointmentWindow {
                start: at(start),
                end: at(start + 60),
            },
            t0(),
        )
        .expect("schedule")
        .id
    };
    let late = booked("late", 120);
    let early = booked("early", 30);
    let _before = booked("before", -30);
    let _after = booked("after", 240);
    let reported = s
        .create_job(job("reported", "", "", Some(at(60))), t0())
        .expect("create")
        .id;
    let undated: Vec<Uuid> = (0..3)
        .map(|i| {
            s.create_job(job("undated", "", "", None), at(i))
                .expect("create")
                .id
        })
        .collect();
    let gone = s
        .create_job(job("undated, cancelled", "", "", None), at(10))
        .expect("create");
    s.cancel_job(gone.id, "x", at(11)).expect("cancel");
    let board: Vec<Uuid> = s
        .board_jobs(at(0), at(240), 2)
        .expect("board")
        .iter()
        .map(|r| r.job.id)
        .collect();
    assert_eq!(
        board,
        [early, reported, late, undated[2], undated[1]],
        "the window's jobs by time (the end excluded), then the newest open undated ones up to the limit"
    );
}

fn customers_are_found_by_phone_digits_or_account_prefix(s: &impl JobStore) {
    let old = s
        .create_job(job("旧", "138 0013-8000", "RL-1001", None), at(0))
        .expect("create")
        .id;
    let new = s
        .create_job(job("新", "(138)0013.8001", "RL-1002", None), at(1))
        .expect("create")
        .id;
    let other = s
        .create_job(job("别人", "139 0000 0000", "RL1003", None), at(2))
        .expect("create")
        .id;
    let ids = |key, limit| -> Vec<Uuid> {
        s.customer_jobs(key, limit)
            .expect("lookup")
            .iter()
            .map(|r| r.job.id)
            .collect()
    };
    assert_eq!(
        ids(CustomerKey::Phone("138-0013"), 10),
        [new, old],
        "digits only, newest first"
    );
    assert_eq!(ids(CustomerKey::Phone("13800138001"), 10), [new]);
    assert_eq!(ids(CustomerKey::Phone("138"), 1), [new], "the limit holds");
    assert_eq!(
        ids(CustomerKey::Account(" RL-10 "), 10),
        [new, old],
        "an account prefix, trimmed"
    );
    assert_eq!(
        ids(CustomerKey::Account("RL1"), 10),
        [other],
        "the `-` counts: a prefix is exact text"
    );
    assert!(
        ids(CustomerKey::Phone("-- "), 10).is_empty(),
        "no digits finds nothing"
    );
    assert!(ids(CustomerKey::Account("RL-2"), 10).is_empty());
}

fn an_office_job_has_nothing_to_accept(s: &impl JobStore) {
    let j = s.create_job(job("x", "", "", None), t0()).expect("create");
    let err = s
        .accept_field_job(j.id, Uuid::now_v7(), at(1))
        .expect_err("office job");
    assert!(is_conflict(&err, ErrorCode::NotFieldCreated), "{err:?}");
    let err = s
        .accept_field_job(Uuid::now_v7(), Uuid::now_v7(), at(1))
        .expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

fn jobs_without_events_have_empty_lists(s: &impl JobStore) {
    let a = s
        .create_job(job("a", "", "", None), t0())
        .expect("create")
        .id;
    let events = s.jobs_events(&[a, Uuid::now_v7()]).expect("events");
    assert_eq!(events.len(), 2, "every asked id has an entry");
    assert!(events.values().all(Vec::is_empty));
    assert!(s.jobs_events(&[]).expect("none asked").is_empty());
}

fn an_assignee_must_exist<S: JobStore + AccountStore>(s: &S) {
    let mut j = job("x", "", "", None);
    j.assignee = Some(Uuid::now_v7());
    let err = s.create_job(j.clone(), t0()).expect_err("unknown assignee");
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                code: ErrorCode::UnknownUser,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(s.job(j.id).expect("read").is_none(), "nothing stored");
    j.assignee = None;
    s.create_job(j.clone(), t0()).expect("create");
    let err = s
        .assign_job(j.id, Uuid::now_v7(), at(1))
        .expect_err("unknown assignee");
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                code: ErrorCode::UnknownUser,
                ..
            }
        ),
        "{err:?}"
    );
    let tech = user(s, "tech", Role::RepairTechnician);
    let err = s
        .assign_job(Uuid::now_v7(), tech, at(1))
        .expect_err("unknown job");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

/// Office processes reassigning one job at once: each reassignment is read after the one
/// before it commits, so none is lost (the revision counts them all).
fn reassignments_at_once_are_each_counted<S: JobStore + AccountStore + Sync>(s: &S) {
    let techs: Vec<Uuid> = (0..6)
        .map(|i| user(s, &format!("tech{i}"), Role::RepairTechnician))
        .collect();
    let j = s.create_job(job("x", "", "", None), t0()).expect("create");
    std::thread::scope(|scope| {
        for &t in &techs {
            scope.spawn(move || s.assign_job(j.id, t, at(1)).expect("assign"));
        }
    });
    let stored = s.job(j.id).expect("read").expect("stored").job;
    assert_eq!(
        stored.revision,
        j.revision + techs.len() as u64,
        "no reassignment lost"
    );
    assert!(techs.contains(&stored.assignee.expect("assigned")));
}

fn changes_of<S: LedgerStore>(s: &S, user_id: Uuid) -> Vec<ChangeKind> {
    s.pull(user_id, 0, 100)
        .expect("pull")
        .0
        .into_iter()
        .map(|c| c.change)
        .collect()
}

fn a_reassignment_revokes_the_job_from_the_previous_assignee<S>(s: &S)
where
    S: JobStore + AccountStore + LedgerStore,
{
    let (a, b) = (
        user(s, "a", Role::RepairTechnician),
        user(s, "b", Role::RepairTechnician),
    );
    let mut j = job("x", "", "", None);
    j.assignee = Some(a);
    let j = s.create_job(j, t0()).expect("create");
    let moved = s.assign_job(j.id, b, at(1)).expect("reassign");
    assert_eq!((moved.assignee, moved.revision), (Some(b), j.revision + 1));
    assert_eq!(
        s.assign_job(j.id, b, at(2)).expect("again").revision,
        moved.revision,
        "no change"
    );
    let of_a = changes_of(s, a);
    assert!(
        matches!(of_a.last(), Some(ChangeKind::JobRevoked { job_id, .. }) if *job_id == j.id),
        "{of_a:?}"
    );
    assert_eq!(changes_of(s, b), [ChangeKind::JobUpserted { job: moved }]);
}

fn a_field_created_job_is_accepted_once<S>(s: &S)
where
    S: JobStore + AccountStore + EnrolmentStore + LedgerStore,
{
    let tech = user(s, "tech", Role::RepairTechnician);
    let boss = user(s, "boss", Role::Dispatcher);
    let mut phone = Phone::enrol(s, tech, 1);
    let j = emergency(tech, t0());
    let created = phone.record(j.id, &EventBody::JobCreated { job: j.clone() }, t0());
    phone.push_accepted(s, &[created], at(1));
    let rec = s.job(j.id).expect("read").expect("stored");
    assert!(rec.field_created && rec.awaiting_acceptance());
    let first = s.accept_field_job(j.id, boss, at(2)).expect("accept");
    assert_eq!(first.accepted_at, Some(at(2)));
    let second = s.accept_field_job(j.id, boss, at(3)).expect("accept again");
    assert_eq!(
        second.accepted_at,
        Some(at(2)),
        "the first acceptance stays"
    );
}

fn each_jobs_events_come_in_receipt_order<S>(s: &S)
where
    S: JobStore + AccountStore + EnrolmentStore + LedgerStore,
{
    let tech = user(s, "tech", Role::RepairTechnician);
    let mut phone = Phone::enrol(s, tech, 1);
    let mut ids = Vec::new();
    for title in ["a", "b"] {
        let mut j = job(title, "", "", None);
        j.assignee = Some(tech);
        ids.push(s.create_job(j, t0()).expect("create").id);
    }
    let events: Vec<_> = ["arrive", "diagnose", "repair"]
        .iter()
        .flat_map(|st| ids.iter().map(|j| (*j, *st)).collect::<Vec<_>>())
        .map(|(j, st)| phone.record(j, &step(st), at(1)))
        .collect();
    phone.push_accepted(s, &events[..3], at(2));
    phone.push_accepted(s, &events[3..], at(3));
    let by_job = s.jobs_events(&ids).expect("events");
    for j in &ids {
        let got: Vec<Uuid> = by_job[j].iter().map(|e| e.event.unsigned.id).collect();
        let want: Vec<Uuid> = events
            .iter()
            .filter(|e| e.unsigned.job_id == *j)
            .map(|e| e.unsigned.id)
            .collect();
        assert_eq!(
            got, want,
            "each job's events, in the order the office stored them"
        );
    }
}
