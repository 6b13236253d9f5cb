//! [`ComplaintStore`]: complaints and reports numbered once each, changed by the rules on the row
//! as stored (one reply, one callback, handovers), each change with its audit entry, listed and
//! counted.

use chrono::{DateTime, Duration, Utc};
use heatcrew_office::audit::{AuditKind, NewAudit};
use heatcrew_office::complaints::input::HandoverTo;
use heatcrew_office::complaints::{Channel, ComplaintKind, Satisfaction};
use heatcrew_office::store::complaints::{
    ComplaintChange, ComplaintFilter, ComplaintQuery, NewComplaint,
};
use heatcrew_office::store::{AccountStore, ComplaintStore, NewUser, StoreError};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{Role, UserInfo};
use uuid::Uuid;

crate::both!(
    complaints_and_reports_share_one_numbering,
    a_complaint_is_read_back_with_its_trail,
    a_taken_id_or_an_unknown_job_is_refused,
    the_reply_and_the_callback_are_given_once,
    a_handover_moves_the_owner_and_the_rules_follow_it,
    lists_are_filtered_and_ordered,
    counts_tell_in_time_late_and_overdue,
    concurrent_intakes_never_share_a_number,
    concurrent_replies_answer_once,
);

pub fn t0() -> DateTime<Utc> {
    "2026-03-02T02:00:00.000Z".parse().expect("time")
}

pub fn user(s: &impl AccountStore, name: &str, role: Role) -> UserInfo {
    s.add_user(
        NewUser {
            username: name.into(),
            password_hash: "x".into(),
            display_name: format!("{name} 张"),
            role,
            badge_no: format!("B-{name}"),
        },
        t0(),
    )
    .expect("add user")
}

fn new(kind: ComplaintKind, by: Uuid, received_at: DateTime<Utc>) -> NewComplaint {
    NewComplaint {
        id: Uuid::now_v7(),
        kind,
        channel: Channel::Hotline,
        caller_name: "王女士".into(),
        caller_phone: "13800138000".into(),
        subject: "暖气不热".into(),
        text: "三天了".into(),
        job_id: None,
        customer: None,
        received_at,
        due_at: received_at + Duration::days(5),
        received_by: by,
        created_at: received_at,
    }
}

fn audit(kind: AuditKind, by: &UserInfo, at: DateTime<Utc>) -> NewAudit {
    let mut a = NewAudit::new(kind);
    a.at = at;
    a.actor_id = Some(by.id);
    a.username = by.username.clone();
    a
}

fn intake(
    s: &impl ComplaintStore,
    c: &NewComplaint,
    by: &UserInfo,
) -> heatcrew_office::complaints::Complaint {
    s.create_complaint(c, &audit(AuditKind::ComplaintReceived, by, c.created_at))
        .expect("create complaint")
}

fn reply(
    s: &impl ComplaintStore,
    id: Uuid,
    by: &UserInfo,
    at: DateTime<Utc>,
) -> Result<heatcrew_office::complaints::Complaint, StoreError> {
    s.change_complaint(
        id,
        &ComplaintChange::Reply {
            text: "已修好".into(),
        },
        by,
        &audit(AuditKind::ComplaintReplied, by, at),
    )
}

