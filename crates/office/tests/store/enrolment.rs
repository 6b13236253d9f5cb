//! [`EnrolmentStore`]: devices (keys, short codes, binding, clocks), the sessions their tokens
//! open (refresh rotation, reuse detection, revocation) and enrolment challenges.

use crate::accounts::{add, session, t0};
use chrono::{DateTime, Duration, Utc};
use heatcrew_office::store::{
    AccountStore, EnrolmentStore, RefreshOutcome, Rotation, SessionRecord, StoreError,
};
use heatcrew_protocol::sync::{ClockJumpRecord, Role};
use heatcrew_protocol::{Digest, ErrorCode};
use uuid::Uuid;

crate::both!(
    new_devices_get_consecutive_codes_and_are_listed_in_code_order,
    concurrent_enrolments_get_distinct_gap_free_codes,
    enrolling_again_confirms_and_renames,
    another_key_or_another_user_is_a_conflict,
    a_shared_device_takes_any_user_and_stays_bound,
    moving_a_device_binds_it_and_ends_its_sessions,
    unknown_devices_are_not_found,
    a_clock_offset_jump_is_counted_and_noise_is_not,
    a_device_sync_is_remembered,
    a_session_is_found_by_its_access_token,
    a_refresh_rotates_the_pair_within_the_absolute_lifetime,
    a_lost_refresh_response_can_be_retried_once_unused,
    a_reused_refresh_token_ends_the_session,
    a_refresh_from_another_device_ends_the_session,
    an_expired_or_idle_session_ends_on_refresh,
    unknown_expired_and_revoked_refresh_tokens_are_invalid,
    sessions_are_revoked_one_or_per_device,
    a_challenge_is_used_up_once,
    a_challenge_of_another_device_or_expired_is_refused,
    a_challenge_is_taken_once_by_concurrent_requests,
    clock_jumps_are_kept_once_per_id_and_per_device,
    clock_jumps_are_listed_newest_first,
);

fn key(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn conflict_code(e: StoreError) -> ErrorCode {
    match e {
        StoreError::Conflict { code, .. } => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn by_access<S: EnrolmentStore>(s: &S, access: &str) -> SessionRecord {
    s.session_by_access(Digest::of(access.as_bytes()))
        .expect("read")
        .expect("the session exists")
}

fn rotation(presented: &str, next: &str, device: Option<Uuid>, now: DateTime<Utc>) -> Rotation {
    Rotation {
        presented_refresh: Digest::of(format!("refresh-{presented}").as_bytes()),
        device_id: device,
        staff_idle_before: now - Duration::minutes(30),
        access_hash: Digest::of(next.as_bytes()),
        access_expires_at: now + Duration::minutes(15),
        refresh_hash: Digest::of(format!("refresh-{next}").as_bytes()),
        refresh_expires_at: now + Duration::days(30),
        now,
    }
}

fn new_devices_get_consecutive_codes_and_are_listed_in_code_order<
    S: AccountStore + EnrolmentStore,
>(
    s: &S,
) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let (d1, d2) = (Uuid::now_v7(), Uuid::now_v7());
    // Enrolled in the opposite order of their ids: the list follows the codes.
    let second = s
        .enrol_device(d2, &key(2), "华为 Mate", u.id, t0())
        .expect("enrol");
    let first = s
        .enrol_device(d1, &key(1), "小米", u.id, t0())
        .expect("enrol");
    assert_eq!(
        (second.code.as_str(), first.code.as_str()),
        ("D0001", "D0002")
    );
    assert_eq!(second.public_key, key(2));
    assert_eq!(second.name, "华为 Mate");
    assert_eq!(second.user_id, u.id);
    assert!(!second.shared);
    assert_eq!(second.enrolled_at, t0());
    assert_eq!(
        (second.last_seq, second.clock_offset_ms, second.clock_jumps),
        (0, None, 0)
    );
    assert_eq!(
        (second.last_sync_at, second.app_version.clone()),
        (None, None)
    );
    let listed: Vec<Uuid> = s
        .list_devices()
        .expect("list")
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, [d2, d1]);
    let read = s.device(d2).expect("read").expect("enrolled");
    assert_eq!((read.id, read.code), (d2, "D0001".to_owned()));
}

fn concurrent_enrolments_get_distinct_gap_free_codes<S: AccountStore + EnrolmentStore + Sync>(
    s: &S,
) {
    let u = add(s, "chenjun", Role::Patrol);
    let ids: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
    std::thread::scope(|scope| {
        for (i, id) in ids.iter().enumerate() {
            let u = u.id;
            scope.spawn(move || {
                s.enrol_device(*id, &key(i as u8), "phone", u, t0())
                    .expect("every enrolment succeeds")
            });
        }
    });
    let mut codes: Vec<String> = s
        .list_devices()
        .expect("list")
        .into_iter()
        .map(|d| d.code)
        .collect();
    codes.sort();
    let want: Vec<String> = (1..=8).map(|n| format!("D{n:04}")).collect();
    assert_eq!(
        codes, want,
        "one code each, none skipped (notice numbers carry them)"
    );
}

fn enrolling_again_confirms_and_renames<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let d = Uuid::now_v7();
    let first = s
        .enrol_device(d, &key(1), "old name", u.id, t0())
        .expect("enrol");
    let later = t0() + Duration::days(1);
    let again = s
        .enrol_device(d, &key(1), "", u.id, later)
        .expect("confirm");
    assert_eq!(
        (again.code.clone(), again.name.clone()),
        (first.code.clone(), "old name".into())
    );
    assert_eq!(again.enrolled_at, t0(), "enrolled once");
    let renamed = s
        .enrol_device(d, &key(1), "new name", u.id, later)
        .expect("confirm");
    assert_eq!(renamed.name, "new name");
    assert_eq!(s.list_devices().expect("list").len(), 1);
}

