//! [`LoginThrottleStore`]: failed sign-ins counted in the database, so that every office process on
//! it meets the same counts. Sign-ins failing at once (threads on the store's pool, as processes
//! would) are each counted, the longer lock stands, a forgotten count starts again, and a success
//! clears the account but not the address.

use chrono::{DateTime, TimeDelta, Utc};
use heatcrew_office::throttle::{self, LoginThrottleStore, Throttle};

crate::both!(
    failures_at_once_are_each_counted,
    a_lock_is_never_shortened,
    a_forgotten_count_starts_again_and_is_pruned,
    a_success_clears_the_account_not_the_address
);

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("t0")
}

fn failures_at_once_are_each_counted(s: &(impl LoginThrottleStore + Sync)) {
    const AT_ONCE: u32 = 8;
    let p = Throttle::default();
    let barrier = std::sync::Barrier::new(AT_ONCE as usize);
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE {
            let (barrier, p) = (&barrier, &p);
            scope.spawn(move || {
                barrier.wait();
                throttle::fail(p, s, "tech1", Some("10.0.0.1"), t0()).expect("counted");
            });
        }
    });
    // 8 failures of one account from one address: 5 free, then 1 s, 2 s, 4 s.
    assert_eq!(
        throttle::check(&p, s, "tech1", Some("10.0.0.1"), t0()).expect("check"),
        Err(4),
        "every failure was counted: none lost to another writer"
    );
    assert!(
        throttle::check(&p, s, "tech1", Some("10.0.0.2"), t0())
            .expect("check")
            .is_ok(),
        "from another address the account is not locked yet"
    );
}

fn a_lock_is_never_shortened(s: &impl LoginThrottleStore) {
    let keys = vec!["pair:test".to_owned()];
    let forget = t0() - TimeDelta::hours(1);
    let long = t0() + TimeDelta::minutes(10);
    s.count_login_failure(&keys, t0(), forget, &|_, _| Some(long))
        .expect("count");
    s.count_login_failure(&keys, t0(), forget, &|_, _| {
        Some(t0() + TimeDelta::seconds(1))
    })
    .expect("count");
    s.count_login_failure(&keys, t0(), forget, &|_, _| None)
        .expect("count");
    assert_eq!(
        s.login_locked_until(&keys, t0(), forget).expect("read"),
        Some(long),
        "a process counting later with a shorter lock does not lift the longer one"
    );
    assert_eq!(
        s.login_locked_until(&keys, long, forget).expect("read"),
        None,
        "ended"
    );
    assert_eq!(
        s.login_locked_until(&["pair:other".to_owned()], t0(), forget)
            .expect("read"),
        None,
        "an unknown key is not locked"
    );
}

fn a_forgotten_count_starts_again_and_is_pruned(s: &impl LoginThrottleStore) {
    let p = Throttle::default();
    for _ in 0..p.pair_free + 1 {
        throttle::fail(&p, s, "tech2", Some("10.0.0.9"), t0()).expect("fail");
    }
    assert_eq!(
        throttle::check(&p, s, "tech2", Some("10.0.0.9"), t0()).expect("check"),
        Err(1)
    );
    let later = t0() + p.forget_after + TimeDelta::seconds(1);
    throttle::fail(&p, s, "tech2", Some("10.0.0.9"), later).expect("fail");
    assert!(
        throttle::check(&p, s, "tech2", Some("10.0.0.9"), later)
            .expect("check")
            .is_ok(),
        "an hour without failures: the count started again at one, which locks nothing"
    );
    assert_eq!(
        s.prune_login_failures(later, 1_000).expect("prune"),
        0,
        "the keys failed again at `later`: nothing to prune before it"
    );
    throttle::fail(&p, s, "tech3", Some("10.0.0.8"), t0()).expect("fail");
    assert_eq!(
        s.prune_login_failures(later - p.forget_after, 1)
            .expect("prune"),
        1,
        "forgotten keys go, at most as many as asked"
    );
    assert_eq!(
        s.prune_login_failures(later - p.forget_after, 1_000)
            .expect("prune"),
        2,
        "the rest of tech3's keys"
    );
}

fn a_success_clears_the_account_not_the_address(s: &impl LoginThrottleStore) {
    let p = Throttle {
        address_free: 3,
        ..Throttle::default()
    };
    for name in ["a", "b", "c", "d"] {
        throttle::fail(&p, s, name, Some("10.0.0.5"), t0()).expect("fail");
    }
    assert_eq!(
        throttle::check(&p, s, "e", Some("10.0.0.5"), t0()).expect("check"),
        Err(1),
        "four accounts tried from one address: the address is locked"
    );
    for _ in 0..p.pair_free + 1 {
        throttle::fail(&p, s, "f", Some("10.0.0.6"), t0()).expect("fail");
    }
    throttle::succeed(s, "a", Some("10.0.0.5")).expect("succeed");
    throttle::succeed(s, "f", Some("10.0.0.6")).expect("succeed");
    assert!(
        throttle::check(&p, s, "e", Some("10.0.0.5"), t0())
            .expect("check")
            .is_err(),
        "one known password does not reset the guessing address"
    );
    assert!(
        throttle::check(&p, s, "f", Some("10.0.0.7"), t0())
            .expect("check")
            .is_ok(),
        "the account's counts are cleared"
    );
}
