//! Failed sign-ins counted in the database (`login_failures`; [`crate::throttle`]). One writer,
//! so each failure's count and lock are one `IMMEDIATE` transaction.

use super::{SqliteStore, parse_ts, ts};
use crate::store::StoreResult;
use crate::throttle::LoginThrottleStore;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params, params_from_iter};

/// `?1, ?2, …` for `n` keys.
fn placeholders(n: usize, from: usize) -> String {
    (from..from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl LoginThrottleStore for SqliteStore {
    fn count_login_failure(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
        lock: &dyn Fn(usize, u32) -> Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (i, key) in keys.iter().enumerate() {
            let failures: i64 = tx.query_row(
                "INSERT INTO login_failures (key, failures, last_failure) VALUES (?1, 1, ?2)
                 ON CONFLICT(key) DO UPDATE SET
                     failures = CASE WHEN last_failure < ?3 THEN 1 ELSE failures + 1 END,
                     locked_until = CASE WHEN last_failure < ?3 THEN NULL ELSE locked_until END,
                     last_failure = MAX(last_failure, excluded.last_failure)
                 RETURNING failures",
                params![key, ts(now), ts(forget_before)],
                |r| r.get(0),
            )?;
            if let Some(until) = lock(i, u32::try_from(failures).unwrap_or(u32::MAX)) {
                tx.execute(
                    "UPDATE login_failures SET locked_until = ?2
                     WHERE key = ?1 AND (locked_until IS NULL OR locked_until < ?2)",
                    params![key, ts(until)],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn login_locked_until(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let sql = format!(
            "SELECT MAX(locked_until) FROM login_failures
             WHERE last_failure >= ?1 AND locked_until > ?2 AND key IN ({})",
            placeholders(keys.len(), 3)
        );
        let mut values = vec![ts(forget_before), ts(now)];
        values.extend(keys.iter().cloned());
        let until: Option<String> = self
            .reader()
            .query_row(&sql, params_from_iter(values), |r| r.get(0))
            .optional()?
            .flatten();
        until.as_deref().map(parse_ts).transpose()
    }

    fn clear_login_failures(&self, keys: &[String]) -> StoreResult<()> {
        let sql = format!(
            "DELETE FROM login_failures WHERE key IN ({})",
            placeholders(keys.len(), 1)
        );
        self.conn().execute(&sql, params_from_iter(keys))?;
        Ok(())
    }

    fn prune_login_failures(&self, forget_before: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let gone = self.conn().execute(
            "DELETE FROM login_failures WHERE key IN (
                 SELECT key FROM login_failures WHERE last_failure < ?1 LIMIT ?2)",
            params![ts(forget_before), limit],
        )?;
        Ok(gone as u64)
    }
}