fn another_key_or_another_user_is_a_conflict<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let v = add(s, "liuyang", Role::Inspector);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    let e = s
        .enrol_device(d, &key(9), "phone", u.id, t0())
        .expect_err("other key");
    assert_eq!(conflict_code(e), ErrorCode::DeviceKeyMismatch);
    let e = s
        .enrol_device(d, &key(1), "phone", v.id, t0())
        .expect_err("other user");
    assert_eq!(conflict_code(e), ErrorCode::DeviceOtherUser);
    let kept = s.device(d).expect("read").expect("enrolled");
    assert_eq!((kept.public_key, kept.user_id), (key(1), u.id));
}

fn a_shared_device_takes_any_user_and_stays_bound<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let v = add(s, "liuyang", Role::Inspector);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "crew phone", u.id, t0())
        .expect("enrol");
    assert!(s.set_device_shared(d, true).expect("share").shared);
    let rec = s
        .enrol_device(d, &key(1), "crew phone", v.id, t0())
        .expect("shared: anyone");
    assert_eq!(rec.user_id, u.id, "a shared phone stays its first user's");
    assert!(rec.shared);
    let rec = s.set_device_shared(d, false).expect("bound again");
    assert!(!rec.shared);
    let e = s
        .enrol_device(d, &key(1), "crew phone", v.id, t0())
        .expect_err("bound");
    assert_eq!(conflict_code(e), ErrorCode::DeviceOtherUser);
}

fn moving_a_device_binds_it_and_ends_its_sessions<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let v = add(s, "liuyang", Role::Inspector);
    let d = Uuid::now_v7();
    let other = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    s.enrol_device(other, &key(2), "phone", u.id, t0())
        .expect("enrol");
    s.set_device_shared(d, true).expect("share");
    s.create_session(session(u.id, Some(d), "on-d"))
        .expect("session");
    s.create_session(session(u.id, Some(other), "on-other"))
        .expect("session");
    let (rec, revoked) = s.move_device(d, v.id, t0()).expect("move");
    assert_eq!((rec.user_id, rec.shared, revoked), (v.id, false, 1));
    assert!(by_access(s, "on-d").revoked);
    assert!(
        !by_access(s, "on-other").revoked,
        "another device's session stays"
    );
    s.enrol_device(d, &key(1), "phone", v.id, t0())
        .expect("now v's");
    let e = s
        .enrol_device(d, &key(1), "phone", u.id, t0())
        .expect_err("no longer u's");
    assert_eq!(conflict_code(e), ErrorCode::DeviceOtherUser);
    let e = s
        .move_device(d, Uuid::now_v7(), t0())
        .expect_err("unknown user");
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
    assert_eq!(s.device(d).expect("read").expect("device").user_id, v.id);
}

