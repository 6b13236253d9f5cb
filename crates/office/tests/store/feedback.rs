//! [`FeedbackStore`]: one feedback record per closed visit, searched and paged by keyset, streamed
//! for the documents; each month's jobs with their records; the digests of printed documents.

use crate::complaints::{t0, user};
use crate::kpi::{Device, job, push};
use chrono::{DateTime, Duration, Utc};
use heatcrew_office::feedback::{DocumentDigest, FeedbackQuery, FeedbackRecord, FeedbackStore};
use heatcrew_office::store::{
    AccountStore, EnrolmentStore, JobStore, LedgerStore, OfficeStore, StoreError,
};
use heatcrew_protocol::sync::{ClockJumpRecord, Role};
use heatcrew_protocol::{EventBody, JobKind, Resolution};
use heatcrew_testkit::key_device::step;
use std::collections::BTreeMap;
use uuid::Uuid;

crate::both!(
    a_record_is_read_back_and_replaced,
    pages_follow_the_keyset_newest_closing_first,
    a_bad_query_is_refused,
    streaming_hands_every_match_in_order_and_stops_when_asked,
    a_document_s_digest_is_kept_once,
    every_filter_narrows,
    a_month_s_jobs_come_in_creation_order_with_their_records,
    closed_visits_without_a_record_are_found,
    a_clock_jump_reported_after_the_push_rewrites_the_record_s_times,
);

fn record(job_id: Uuid, staff: Option<Uuid>, closed_at: DateTime<Utc>) -> FeedbackRecord {
    FeedbackRecord {
        job_id,
        job_kind: "home_repair".into(),
        title: "暖气不热".into(),
        staff_id: staff,
        staff_name: "张伟".into(),
        staff_badge: "B-007".into(),
        customer_name: "王秀英".into(),
        customer_phone: "13800138000".into(),
        customer_account: "HR-0042".into(),
        address: "幸福路 3号楼 2单元 501".into(),
        reported_at: Some(closed_at - Duration::hours(3)),
        arrived_at: Some(closed_at - Duration::hours(1)),
        resolved_at: Some(closed_at),
        closed_at,
        result: "resolved".into(),
        summary: "换了阀门".into(),
        rating: Some(5),
        comment: "很好".into(),
        opinions: BTreeMap::from([("punctual".to_owned(), "yes".to_owned())]),
    }
}

fn new_job(s: &impl JobStore) -> Uuid {
    s.create_job(job(JobKind::HomeRepair, None, Some(t0())), t0())
        .expect("job")
        .id
}

fn q() -> FeedbackQuery {
    FeedbackQuery::default()
}

fn ids(s: &impl FeedbackStore, query: &FeedbackQuery) -> Vec<Uuid> {
    let mut out = Vec::new();
    s.each_feedback(query, &mut |r| {
        out.push(r.job_id);
        true
    })
    .expect("each");
    out
}

fn a_record_is_read_back_and_replaced<S: JobStore + FeedbackStore>(s: &S) {
    let j = new_job(s);
    let mut r = record(j, Some(Uuid::now_v7()), t0());
    s.save_feedback(&r, t0()).expect("save");
    let page = s.feedback_page(&q()).expect("page");
    assert_eq!(page.records, [r.clone()], "every field as saved");
    assert_eq!((page.total, page.next), (1, None));
    r.rating = None;
    r.staff_id = None;
    r.reported_at = None;
    r.result = "follow_up_needed".into();
    r.opinions.clear();
    s.save_feedback(&r, t0() + Duration::hours(1))
        .expect("save again");
    let page = s.feedback_page(&q()).expect("page");
    assert_eq!(page.records, [r], "saving again replaces the job's record");
    let unknown = record(Uuid::now_v7(), None, t0());
    assert!(
        s.save_feedback(&unknown, t0()).is_err(),
        "a record belongs to a stored job"
    );
}

