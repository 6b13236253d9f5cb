//! Jumps of a device's wall clock that the device itself saw (its monotonic clock disagreed with
//! its wall clock; heatcrew-core `clock`), as its sync reports them: kept once per jump id, read
//! back per device for the office's device page.

use super::{SqliteStore, parse_ts, parse_uuid, select, ts};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use heatcrew_protocol::sync::ClockJumpRecord;
use rusqlite::params;
use uuid::Uuid;

pub(super) fn record(
    store: &SqliteStore,
    device_id: Uuid,
    user_id: Uuid,
    jumps: &[ClockJumpRecord],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let mut held = Vec::with_capacity(jumps.len());
    for j in jumps {
        tx.execute(
            "INSERT INTO device_clock_jumps
                 (id, device_id, user_id, wall_before, wall_after, jump_ms, rebooted, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO NOTHING",
            params![
                j.id.to_string(),
                device_id.to_string(),
                user_id.to_string(),
                ts(j.wall_before),
                ts(j.wall_after),
                j.jump_ms,
                j.rebooted,
                ts(now)
            ],
        )?;
        let owner: String = tx.query_row(
            "SELECT device_id FROM device_clock_jumps WHERE id = ?1",
            [j.id.to_string()],
            |r| r.get(0),
        )?;
        if owner == device_id.to_string() {
            held.push(j.id);
        }
    }
    // Events recorded before a jump and pushed after it take the jump into their times (issue 13).
    let mut resettled = Vec::new();
    if let Some(since) = jumps.iter().map(|j| j.wall_before.min(j.wall_after)).min() {
        let since = since - chrono::Duration::days(1);
        resettled = super::kpi::resettle_device(&tx, device_id, since)?;
    }
    tx.commit()?;
    drop(conn);
    // Their feedback records (信息反馈) were written with the times as settled at the push: write
    // them again with the corrected times. The jumps are kept either way; a failure here is logged
    // and the records are written again on the job's next event.
    if !resettled.is_empty()
        && let Err(e) = crate::feedback::refresh(store, resettled, now)
    {
        tracing::warn!(device = %device_id, "feedback records not refreshed after clock jumps: {e}");
    }
    Ok(held)
}

pub(super) fn list(
    store: &SqliteStore,
    device_id: Uuid,
    limit: u32,
) -> StoreResult<Vec<ClockJumpRecord>> {
    select(
        &store.reader(),
        "SELECT id, wall_before, wall_after, jump_ms, rebooted FROM device_clock_jumps
         WHERE device_id = ?1 ORDER BY wall_after DESC, id DESC LIMIT ?2",
        params![device_id.to_string(), limit],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        },
        |(id, before, after, jump_ms, rebooted)| {
            Ok(ClockJumpRecord {
                id: parse_uuid(&id)?,
                wall_before: parse_ts(&before)?,
                wall_after: parse_ts(&after)?,
                jump_ms,
                rebooted,
            })
        },
    )
}