fn unknown_devices_are_not_found<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let nobody = Uuid::now_v7();
    assert!(s.device(nobody).expect("read").is_none());
    let not_found = |r: Result<(), StoreError>| {
        assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    };
    not_found(s.move_device(nobody, u.id, t0()).map(|_| ()));
    not_found(s.set_device_shared(nobody, true).map(|_| ()));
    not_found(s.record_clock_offset(nobody, 5_000, 60_000, t0()));
    not_found(s.record_device_sync(nobody, "1.0.0", t0()));
}

fn a_clock_offset_jump_is_counted_and_noise_is_not<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    let offset = |s: &S| {
        let d = s.device(d).expect("read").expect("device");
        (d.clock_offset_ms, d.clock_jumps)
    };
    let jump_ms = 60_000;
    s.record_clock_offset(d, 5_000, jump_ms, t0())
        .expect("first");
    assert_eq!(offset(s), (Some(5_000), 0), "a first offset is no jump");
    s.record_clock_offset(d, 5_900, jump_ms, t0())
        .expect("noise");
    assert_eq!(offset(s), (Some(5_000), 0), "within a second: not written");
    s.record_clock_offset(d, 30_000, jump_ms, t0())
        .expect("drift");
    assert_eq!(offset(s), (Some(30_000), 0), "moved, but less than a jump");
    s.record_clock_offset(d, -3_600_000, jump_ms, t0())
        .expect("jump");
    assert_eq!(offset(s), (Some(-3_600_000), 1));
    s.record_clock_offset(d, 30_000, jump_ms, t0())
        .expect("back");
    assert_eq!(offset(s), (Some(30_000), 2));
}

fn a_device_sync_is_remembered<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    let at = t0() + Duration::milliseconds(1234);
    s.record_device_sync(d, "0.9.1 (android 14)", at)
        .expect("sync");
    let rec = s.device(d).expect("read").expect("device");
    assert_eq!(
        (rec.last_sync_at, rec.app_version.as_deref()),
        (Some(at), Some("0.9.1 (android 14)"))
    );
}

fn a_session_is_found_by_its_access_token<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    let new = session(u.id, Some(d), "acc");
    let id = new.id;
    s.create_session(new).expect("session");
    let found = by_access(s, "acc");
    assert_eq!(
        (found.id, found.user.clone(), found.device_id),
        (id, u, Some(d))
    );
    assert_eq!(found.access_expires_at, t0() + Duration::minutes(15));
    assert_eq!(found.absolute_expires_at, t0() + Duration::days(90));
    assert_eq!(found.last_seen_at, t0());
    assert!(!found.revoked && !found.totp_setup_only);
    assert!(
        s.session_by_access(Digest::of(b"other"))
            .expect("read")
            .is_none()
    );
    let later = t0() + Duration::minutes(5);
    s.touch_session(id, later).expect("touch");
    assert_eq!(by_access(s, "acc").last_seen_at, later);
}