fn conflict_code(r: Result<impl std::fmt::Debug, StoreError>) -> ErrorCode {
    match r {
        Err(StoreError::Conflict { code, .. }) => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn complaints_and_reports_share_one_numbering<S: AccountStore + ComplaintStore>(s: &S) {
    let d = user(s, "zhaomin", Role::Dispatcher);
    let a = intake(s, &new(ComplaintKind::Complaint, d.id, t0()), &d);
    let b = intake(s, &new(ComplaintKind::Report, d.id, t0()), &d);
    let c = intake(s, &new(ComplaintKind::Complaint, d.id, t0()), &d);
    assert_eq!(
        [a.number, b.number, c.number],
        ["TS2026-00001", "JB2026-00002", "TS2026-00003"],
        "one counter, the kind's prefix and the year received (company time)"
    );
}

fn a_complaint_is_read_back_with_its_trail<S: AccountStore + ComplaintStore>(s: &S) {
    let d = user(s, "zhaomin", Role::Dispatcher);
    let n = new(ComplaintKind::Complaint, d.id, t0());
    let made = intake(s, &n, &d);
    let read = s.complaint(n.id).expect("read").expect("stored");
    assert_eq!(read.id, n.id);
    assert_eq!(read.number, made.number);
    assert_eq!(read.kind, ComplaintKind::Complaint);
    assert_eq!(read.channel, Channel::Hotline);
    assert_eq!(
        (
            read.caller_name.as_str(),
            read.subject.as_str(),
            read.text.as_str()
        ),
        ("王女士", "暖气不热", "三天了")
    );
    assert_eq!((read.received_at, read.due_at), (n.received_at, n.due_at));
    assert_eq!(read.received_by.id, d.id);
    assert_eq!(read.received_by.badge_no, "B-zhaomin");
    assert_eq!(
        read.owner.person.as_ref().map(|p| p.id),
        Some(d.id),
        "首问: who took it owns it"
    );
    assert!(read.reply.is_none() && read.callback.is_none());
    assert_eq!(s.complaint(Uuid::now_v7()).expect("read"), None);
    let trail = s.complaint_trail(n.id).expect("trail");
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].kind, AuditKind::ComplaintReceived);
    assert_eq!(trail[0].subject, n.id.to_string());
    assert_eq!(trail[0].detail["number"], "TS2026-00001");
}

fn a_taken_id_or_an_unknown_job_is_refused<S: AccountStore + ComplaintStore>(s: &S) {
    let d = user(s, "zhaomin", Role::Dispatcher);
    let n = new(ComplaintKind::Complaint, d.id, t0());
    intake(s, &n, &d);
    let again = s.create_complaint(&n, &audit(AuditKind::ComplaintReceived, &d, t0()));
    assert_eq!(conflict_code(again), ErrorCode::ComplaintExists);
    let mut linked = new(ComplaintKind::Complaint, d.id, t0());
    linked.job_id = Some(Uuid::now_v7());
    match s.create_complaint(&linked, &audit(AuditKind::ComplaintReceived, &d, t0())) {
        Err(StoreError::Invalid { code, .. }) => assert_eq!(code, ErrorCode::UnknownJob),
        other => panic!("a link to no job is refused: {other:?}"),
    }
    assert_eq!(s.complaint(linked.id).expect("read"), None, "nothing kept");
    assert_eq!(
        s.complaint_trail(linked.id).expect("trail").len(),
        0,
        "nor its audit entry"
    );
}

fn the_reply_and_the_callback_are_given_once<S: AccountStore + ComplaintStore>(s: &S) {
    let d = user(s, "zhaomin", Role::Dispatcher);
    let n = new(ComplaintKind::Complaint, d.id, t0());
    intake(s, &n, &d);
    let at = t0() + Duration::hours(3);
    let r = reply(s, n.id, &d, at).expect("reply");
    let given = r.reply.expect("reply stored");
    assert_eq!(
        (given.text.as_str(), given.by.id, given.at),
        ("已修好", d.id, at)
    );
    assert_eq!(
        conflict_code(reply(s, n.id, &d, at + Duration::hours(1))),
        ErrorCode::ComplaintAlreadyReplied
    );
    let call = |note: &str| {
        s.change_complaint(
            n.id,
            &ComplaintChange::Callback {
                satisfaction: Satisfaction::Satisfied,
                note: note.into(),
            },
            &d,
            &audit(AuditKind::ComplaintCalledBack, &d, at + Duration::days(1)),
        )
    };
    let cb = call("满意").expect("callback").callback.expect("stored");
    assert_eq!(
        (cb.satisfaction, cb.note.as_str()),
        (Satisfaction::Satisfied, "满意")
    );
    assert_eq!(conflict_code(call("again")), ErrorCode::ComplaintClosed);
    let kinds: Vec<AuditKind> = s
        .complaint_trail(n.id)
        .expect("trail")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            AuditKind::ComplaintReceived,
            AuditKind::ComplaintReplied,
            AuditKind::ComplaintCalledBack
        ],
        "one entry per change made, none for the refused ones, oldest first"
    );
    assert_eq!(
        s.change_complaint(
            Uuid::now_v7(),
            &ComplaintChange::Reply { text: "x".into() },
            &d,
            &audit(AuditKind::ComplaintReplied, &d, at)
        )
        .map(|_| ())
        .map_err(|e| matches!(e, StoreError::NotFound { .. })),
        Err(true)
    );
}

