//! The KPI engine's tables (`job_facts`, `job_violations`, `kpi_targets`, and each event's
//! `offset_ms`), kept inside the transactions that change what they fold: a push
//! ([`settle_push`]), a dispatch change ([`refresh_job`] from `jobs::save_job`), a clock-jump report
//! ([`resettle_device`]); and filled on start for jobs stored before migration 13 ([`backfill`]).

use super::jobs::load_job;
use super::ledger::select_events;
use super::{SqliteStore, parse_ts, parse_uuid, select, ts};
use crate::kpi::conformance::{self, Violation};
use crate::kpi::facts::{self, KpiFacts};
use crate::kpi::time::{self, Jump, Stamp};
use crate::kpi::{parse_resolution, resolution_str};
use crate::ledger::Settle;
use crate::store::{KpiStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{Event, JobKind};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use uuid::Uuid;

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v)
        .ok_or_else(|| StoreError::Corrupt(format!("{v} is not a time in milliseconds")))
}

/// Re-check and re-fold one job into its `job_facts` row and its `job_violations`.
pub(super) fn refresh_job(conn: &Connection, job_id: Uuid) -> StoreResult<()> {
    let Some(rec) = load_job(conn, job_id)? else {
        return Ok(());
    };
    let events = select_events(
        conn,
        "WHERE e.job_id = ?1 ORDER BY e.rowid",
        [job_id.to_string()],
    )?;
    let violations = conformance::check(&rec.job, &events);
    let f = facts::facts(&rec, &events, violations.is_empty());
    let id = job_id.to_string();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO job_facts (job_id, kind, title, person, anchor_at, reported_at,
             window_start, window_end, arrived_at, resolution, closed_at, rating, cancelled, counted,
             conforming)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        id,
        f.kind.as_str(),
        f.title,
        f.person.map(|p| p.to_string()),
        ms(f.anchor_at),
        f.reported_at.map(ms),
        f.window_start.map(ms),
        f.window_end.map(ms),
        f.arrived_at.map(ms),
        f.resolution.map(resolution_str),
        f.closed_at.map(ms),
        f.rating,
        f.cancelled,
        f.counted,
        f.conforming,
    ])?;
    conn.prepare_cached("DELETE FROM job_violations WHERE job_id = ?1")?
        .execute([&id])?;
    for v in &violations {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO job_violations (job_id, event_id, device_id, device_seq, kind, code,
                 message_zh, message_en) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            id,
            v.event_id.to_string(),
            v.device_id.to_string(),
            v.device_seq as i64,
            v.kind,
            v.code,
            v.message_zh,
            v.message_en
        ])?;
    }
    Ok(())
}

fn device_jumps(conn: &Connection, device_id: Uuid) -> StoreResult<Vec<Jump>> {
    select(
        conn,
        "SELECT wall_before, wall_after, jump_ms FROM device_clock_jumps WHERE device_id = ?1",
        [device_id.to_string()],
        |r| <(String, String, i64)>::try_from(r),
        |(b, a, j)| {
            Ok(Jump {
                wall_before: parse_ts(&b)?,
                wall_after: parse_ts(&a)?,
                jump_ms: j,
            })
        },
    )
}

/// One push's events of a device: (seq, stamp, job, accepted), in device order.
type Batch = Vec<(i64, Stamp, String, bool)>;

fn batch(conn: &Connection, filter: &str, p: impl rusqlite::Params) -> StoreResult<Batch> {
    select(
        conn,
        &format!(
            "SELECT device_seq, body, job_id, status FROM events WHERE device_id = ?1 AND {filter}
             ORDER BY device_seq"
        ),
        p,
        |r| <(i64, String, String, String)>::try_from(r),
        |(seq, body, job, status)| {
            let e: Event = serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("stored event {seq}: {e}")))?;
            Ok((
                seq,
                Stamp {
                    wall: e.unsigned.recorded_at,
                    elapsed_ms: e.unsigned.elapsed_ms,
                },
                job,
                status == "accepted",
            ))
        },
    )
}