fn a_refresh_rotates_the_pair_within_the_absolute_lifetime<S: AccountStore + EnrolmentStore>(
    s: &S,
) {
    let u = add(s, "zhaomin", Role::Dispatcher);
    s.create_session(session(u.id, None, "a0"))
        .expect("session");
    let now = t0() + Duration::minutes(10);
    // Asking for a refresh token longer-lived than the session: it ends with the session.
    let mut r = rotation("a0", "a1", None, now);
    r.refresh_expires_at = now + Duration::days(365);
    match s.refresh_session(r).expect("refresh") {
        RefreshOutcome::Rotated { user, device_id } => assert_eq!((user, device_id), (u, None)),
        other => panic!("expected a rotation, got {other:?}"),
    }
    assert!(
        s.session_by_access(Digest::of(b"a0"))
            .expect("read")
            .is_none(),
        "old access gone"
    );
    assert_eq!(
        by_access(s, "a1").access_expires_at,
        now + Duration::minutes(15)
    );
    // Close to the absolute end: the new tokens end with the session.
    let end = t0() + Duration::days(90);
    let near = end - Duration::minutes(1);
    let mut r = rotation("a1", "a2", None, near);
    r.staff_idle_before = t0(); // never idle: last seen at t0
    assert!(matches!(
        s.refresh_session(r).expect("refresh"),
        RefreshOutcome::Rotated { .. }
    ));
    assert_eq!(
        by_access(s, "a2").access_expires_at,
        end,
        "clamped to the absolute expiry"
    );
    let mut r = rotation("a2", "a3", None, end);
    r.staff_idle_before = t0(); // never idle: last seen at t0
    assert!(
        matches!(
            s.refresh_session(r).expect("refresh"),
            RefreshOutcome::Invalid
        ),
        "the refresh token was clamped to the session's end too"
    );
}

fn a_lost_refresh_response_can_be_retried_once_unused<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    s.create_session(session(u.id, Some(d), "a0"))
        .expect("session");
    let now = t0() + Duration::minutes(1);
    assert!(matches!(
        s.refresh_session(rotation("a0", "a1", Some(d), now))
            .expect("refresh"),
        RefreshOutcome::Rotated { .. }
    ));
    // The answer never arrived: the device presents a0's refresh token again.
    assert!(matches!(
        s.refresh_session(rotation("a0", "a2", Some(d), now))
            .expect("retry"),
        RefreshOutcome::Rotated { .. }
    ));
    assert!(!by_access(s, "a2").revoked);
    assert!(
        s.session_by_access(Digest::of(b"a1"))
            .expect("read")
            .is_none()
    );
}

fn a_reused_refresh_token_ends_the_session<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    s.create_session(session(u.id, Some(d), "a0"))
        .expect("session");
    let now = t0() + Duration::minutes(1);
    s.refresh_session(rotation("a0", "a1", Some(d), now))
        .expect("refresh");
    by_access(s, "a1"); // the device uses its new pair
    assert!(matches!(
        s.refresh_session(rotation("a0", "x1", Some(d), now))
            .expect("copy"),
        RefreshOutcome::Reused
    ));
    assert!(by_access(s, "a1").revoked, "both holders lose the session");
    assert!(matches!(
        s.refresh_session(rotation("a1", "a2", Some(d), now))
            .expect("device"),
        RefreshOutcome::Invalid
    ));
}

fn a_refresh_from_another_device_ends_the_session<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    s.create_session(session(u.id, Some(d), "a0"))
        .expect("session");
    let now = t0() + Duration::minutes(1);
    assert!(matches!(
        s.refresh_session(rotation("a0", "x", Some(Uuid::now_v7()), now))
            .expect("refresh"),
        RefreshOutcome::WrongDevice
    ));
    assert!(by_access(s, "a0").revoked);
    s.create_session(session(u.id, Some(d), "b0"))
        .expect("session");
    assert!(matches!(
        s.refresh_session(rotation("b0", "x", None, now))
            .expect("from a console"),
        RefreshOutcome::WrongDevice
    ));
}