fn pages_follow_the_keyset_newest_closing_first<S: JobStore + FeedbackStore>(s: &S) {
    // Two pairs closed at the same instant: the job id breaks the tie.
    let mut saved = Vec::new();
    for i in 0..5i64 {
        let j = new_job(s);
        let at = t0() + Duration::minutes(10 * (i / 2));
        s.save_feedback(&record(j, None, at), t0()).expect("save");
        saved.push((at, j));
    }
    saved.sort_by(|a, b| b.cmp(a));
    let expected: Vec<Uuid> = saved.iter().map(|x| x.1).collect();
    let mut seen = Vec::new();
    let mut query = FeedbackQuery {
        limit: Some(2),
        ..q()
    };
    loop {
        let page = s.feedback_page(&query).expect("page");
        assert_eq!(page.total, 5, "the total of the whole query on every page");
        assert!(page.records.len() <= 2);
        seen.extend(page.records.iter().map(|r| r.job_id));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen, expected,
        "each record once, closing time then job id, descending"
    );
    assert_eq!(ids(s, &q()), expected, "the stream in the same order");
}

fn every_filter_narrows<S: AccountStore + JobStore + FeedbackStore>(s: &S) {
    let tech = user(s, "zhangwei", Role::RepairTechnician);
    let (a, b, c) = (new_job(s), new_job(s), new_job(s));
    let ra = record(a, Some(tech.id), t0());
    let mut rb = record(b, None, t0() + Duration::days(1));
    rb.customer_name = "李建国".into();
    rb.customer_phone = "13912345678".into();
    rb.customer_account = "hr-9%_1".into();
    rb.rating = Some(2);
    rb.result = "no_entry".into();
    let mut rc = record(c, None, t0() + Duration::days(2));
    rc.rating = None;
    for r in [&ra, &rb, &rc] {
        s.save_feedback(r, t0()).expect("save");
    }
    let find = |query: FeedbackQuery| {
        let mut v = ids(s, &query);
        v.sort();
        let page = s.feedback_page(&query).expect("page");
        assert_eq!(page.total as usize, v.len(), "page and stream agree");
        v
    };
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    let day = Duration::days(1);
    assert_eq!(
        find(FeedbackQuery {
            from: Some(t0() + day),
            ..q()
        }),
        sorted(vec![b, c])
    );
    assert_eq!(
        find(FeedbackQuery {
            to: Some(t0() + day),
            ..q()
        }),
        [a],
        "`to` is excluded"
    );
    assert_eq!(
        find(FeedbackQuery {
            staff: Some(tech.id),
            ..q()
        }),
        [a]
    );
    assert_eq!(
        find(FeedbackQuery {
            result: Some("no_entry".into()),
            ..q()
        }),
        [b]
    );
    assert_eq!(
        find(FeedbackQuery {
            rating_max: Some(3),
            ..q()
        }),
        [b],
        "unrated records are outside every rating bound"
    );
    assert_eq!(
        find(FeedbackQuery {
            rating_min: Some(3),
            ..q()
        }),
        [a]
    );
    let customer = |text: &str| {
        find(FeedbackQuery {
            customer: Some(text.into()),
            ..q()
        })
    };
    assert_eq!(customer("建国"), [b], "a part of the name");
    assert_eq!(
        customer("139 1234"),
        [b],
        "the phone's leading digits, spaces ignored"
    );
    assert_eq!(
        customer("1234"),
        Vec::<Uuid>::new(),
        "a phone matches from its start"
    );
    assert_eq!(
        customer("HR-9%_"),
        [b],
        "the account's start, any case, wildcards literal"
    );
    assert_eq!(
        customer("HR-%"),
        Vec::<Uuid>::new(),
        "`%` is a character, not a wildcard"
    );
    assert_eq!(customer("hr-0042"), sorted(vec![a, c]));
    assert_eq!(customer("  "), sorted(vec![a, b, c]), "blank: no filter");
}

fn a_bad_query_is_refused<S: FeedbackStore>(s: &S) {
    for query in [
        FeedbackQuery {
            result: Some("closed".into()),
            ..q()
        },
        FeedbackQuery {
            rating_min: Some(0),
            ..q()
        },
        FeedbackQuery {
            after: Some("not-a-cursor".into()),
            ..q()
        },
    ] {
        assert!(
            matches!(s.feedback_page(&query), Err(StoreError::Invalid { .. })),
            "{query:?}"
        );
        assert!(matches!(
            s.each_feedback(&query, &mut |_| true),
            Err(StoreError::Invalid { .. })
        ));
    }
}

