//! Jumps of a device's wall clock that the device itself saw (its monotonic clock disagreed with
//! its wall clock; heatcrew-core `clock`), as its sync reports them: kept once per jump id, read
//! back per device for the office's device page; as `sqlite/clock_jumps.rs`.

use super::PgStore;
use crate::store::StoreResult;
use crate::store::convert::{parse_ts, parse_uuid, ts};
use chrono::{DateTime, Utc};
use heatcrew_protocol::sync::ClockJumpRecord;
use uuid::Uuid;

pub(super) fn record(
    store: &PgStore,
    device_id: Uuid,
    user_id: Uuid,
    jumps: &[ClockJumpRecord],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let (held, resettled) = store.write(|tx| {
        let mut held = Vec::with_capacity(jumps.len());
        for j in jumps {
            tx.execute(
                "INSERT INTO device_clock_jumps
                     (id, device_id, user_id, wall_before, wall_after, jump_ms, rebooted, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                &[
                    &j.id.to_string(),
                    &device_id.to_string(),
                    &user_id.to_string(),
                    &ts(j.wall_before),
                    &ts(j.wall_after),
                    &j.jump_ms,
                    &(j.rebooted as i64),
                    &ts(now),
                ],
            )?;
            // Whoever stored the id first (this device before, or another one) keeps it. A separate
            // statement: it sees a row another process committed while the insert waited on it.
            let owner: String = tx
                .query_one(
                    "SELECT device_id FROM device_clock_jumps WHERE id = $1",
                    &[&j.id.to_string()],
                )?
                .try_get(0)?;
            if owner == device_id.to_string() {
                held.push(j.id);
            }
        }
        // Events recorded before a jump and pushed after it take the jump into their times (issue 13).
        let mut resettled = Vec::new();
        if let Some(since) = jumps.iter().map(|j| j.wall_before.min(j.wall_after)).min() {
            let since = since - chrono::Duration::days(1);
            resettled = super::kpi::resettle_device(tx, device_id, since)?;
        }
        Ok((held, resettled))
    })?;
    // Their feedback records (信息反馈) were written with the times as settled at the push: write
    // them again with the corrected times, as `sqlite/clock_jumps.rs` does. The jumps are kept
    // either way; a failure here is logged and the records are written again on the job's next
    // event.
    if !resettled.is_empty()
        && let Err(e) = crate::feedback::refresh(store, resettled, now)
    {
        tracing::warn!(device = %device_id, "feedback records not refreshed after clock jumps: {e}");
    }
    Ok(held)
}

pub(super) fn list(
    store: &PgStore,
    device_id: Uuid,
    limit: u32,
) -> StoreResult<Vec<ClockJumpRecord>> {
    store
        .conn()?
        .query(
            r#"SELECT id, wall_before, wall_after, jump_ms, rebooted FROM device_clock_jumps
               WHERE device_id = $1 ORDER BY wall_after COLLATE "C" DESC, id COLLATE "C" DESC LIMIT $2"#,
            &[&device_id.to_string(), &i64::from(limit)],
        )?
        .iter()
        .map(|r| {
            Ok(ClockJumpRecord {
                id: parse_uuid(r.try_get(0)?)?,
                wall_before: parse_ts(r.try_get(1)?)?,
                wall_after: parse_ts(r.try_get(2)?)?,
                jump_ms: r.try_get(3)?,
                rebooted: r.try_get::<_, i64>(4)? != 0,
            })
        })
        .collect()
}