fn an_expired_or_idle_session_ends_on_refresh<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhaomin", Role::Dispatcher);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    // A staff session not used for an hour, idle after 30 minutes.
    s.create_session(session(u.id, None, "staff"))
        .expect("session");
    let now = t0() + Duration::hours(1);
    assert!(matches!(
        s.refresh_session(rotation("staff", "x", None, now))
            .expect("refresh"),
        RefreshOutcome::Expired
    ));
    assert!(by_access(s, "staff").revoked);
    // A device session is never idle; a touched staff session is not either.
    s.create_session(session(u.id, Some(d), "dev"))
        .expect("session");
    assert!(matches!(
        s.refresh_session(rotation("dev", "dev2", Some(d), now))
            .expect("refresh"),
        RefreshOutcome::Rotated { .. }
    ));
    let touched = session(u.id, None, "touched");
    let id = touched.id;
    s.create_session(touched).expect("session");
    s.touch_session(id, now - Duration::minutes(1))
        .expect("touch");
    assert!(matches!(
        s.refresh_session(rotation("touched", "t2", None, now))
            .expect("refresh"),
        RefreshOutcome::Rotated { .. }
    ));
    // Past the absolute lifetime: the refresh token asked for 30 days ended with the session.
    let mut old = session(u.id, Some(d), "old");
    old.absolute_expires_at = t0() + Duration::minutes(30);
    s.create_session(old).expect("session");
    assert!(matches!(
        s.refresh_session(rotation("old", "x", Some(d), now))
            .expect("refresh"),
        RefreshOutcome::Invalid
    ));
    let mut r = rotation("old", "x", Some(d), t0() + Duration::minutes(29));
    r.staff_idle_before = t0();
    assert!(
        matches!(
            s.refresh_session(r).expect("refresh"),
            RefreshOutcome::Rotated { .. }
        ),
        "still valid a minute before"
    );
}

fn unknown_expired_and_revoked_refresh_tokens_are_invalid<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhaomin", Role::Dispatcher);
    let now = t0() + Duration::minutes(1);
    assert!(matches!(
        s.refresh_session(rotation("never", "x", None, now))
            .expect("refresh"),
        RefreshOutcome::Invalid
    ));
    let revoked = session(u.id, None, "revoked");
    let id = revoked.id;
    s.create_session(revoked).expect("session");
    s.revoke_session(id, now).expect("revoke");
    assert!(matches!(
        s.refresh_session(rotation("revoked", "x", None, now))
            .expect("refresh"),
        RefreshOutcome::Invalid
    ));
    s.create_session(session(u.id, None, "stale"))
        .expect("session");
    let mut r = rotation("stale", "x", None, t0() + Duration::days(31));
    r.staff_idle_before = t0() - Duration::days(1);
    assert!(matches!(
        s.refresh_session(r).expect("refresh"),
        RefreshOutcome::Invalid
    ));
    assert!(
        !by_access(s, "stale").revoked,
        "an expired token ends nothing by itself"
    );
}

fn sessions_are_revoked_one_or_per_device<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let (d, other) = (Uuid::now_v7(), Uuid::now_v7());
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    s.enrol_device(other, &key(2), "phone", u.id, t0())
        .expect("enrol");
    for access in ["d1", "d2", "d3"] {
        s.create_session(session(u.id, Some(d), access))
            .expect("session");
    }
    s.create_session(session(u.id, Some(other), "o1"))
        .expect("session");
    let one = by_access(s, "d1").id;
    s.revoke_session(one, t0()).expect("revoke");
    s.revoke_session(one, t0()).expect("revoking again is fine");
    assert_eq!(
        s.revoke_device_sessions(d, t0()).expect("revoke"),
        2,
        "two were live"
    );
    assert_eq!(s.revoke_device_sessions(d, t0()).expect("again"), 0);
    assert!(["d1", "d2", "d3"].iter().all(|a| by_access(s, a).revoked));
    assert!(!by_access(s, "o1").revoked);
    s.revoke_session(Uuid::now_v7(), t0())
        .expect("an unknown session: nothing to do");
}

fn a_challenge_is_used_up_once<S: EnrolmentStore>(s: &S) {
    let d = Uuid::now_v7();
    let exp = t0() + Duration::minutes(5);
    s.create_challenge("c1", d, exp, t0()).expect("create");
    s.take_challenge("c1", d, t0()).expect("take");
    let e = s.take_challenge("c1", d, t0()).expect_err("used");
    assert_eq!(conflict_code(e), ErrorCode::ChallengeUnknown);
    let e = s.take_challenge("never", d, t0()).expect_err("unknown");
    assert_eq!(conflict_code(e), ErrorCode::ChallengeUnknown);
}

