//! The rows of `jobs`, each job's JSON parsed once and kept between actions.
//!
//! Every action checks the rules against its job, so every action reads the job's row. Parsing its
//! JSON (customer, address, checkpoints: kilobytes for a patrol route) was a tenth of an action's
//! work; the parsed job is now kept with the text it was parsed from, and each use still reads the
//! row and compares that text, so a job changed by a pull (rescheduled, reassigned, revoked) or by
//! anything else on the connection is parsed afresh: the cache is never older than the database.

use super::projection::Folds;
use super::{Origin, StoredJob};
use crate::error::Result;
use heatcrew_protocol::Job;
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;
use uuid::Uuid;

/// More jobs than this in memory and the cache starts over.
const MAX_CACHED: usize = 512;

/// A row of `jobs`.
#[derive(Debug, Clone)]
pub(crate) struct JobRow {
    pub job: Job,
    pub origin: Origin,
    pub revoked_reason: Option<String>,
}

/// The parsed rows, by job, each with the JSON text it was parsed from.
#[derive(Debug, Default)]
pub(crate) struct JobRows {
    rows: HashMap<Uuid, (String, JobRow)>,
}

impl JobRows {
    /// The row of `job_id` as `conn` holds it now (parsed again only if its JSON changed).
    pub fn get(&mut self, conn: &Connection, job_id: Uuid) -> Result<Option<&JobRow>> {
        let found = {
            let cached = self.rows.get(&job_id).map(|(json, _)| json.as_str());
            conn.prepare_cached("SELECT job, origin, revoked_reason FROM jobs WHERE job_id = ?1")?
                .query_row([job_id.to_string()], |r| {
                    let json = r.get_ref(0)?.as_str()?;
                    // Only a changed row is copied out (and parsed below).
                    let changed = (cached != Some(json)).then(|| json.to_owned());
                    Ok((
                        changed,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })
                .optional()?
        };
        let Some((changed, origin, revoked_reason)) = found else {
            self.rows.remove(&job_id);
            return Ok(None);
        };
        let origin = if origin == "device" {
            Origin::Device
        } else {
            Origin::Office
        };
        if let Some(json) = changed {
            let job: Job = serde_json::from_str(&json)?;
            if self.rows.len() >= MAX_CACHED {
                self.rows.clear();
            }
            let row = JobRow {
                job,
                origin,
                revoked_reason,
            };
            self.rows.insert(job_id, (json, row));
        } else if let Some((_, row)) = self.rows.get_mut(&job_id) {
            row.origin = origin;
            row.revoked_reason = revoked_reason;
        }
        Ok(self.rows.get(&job_id).map(|(_, row)| row))
    }

    pub fn clear(&mut self) {
        self.rows.clear();
    }
}

/// The job with its progress folded from the log (`None` for a job this device does not hold).
pub(super) fn load_job(
    conn: &Connection,
    folds: &mut Folds,
    rows: &mut JobRows,
    job_id: Uuid,
) -> Result<Option<StoredJob>> {
    let Some(row) = rows.get(conn, job_id)? else {
        return Ok(None);
    };
    let progress = folds.current(conn, job_id, u64::MAX)?.progress.clone();
    let JobRow {
        job,
        origin,
        revoked_reason,
    } = row.clone();
    Ok(Some(StoredJob {
        job,
        origin,
        revoked_reason,
        progress,
    }))
}
