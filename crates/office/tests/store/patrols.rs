//! [`PatrolStore`]: patrol plans (an edit retires the old one), the rounds they open (once per
//! plan and shift, with the job), and the defects register.

use crate::complaints::{t0, user};
use crate::kpi::{Device, job, push};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use heatcrew_office::patrols::defects::{DefectStatus, StatusChange, repair_job};
use heatcrew_office::patrols::{PatrolPlan, PatrolStore, Shift, round_job};
use heatcrew_office::store::{
    AccountStore, EnrolmentStore, JobStore, LedgerStore, NetworkStore, Route, StoreError,
};
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{
    Checkpoint, CheckpointKind, ErrorCode, EventBody, JobKind, JobStatus, Position, Severity,
};
use std::collections::BTreeMap;
use uuid::Uuid;

crate::both!(
    a_plan_needs_its_route_and_its_patrols,
    a_round_is_opened_once_per_shift_even_by_concurrent_runs,
    an_edit_retires_the_plan_and_withdraws_its_coming_rounds,
    defects_are_imported_once_newest_first,
    a_defect_s_status_changes_and_its_repair_is_ordered_once,
);

fn route<S: NetworkStore>(s: &S) -> Route {
    s.create_route(
        Route {
            id: Uuid::now_v7(),
            name: format!("东线 {}", Uuid::now_v7().simple()),
            area: "东区".into(),
            checkpoints: vec![Checkpoint {
                id: "hs".into(),
                name: "首站".into(),
                kind: CheckpointKind::HeadStation,
                readings: vec![],
                interval_minutes: None,
                code_sha256: None,
            }],
        },
        t0(),
    )
    .expect("route")
}

fn plan(route: Uuid, patrol: Uuid) -> PatrolPlan {
    PatrolPlan {
        id: Uuid::now_v7(),
        name: "东线巡检".into(),
        route_id: route,
        shifts: vec![Shift {
            starts_at: NaiveTime::from_hms_opt(8, 0, 0).expect("time"),
            hours: 12,
            assignee: patrol,
        }],
        intervals: BTreeMap::new(),
        active_from: None,
        active_until: None,
        utc_offset_minutes: 480,
        created_at: t0(),
        retired_at: None,
        replaces: None,
    }
}

fn shift(day: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = t0() + Duration::days(day);
    (start, start + Duration::hours(12))
}

fn a_plan_needs_its_route_and_its_patrols<S: AccountStore + NetworkStore + PatrolStore>(s: &S) {
    let patrol = user(s, "chenjun", Role::Patrol);
    let r = route(s);
    assert!(matches!(
        s.create_plan(plan(Uuid::now_v7(), patrol.id)),
        Err(StoreError::NotFound { .. })
    ));
    match s.create_plan(plan(r.id, Uuid::now_v7())) {
        Err(StoreError::Invalid { code, .. }) => assert_eq!(code, ErrorCode::UnknownUser),
        other => panic!("an unknown patrol is refused: {other:?}"),
    }
    assert!(
        s.plans().expect("plans").is_empty(),
        "nothing kept of a refused plan"
    );
    let a = s.create_plan(plan(r.id, patrol.id)).expect("plan");
    let mut b = plan(r.id, patrol.id);
    b.created_at = t0() + Duration::hours(1);
    let b = s.create_plan(b).expect("plan");
    assert_eq!(
        s.plan(a.id).expect("read"),
        Some(a.clone()),
        "read back as made"
    );
    assert_eq!(s.plans().expect("plans"), [a, b], "by creation");
    assert_eq!(s.plan(Uuid::now_v7()).expect("read"), None);
}

fn a_round_is_opened_once_per_shift_even_by_concurrent_runs<
    S: AccountStore + NetworkStore + JobStore + PatrolStore + Sync,