fn a_challenge_of_another_device_or_expired_is_refused<S: EnrolmentStore>(s: &S) {
    let d = Uuid::now_v7();
    let exp = t0() + Duration::minutes(5);
    s.create_challenge("c1", d, exp, t0()).expect("create");
    let e = s
        .take_challenge("c1", Uuid::now_v7(), t0())
        .expect_err("other device");
    assert_eq!(conflict_code(e), ErrorCode::ChallengeWrongDevice);
    let e = s
        .take_challenge("c1", d, t0())
        .expect_err("gone whatever the answer");
    assert_eq!(conflict_code(e), ErrorCode::ChallengeUnknown);
    s.create_challenge("c2", d, exp, t0()).expect("create");
    let e = s
        .take_challenge("c2", d, exp + Duration::seconds(1))
        .expect_err("expired");
    assert_eq!(conflict_code(e), ErrorCode::ChallengeExpired);
    // Expired challenges are forgotten when the next one is created.
    s.create_challenge("c3", d, exp, t0()).expect("create");
    s.create_challenge(
        "c4",
        d,
        exp + Duration::hours(1),
        exp + Duration::seconds(1),
    )
    .expect("create later");
    let e = s.take_challenge("c3", d, t0()).expect_err("swept");
    assert_eq!(conflict_code(e), ErrorCode::ChallengeUnknown);
}

fn a_challenge_is_taken_once_by_concurrent_requests<S: EnrolmentStore + Sync>(s: &S) {
    let d = Uuid::now_v7();
    for round in 0..5 {
        let c = format!("c{round}");
        s.create_challenge(&c, d, t0() + Duration::minutes(5), t0())
            .expect("create");
        let taken = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|_| scope.spawn(|| s.take_challenge(&c, d, t0()).is_ok()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(taken, 1, "round {round}: a challenge signs one login");
    }
}

fn jump(minute: i64, jump_ms: i64) -> ClockJumpRecord {
    let at = t0() + Duration::minutes(minute);
    ClockJumpRecord {
        id: Uuid::now_v7(),
        wall_before: at - Duration::seconds(30),
        wall_after: at,
        jump_ms,
        rebooted: jump_ms < 0,
    }
}

fn clock_jumps_are_kept_once_per_id_and_per_device<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let (d, other) = (Uuid::now_v7(), Uuid::now_v7());
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    s.enrol_device(other, &key(2), "phone", u.id, t0())
        .expect("enrol");
    let (a, b) = (jump(1, 3_600_000), jump(2, -120_000));
    let held = s
        .record_device_clock_jumps(d, u.id, &[a.clone(), b.clone()], t0())
        .expect("record");
    assert_eq!(held, [a.id, b.id]);
    let again = s
        .record_device_clock_jumps(d, u.id, std::slice::from_ref(&b), t0() + Duration::hours(1))
        .expect("a retried report");
    assert_eq!(again, [b.id], "known ids are held, not doubled");
    assert_eq!(s.device_clock_jumps(d, 10).expect("list").len(), 2);
    let c = jump(3, 5_000);
    let theirs = s
        .record_device_clock_jumps(other, u.id, &[a.clone(), c.clone()], t0())
        .expect("another device sends d's id");
    assert_eq!(
        theirs,
        [c.id],
        "an id another device used is not this device's"
    );
    assert_eq!(s.device_clock_jumps(other, 10).expect("list"), [c]);
    assert_eq!(
        s.device_clock_jumps(d, 10).expect("list"),
        [b, a],
        "d's stay d's"
    );
}

fn clock_jumps_are_listed_newest_first<S: AccountStore + EnrolmentStore>(s: &S) {
    let u = add(s, "zhangwei", Role::RepairTechnician);
    let d = Uuid::now_v7();
    s.enrol_device(d, &key(1), "phone", u.id, t0())
        .expect("enrol");
    let jumps: Vec<ClockJumpRecord> = [5, 1, 9, 3].iter().map(|m| jump(*m, 90_000)).collect();
    s.record_device_clock_jumps(d, u.id, &jumps, t0())
        .expect("record");
    let listed = s.device_clock_jumps(d, 3).expect("list");
    let want = [jumps[2].clone(), jumps[0].clone(), jumps[3].clone()];
    assert_eq!(
        listed, want,
        "by the device's wall time after the jump, newest first, at most 3"
    );
    assert!(
        s.device_clock_jumps(Uuid::now_v7(), 3)
            .expect("list")
            .is_empty()
    );
}
