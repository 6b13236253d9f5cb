//! [`NoticeStore`]: the rectification notice register, imported from accepted `notice_issued`
//! events, its re-inspection job opened once, its first outcome kept.

use crate::complaints::{t0, user};
use crate::kpi::{Device, job, push};
use chrono::{Duration, NaiveDate};
use heatcrew_office::notices::{NoticeOutcome, NoticeStore, OutcomeEntry, reinspection_job};
use heatcrew_office::store::{AccountStore, EnrolmentStore, JobStore, LedgerStore, StoreError};
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{ErrorCode, EventBody, JobKind};
use uuid::Uuid;

crate::both!(
    notices_are_imported_once_deadline_first,
    the_reinspector_is_chosen_until_the_job_exists,
    the_reinspection_job_is_opened_once_even_by_concurrent_runs,
    the_first_outcome_stays,
);

fn deadline(days: i64) -> NaiveDate {
    t0().date_naive() + Duration::days(days)
}

fn notice(number: &str, days: i64) -> EventBody {
    EventBody::NoticeIssued {
        number: number.into(),
        deadline: deadline(days),
        requirements: "拆除私接旁通管,恢复铅封".into(),
        follow_up_on: None,
    }
}

/// Two notices pushed on an inspection job of `inspector`, imported: (job, [later, sooner]).
fn issued<S: AccountStore + EnrolmentStore + JobStore + LedgerStore + NoticeStore>(
    s: &S,
    inspector: Uuid,
) -> (Uuid, [Uuid; 2]) {
    let j = s
        .create_job(
            job(JobKind::HeatTheftInspection, Some(inspector), Some(t0())),
            t0(),
        )
        .expect("job");
    let mut phone = Device::enrol(s, inspector, 9);
    let at = t0() + Duration::hours(1);
    let mut followed_up = notice("ZG-D0001-20260302-001", 3);
    if let EventBody::NoticeIssued { follow_up_on, .. } = &mut followed_up {
        *follow_up_on = Some(deadline(5));
    }
    let events = [
        phone.record(j.id, &notice("ZG-D0001-20260302-002", 7), at),
        phone.record(j.id, &followed_up, at),
    ];
    push(s, &phone, inspector, &events, at);
    assert_eq!(s.import_notices(at).expect("import"), 2);
    (j.id, [events[0].unsigned.id, events[1].unsigned.id])
}

fn notices_are_imported_once_deadline_first<
    S: AccountStore + EnrolmentStore + JobStore + LedgerStore + NoticeStore,
>(
    s: &S,
) {
    let inspector = user(s, "liuyang", Role::Inspector);
    let (job_id, [later, sooner]) = issued(s, inspector.id);
    assert_eq!(s.import_notices(t0()).expect("again"), 0, "imported once");
    let all = s.notices().expect("notices");
    assert_eq!(
        all.iter().map(|n| n.id).collect::<Vec<_>>(),
        [sooner, later],
        "deadline first"
    );
    let n = s.notice(sooner).expect("read").expect("stored");
    assert_eq!(
        (n.number.as_str(), n.job_id, n.issued_by, n.deadline),
        ("ZG-D0001-20260302-001", job_id, inspector.id, deadline(3))
    );
    assert_eq!(n.issued_at, t0() + Duration::hours(1), "the corrected time");
    assert_eq!(n.requirements, "拆除私接旁通管,恢复铅封");
    assert_eq!(
        n.follow_up_on,
        Some(deadline(5)),
        "the follow-up day the inspector set"
    );
    let other = s.notice(later).expect("read").expect("stored");
    assert_eq!(other.follow_up_on, None);
    assert!(n.reinspector.is_none() && n.reinspection_job_id.is_none() && n.outcome.is_none());
    assert_eq!(s.notice(Uuid::now_v7()).expect("read"), None);
}

fn the_reinspector_is_chosen_until_the_job_exists<
    S: AccountStore + EnrolmentStore + JobStore + LedgerStore + NoticeStore,