fn a_handover_moves_the_owner_and_the_rules_follow_it<S: AccountStore + ComplaintStore>(s: &S) {
    let d = user(s, "zhaomin", Role::Dispatcher);
    let other = user(s, "sunli", Role::Dispatcher);
    let n = new(ComplaintKind::Complaint, d.id, t0());
    intake(s, &n, &d);
    let to = |to: HandoverTo, by: &UserInfo| {
        s.change_complaint(
            n.id,
            &ComplaintChange::Handover {
                to,
                note: "请跟进".into(),
            },
            by,
            &audit(AuditKind::ComplaintHandedOver, by, t0()),
        )
    };
    let c = to(HandoverTo::Person(other.id), &d).expect("handover");
    assert_eq!(c.owner.person.map(|p| p.id), Some(other.id));
    assert_eq!(
        conflict_code(reply(s, n.id, &d, t0())),
        ErrorCode::NotComplaintOwner,
        "the first taker no longer owns it"
    );
    let c = to(HandoverTo::Department("维修部".into()), &other).expect("to a department");
    assert_eq!(
        (c.owner.person, c.owner.department.as_deref()),
        (None, Some("维修部"))
    );
    reply(s, n.id, &d, t0()).expect("anyone on staff answers for a department");
    let trail = s.complaint_trail(n.id).expect("trail");
    assert_eq!(trail[1].detail["to"]["person_id"], other.id.to_string());
    assert_eq!(trail[2].detail["to"]["department"], "维修部");
}

fn lists_are_filtered_and_ordered<S: AccountStore + ComplaintStore>(s: &S) {
    let d = user(s, "zhaomin", Role::Dispatcher);
    let e = user(s, "sunli", Role::Dispatcher);
    // Received an hour apart; due five days later each.
    let mut ids = Vec::new();
    for (i, (kind, by)) in [
        (ComplaintKind::Complaint, &d),
        (ComplaintKind::Report, &e),
        (ComplaintKind::Complaint, &d),
        (ComplaintKind::Complaint, &e),
    ]
    .into_iter()
    .enumerate()
    {
        let n = new(kind, by.id, t0() + Duration::hours(i as i64));
        intake(s, &n, by);
        ids.push(n.id);
    }
    reply(s, ids[2], &d, t0() + Duration::days(1)).expect("reply");
    reply(s, ids[3], &e, t0() + Duration::days(2)).expect("reply");
    let list = |filter, kind, owner, now, limit| -> Vec<Uuid> {
        s.complaints(&ComplaintQuery {
            filter,
            kind,
            owner,
            now,
            limit,
        })
        .expect("list")
        .into_iter()
        .map(|c| c.id)
        .collect()
    };
    let now = t0() + Duration::days(3);
    assert_eq!(
        list(ComplaintFilter::All, None, None, now, 10),
        [ids[3], ids[2], ids[1], ids[0]],
        "all: latest received first"
    );
    assert_eq!(
        list(ComplaintFilter::All, None, None, now, 2),
        [ids[3], ids[2]],
        "limit"
    );
    assert_eq!(
        list(ComplaintFilter::Open, None, None, now, 10),
        [ids[0], ids[1]],
        "open: nearest deadline first"
    );
    assert_eq!(
        list(ComplaintFilter::Answered, None, None, now, 10),
        [ids[3], ids[2]],
        "answered: latest answer first"
    );
    let late = t0() + Duration::days(5) + Duration::minutes(30);
    assert_eq!(
        list(ComplaintFilter::Overdue, None, None, late, 10),
        [ids[0]],
        "overdue at `now`: past the deadline, unanswered"
    );
    assert!(list(ComplaintFilter::Overdue, None, None, now, 10).is_empty());
    assert_eq!(
        list(
            ComplaintFilter::All,
            Some(ComplaintKind::Report),
            None,
            now,
            10
        ),
        [ids[1]]
    );
    assert_eq!(
        list(ComplaintFilter::All, None, Some(d.id), now, 10),
        [ids[2], ids[0]],
        "owned by"
    );
    assert_eq!(
        list(
            ComplaintFilter::Open,
            Some(ComplaintKind::Complaint),
            Some(e.id),
            now,
            10
        ),
        Vec::<Uuid>::new()
    );
}

