//! [`AccountStore`]: users (passwords, deactivation, second factor) and crews.

use chrono::{DateTime, Duration, Utc};
use heatcrew_office::store::{
    AccountStore, EnrolmentStore, NewSession, NewUser, StoreError, UserRecord,
};
use heatcrew_protocol::sync::{Role, UserInfo};
use heatcrew_protocol::{Digest, ErrorCode};
use uuid::Uuid;

crate::both!(
    a_user_is_read_back_by_id_and_by_username,
    a_taken_username_is_a_conflict,
    users_are_listed_in_username_byte_order,
    deactivating_revokes_live_sessions_and_blocks_sign_in,
    a_new_password_revokes_every_session,
    an_unknown_user_is_refused_or_not_found,
    a_second_factor_is_set_up_then_confirmed_once,
    a_totp_step_is_spent_once_and_never_an_earlier_one,
    a_totp_step_is_spent_once_by_concurrent_sign_ins,
    setup_only_sessions_become_full_sessions,
    a_crew_is_listed_with_its_members,
    a_crew_name_is_taken_once_even_by_concurrent_requests,
    a_crew_with_an_unknown_member_is_not_kept,
);

pub fn t0() -> DateTime<Utc> {
    "2026-01-05T08:00:00.000Z".parse().expect("time")
}

pub fn new_user(username: &str, role: Role) -> NewUser {
    NewUser {
        username: username.into(),
        password_hash: format!("hash-of-{username}"),
        display_name: format!("{username} 王"),
        role,
        badge_no: format!("B-{username}"),
    }
}

pub fn add(s: &impl AccountStore, username: &str, role: Role) -> UserInfo {
    s.add_user(new_user(username, role), t0())
        .expect("add user")
}

/// A session of `user` (on `device`, if any), opened at [`t0`], reached by `access`.
pub fn session(user: Uuid, device: Option<Uuid>, access: &str) -> NewSession {
    NewSession {
        id: Uuid::now_v7(),
        user_id: user,
        device_id: device,
        access_hash: Digest::of(access.as_bytes()),
        access_expires_at: t0() + Duration::minutes(15),
        refresh_hash: Digest::of(format!("refresh-{access}").as_bytes()),
        refresh_expires_at: t0() + Duration::days(30),
        absolute_expires_at: t0() + Duration::days(90),
        totp_setup_only: false,
        chain_head: None,
        now: t0(),
    }
}

fn record(s: &impl AccountStore, username: &str) -> UserRecord {
    s.user_by_username(username)
        .expect("read")
        .expect("the user exists")
}

fn conflict_code(e: StoreError) -> ErrorCode {
    match e {
        StoreError::Conflict { code, .. } => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn a_user_is_read_back_by_id_and_by_username(s: &impl AccountStore) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    assert_eq!(s.user(u.id).expect("read"), Some(u.clone()));
    let r = record(s, "zhangwei");
    assert_eq!(r.info, u);
    assert_eq!(r.password_hash, "hash-of-zhangwei");
    assert!(r.active, "a new user may sign in");
    assert_eq!((r.totp_secret, r.totp_pending), (None, None));
    assert_eq!(s.user(Uuid::now_v7()).expect("read"), None);
    assert!(s.user_by_username("nobody").expect("read").is_none());
    assert!(
        s.user_by_username("ZHANGWEI").expect("read").is_none(),
        "usernames are matched exactly"
    );
}

fn a_taken_username_is_a_conflict(s: &impl AccountStore) {
    add(s, "liuyang", Role::Inspector);
    let e = s
        .add_user(new_user("liuyang", Role::Admin), t0())
        .expect_err("the name is taken");
    assert_eq!(conflict_code(e), ErrorCode::UsernameTaken);
    assert_eq!(s.list_users().expect("list").len(), 1, "nothing was added");
}

fn users_are_listed_in_username_byte_order(s: &impl AccountStore) {
    for name in ["b", "a", "Z", "赵敏", "B"] {
        add(s, name, Role::Dispatcher);
    }
    let names: Vec<String> = s
        .list_users()
        .expect("list")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        names,
        ["B", "Z", "a", "b", "赵敏"],
        "byte order, as SQLite sorts"
    );
}