/// Fix the offsets of `batch` (one push) from `push_offset` and the device's jumps; the jobs of
/// its accepted events whose offsets changed (all of them when `all_jobs`).
fn settle(
    conn: &Connection,
    device_id: Uuid,
    batch: &Batch,
    push_offset: i64,
    jumps: &[Jump],
    all_jobs: bool,
) -> StoreResult<BTreeSet<String>> {
    let stamps: Vec<Stamp> = batch.iter().map(|b| b.1).collect();
    let offsets = time::offsets(&stamps, push_offset, jumps);
    let dev = device_id.to_string();
    let mut jobs = BTreeSet::new();
    for ((seq, _, job, accepted), off) in batch.iter().zip(offsets) {
        let n = conn
            .prepare_cached(
                "UPDATE events SET offset_ms = ?3, push_offset_ms = ?4
                 WHERE device_id = ?1 AND device_seq = ?2 AND offset_ms IS NOT ?3",
            )?
            .execute(params![dev, seq, off, push_offset])?;
        if *accepted && (n > 0 || all_jobs) {
            jobs.insert(job.clone());
        }
    }
    Ok(jobs)
}

fn refresh_all(conn: &Connection, jobs: &BTreeSet<String>) -> StoreResult<()> {
    for j in jobs {
        if let Ok(id) = Uuid::parse_str(j) {
            refresh_job(conn, id)?;
        }
    }
    Ok(())
}

/// The push hook: the events this push stored (`stored`, from memory: nothing is read back) get
/// their offsets (the device's offset at this push is the one the request extractor stored), and
/// the jobs they touched are re-checked and re-folded.
pub(super) fn settle_push(
    conn: &Connection,
    device_id: Uuid,
    stored: &[Settle],
) -> StoreResult<()> {
    if stored.is_empty() {
        return Ok(());
    }
    let anchor: Option<i64> = conn
        .prepare_cached("SELECT clock_offset_ms FROM devices WHERE id = ?1")?
        .query_row([device_id.to_string()], |r| r.get(0))
        .optional()?
        .flatten();
    let b: Batch = stored.iter().map(Settle::row).collect();
    let jobs = match anchor {
        Some(o) => settle(
            conn,
            device_id,
            &b,
            o,
            &device_jumps(conn, device_id)?,
            true,
        )?,
        // A device that never sent its clock: the stored offset (none) stays the fallback.
        None => b.iter().filter(|x| x.3).map(|x| x.2.clone()).collect(),
    };
    refresh_all(conn, &jobs)
}

/// After `device_id` reported clock jumps: its pushes received since `since` are settled again
/// with every jump it reported, and the jobs whose times moved are re-folded.
/// Re-settle the device's pushes received since `since` with its jumps as now known; returns the
/// jobs whose events' offsets changed (their feedback records are written again after the commit).
pub(super) fn resettle_device(
    conn: &Connection,
    device_id: Uuid,
    since: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let jumps = device_jumps(conn, device_id)?;
    let pushes: Vec<(String, i64)> = select(
        conn,
        "SELECT DISTINCT received_at, push_offset_ms FROM events
         WHERE device_id = ?1 AND received_at >= ?2 AND push_offset_ms IS NOT NULL",
        params![device_id.to_string(), ts(since)],
        |r| <(String, i64)>::try_from(r),
        Ok,
    )?;
    let mut jobs = BTreeSet::new();
    for (received, anchor) in pushes {
        let b = batch(
            conn,
            "received_at = ?2 AND push_offset_ms = ?3",
            params![device_id.to_string(), received, anchor],
        )?;
        jobs.extend(settle(conn, device_id, &b, anchor, &jumps, false)?);
    }
    refresh_all(conn, &jobs)?;
    Ok(jobs
        .iter()
        .filter_map(|j| Uuid::parse_str(j).ok())
        .collect())
}

/// Fold every job without facts (stored before migration 13), or every job: how many.
pub(super) fn backfill(conn: &mut Connection, only_missing: bool) -> StoreResult<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids: Vec<String> = select(
        &tx,
        if only_missing {
            "SELECT id FROM jobs WHERE id NOT IN (SELECT job_id FROM job_facts)"
        } else {
            "SELECT id FROM jobs"
        },
        [],
        |r| r.get::<_, String>(0),
        Ok,
    )?;
    let n = ids.len() as u64;
    refresh_all(&tx, &ids.into_iter().collect())?;
    tx.commit()?;
    Ok(n)
}

/// The columns [`read_fact`] reads, in its order.
const FACT_COLUMNS: &str = "job_id, kind, title, person, anchor_at, reported_at, window_start,
    window_end, arrived_at, resolution, closed_at, rating, cancelled, counted, conforming";

fn kind_of(s: &str) -> StoreResult<JobKind> {
    JobKind::ALL
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("job kind {s}")))
}

