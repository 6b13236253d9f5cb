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
//! Also the bound on password hashing: at most [`Throttle::argon2_queue`] sign-ins wait for or run
//! argon2 at once; beyond that a sign-in is answered 429 at once (`login_busy`) instead of
//! queueing behind a flood. The table lives in memory: a restart forgets it, and several office
//! processes on one database each keep their own, so behind N processes a guesser gets at most
//! N × the free failures before delays start (docs/storage.md, "Login throttling is per process").

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, String),
    Address(String),
    Account(String),
}

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    locked_until: DateTime<Utc>,
    last_failure: DateTime<Utc>,
}

/// The live table and the hashing queue of one office.
#[derive(Debug, Default)]
pub struct LoginGuard {
    counts: Mutex<HashMap<Key, Count>>,
    hashing: AtomicUsize,
}

/// Entries kept at most; past that, forgotten ones are pruned (and, under a flood of made-up
/// usernames, the oldest).
const MAX_ENTRIES: usize = 100_000;

/// A place in the hashing queue; leaves it when dropped.
#[derive(Debug)]
pub struct HashingPermit<'a>(&'a AtomicUsize);

impl Drop for HashingPermit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn keys(username: &str, address: Option<&str>) -> Vec<Key> {
    let account = username.trim().to_lowercase();
    let mut keys = vec![
        Key::Pair(account.clone(), address.unwrap_or("").to_owned()),
        Key::Account(account),
    ];
    if let Some(a) = address {
        keys.push(Key::Address(a.to_owned()));
    }
    keys
}

impl LoginGuard {
    fn free(policy: &Throttle, key: &Key) -> u32 {
        match key {
            Key::Pair(..) => policy.pair_free,
            Key::Address(_) => policy.address_free,
            Key::Account(_) => policy.account_free,
        }
    }

    /// `Err(seconds)` while any of the sign-in's keys is locked.
    pub fn check(
        &self,
        policy: &Throttle,
        username: &str,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), u64> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = TimeDelta::zero();
        for key in keys(username, address) {
            let Some(c) = counts.get(&key).copied() else {
                continue;
            };
            if c.last_failure + policy.forget_after <= now {
                counts.remove(&key);
            } else if c.locked_until > now {
                wait = wait.max(c.locked_until - now);
            }
        }
        if wait > TimeDelta::zero() {
            // Whole seconds, rounded up: a client that waits that long is let through.
            let ms = wait.num_milliseconds();
            Err(((ms + 999) / 1000) as u64)
        } else {
            Ok(())
        }
    }

    /// Count a failed sign-in against each of its keys.
    pub fn fail(
        &self,
        policy: &Throttle,
        username: &str,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= MAX_ENTRIES {
            counts.retain(|_, c| c.last_failure + policy.forget_after > now);
            if counts.len() >= MAX_ENTRIES {
                // A flood of made-up names: keep the locked keys, drop the rest.
                counts.retain(|_, c| c.locked_until > now);
            }
        }
        for key in keys(username, address) {
            let free = Self::free(policy, &key);
            let c = counts.entry(key).or_insert(Count {
                failures: 0,
                locked_until: now,
                last_failure: now,
            });
            if c.last_failure + policy.forget_after <= now {
                c.failures = 0;
            }
            c.failures = c.failures.saturating_add(1);
            c.last_failure = now;
            if c.failures > free {
                let doublings = (c.failures - free - 1).min(30);
                let lock = policy
                    .first_lock
                    .checked_mul(1 << doublings)
                    .unwrap_or(policy.max_lock)
                    .min(policy.max_lock);
                c.locked_until = now + lock;
            }
        }
    }

    /// A successful sign-in: its account's counts (alone and from this address) are cleared.
    pub fn succeed(&self, username: &str, address: Option<&str>) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys(username, address) {
            if !matches!(key, Key::Address(_)) {
                counts.remove(&key);
            }
        }
    }

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

    #[test]
    fn delays_grow_after_the_free_failures_and_end() {
        let (g, p) = (LoginGuard::default(), Throttle::default());
        let now = Utc::now();
        for _ in 0..p.pair_free {
            assert!(g.check(&p, "tech1", Some("10.0.0.1"), now).is_ok());
            g.fail(&p, "tech1", Some("10.0.0.1"), now);
        }
        assert!(
            g.check(&p, "tech1", Some("10.0.0.1"), now).is_ok(),
            "the free failures lock nothing"
        );
        g.fail(&p, "tech1", Some("10.0.0.1"), now);
        assert_eq!(g.check(&p, "tech1", Some("10.0.0.1"), now), Err(1));
        g.fail(&p, "tech1", Some("10.0.0.1"), now);
        assert_eq!(
            g.check(&p, "TECH1", Some("10.0.0.1"), now),
            Err(2),
            "doubles; names fold case"
        );
        assert!(
            g.check(&p, "tech1", Some("10.0.0.2"), now).is_ok(),
            "another address is not locked"
        );
        assert!(
            g.check(&p, "tech1", Some("10.0.0.1"), now + TimeDelta::seconds(2))
                .is_ok()
        );
        for _ in 0..40 {
            g.fail(&p, "tech1", Some("10.0.0.1"), now);
        }
        assert_eq!(
            g.check(&p, "tech1", Some("10.0.0.1"), now),
            Err(15 * 60),
            "capped"
        );
        assert!(
            g.check(&p, "tech1", Some("10.0.0.1"), now + p.forget_after)
                .is_ok(),
            "forgotten"
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
