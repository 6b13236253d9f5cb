//! The jobs' projections: each job's events folded into a [`JobProgress`] (a pure fold, so it can
//! be rebuilt from the event log at any time and give exactly the live value).
//!
//! Recording one action costs the same however much its job already holds:
//!
//! - **In memory** each job's fold is cached ([`Folds`]). Every use checks it against the event
//!   log (the job's newest `seq`, one lookup in the `events_job` index) and folds in whatever the
//!   log holds beyond it, so a cached fold is never older than the database. A transaction that
//!   does not commit evicts the folds it changed ([`Touched`]).
//! - **On disk** `job_progress` holds a checkpoint per job: the fold up to `last_seq`. The
//!   projection is the checkpoint plus the job's events after it, so each event is one row in
//!   `events` (in the same transaction as its outbox entry and chain tip) and the checkpoint is
//!   rewritten only when the events after it are at least as many as those in it, and at least
//!   [`MIN_TAIL`]: over a job's life every event is rewritten into a checkpoint about twice, and
//!   a visit's or a round's worth of actions never rewrites one. A database from before schema 8
//!   holds a checkpoint per job with no event after it, which reads the same.

use super::rows::{parse_time, parse_uuid};
use crate::error::{CoreError, Result};
use heatcrew_protocol::{Event, EventBody};
use heatcrew_rules::progress::{EventMeta, JobProgress};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Fewer events than this after a checkpoint never rewrite it.
pub(crate) const MIN_TAIL: usize = 64;

/// More jobs than this in memory and the cache starts over (each fold reloads on its next use).
const MAX_CACHED: usize = 512;

/// One job's events folded, up to `seq`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fold {
    pub progress: JobProgress,
    /// The newest of the job's events folded in (0: none).
    pub seq: u64,
    /// How many of the job's events the checkpoint on disk holds.
    saved: usize,
}

impl Fold {
    fn apply(&mut self, seq: u64, meta: EventMeta, body: &EventBody) {
        self.progress.apply(meta, body);
        self.seq = seq;
    }

    /// Events folded in (the fold keeps one id per event).
    fn events(&self) -> usize {
        self.progress.event_ids.len()
    }
}

/// The cached folds, by job.
#[derive(Debug, Default)]
pub(crate) struct Folds {
    jobs: HashMap<Uuid, Fold>,
}

impl Folds {
    /// The fold of `job_id`'s events with `seq < below` as `conn` holds them now.
    pub fn current(&mut self, conn: &Connection, job_id: Uuid, below: u64) -> Result<&mut Fold> {
        let newest = newest_seq(conn, job_id, below)?;
        // Events are append-only and gap-free: a fold no newer than the log is a prefix of it.
        if self.jobs.get(&job_id).is_none_or(|f| f.seq > newest) {
            if self.jobs.len() >= MAX_CACHED {
                self.jobs.clear();
            }
            self.jobs.insert(job_id, checkpoint(conn, job_id)?);
        }
        let fold = self.jobs.get_mut(&job_id).expect("inserted above");
        if fold.seq < newest {
            catch_up(conn, job_id, fold, below)?;
        }
        Ok(fold)
    }

    pub fn clear(&mut self) {
        self.jobs.clear();
    }
}

/// The folds one transaction changed: evicted unless it commits.
pub(crate) struct Touched<'s> {
    pub folds: &'s mut Folds,
    jobs: Vec<Uuid>,
    /// Jobs whose fold was checked against the log in this transaction. The transaction holds
    /// the write lock and folds in every event it appends, so they stay current until it ends:
    /// checked once per action, not again when the action's own event is folded in.
    current: Vec<Uuid>,
}

impl<'s> Touched<'s> {
    pub fn new(folds: &'s mut Folds) -> Self {
        Touched {
            folds,
            jobs: Vec::new(),
            current: Vec::new(),
        }
    }

    /// The fold of all of `job_id`'s events in this transaction (see [`Folds::current`]).
    pub fn current(&mut self, conn: &Connection, job_id: Uuid) -> Result<&mut Fold> {
        if self.current.contains(&job_id) && self.folds.jobs.contains_key(&job_id) {
            return Ok(self.folds.jobs.get_mut(&job_id).expect("checked above"));
        }
        let fold = self.folds.current(conn, job_id, u64::MAX)?;
        self.current.push(job_id);
        Ok(fold)
    }

    /// The transaction committed: its folds are the database's.
    pub fn committed(mut self) {
        self.jobs.clear();
    }
}

impl Drop for Touched<'_> {
    fn drop(&mut self) {
        for job in &self.jobs {
            self.folds.jobs.remove(job);
        }
    }
}

/// Fold `event` (just inserted in `tx`) into its job's projection, inside the same transaction:
/// the job row of a job created on the device, the fold, and a new checkpoint when one is due.
pub(crate) fn fold_in(
    tx: &Connection,
    touched: &mut Touched<'_>,
    event: &Event,
    body: &EventBody,
) -> Result<()> {
    let job_id = event.unsigned.job_id;
    insert_created_job(tx, job_id, body)?;
    touched.jobs.push(job_id);
    // Every event before this one (it is the log's newest, already inserted).
    let fold = if touched.current.contains(&job_id) && touched.folds.jobs.contains_key(&job_id) {
        touched.folds.jobs.get_mut(&job_id).expect("checked above")
    } else {
        touched.current.push(job_id);
        touched.folds.current(tx, job_id, event.seq())?
    };
    fold.apply(event.seq(), meta(event), body);
    if fold.events() - fold.saved >= fold.saved.max(MIN_TAIL) {
        write_checkpoint(tx, job_id, fold)?;
    }
    Ok(())
}

