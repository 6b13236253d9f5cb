//! Failed sign-ins counted in the database (`login_failures`; [`crate::throttle`]), shared by
//! every office process on it; as `sqlite/throttle.rs`. Each failure's counts and locks are one
//! transaction; its keys are taken in one order so that two processes counting the same keys at
//! once wait for each other instead of deadlocking, and each sees the other's count (the upsert
//! locks the row until commit).

use super::PgStore;
use crate::store::StoreResult;
use crate::store::convert::{parse_ts, ts};
use crate::throttle::LoginThrottleStore;
use chrono::{DateTime, Utc};

impl LoginThrottleStore for PgStore {
    fn count_login_failure(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
        lock: &dyn Fn(usize, u32) -> Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        self.write(|tx| {
            for &i in &order {
                let failures: i64 = tx
                    .query_one(
                        "INSERT INTO login_failures AS f (key, failures, last_failure)
                         VALUES ($1, 1, $2)
                         ON CONFLICT (key) DO UPDATE SET
                             failures = CASE WHEN f.last_failure < $3 THEN 1
                                             ELSE f.failures + 1 END,
                             locked_until = CASE WHEN f.last_failure < $3 THEN NULL
                                                 ELSE f.locked_until END,
                             last_failure = GREATEST(f.last_failure, excluded.last_failure)
                         RETURNING failures",
                        &[&keys[i], &ts(now), &ts(forget_before)],
                    )?
                    .try_get(0)?;
                if let Some(until) = lock(i, u32::try_from(failures).unwrap_or(u32::MAX)) {
                    tx.execute(
                        "UPDATE login_failures SET locked_until = $2
                         WHERE key = $1 AND (locked_until IS NULL OR locked_until < $2)",
                        &[&keys[i], &ts(until)],
                    )?;
                }
            }
            Ok(())
        })
    }

    fn login_locked_until(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let until: Option<String> = self
            .conn()?
            .query_one(
                "SELECT MAX(locked_until) FROM login_failures
                 WHERE last_failure >= $1 AND locked_until > $2 AND key = ANY($3)",
                &[&ts(forget_before), &ts(now), &keys],
            )?
            .try_get(0)?;
        until.as_deref().map(parse_ts).transpose()
    }

    fn clear_login_failures(&self, keys: &[String]) -> StoreResult<()> {
        self.conn()?
            .execute("DELETE FROM login_failures WHERE key = ANY($1)", &[&keys])?;
        Ok(())
    }

    fn prune_login_failures(&self, forget_before: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        // Rows another process holds are left for the next prune: no waiting, no deadlock.
        Ok(self.conn()?.execute(
            "DELETE FROM login_failures WHERE key IN (
                 SELECT key FROM login_failures WHERE last_failure < $1
                 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&ts(forget_before), &i64::from(limit)],
        )?)
    }
}