fn deactivating_revokes_live_sessions_and_blocks_sign_in<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "chenjun", Role::Patrol);
    let other = add(s, "zhaomin", Role::Dispatcher);
    s.create_session(session(u.id, None, "a1"))
        .expect("session");
    s.create_session(session(u.id, None, "a2"))
        .expect("session");
    s.create_session(session(other.id, None, "b1"))
        .expect("session");
    s.revoke_session(
        s.session_by_access(Digest::of(b"a2"))
            .expect("read")
            .expect("session")
            .id,
        t0(),
    )
    .expect("revoke");
    let later = t0() + Duration::hours(1);
    assert_eq!(
        s.set_user_active(u.id, false, later).expect("deactivate"),
        1,
        "one session was still live"
    );
    assert!(!record(s, "chenjun").active);
    assert_eq!(s.inactive_users().expect("read"), [u.id].into());
    for access in ["a1", "a2"] {
        let sess = s.session_by_access(Digest::of(access.as_bytes()));
        assert!(sess.expect("read").expect("session").revoked);
    }
    assert!(
        !s.session_by_access(Digest::of(b"b1"))
            .expect("read")
            .expect("session")
            .revoked,
        "another user's session stays"
    );
    assert_eq!(
        s.set_user_active(u.id, false, later).expect("again"),
        0,
        "nothing left to revoke"
    );
    assert_eq!(s.set_user_active(u.id, true, later).expect("activate"), 0);
    assert!(record(s, "chenjun").active);
    assert!(s.inactive_users().expect("read").is_empty());
    assert!(
        s.session_by_access(Digest::of(b"a1"))
            .expect("read")
            .expect("session")
            .revoked,
        "activating again does not bring sessions back"
    );
}

fn a_new_password_revokes_every_session<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "sunli", Role::Admin);
    s.create_session(session(u.id, None, "s1"))
        .expect("session");
    s.create_session(session(u.id, None, "s2"))
        .expect("session");
    assert_eq!(s.set_password(u.id, "new-hash", t0()).expect("set"), 2);
    assert_eq!(record(s, "sunli").password_hash, "new-hash");
    assert_eq!(s.set_password(u.id, "newer-hash", t0()).expect("set"), 0);
    assert!(
        s.session_by_access(Digest::of(b"s1"))
            .expect("read")
            .expect("session")
            .revoked
    );
}