>(
    s: &S,
) {
    let patrol = user(s, "chenjun", Role::Patrol);
    let r = route(s);
    let p = s.create_plan(plan(r.id, patrol.id)).expect("plan");
    let (start, end) = shift(1);
    let opened: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let job = round_job(&p, &r, start, end, patrol.id);
                scope.spawn(move || s.open_round(p.id, start, job, t0()).expect("run").is_some())
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
        "one round: {opened:?}"
    );
    let (start2, end2) = shift(2);
    let second = s
        .open_round(
            p.id,
            start2,
            round_job(&p, &r, start2, end2, patrol.id),
            t0(),
        )
        .expect("open")
        .expect("another shift");
    let rounds = s.plan_rounds(p.id).expect("rounds");
    assert_eq!(
        rounds.iter().map(|r| r.shift_start).collect::<Vec<_>>(),
        [start, start2],
        "by shift start"
    );
    assert_eq!(rounds[1].job_id, second.id);
    let stored = s
        .job(rounds[0].job_id)
        .expect("job")
        .expect("created with its round");
    assert_eq!(stored.job.assignee, Some(patrol.id));
    assert!(
        stored.job.checkpoints[0].code_sha256.is_some(),
        "the station's code digest, for the phone to check offline"
    );
    assert_eq!(
        s.open_round(
            Uuid::now_v7(),
            start,
            round_job(&p, &r, start, end, patrol.id),
            t0()
        )
        .expect("no plan"),
        None
    );
}

fn an_edit_retires_the_plan_and_withdraws_its_coming_rounds<
    S: AccountStore + NetworkStore + JobStore + PatrolStore,
>(
    s: &S,
) {
    let patrol = user(s, "chenjun", Role::Patrol);
    let r = route(s);
    let p = s.create_plan(plan(r.id, patrol.id)).expect("plan");
    let mut jobs = Vec::new();
    for day in [1, 3] {
        let (start, end) = shift(day);
        jobs.push(
            s.open_round(p.id, start, round_job(&p, &r, start, end, patrol.id), t0())
                .expect("open")
                .expect("opened"),
        );
    }
    let edit_at = t0() + Duration::days(2);
    let mut new = plan(r.id, patrol.id);
    new.name = "东线巡检 (夜班)".into();
    let revised = s.revise_plan(p.id, new.clone(), edit_at).expect("edit");
    assert_eq!(
        (revised.replaces, revised.created_at),
        (Some(p.id), edit_at)
    );
    let old = s.plan(p.id).expect("read").expect("kept");
    assert_eq!(old.retired_at, Some(edit_at));
    assert_eq!(s.plan(new.id).expect("read"), Some(revised));
    let ran = s.job(jobs[0].id).expect("job").expect("kept");
    assert_eq!(
        ran.job.status,
        JobStatus::Open,
        "a shift before the edit stays"
    );
    let withdrawn = s.job(jobs[1].id).expect("job").expect("kept");
    assert_eq!(withdrawn.job.status, JobStatus::Cancelled);
    assert_eq!(
        withdrawn.cancel_reason.as_deref(),
        Some("patrol plan edited")
    );
    assert_eq!(withdrawn.job.revision, jobs[1].revision + 1);
    assert!(
        matches!(
            s.revise_plan(p.id, plan(r.id, patrol.id), edit_at),
            Err(StoreError::Conflict { .. })
        ),
        "edit the newest version"
    );
    let (start, end) = shift(4);
    assert_eq!(
        s.open_round(
            p.id,
            start,
            round_job(&p, &r, start, end, patrol.id),
            edit_at
        )
        .expect("retired"),
        None,
        "a run that read the plan before the edit opens nothing it withdrew"
    );
}

fn defect(severity: Severity) -> EventBody {
    EventBody::DefectReported {
        defect_id: Uuid::now_v7(),
        checkpoint: Some("hs".into()),
        category: "漏水".into(),
        severity,
        position: Position {
            description: "首站泵房".into(),
            ..Position::default()
        },
        description: "循环泵机械密封漏水".into(),
        photos: vec![],
    }
}