/// Fold `event` into its job's projection and rewrite the whole checkpoint, as builds before
/// schema 8 did on every event (`crate::legacy` writes such databases for the upgrade tests).
pub(crate) fn project(tx: &Connection, event: &Event) -> Result<()> {
    let body = EventBody::from_parts(&event.unsigned.kind, &event.unsigned.payload)?;
    let job_id = event.unsigned.job_id;
    insert_created_job(tx, job_id, &body)?;
    let mut fold = checkpoint(tx, job_id)?;
    fold.apply(event.seq(), meta(event), &body);
    write_checkpoint(tx, job_id, &mut fold)
}

/// Rebuild every projection from `events` (all of them, in order) in `tx`: the jobs created on the
/// device and one checkpoint per job holding all its events.
pub(crate) fn rebuild(tx: &Connection, events: &[Event]) -> Result<()> {
    tx.execute("DELETE FROM job_progress", [])?;
    tx.execute("DELETE FROM jobs WHERE origin = 'device'", [])?;
    let mut folds: BTreeMap<Uuid, Fold> = BTreeMap::new();
    for e in events {
        let body = EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload)?;
        insert_created_job(tx, e.unsigned.job_id, &body)?;
        folds
            .entry(e.unsigned.job_id)
            .or_default()
            .apply(e.seq(), meta(e), &body);
    }
    for (job_id, fold) in &mut folds {
        write_checkpoint(tx, *job_id, fold)?;
    }
    Ok(())
}

/// Every job's projection as the database holds it (checkpoint and the events after it, not the
/// cache): job id, the fold as JSON, the newest event folded in.
pub(crate) fn rows(conn: &Connection) -> Result<Vec<(String, String, i64)>> {
    let ids: Vec<String> = conn
        .prepare("SELECT DISTINCT job_id FROM events ORDER BY job_id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let job_id = parse_uuid(&id)?;
        let mut fold = checkpoint(conn, job_id)?;
        catch_up(conn, job_id, &mut fold, u64::MAX)?;
        rows.push((id, serde_json::to_string(&fold.progress)?, fold.seq as i64));
    }
    Ok(rows)
}

fn meta(event: &Event) -> EventMeta {
    EventMeta {
        id: event.unsigned.id,
        seq: event.seq(),
        at: event.unsigned.recorded_at,
    }
}

fn insert_created_job(tx: &Connection, job_id: Uuid, body: &EventBody) -> Result<()> {
    if let EventBody::JobCreated { job } = body {
        tx.prepare_cached("INSERT INTO jobs (job_id, origin, job) VALUES (?1, 'device', ?2)")?
            .execute(params![job_id.to_string(), serde_json::to_string(job)?])?;
    }
    Ok(())
}

fn write_checkpoint(tx: &Connection, job_id: Uuid, fold: &mut Fold) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO job_progress (job_id, progress, last_seq) VALUES (?1, ?2, ?3)
         ON CONFLICT(job_id) DO UPDATE SET progress = excluded.progress, last_seq = excluded.last_seq",
    )?
    .execute(params![
        job_id.to_string(),
        serde_json::to_string(&fold.progress)?,
        fold.seq as i64
    ])?;
    fold.saved = fold.events();
    Ok(())
}

/// The job's newest event with `seq < below` (0: none).
fn newest_seq(conn: &Connection, job_id: Uuid, below: u64) -> Result<u64> {
    let below = i64::try_from(below).unwrap_or(i64::MAX);
    let seq: Option<i64> = conn
        .prepare_cached(
            "SELECT seq FROM events WHERE job_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![job_id.to_string(), below], |r| r.get(0))
        .optional()?;
    Ok(seq.unwrap_or(0) as u64)
}

/// The job's checkpoint on disk (an empty fold if it has none).
fn checkpoint(conn: &Connection, job_id: Uuid) -> Result<Fold> {
    let row: Option<(String, i64)> = conn
        .prepare_cached("SELECT progress, last_seq FROM job_progress WHERE job_id = ?1")?
        .query_row([job_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((json, seq)) = row else {
        return Ok(Fold::default());
    };
    let progress: JobProgress = serde_json::from_str(&json)?;
    let saved = progress.event_ids.len();
    Ok(Fold {
        progress,
        seq: seq as u64,
        saved,
    })
}

/// Fold in the job's events after `fold.seq` and before `below`, from the log.
fn catch_up(conn: &Connection, job_id: Uuid, fold: &mut Fold, below: u64) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, id, kind, payload, recorded_at FROM events
         WHERE job_id = ?1 AND seq > ?2 AND seq < ?3 ORDER BY seq",
    )?;
    let below = i64::try_from(below).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![job_id.to_string(), fold.seq as i64, below])?;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let bad = |what: &str| CoreError::Corrupt(format!("event {seq}: malformed {what}"));
        let kind: String = r.get(2)?;
        let payload: serde_json::Value =
            serde_json::from_str(&r.get::<_, String>(3)?).map_err(|_| bad("payload"))?;
        let body = EventBody::from_parts(&kind, &payload)?;
        let meta = EventMeta {
            id: parse_uuid(&r.get::<_, String>(1)?).map_err(|_| bad("id"))?,
            seq: seq as u64,
            at: parse_time(&r.get::<_, String>(4)?).map_err(|_| bad("time"))?,
        };
        fold.apply(seq as u64, meta, &body);
    }
    Ok(())
}
