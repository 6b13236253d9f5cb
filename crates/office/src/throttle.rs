//! Login throttling: failed sign-ins counted per account *and* client address, per client address,
//! and per account; past a few free failures each further one locks that key for twice as long as
//! the last (1 s, 2 s, 4 s, … up to [`Throttle::max_lock`]), and a locked key is answered 429 with
//! `Retry-After` before any password is checked. Counts are forgotten after
//! [`Throttle::forget_after`] without failures; a success clears its account's counts (not the
//! address's, so one known password does not reset a guesser's address).
//!
//! The three keys make the trade-offs: one address guessing one account is stopped after
//! [`Throttle::pair_free`] failures without locking the real user out from elsewhere; one address
//! trying many accounts after [`Throttle::address_free`]; many addresses on one account (a
//! distributed guess) after [`Throttle::account_free`].
//!
//! The counts live in the office's database ([`LoginThrottleStore`], table `login_failures`), so
//! every office process on one database meets the same counts: a guesser spread over several
//! processes by a load balancer gets the free failures once, not once per process, and a restart
//! forgets nothing. Keys are stored hashed (a username field sometimes holds a mistyped password).
//! Each failure is one short write transaction; the check before a password is one read.
//!
//! Also the bound on password hashing: at most [`Throttle::argon2_queue`] sign-ins wait for or run
//! argon2 at once; beyond that a sign-in is answered 429 at once (`login_busy`) instead of
//! queueing behind a flood. That queue bounds each process's CPU, so it stays per process.

use crate::store::StoreResult;
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest as _, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The throttling policy (in [`crate::Config`]).
#[derive(Debug, Clone)]
pub struct Throttle {
    /// Failures of one account from one address before delays start.
    pub pair_free: u32,
    /// Failures from one address (any accounts) before delays start.
    pub address_free: u32,
    /// Failures of one account (any addresses) before delays start.
    pub account_free: u32,
    /// The first delay; each further failure doubles it.
    pub first_lock: TimeDelta,
    /// The longest lockout.
    pub max_lock: TimeDelta,
    /// Counts are dropped after this long without a failure.
    pub forget_after: TimeDelta,
    /// Sign-ins hashing or waiting to hash at once; more are refused with 429.
    pub argon2_queue: usize,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            pair_free: 5,
            address_free: 20,
            account_free: 50,
            first_lock: TimeDelta::seconds(1),
            max_lock: TimeDelta::minutes(15),
            forget_after: TimeDelta::hours(1),
            argon2_queue: 16,
        }
    }
}

/// Failed sign-ins as the office's database keeps them, shared by every process on it. Keys are
/// opaque strings ([`keys`]); times are the office clock's.
pub trait LoginThrottleStore {
    /// Count one failed sign-in against each of `keys`, in one transaction. A key whose last
    /// failure is before `forget_before` starts again at 1 (and loses its lock). `lock(i, n)`
    /// says until when `keys[i]`, now at `n` failures, is locked, if at all; a lock is never
    /// shortened (two processes counting at once keep the longer one).
    fn count_login_failure(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
        lock: &dyn Fn(usize, u32) -> Option<DateTime<Utc>>,
    ) -> StoreResult<()>;

    /// The latest lock of `keys` still in force at `now` (of keys not forgotten).
    fn login_locked_until(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;

    /// Forget `keys` (a successful sign-in).
    fn clear_login_failures(&self, keys: &[String]) -> StoreResult<()>;

    /// Forget keys whose last failure is before `forget_before`, up to `limit` of them (a flood of
    /// made-up names does not grow the table past an hour's worth). Returns how many.
    fn prune_login_failures(&self, forget_before: DateTime<Utc>, limit: u32) -> StoreResult<u64>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pair,
    Address,
    Account,
}

/// The password hashing queue of one office process.
#[derive(Debug, Default)]
pub struct LoginGuard {
    hashing: AtomicUsize,
}

/// Forgotten keys removed after each failure, at most.
const PRUNE_BATCH: u32 = 1_000;

/// A place in the hashing queue; leaves it when dropped.
#[derive(Debug)]
pub struct HashingPermit<'a>(&'a AtomicUsize);

impl Drop for HashingPermit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A sign-in's keys as stored: `pair:`, `account:`, `address:` and the SHA-256 of what they
/// name (account folded to lower case).
fn keys(username: &str, address: Option<&str>) -> Vec<(Kind, String)> {
    let account = username.trim().to_lowercase();
    let hashed = |kind: &str, parts: &[&str]| {
        let mut h = Sha256::new();
        for part in parts {
            h.update(part.as_bytes());
            h.update([0]);
        }
        format!("{kind}:{}", hex::encode(h.finalize()))
    };
    let mut keys = vec![
        (
            Kind::Pair,
            hashed("pair", &[&account, address.unwrap_or("")]),
        ),
        (Kind::Account, hashed("account", &[&account])),
    ];
    if let Some(a) = address {
        keys.push((Kind::Address, hashed("address", &[a])));
    }
    keys
}

fn free(policy: &Throttle, kind: Kind) -> u32 {
    match kind {
        Kind::Pair => policy.pair_free,
        Kind::Address => policy.address_free,
        Kind::Account => policy.account_free,
    }
}