>(
    s: &S,
) {
    let inspector = user(s, "liuyang", Role::Inspector);
    let other = user(s, "wanglei", Role::Inspector);
    let (_, [id, _]) = issued(s, inspector.id);
    match s.set_reinspector(id, Uuid::now_v7()) {
        Err(StoreError::Invalid { code, .. }) => assert_eq!(code, ErrorCode::UnknownUser),
        other => panic!("an unknown user is refused: {other:?}"),
    }
    assert!(matches!(
        s.set_reinspector(Uuid::now_v7(), other.id),
        Err(StoreError::NotFound { .. })
    ));
    let n = s.set_reinspector(id, other.id).expect("choose");
    assert_eq!(n.reinspector, Some(other.id));
    let due = t0() + Duration::days(8);
    let opened = s
        .open_reinspection(id, reinspection_job(&n, None, other.id, due), due)
        .expect("open")
        .expect("opened");
    assert_eq!(opened.assignee, Some(other.id));
    assert!(matches!(
        s.set_reinspector(id, inspector.id),
        Err(StoreError::Conflict { .. })
    ));
}

fn the_reinspection_job_is_opened_once_even_by_concurrent_runs<
    S: AccountStore + EnrolmentStore + JobStore + LedgerStore + NoticeStore + Sync,
>(
    s: &S,
) {
    let inspector = user(s, "liuyang", Role::Inspector);
    let (_, [id, _]) = issued(s, inspector.id);
    let n = s.notice(id).expect("read").expect("stored");
    let due = t0() + Duration::days(8);
    let opened: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let job = reinspection_job(&n, None, inspector.id, due);
                scope.spawn(move || s.open_reinspection(id, job, due).expect("run").is_some())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        opened.iter().filter(|o| **o).count(),
        1,
        "one job: {opened:?}"
    );
    let n = s.notice(id).expect("read").expect("stored");
    let job_id = n.reinspection_job_id.expect("linked");
    assert_eq!(n.reinspection_created_at, Some(due));
    let job = s.job(job_id).expect("job").expect("created with the link");
    assert_eq!(job.job.assignee, Some(inspector.id));
    assert_eq!(job.job.kind, JobKind::HeatTheftInspection);
    assert_eq!(
        s.open_reinspection(id, reinspection_job(&n, None, inspector.id, due), due)
            .expect("again"),
        None,
        "linked: nothing more"
    );
}

fn the_first_outcome_stays<
    S: AccountStore + EnrolmentStore + JobStore + LedgerStore + NoticeStore,
>(
    s: &S,
) {
    let inspector = user(s, "liuyang", Role::Inspector);
    let (_, [later, sooner]) = issued(s, inspector.id);
    let entry = |outcome| OutcomeEntry {
        outcome,
        note: Some("已整改".into()),
        by: Some(inspector.id),
        next_notice: None,
    };
    let at = t0() + Duration::days(4);
    let n = s
        .record_outcome(sooner, entry(NoticeOutcome::Complied), at)
        .expect("record");
    assert_eq!(
        (
            n.outcome,
            n.outcome_note.as_deref(),
            n.outcome_by,
            n.outcome_at
        ),
        (
            Some(NoticeOutcome::Complied),
            Some("已整改"),
            Some(inspector.id),
            Some(at)
        )
    );
    let same = s
        .record_outcome(
            sooner,
            entry(NoticeOutcome::Complied),
            at + Duration::days(1),
        )
        .expect("the same again answers the notice");
    assert_eq!(same.outcome_at, Some(at), "unchanged");
    assert!(matches!(
        s.record_outcome(sooner, entry(NoticeOutcome::NotComplied), at),
        Err(StoreError::Conflict { .. })
    ));
    let chained = OutcomeEntry {
        next_notice: Some(sooner),
        by: None,
        note: None,
        outcome: NoticeOutcome::NewNotice,
    };
    let n = s.record_outcome(later, chained, at).expect("record");
    assert_eq!(
        (n.next_notice, n.outcome_by, n.outcome_note.clone()),
        (Some(sooner), None, None)
    );
    let due = t0() + Duration::days(8);
    assert_eq!(
        s.open_reinspection(later, reinspection_job(&n, None, inspector.id, due), due)
            .expect("settled"),
        None,
        "a settled notice gets no re-inspection"
    );
}