/// Two defects pushed on a patrol's job and imported: [first, second] (reported an hour apart).
fn reported<S: AccountStore + EnrolmentStore + JobStore + LedgerStore + PatrolStore>(
    s: &S,
) -> (Uuid, [Uuid; 2]) {
    let patrol = user(s, "chenjun", Role::Patrol);
    let j = s
        .create_job(job(JobKind::PatrolRound, Some(patrol.id), None), t0())
        .expect("job");
    let mut phone = Device::enrol(s, patrol.id, 11);
    let at = t0() + Duration::hours(1);
    let events = [
        phone.record(j.id, &defect(Severity::Major), at),
        phone.record(j.id, &defect(Severity::Critical), at + Duration::hours(1)),
    ];
    push(s, &phone, patrol.id, &events, at + Duration::hours(1));
    assert_eq!(s.import_defects(at).expect("import"), 2);
    (patrol.id, [events[0].unsigned.id, events[1].unsigned.id])
}

fn defects_are_imported_once_newest_first<
    S: AccountStore + EnrolmentStore + JobStore + LedgerStore + PatrolStore,
>(
    s: &S,
) {
    let (patrol, [first, second]) = reported(s);
    assert_eq!(s.import_defects(t0()).expect("again"), 0);
    let all = s.defects().expect("defects");
    assert_eq!(
        all.iter().map(|d| d.id).collect::<Vec<_>>(),
        [second, first]
    );
    let d = s.defect(first).expect("read").expect("stored");
    assert_eq!(
        (
            d.reported_by,
            d.reported_at,
            d.checkpoint.as_deref(),
            d.category.as_str()
        ),
        (patrol, t0() + Duration::hours(1), Some("hs"), "漏水")
    );
    assert_eq!(
        (d.severity, d.status),
        (Severity::Major, DefectStatus::Open)
    );
    assert_eq!(s.defect(Uuid::now_v7()).expect("read"), None);
}

fn a_defect_s_status_changes_and_its_repair_is_ordered_once<
    S: AccountStore + EnrolmentStore + JobStore + LedgerStore + PatrolStore,
>(
    s: &S,
) {
    let (patrol, [first, second]) = reported(s);
    let at = t0() + Duration::days(1);
    let change = |status, note: Option<&str>| StatusChange {
        status,
        note: note.map(str::to_owned),
        by: Some(patrol),
    };
    let d = s
        .set_defect_status(first, change(DefectStatus::Dismissed, Some("误报")), at)
        .expect("dismiss");
    assert_eq!(
        (d.status, d.status_note.as_deref(), d.status_by, d.status_at),
        (
            DefectStatus::Dismissed,
            Some("误报"),
            Some(patrol),
            Some(at)
        )
    );
    let same = s
        .set_defect_status(
            first,
            change(DefectStatus::Dismissed, None),
            at + Duration::hours(1),
        )
        .expect("same status");
    assert_eq!(same.status_at, Some(at), "unchanged");
    assert!(matches!(
        s.set_defect_status(first, change(DefectStatus::RepairOrdered, None), at),
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        s.set_defect_status(Uuid::now_v7(), change(DefectStatus::Fixed, None), at),
        Err(StoreError::NotFound { .. })
    ));
    let d2 = s.defect(second).expect("read").expect("stored");
    let repair = repair_job(&d2, None, Some(patrol), at);
    let (d, made) = s
        .open_repair(second, repair.clone(), patrol, at)
        .expect("repair");
    assert!(made);
    assert_eq!(
        (d.status, d.repair_job_id, d.status_by),
        (DefectStatus::RepairOrdered, Some(repair.id), Some(patrol))
    );
    let job = s
        .job(repair.id)
        .expect("job")
        .expect("created with the defect's change");
    assert_eq!(job.job.kind, JobKind::EmergencyRepair);
    let (again, made) = s.open_repair(second, repair, patrol, at).expect("again");
    assert!(!made, "one repair job");
    assert_eq!(again, d);
}