/// Until when a key at `failures` is locked: past its free failures, the first lock doubled for
/// each further one, up to the longest.
fn lock_after(
    policy: &Throttle,
    kind: Kind,
    failures: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let free = free(policy, kind);
    (failures > free).then(|| {
        let doublings = (failures - free - 1).min(30);
        let lock = policy
            .first_lock
            .checked_mul(1 << doublings)
            .unwrap_or(policy.max_lock)
            .min(policy.max_lock);
        now + lock
    })
}

/// `Ok(Err(seconds))` while any of the sign-in's keys is locked.
pub fn check(
    policy: &Throttle,
    store: &dyn LoginThrottleStore,
    username: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Result<(), u64>> {
    let keys: Vec<String> = keys(username, address).into_iter().map(|k| k.1).collect();
    let until = store.login_locked_until(&keys, now, now - policy.forget_after)?;
    Ok(match until {
        // Whole seconds, rounded up: a client that waits that long is let through.
        Some(until) if until > now => {
            let ms = (until - now).num_milliseconds();
            Err(((ms + 999) / 1000) as u64)
        }
        _ => Ok(()),
    })
}

/// Count a failed sign-in against each of its keys.
pub fn fail(
    policy: &Throttle,
    store: &dyn LoginThrottleStore,
    username: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let keys = keys(username, address);
    let names: Vec<String> = keys.iter().map(|k| k.1.clone()).collect();
    let forget_before = now - policy.forget_after;
    store.count_login_failure(&names, now, forget_before, &|i, failures| {
        lock_after(policy, keys[i].0, failures, now)
    })?;
    store.prune_login_failures(forget_before, PRUNE_BATCH)?;
    Ok(())
}

/// A successful sign-in: its account's counts (alone and from this address) are cleared, not the
/// address's, so one known password does not reset a guesser's address.
pub fn succeed(
    store: &dyn LoginThrottleStore,
    username: &str,
    address: Option<&str>,
) -> StoreResult<()> {
    let keys: Vec<String> = keys(username, address)
        .into_iter()
        .filter(|k| k.0 != Kind::Address)
        .map(|k| k.1)
        .collect();
    store.clear_login_failures(&keys)
}

impl LoginGuard {
    /// A place in the password hashing queue, or `None` when it is full.
    pub fn enter_hashing(&self, policy: &Throttle) -> Option<HashingPermit<'_>> {
        let prev = self.hashing.fetch_add(1, Ordering::AcqRel);
        let permit = HashingPermit(&self.hashing);
        (prev < policy.argon2_queue).then_some(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[test]
    fn delays_grow_after_the_free_failures_and_end() {
        let dir = tempfile::tempdir().expect("dir");
        let s = SqliteStore::open(&dir.path().join("office.db")).expect("store");
        let p = Throttle::default();
        let now = Utc::now();
        let check = |name: &str, address: &str, at: DateTime<Utc>| {
            check(&p, &s, name, Some(address), at).expect("check")
        };
        let fail =
            |name: &str, address: &str| fail(&p, &s, name, Some(address), now).expect("fail");
        for _ in 0..p.pair_free {
            assert!(check("tech1", "10.0.0.1", now).is_ok());
            fail("tech1", "10.0.0.1");
        }
        assert!(
            check("tech1", "10.0.0.1", now).is_ok(),
            "the free failures lock nothing"
        );
        fail("tech1", "10.0.0.1");
        assert_eq!(check("tech1", "10.0.0.1", now), Err(1));
        fail("tech1", "10.0.0.1");
        assert_eq!(
            check("TECH1", "10.0.0.1", now),
            Err(2),
            "doubles; names fold case"
        );
        assert!(
            check("tech1", "10.0.0.2", now).is_ok(),
            "another address is not locked"
        );
        assert!(check("tech1", "10.0.0.1", now + TimeDelta::seconds(2)).is_ok());
        for _ in 0..40 {
            fail("tech1", "10.0.0.1");
        }
        assert_eq!(check("tech1", "10.0.0.1", now), Err(15 * 60), "capped");
        assert!(
            check("tech1", "10.0.0.1", now + p.forget_after).is_ok(),
            "forgotten"
        );
        succeed(&s, "tech1", Some("10.0.0.1")).expect("succeed");
        assert!(
            check("tech1", "10.0.0.1", now).is_err(),
            "a success clears the account, not the address's count"
        );
        let stored: Vec<String> = s.with_connection(|c| {
            c.prepare("SELECT key FROM login_failures")
                .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
                .expect("keys")
        });
        assert_eq!(stored.len(), 1, "the address's count stays: {stored:?}");
        assert!(
            stored
                .iter()
                .all(|k| !k.contains("tech1") && !k.contains("10.0.0.1")),
            "names and addresses are stored hashed: {stored:?}"
        );
    }

    #[test]
    fn the_hashing_queue_is_bounded() {
        let (g, p) = (
            LoginGuard::default(),
            Throttle {
                argon2_queue: 2,
                ..Throttle::default()
            },
        );
        let a = g.enter_hashing(&p).expect("first");
        let b = g.enter_hashing(&p).expect("second");
        assert!(g.enter_hashing(&p).is_none(), "full");
        drop(a);
        assert!(g.enter_hashing(&p).is_some(), "a place freed up");
        drop(b);
    }
}
