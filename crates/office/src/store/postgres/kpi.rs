//! The KPI engine's tables (`job_facts`, `job_violations`, `kpi_targets`, and each event's
//! `offset_ms`), kept inside the transactions that change what they fold, as `sqlite/kpi.rs` (main
//! at 74e126b) does: a push ([`settle_push`], from the ledger), a dispatch change ([`refresh_job`]
//! from `jobs::save_job`), a clock-jump report ([`resettle_device`]), and on demand ([`backfill`]).
//!
//! SQLite has one writer; here two offices may push events of one job at once, so [`refresh_job`]
//! locks the job's row first (`FOR UPDATE`): the second fold waits for the first commit and then
//! reads every event of the job (each statement of a READ COMMITTED transaction sees what was
//! committed before it began). Several jobs are refreshed in job-id order.

use super::PgStore;
use super::jobs::load_job;
use super::ledger::select_events;
use crate::kpi::conformance::{self, Violation};
use crate::kpi::facts::{self, KpiFacts};
use crate::kpi::time::{self, Jump, Stamp};
use crate::kpi::{parse_resolution, resolution_str};
use crate::ledger::Settle;
use crate::store::convert::{parse_ts, parse_uuid, ts};
use crate::store::{KpiStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{Event, JobKind};
use postgres::GenericClient;
use postgres::types::ToSql;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use uuid::Uuid;

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v)
        .ok_or_else(|| StoreError::Corrupt(format!("{v} is not a time in milliseconds")))
}

/// Re-check and re-fold one job into its `job_facts` row and its `job_violations`, under the job
/// row's lock (held to the caller's commit).
pub(super) fn refresh_job(c: &mut impl GenericClient, job_id: Uuid) -> StoreResult<()> {
    let id = job_id.to_string();
    if c.query_opt("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", &[&id])?
        .is_none()
    {
        return Ok(());
    }
    let Some(rec) = load_job(c, job_id)? else {
        return Ok(());
    };
    let events = select_events(c, "WHERE e.job_id = $1 ORDER BY e.rowid", &[&id])?;
    let violations = conformance::check(&rec.job, &events);
    let f = facts::facts(&rec, &events, violations.is_empty());
    c.execute(
        "INSERT INTO job_facts (job_id, kind, title, person, anchor_at, reported_at,
             window_start, window_end, arrived_at, resolution, closed_at, rating, cancelled, counted,
             conforming)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (job_id) DO UPDATE SET kind = EXCLUDED.kind, title = EXCLUDED.title,
             person = EXCLUDED.person, anchor_at = EXCLUDED.anchor_at,
             reported_at = EXCLUDED.reported_at, window_start = EXCLUDED.window_start,
             window_end = EXCLUDED.window_end, arrived_at = EXCLUDED.arrived_at,
             resolution = EXCLUDED.resolution, closed_at = EXCLUDED.closed_at,
             rating = EXCLUDED.rating, cancelled = EXCLUDED.cancelled,
             counted = EXCLUDED.counted, conforming = EXCLUDED.conforming",
        &[
            &id,
            &f.kind.as_str(),
            &f.title,
            &f.person.map(|p| p.to_string()),
            &ms(f.anchor_at),
            &f.reported_at.map(ms),
            &f.window_start.map(ms),
            &f.window_end.map(ms),
            &f.arrived_at.map(ms),
            &f.resolution.map(resolution_str),
            &f.closed_at.map(ms),
            &f.rating.map(i64::from),
            &i64::from(f.cancelled),
            &i64::from(f.counted),
            &i64::from(f.conforming),
        ],
    )?;
    c.execute("DELETE FROM job_violations WHERE job_id = $1", &[&id])?;
    for v in &violations {
        c.execute(
            "INSERT INTO job_violations (job_id, event_id, device_id, device_seq, kind, code,
                 message_zh, message_en) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT DO NOTHING",
            &[
                &id,
                &v.event_id.to_string(),
                &v.device_id.to_string(),
                &(v.device_seq as i64),
                &v.kind,
                &v.code,
                &v.message_zh,
                &v.message_en,
            ],
        )?;
    }
    Ok(())
}

fn device_jumps(c: &mut impl GenericClient, device_id: Uuid) -> StoreResult<Vec<Jump>> {
    c.query(
        "SELECT wall_before, wall_after, jump_ms FROM device_clock_jumps WHERE device_id = $1",
        &[&device_id.to_string()],
    )?
    .iter()
    .map(|r| {
        Ok(Jump {
            wall_before: parse_ts(&r.try_get::<_, String>(0)?)?,
            wall_after: parse_ts(&r.try_get::<_, String>(1)?)?,
            jump_ms: r.try_get(2)?,
        })
    })
    .collect()
}

/// One push's events of a device: (seq, stamp, job, accepted), in device order.
type Batch = Vec<(i64, Stamp, String, bool)>;