fn streaming_hands_every_match_in_order_and_stops_when_asked<S: JobStore + FeedbackStore>(s: &S) {
    // More than one batch of a streaming read.
    let n = 1_200;
    for i in 0..n {
        let j = new_job(s);
        s.save_feedback(&record(j, None, t0() + Duration::seconds(i)), t0())
            .expect("save");
    }
    let mut count = 0;
    let mut last: Option<DateTime<Utc>> = None;
    s.each_feedback(&q(), &mut |r| {
        assert!(last.is_none_or(|l| r.closed_at < l), "newest closing first");
        last = Some(r.closed_at);
        count += 1;
        true
    })
    .expect("each");
    assert_eq!(count, n);
    let mut taken = 0;
    s.each_feedback(&q(), &mut |_| {
        taken += 1;
        taken < 3
    })
    .expect("each, stopped");
    assert_eq!(taken, 3, "nothing after the callback says stop");
}

fn a_month_s_jobs_come_in_creation_order_with_their_records<
    S: AccountStore + JobStore + FeedbackStore,
>(
    s: &S,
) {
    let tech = user(s, "zhangwei", Role::RepairTechnician);
    let mut made = Vec::new();
    for h in [3i64, 1, 2, 40 * 24] {
        let j = s
            .create_job(
                job(JobKind::HomeRepair, Some(tech.id), Some(t0())),
                t0() + Duration::hours(h),
            )
            .expect("job");
        made.push(j.id);
    }
    let closed = record(made[1], Some(tech.id), t0() + Duration::hours(2));
    s.save_feedback(&closed, t0()).expect("save");
    let mut seen = Vec::new();
    s.each_job_created(t0(), t0() + Duration::days(30), &mut |m| {
        seen.push((
            m.record.job.id,
            m.record.created_at,
            m.assignee_name.clone(),
            m.feedback.clone(),
        ));
        true
    })
    .expect("month");
    assert_eq!(
        seen,
        [
            (
                made[1],
                t0() + Duration::hours(1),
                tech.display_name.clone(),
                Some(closed)
            ),
            (
                made[2],
                t0() + Duration::hours(2),
                tech.display_name.clone(),
                None
            ),
            (
                made[0],
                t0() + Duration::hours(3),
                tech.display_name.clone(),
                None
            ),
        ],
        "created in [from, to), oldest first, with the assignee's name and the record if any"
    );
    let mut first = None;
    s.each_job_created(t0(), t0() + Duration::days(30), &mut |m| {
        first.get_or_insert(m.record.job.id);
        false
    })
    .expect("stopped");
    assert_eq!(first, Some(made[1]));
}

fn a_document_s_digest_is_kept_once<S: JobStore + FeedbackStore>(s: &S) {
    let j = new_job(s);
    let digest = |document: &str, sha: char, at: DateTime<Utc>| DocumentDigest {
        document: document.into(),
        sha256: sha.to_string().repeat(64),
        bytes: 31_337,
        first_made_at: at,
    };
    let first = digest("service_record", 'a', t0());
    assert_eq!(
        s.keep_document_digest(j, &first).expect("keep"),
        std::slice::from_ref(&first)
    );
    let again = digest("service_record", 'a', t0() + Duration::hours(1));
    assert_eq!(
        s.keep_document_digest(j, &again).expect("keep again"),
        std::slice::from_ref(&first),
        "the first making of a digest stays"
    );
    let notice = digest(
        "notice:ZG-D0001-20260302-1",
        'b',
        t0() + Duration::minutes(5),
    );
    let other = digest("service_record", 'c', t0() + Duration::minutes(1));
    s.keep_document_digest(j, &notice).expect("keep");
    s.keep_document_digest(j, &other).expect("keep");
    assert_eq!(
        s.document_digests(j).expect("digests"),
        [first, other, notice],
        "by first making"
    );
    assert!(s.document_digests(Uuid::now_v7()).expect("none").is_empty());
}