fn an_unknown_user_is_refused_or_not_found(s: &impl AccountStore) {
    let nobody = Uuid::now_v7();
    for e in [
        s.set_user_active(nobody, false, t0()).expect_err("unknown"),
        s.set_password(nobody, "h", t0()).expect_err("unknown"),
    ] {
        assert!(
            matches!(
                e,
                StoreError::Invalid {
                    code: ErrorCode::UnknownUser,
                    ..
                }
            ),
            "{e:?}"
        );
    }
    assert!(matches!(
        s.set_totp_pending(nobody, "SECRET"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(!s.confirm_totp(nobody).expect("nothing to confirm"));
    assert!(!s.spend_totp_step(nobody, 1).expect("nothing to spend"));
}

fn a_second_factor_is_set_up_then_confirmed_once(s: &impl AccountStore) {
    let u = add(s, "admin", Role::Admin);
    assert!(!s.confirm_totp(u.id).expect("confirm"), "nothing pending");
    s.set_totp_pending(u.id, "FIRST").expect("pending");
    s.set_totp_pending(u.id, "SECOND").expect("replaced");
    let r = record(s, "admin");
    assert_eq!(
        (r.totp_secret, r.totp_pending.as_deref()),
        (None, Some("SECOND"))
    );
    assert!(s.confirm_totp(u.id).expect("confirm"));
    let r = record(s, "admin");
    assert_eq!(
        (r.totp_secret.as_deref(), r.totp_pending),
        (Some("SECOND"), None)
    );
    assert!(!s.confirm_totp(u.id).expect("again"), "confirmed once");
    s.set_totp_pending(u.id, "THIRD")
        .expect("a new one being set up");
    let r = record(s, "admin");
    assert_eq!(
        (r.totp_secret.as_deref(), r.totp_pending.as_deref()),
        (Some("SECOND"), Some("THIRD")),
        "the confirmed factor stays until the new one is confirmed"
    );
}

fn a_totp_step_is_spent_once_and_never_an_earlier_one(s: &impl AccountStore) {
    let u = add(s, "admin", Role::Admin);
    let other = add(s, "zhaomin", Role::Dispatcher);
    assert!(s.spend_totp_step(u.id, 1000).expect("spend"));
    assert!(
        !s.spend_totp_step(u.id, 1000).expect("again"),
        "the same code twice"
    );
    assert!(
        !s.spend_totp_step(u.id, 999).expect("earlier"),
        "an earlier code"
    );
    assert!(
        s.spend_totp_step(other.id, 1000).expect("spend"),
        "per user"
    );
    assert!(s.spend_totp_step(u.id, 1001).expect("later"));
}

fn a_totp_step_is_spent_once_by_concurrent_sign_ins<S: AccountStore + Sync>(s: &S) {
    let u = add(s, "admin", Role::Admin);
    for step in 1..=5 {
        let spent = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|_| scope.spawn(|| s.spend_totp_step(u.id, step).expect("spend")))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(spent, 1, "step {step}: one code, one sign-in");
    }
}

fn setup_only_sessions_become_full_sessions<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "admin", Role::Admin);
    let mut setup = session(u.id, None, "setup");
    setup.totp_setup_only = true;
    s.create_session(setup).expect("session");
    s.create_session(session(u.id, None, "full"))
        .expect("session");
    let setup_only = |access: &str| {
        s.session_by_access(Digest::of(access.as_bytes()))
            .expect("read")
            .expect("session")
            .totp_setup_only
    };
    assert!(setup_only("setup"));
    assert!(!setup_only("full"));
    s.end_totp_setup_sessions(u.id).expect("end");
    assert!(!setup_only("setup"));
}

fn a_crew_is_listed_with_its_members(s: &impl AccountStore) {
    let a = add(s, "a", Role::RepairTechnician);
    let b = add(s, "b", Role::RepairTechnician);
    let crew = s
        .add_crew("东区维修二班", &[b.id, a.id, b.id], t0())
        .expect("crew");
    s.add_crew("Alpha", &[], t0()).expect("an empty crew");
    let crews = s.list_crews().expect("list");
    let names: Vec<&str> = crews.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Alpha", "东区维修二班"], "by name");
    assert!(crews[0].members.is_empty());
    assert_eq!(crews[1].id, crew.id);
    let mut want = vec![a.id, b.id];
    want.sort_by_key(|id| id.to_string());
    assert_eq!(crews[1].members, want, "each member once, in id order");
}

fn a_crew_name_is_taken_once_even_by_concurrent_requests<S: AccountStore + Sync>(s: &S) {
    let a = add(s, "a", Role::Patrol);
    s.add_crew("巡线一班", &[a.id], t0()).expect("crew");
    let e = s.add_crew("巡线一班", &[], t0()).expect_err("taken");
    assert_eq!(conflict_code(e), ErrorCode::CrewExists);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| s.add_crew("巡线二班", &[a.id], t0())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let made = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(made, 1, "one crew of that name: {results:?}");
    for r in results.into_iter().filter_map(Result::err) {
        assert_eq!(conflict_code(r), ErrorCode::CrewExists);
    }
    assert_eq!(s.list_crews().expect("list").len(), 2);
}

fn a_crew_with_an_unknown_member_is_not_kept(s: &impl AccountStore) {
    let a = add(s, "a", Role::Patrol);
    let e = s
        .add_crew("巡线三班", &[a.id, Uuid::now_v7()], t0())
        .expect_err("unknown member");
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                code: ErrorCode::UnknownUser,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        s.list_crews().expect("list").is_empty(),
        "the crew is added in one transaction with its members, or not at all"
    );
    s.add_crew("巡线三班", &[a.id], t0())
        .expect("the name is still free");
}