/// The device's events matching `filter` (`$1` is the device id).
fn batch(
    c: &mut impl GenericClient,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Batch> {
    c.query(
        &format!(
            "SELECT device_seq, body, job_id, status FROM events WHERE device_id = $1 AND {filter}
             ORDER BY device_seq"
        ),
        params,
    )?
    .iter()
    .map(|r| {
        let seq: i64 = r.try_get(0)?;
        let e: Event = serde_json::from_str(&r.try_get::<_, String>(1)?)
            .map_err(|e| StoreError::Corrupt(format!("stored event {seq}: {e}")))?;
        Ok((
            seq,
            Stamp {
                wall: e.unsigned.recorded_at,
                elapsed_ms: e.unsigned.elapsed_ms,
            },
            r.try_get(2)?,
            r.try_get::<_, String>(3)? == "accepted",
        ))
    })
    .collect()
}

/// Fix the offsets of `batch` (one push) from `push_offset` and the device's jumps; the jobs of
/// its accepted events whose offsets changed (all of them when `all_jobs`).
fn settle(
    c: &mut impl GenericClient,
    device_id: Uuid,
    batch: &Batch,
    push_offset: i64,
    jumps: &[Jump],
    all_jobs: bool,
) -> StoreResult<BTreeSet<String>> {
    let stamps: Vec<Stamp> = batch.iter().map(|b| b.1).collect();
    let offsets = time::offsets(&stamps, push_offset, jumps);
    let dev = device_id.to_string();
    let seqs: Vec<i64> = batch.iter().map(|b| b.0).collect();
    // One statement for the whole push: the rows whose offset changed come back.
    let changed: HashSet<i64> = c
        .query(
            "UPDATE events e SET offset_ms = t.o, push_offset_ms = $2
             FROM UNNEST($3::BIGINT[], $4::BIGINT[]) AS t(s, o)
             WHERE e.device_id = $1 AND e.device_seq = t.s AND e.offset_ms IS DISTINCT FROM t.o
             RETURNING e.device_seq",
            &[&dev, &push_offset, &seqs, &offsets],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(batch
        .iter()
        .filter(|(seq, _, _, accepted)| *accepted && (all_jobs || changed.contains(seq)))
        .map(|b| b.2.clone())
        .collect())
}

/// Refresh `jobs` in id order (the order every writer locks them in).
fn refresh_all(c: &mut impl GenericClient, jobs: &BTreeSet<String>) -> StoreResult<()> {
    for j in jobs {
        if let Ok(id) = Uuid::parse_str(j) {
            refresh_job(c, id)?;
        }
    }
    Ok(())
}

/// The push hook: the events this push stored (`stored`, from memory: nothing is read back) get
/// their offsets (the device's offset at this push is the one the request extractor stored), and
/// the jobs they touched are re-checked and re-folded.
pub(super) fn settle_push(
    c: &mut impl GenericClient,
    device_id: Uuid,
    stored: &[Settle],
) -> StoreResult<()> {
    if stored.is_empty() {
        return Ok(());
    }
    let dev = device_id.to_string();
    let anchor: Option<i64> = c
        .query_opt("SELECT clock_offset_ms FROM devices WHERE id = $1", &[&dev])?
        .map(|r| r.try_get(0))
        .transpose()?
        .flatten();
    let b: Batch = stored.iter().map(Settle::row).collect();
    let jobs = match anchor {
        Some(o) => {
            let jumps = device_jumps(c, device_id)?;
            settle(c, device_id, &b, o, &jumps, true)?
        }
        // A device that never sent its clock: the stored offset (none) stays the fallback.
        None => b.iter().filter(|x| x.3).map(|x| x.2.clone()).collect(),
    };
    refresh_all(c, &jobs)
}

/// After `device_id` reported clock jumps: its pushes received since `since` are settled again
/// with every jump it reported, and the jobs whose times moved are re-folded; returns those jobs
/// (their feedback records are written again after the commit).
pub(super) fn resettle_device(
    c: &mut impl GenericClient,
    device_id: Uuid,
    since: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let jumps = device_jumps(c, device_id)?;
    let dev = device_id.to_string();
    let pushes = c.query(
        "SELECT DISTINCT received_at, push_offset_ms FROM events
         WHERE device_id = $1 AND received_at >= $2 AND push_offset_ms IS NOT NULL",
        &[&dev, &ts(since)],
    )?;
    let mut jobs = BTreeSet::new();
    for p in &pushes {
        let received: String = p.try_get(0)?;
        let anchor: i64 = p.try_get(1)?;
        let b = batch(
            c,
            "received_at = $2 AND push_offset_ms = $3",
            &[&dev, &received, &anchor],
        )?;
        jobs.extend(settle(c, device_id, &b, anchor, &jumps, false)?);
    }
    refresh_all(c, &jobs)?;
    Ok(jobs
        .iter()
        .filter_map(|j| Uuid::parse_str(j).ok())
        .collect())
}

/// Fold every job without facts, or every job, in the caller's transaction: how many.
pub(super) fn backfill(c: &mut impl GenericClient, only_missing: bool) -> StoreResult<u64> {
    let ids: BTreeSet<String> = c
        .query(
            if only_missing {
                "SELECT id FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM job_facts f WHERE f.job_id = j.id)"
            } else {
                "SELECT id FROM jobs"
            },
            &[],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    refresh_all(c, &ids)?;
    Ok(ids.len() as u64)
}

fn fact(r: &postgres::Row) -> StoreResult<KpiFacts> {
    let t = |i: usize| -> StoreResult<Option<DateTime<Utc>>> {
        r.try_get::<_, Option<i64>>(i)?.map(from_ms).transpose()
    };
    let flag = |i: usize| r.try_get::<_, i64>(i).map(|v| v != 0);
    let kind: String = r.try_get(1)?;
    let person: Option<String> = r.try_get(3)?;
    let resolution: Option<String> = r.try_get(9)?;
    Ok(KpiFacts {
        job_id: parse_uuid(&r.try_get::<_, String>(0)?)?,
        kind: JobKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| StoreError::Corrupt(format!("job kind {kind}")))?,
        title: r.try_get(2)?,
        person: person.as_deref().map(parse_uuid).transpose()?,
        anchor_at: from_ms(r.try_get(4)?)?,
        reported_at: t(5)?,
        window_start: t(6)?,
        window_end: t(7)?,
        arrived_at: t(8)?,
        resolution: resolution.as_deref().and_then(parse_resolution),
        closed_at: t(10)?,
        rating: r
            .try_get::<_, Option<i64>>(11)?
            .and_then(|v| u8::try_from(v).ok()),
        cancelled: flag(12)?,
        counted: flag(13)?,
        conforming: flag(14)?,
    })
}

impl KpiStore for PgStore {
    fn each_kpi_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(&KpiFacts) -> bool,
    ) -> StoreResult<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut conn = self.conn()?;
        // Rows arrive as the server sends them (`query_raw`): a month is folded without holding it.
        let (from, to) = (ms(from), ms(to));
        let mut rows = conn.query_raw(
            "SELECT job_id, kind, title, person, anchor_at, reported_at, window_start,
                 window_end, arrived_at, resolution, closed_at, rating, cancelled, counted,
                 conforming
             FROM job_facts WHERE anchor_at >= $1 AND anchor_at < $2
             ORDER BY anchor_at, job_id",
            [&from as &(dyn postgres::types::ToSql + Sync), &to],
        )?;
        while let Some(row) = rows.next()? {
            if !f(&fact(&row)?) {
                break;
            }
        }
        Ok(())
    }

    fn job_violations(&self, job_id: Uuid) -> StoreResult<Vec<Violation>> {
        self.conn()?
            .query(
                "SELECT event_id, device_id, device_seq, kind, code, message_zh, message_en
                 FROM job_violations WHERE job_id = $1 ORDER BY n",
                &[&job_id.to_string()],
            )?
            .iter()
            .map(|r| {
                Ok(Violation {
                    event_id: parse_uuid(&r.try_get::<_, String>(0)?)?,
                    device_id: parse_uuid(&r.try_get::<_, String>(1)?)?,
                    device_seq: r.try_get::<_, i64>(2)? as u64,
                    kind: r.try_get(3)?,
                    code: r.try_get(4)?,
                    message_zh: r.try_get(5)?,
                    message_en: r.try_get(6)?,
                })
            })
            .collect()
    }

    fn non_conforming(&self, job_ids: &[Uuid]) -> StoreResult<HashSet<Uuid>> {
        let ids: Vec<String> = job_ids.iter().map(Uuid::to_string).collect();
        self.conn()?
            .query(
                "SELECT DISTINCT job_id FROM job_violations WHERE job_id = ANY($1)",
                &[&ids],
            )?
            .iter()
            .map(|r| parse_uuid(&r.try_get::<_, String>(0)?))
            .collect()
    }

    fn kpi_targets(&self) -> StoreResult<BTreeMap<String, f64>> {
        self.conn()?
            .query("SELECT key, target FROM kpi_targets", &[])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    fn set_kpi_target(
        &self,
        key: &str,
        target: Option<f64>,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        match target {
            Some(t) => conn.execute(
                "INSERT INTO kpi_targets (key, target, updated_at, updated_by) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO UPDATE SET target = $2, updated_at = $3, updated_by = $4",
                &[&key, &t, &ts(now), &by.to_string()],
            )?,
            None => conn.execute("DELETE FROM kpi_targets WHERE key = $1", &[&key])?,
        };
        Ok(())
    }

    fn refresh_kpi_facts(&self, only_missing: bool) -> StoreResult<u64> {
        self.write(|tx| {
            let n = backfill(tx, only_missing)?;
            Ok(n)
        })
    }
}