fn closed_visits_without_a_record_are_found<
    S: AccountStore + EnrolmentStore + JobStore + LedgerStore + FeedbackStore,
>(
    s: &S,
) {
    let tech = user(s, "zhangwei", Role::RepairTechnician);
    let new = |kind| {
        s.create_job(job(kind, Some(tech.id), Some(t0())), t0())
            .expect("job")
            .id
    };
    let (closed, open, recorded) = (
        new(JobKind::HomeRepair),
        new(JobKind::HomeRepair),
        new(JobKind::HomeRepair),
    );
    let mut phone = Device::enrol(s, tech.id, 4);
    let at = t0() + Duration::hours(1);
    let close = EventBody::JobClosed {
        resolution: Resolution::NoEntry,
        summary: "无人在家".into(),
    };
    let events = vec![
        phone.record(closed, &step("appointment"), at),
        phone.record(closed, &close, at),
        phone.record(open, &step("appointment"), at),
        phone.record(recorded, &close, at),
    ];
    push(s, &phone, tech.id, &events, at);
    s.save_feedback(&record(recorded, Some(tech.id), at), at)
        .expect("save");
    assert_eq!(
        s.closed_jobs_without_feedback().expect("closed"),
        [closed],
        "closed, accepted, and no record yet"
    );
}

/// A phone on true time records the appointment and the arrival, then its clock is set two hours
/// ahead and it closes the visit; it pushes all three at once (its offset then: −2 h) and reports
/// the jump only afterwards. The record first reads the arrival two hours early (the push's offset
/// for the whole push); once the jump is known the store settles the push again and writes the
/// record again with the true arrival.
fn a_clock_jump_reported_after_the_push_rewrites_the_record_s_times<S: OfficeStore>(s: &S) {
    const H: i64 = 3_600_000;
    let tech = user(s, "zhangwei", Role::RepairTechnician);
    let j = s
        .create_job(job(JobKind::HomeRepair, Some(tech.id), Some(t0())), t0())
        .expect("job")
        .id;
    let mut phone = Device::enrol(s, tech.id, 6);
    let at = t0() + Duration::hours(1);
    let ahead = Duration::milliseconds(2 * H);
    let close = EventBody::JobClosed {
        resolution: Resolution::Resolved,
        summary: "已修好".into(),
    };
    let events = vec![
        phone.record(j, &step("appointment"), at),
        phone.record(j, &step("arrive"), at + Duration::minutes(5)),
        phone.record(j, &close, at + Duration::minutes(10) + ahead),
    ];
    let pushed_at = at + Duration::minutes(15);
    s.record_clock_offset(phone.id, -2 * H, 60_000, pushed_at)
        .expect("the request's clock header");
    push(s, &phone, tech.id, &events, pushed_at);
    heatcrew_office::feedback::refresh(s, [j], pushed_at).expect("the push's refresh");
    let arrived = |s: &S| {
        let page = s.feedback_page(&q()).expect("page");
        assert_eq!(page.records.len(), 1, "one closed visit: {page:?}");
        let r = &page.records[0];
        assert_eq!(
            r.closed_at,
            at + Duration::minutes(10),
            "the closing was recorded at the push's offset"
        );
        r.arrived_at.expect("an arrival")
    };
    assert_eq!(
        arrived(s),
        at + Duration::minutes(5) - ahead,
        "before the jump is known, the whole push takes the push's offset"
    );
    let jump = ClockJumpRecord {
        id: Uuid::now_v7(),
        wall_before: at + Duration::minutes(6),
        wall_after: at + Duration::minutes(7) + ahead,
        jump_ms: 2 * H,
        rebooted: false,
    };
    let later = pushed_at + Duration::minutes(1);
    s.record_device_clock_jumps(phone.id, tech.id, &[jump], later)
        .expect("the jump report");
    assert_eq!(
        arrived(s),
        at + Duration::minutes(5),
        "the record is written again with the arrival's true time"
    );
}