/// Read one `job_facts` row into `f` (its title's buffer reused: no allocation per row once the
/// longest title fits; the ids are parsed from the row's bytes without a copy).
fn read_fact(r: &rusqlite::Row<'_>, f: &mut KpiFacts) -> StoreResult<()> {
    fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> StoreResult<Option<&'r str>> {
        Ok(r.get_ref(i)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?)
    }
    let time = |i: usize| -> StoreResult<Option<DateTime<Utc>>> {
        r.get::<_, Option<i64>>(i)?.map(from_ms).transpose()
    };
    f.job_id = parse_uuid(text(r, 0)?.unwrap_or_default())?;
    f.kind = kind_of(text(r, 1)?.unwrap_or_default())?;
    f.title.clear();
    f.title.push_str(text(r, 2)?.unwrap_or_default());
    f.person = text(r, 3)?.map(parse_uuid).transpose()?;
    f.anchor_at = from_ms(r.get(4)?)?;
    f.reported_at = time(5)?;
    f.window_start = time(6)?;
    f.window_end = time(7)?;
    f.arrived_at = time(8)?;
    f.resolution = text(r, 9)?.and_then(parse_resolution);
    f.closed_at = time(10)?;
    f.rating = r.get(11)?;
    f.cancelled = r.get(12)?;
    f.counted = r.get(13)?;
    f.conforming = r.get(14)?;
    Ok(())
}

impl KpiStore for SqliteStore {
    fn each_kpi_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(&KpiFacts) -> bool,
    ) -> StoreResult<()> {
        let conn = self.reader();
        // The table is clustered on (anchor_at, job_id) (migration 19): one range of its leaves.
        let mut st = conn.prepare_cached(&format!(
            "SELECT {FACT_COLUMNS} FROM job_facts WHERE anchor_at >= ?1 AND anchor_at < ?2
             ORDER BY anchor_at, job_id"
        ))?;
        let mut rows = st.query(params![ms(from), ms(to)])?;
        let mut fact = KpiFacts {
            job_id: Uuid::nil(),
            kind: JobKind::HomeRepair,
            title: String::new(),
            person: None,
            anchor_at: DateTime::UNIX_EPOCH,
            reported_at: None,
            window_start: None,
            window_end: None,
            arrived_at: None,
            resolution: None,
            closed_at: None,
            rating: None,
            cancelled: false,
            counted: false,
            conforming: false,
        };
        while let Some(row) = rows.next()? {
            read_fact(row, &mut fact)?;
            if !f(&fact) {
                break;
            }
        }
        Ok(())
    }

    fn job_violations(&self, job_id: Uuid) -> StoreResult<Vec<Violation>> {
        select(
            &self.reader(),
            "SELECT event_id, device_id, device_seq, kind, code, message_zh, message_en
             FROM job_violations WHERE job_id = ?1 ORDER BY rowid",
            [job_id.to_string()],
            |r| <(String, String, i64, String, String, String, String)>::try_from(r),
            |(e, d, seq, kind, code, zh, en)| {
                Ok(Violation {
                    event_id: parse_uuid(&e)?,
                    device_id: parse_uuid(&d)?,
                    device_seq: seq as u64,
                    kind,
                    code,
                    message_zh: zh,
                    message_en: en,
                })
            },
        )
    }

    fn non_conforming(&self, job_ids: &[Uuid]) -> StoreResult<HashSet<Uuid>> {
        let conn = self.reader();
        let mut st =
            conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM job_violations WHERE job_id = ?1)")?;
        let mut out = HashSet::new();
        for id in job_ids {
            if st.query_row([id.to_string()], |r| r.get::<_, bool>(0))? {
                out.insert(*id);
            }
        }
        Ok(out)
    }

    fn kpi_targets(&self) -> StoreResult<BTreeMap<String, f64>> {
        Ok(select(
            &self.reader(),
            "SELECT key, target FROM kpi_targets",
            [],
            |r| <(String, f64)>::try_from(r),
            Ok,
        )?
        .into_iter()
        .collect())
    }

    fn set_kpi_target(
        &self,
        key: &str,
        target: Option<f64>,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let conn = self.conn();
        match target {
            Some(t) => conn.execute(
                "INSERT INTO kpi_targets (key, target, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(key) DO UPDATE SET target = ?2, updated_at = ?3, updated_by = ?4",
                params![key, t, ts(now), by.to_string()],
            )?,
            None => conn.execute("DELETE FROM kpi_targets WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    fn refresh_kpi_facts(&self, only_missing: bool) -> StoreResult<u64> {
        backfill(&mut self.conn(), only_missing)
    }
}

#[cfg(test)]
mod tests;