fn counts_tell_in_time_late_and_overdue<S: AccountStore + ComplaintStore>(s: &S) {
    let d = user(s, "zhaomin", Role::Dispatcher);
    let mk = |kind, h: i64| {
        let n = new(kind, d.id, t0() + Duration::hours(h));
        intake(s, &n, &d);
        n
    };
    let in_time = mk(ComplaintKind::Complaint, 0);
    let late = mk(ComplaintKind::Complaint, 1);
    let _overdue = mk(ComplaintKind::Complaint, 2);
    let report = mk(ComplaintKind::Report, 3);
    let _outside = mk(ComplaintKind::Complaint, 24 * 40);
    reply(s, in_time.id, &d, t0() + Duration::days(1)).expect("reply");
    reply(s, late.id, &d, t0() + Duration::days(6)).expect("late reply");
    reply(s, report.id, &d, t0() + Duration::days(2)).expect("reply");
    let (c, r) = s
        .complaint_counts(t0(), t0() + Duration::days(30), t0() + Duration::days(10))
        .expect("counts");
    assert_eq!(
        (c.received, c.answered_in_time, c.answered_late, c.overdue),
        (3, 1, 1, 1),
        "complaints received in the period"
    );
    assert_eq!(
        (r.received, r.answered_in_time, r.answered_late, r.overdue),
        (1, 1, 0, 0)
    );
    let (c, _) = s
        .complaint_counts(t0(), t0() + Duration::days(30), t0() + Duration::days(1))
        .expect("counts");
    assert_eq!(c.overdue, 0, "not overdue before the deadline");
}

fn concurrent_intakes_never_share_a_number<S: AccountStore + ComplaintStore + Sync>(s: &S) {
    let d = user(s, "zhaomin", Role::Dispatcher);
    let numbers: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    (0..5)
                        .map(|_| intake(s, &new(ComplaintKind::Complaint, d.id, t0()), &d).number)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut sorted = numbers.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 40, "every intake kept, each its own number");
    assert_eq!(sorted.first().map(String::as_str), Some("TS2026-00001"));
    assert_eq!(
        sorted.last().map(String::as_str),
        Some("TS2026-00040"),
        "no gaps"
    );
}

fn concurrent_replies_answer_once<S: AccountStore + ComplaintStore + Sync>(s: &S) {
    let d = user(s, "zhaomin", Role::Admin);
    let n = new(ComplaintKind::Complaint, d.id, t0());
    intake(s, &n, &d);
    let results: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| reply(s, n.id, &d, t0()).is_ok()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        results.iter().filter(|ok| **ok).count(),
        1,
        "one reply wins; the others are refused by the rules on the stored row"
    );
    let replies = s
        .complaint_trail(n.id)
        .expect("trail")
        .into_iter()
        .filter(|e| e.kind == AuditKind::ComplaintReplied)
        .count();
    assert_eq!(replies, 1);
}
