//! [`AuditStore`]: the audit log, appended to and paged back newest first; append-only in the
//! schema too (the refusals are checked with plain SQL on each backend).

use crate::accounts::t0;
use crate::raw::Raw;
use chrono::{DateTime, Duration, Utc};
use heatcrew_office::audit::{AuditEntry, AuditKind, AuditQuery, NewAudit};
use heatcrew_office::store::AuditStore;
use uuid::Uuid;

crate::both!(
    an_entry_is_read_back_as_appended,
    pages_go_newest_first_by_keyset,
    every_filter_narrows_the_page,
);
crate::both_raw!(
    entries_are_never_changed,
    entries_are_kept_183_days_then_may_go,
);

fn entry(kind: AuditKind, at: DateTime<Utc>, actor: Option<Uuid>, username: &str) -> NewAudit {
    let mut e = NewAudit::new(kind);
    e.at = at;
    e.actor_id = actor;
    e.username = username.into();
    e.address = "10.0.0.7".into();
    e.subject = format!("subject-{username}");
    e.detail = serde_json::json!({ "why": "测试", "n": 1 });
    e
}

fn query() -> AuditQuery {
    AuditQuery {
        before: None,
        limit: 100,
        user: None,
        kind: None,
        from: None,
        to: None,
        subject: None,
    }
}

fn seqs(entries: &[AuditEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

fn an_entry_is_read_back_as_appended(s: &impl AuditStore) {
    let actor = Uuid::now_v7();
    let at = t0() + Duration::milliseconds(7);
    let seq = s
        .append_audit(&entry(AuditKind::PasswordChanged, at, Some(actor), "admin"))
        .expect("append");
    let page = s.audit_page(&query()).expect("page");
    assert_eq!(page.len(), 1);
    let e = &page[0];
    assert_eq!(
        (e.seq, e.at, e.kind, e.actor_id),
        (seq, at, AuditKind::PasswordChanged, Some(actor))
    );
    assert_eq!(
        (e.username.as_str(), e.address.as_str(), e.subject.as_str()),
        ("admin", "10.0.0.7", "subject-admin")
    );
    assert_eq!(e.detail, serde_json::json!({ "why": "测试", "n": 1 }));
    let anonymous = s
        .append_audit(&NewAudit::new(AuditKind::SignInFailed))
        .expect("an entry with nothing but its kind");
    assert!(anonymous > seq, "sequence numbers grow");
    let e = &s.audit_page(&query()).expect("page")[0];
    assert_eq!(
        (e.actor_id, e.username.as_str(), e.detail.clone()),
        (None, "", serde_json::json!({}))
    );
}

fn pages_go_newest_first_by_keyset(s: &impl AuditStore) {
    let appended: Vec<u64> = (0..7)
        .map(|i| {
            s.append_audit(&entry(
                AuditKind::SignIn,
                t0() + Duration::seconds(i),
                None,
                "u",
            ))
            .expect("append")
        })
        .collect();
    let mut newest_first = appended.clone();
    newest_first.reverse();
    let mut q = query();
    q.limit = 3;
    let mut read = Vec::new();
    for _ in 0..4 {
        let page = s.audit_page(&q).expect("page");
        assert!(page.len() <= 3);
        read.extend(seqs(&page));
        q.before = page.last().map(|e| e.seq);
    }
    assert_eq!(
        read, newest_first,
        "every entry once, newest first (pages of 3, 3, 1, 0)"
    );
    q.before = Some(u64::MAX);
    assert_eq!(
        s.audit_page(&q).expect("page").len(),
        3,
        "a huge keyset is no error"
    );
}

fn every_filter_narrows_the_page(s: &impl AuditStore) {
    let admin = Uuid::now_v7();
    let a = s
        .append_audit(&entry(AuditKind::UserCreated, t0(), Some(admin), "admin"))
        .expect("append");
    let b = s
        .append_audit(&entry(
            AuditKind::SignInFailed,
            t0() + Duration::hours(1),
            None,
            "admin",
        ))
        .expect("append");
    let c = s
        .append_audit(&entry(
            AuditKind::SignIn,
            t0() + Duration::hours(2),
            None,
            "zhangwei",
        ))
        .expect("append");
    let page = |f: &dyn Fn(&mut AuditQuery)| {
        let mut q = query();
        f(&mut q);
        seqs(&s.audit_page(&q).expect("page"))
    };
    assert_eq!(
        page(&|q| q.user = Some(admin.to_string())),
        [a],
        "by actor id"
    );
    assert_eq!(
        page(&|q| q.user = Some("admin".into())),
        [b, a],
        "by username"
    );
    assert_eq!(page(&|q| q.kind = Some(AuditKind::SignIn)), [c]);
    assert_eq!(
        page(&|q| q.from = Some(t0() + Duration::hours(1))),
        [c, b],
        "from is inclusive"
    );
    assert_eq!(
        page(&|q| q.to = Some(t0() + Duration::hours(1))),
        [a],
        "to is exclusive"
    );
    assert_eq!(
        page(&|q| {
            q.user = Some("admin".into());
            q.from = Some(t0() + Duration::minutes(1));
            q.kind = Some(AuditKind::SignInFailed);
        }),
        [b],
        "filters combine"
    );
    assert!(page(&|q| q.user = Some("nobody".into())).is_empty());
    assert_eq!(
        page(&|q| q.subject = Some("subject-admin".into())),
        [b, a],
        "by subject"
    );
    assert_eq!(
        page(&|q| {
            q.subject = Some("subject-admin".into());
            q.kind = Some(AuditKind::UserCreated);
        }),
        [a],
        "a subject combines with the other filters"
    );
    let mut q = query();
    q.subject = Some("subject-admin".into());
    q.limit = 1;
    let first = s.audit_page(&q).expect("page");
    q.before = first.last().map(|e| e.seq);
    assert_eq!(
        (seqs(&first), seqs(&s.audit_page(&q).expect("page"))),
        (vec![b], vec![a]),
        "a subject's entries page by keyset like the rest"
    );
    assert!(
        page(&|q| q.subject = Some("subject-admin' OR '1'='1".into())).is_empty(),
        "the subject is a value, never SQL"
    );
}

fn entries_are_never_changed(s: &impl AuditStore, raw: &dyn Raw) {
    let seq = s
        .append_audit(&entry(AuditKind::SignIn, t0(), None, "u"))
        .expect("append");
    let err = raw
        .exec(&format!(
            "UPDATE audit_log SET username = 'someone else' WHERE seq = {seq}"
        ))
        .expect_err("an entry is never changed");
    assert!(err.contains("append-only"), "{err}");
    let e = &s.audit_page(&query()).expect("page")[0];
    assert_eq!(e.username, "u");
}

fn entries_are_kept_183_days_then_may_go(s: &impl AuditStore, raw: &dyn Raw) {
    let now = Utc::now();
    let recent = s
        .append_audit(&entry(
            AuditKind::SignIn,
            now - Duration::days(182),
            None,
            "recent",
        ))
        .expect("append");
    let old = s
        .append_audit(&entry(
            AuditKind::SignIn,
            now - Duration::days(184),
            None,
            "old",
        ))
        .expect("append");
    let err = raw
        .exec(&format!("DELETE FROM audit_log WHERE seq = {recent}"))
        .expect_err("kept 183 days");
    assert!(err.contains("183 days"), "{err}");
    raw.exec(&format!("DELETE FROM audit_log WHERE seq = {old}"))
        .expect("older entries may be cleared away");
    assert_eq!(seqs(&s.audit_page(&query()).expect("page")), [recent]);
}
