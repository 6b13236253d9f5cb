//! Work orders on PostgreSQL, as `sqlite/jobs.rs`: created by dispatch or by a device (through the
//! ledger), assigned with a history of assignees, scheduled, cancelled. Every change reaches the
//! assignee's devices as a `JobUpserted` (and a reassignment the previous assignee's as a
//! `JobRevoked`).
//!
//! SQLite has one writer, so its read-then-write needs no lock; here every change reads the job
//! `FOR UPDATE` (two dispatchers reassigning the same job at once take turns, and each sees the
//! other's result), and a job created twice at once is refused by its primary key.

use super::PgStore;
use super::accounts::require_user;
use super::ledger::{add_change, select_events};
use crate::store::convert::{board_at, json, parse_ts, phone_key, to_json, ts};
use crate::store::{CustomerKey, JobRecord, JobStore, StoreError, StoreResult, StoredEvent};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::ChangeKind;
use heatcrew_protocol::{AppointmentWindow, Job, JobStatus};
use postgres::types::ToSql;
use postgres::{GenericClient, Transaction};
use std::collections::HashMap;
use uuid::Uuid;

const JOB_COLS: &str = "body, created_at, cancel_reason, field_created, accepted_at";

/// Jobs matching `filter` (a `WHERE`/`ORDER BY` tail).
fn select_jobs(
    c: &mut impl GenericClient,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<JobRecord>> {
    c.query(&format!("SELECT {JOB_COLS} FROM jobs {filter}"), params)?
        .iter()
        .map(|r| {
            let accepted_at: Option<String> = r.try_get(4)?;
            Ok(JobRecord {
                job: json(r.try_get(0)?)?,
                created_at: parse_ts(r.try_get(1)?)?,
                cancel_reason: r.try_get(2)?,
                field_created: r.try_get::<_, i64>(3)? != 0,
                accepted_at: accepted_at.as_deref().map(parse_ts).transpose()?,
            })
        })
        .collect()
}

pub(super) fn load_job(c: &mut impl GenericClient, job_id: Uuid) -> StoreResult<Option<JobRecord>> {
    Ok(select_jobs(c, "WHERE id = $1", &[&job_id.to_string()])?.pop())
}

/// The job, its row locked until the transaction ends: what a read-then-write of it reads.
pub(super) fn lock_job(c: &mut impl GenericClient, job_id: Uuid) -> StoreResult<JobRecord> {
    select_jobs(c, "WHERE id = $1 FOR UPDATE", &[&job_id.to_string()])?
        .pop()
        .ok_or_else(|| StoreError::not_found(format!("job {job_id}")))
}

/// How [`write_job`] treats a job already stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Replace it.
    Upsert,
    /// Leave it and answer false.
    InsertOnly,
}

/// Write a job's row (its body is the whole [`Job`]) and refresh its KPI facts; false when
/// `InsertOnly` found the id taken.
fn write_job(
    c: &mut impl GenericClient,
    job: &Job,
    now: DateTime<Utc>,
    mode: Write,
) -> StoreResult<bool> {
    let phone = job
        .customer
        .as_ref()
        .map(|c| phone_key(&c.phone))
        .filter(|p| !p.is_empty());
    let account = job
        .customer
        .as_ref()
        .map(|c| c.account_no.trim().to_owned())
        .filter(|a| !a.is_empty());
    let on_conflict = match mode {
        Write::Upsert => {
            "DO UPDATE SET assignee = $3, status = $4, body = $5, updated_at = $6,
                 board_at = $7, customer_phone = $8, customer_account = $9"
        }
        Write::InsertOnly => "DO NOTHING",
    };
    let status = if job.status == JobStatus::Cancelled {
        "cancelled"
    } else {
        "open"
    };
    let written = c.execute(
        &format!(
            "INSERT INTO jobs (id, kind, assignee, status, body, created_at, updated_at,
                               board_at, customer_phone, customer_account)
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)
             ON CONFLICT (id) {on_conflict}"
        ),
        &[
            &job.id.to_string(),
            &job.kind.as_str(),
            &job.assignee.map(|a| a.to_string()),
            &status,
            &to_json(job),
            &ts(now),
            &board_at(job).map(ts),
            &phone,
            &account,
        ],
    )?;
    if written == 0 {
        return Ok(false);
    }
    // The job's KPI facts follow every change of it (issue 13).
    super::kpi::refresh_job(c, job.id)?;
    Ok(true)
}

/// Insert or update a job's row (its body is the whole [`Job`]).
pub(super) fn save_job(
    c: &mut impl GenericClient,
    job: &Job,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    write_job(c, job, now, Write::Upsert).map(|_| ())
}

/// Save a job the office opens on its own (a notice's re-inspection, a patrol round) and hand it
/// to its assignee, who gets it on their next pull; a user who cannot sign in any more (deactivated
/// or unknown) gets nothing, and the job waits unassigned for a dispatcher.
pub(super) fn open_for_active_assignee(
    c: &mut Transaction<'_>,
    job: &mut Job,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if let Some(a) = job.assignee {
        let active: Option<bool> = c
            .query_opt(
                "SELECT deactivated_at IS NULL FROM users WHERE id = $1",
                &[&a.to_string()],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        if active != Some(true) {
            job.assignee = None;
        }
    }
    save_job(c, job, now)?;
    if let Some(a) = job.assignee {
        add_assignment(c, job.id, a, now)?;
        add_change(
            c,
            Some(a),
            &ChangeKind::JobUpserted { job: job.clone() },
            now,
        )?;
    }
    Ok(())
}

/// Remember that `user_id` was assigned `job_id`: their work on it stays evidence after a
/// reassignment.
pub(super) fn add_assignment(
    c: &mut impl GenericClient,
    job_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO job_assignments (job_id, user_id, assigned_at) VALUES ($1, $2, $3)",
        &[&job_id.to_string(), &user_id.to_string(), &ts(now)],
    )?;
    Ok(())
}

/// Apply `change` to a job (read `FOR UPDATE`); if it says something changed, bump the revision,
/// save, and tell the assignee's devices.
pub(super) fn job_change(
    c: &mut Transaction<'_>,
    job_id: Uuid,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut Job) -> StoreResult<bool>,
) -> StoreResult<Job> {
    let JobRecord { mut job, .. } = lock_job(c, job_id)?;
    if change(&mut job)? {
        job.revision += 1;
        save_job(c, &job, now)?;
        if let Some(a) = job.assignee {
            add_change(
                c,
                Some(a),
                &ChangeKind::JobUpserted { job: job.clone() },
                now,
            )?;
        }
    }
    Ok(job)
}

fn job_exists(id: Uuid) -> StoreError {
    StoreError::Conflict {
        code: ErrorCode::JobExists,
        message: format!("job {id} exists"),
    }
}

fn cancelled(id: Uuid) -> StoreError {
    StoreError::Invalid {
        code: ErrorCode::JobCancelled,
        message: format!("job {id} is cancelled"),
    }
}

impl JobStore for PgStore {
    fn create_job(&self, job: Job, now: DateTime<Utc>) -> StoreResult<Job> {
        self.write(|tx| {
            // A retry starts again from what the caller gave.
            let mut job = job.clone();
            super::network::assign_codes(tx, &mut job.checkpoints, now)?;
            if load_job(tx, job.id)?.is_some() {
                return Err(job_exists(job.id));
            }
            // The assignee is checked before the row is written: an unknown one is the caller's
            // mistake (`unknown_user`), not a foreign-key failure.
            if let Some(a) = job.assignee {
                require_user(tx, a)?;
            }
            // Another office process may have created it since the check: the key decides (a
            // concurrent insert of the same id waits for the other to commit, then does nothing).
            if !write_job(tx, &job, now, Write::InsertOnly)? {
                return Err(job_exists(job.id));
            }
            if let Some(a) = job.assignee {
                add_assignment(tx, job.id, a, now)?;
                add_change(
                    tx,
                    Some(a),
                    &ChangeKind::JobUpserted { job: job.clone() },
                    now,
                )?;
            }
            Ok(job)
        })
    }

    fn assign_job(&self, job_id: Uuid, assignee: Uuid, now: DateTime<Utc>) -> StoreResult<Job> {
        self.write(|tx| {
            require_user(tx, assignee)?;
            let JobRecord { mut job, .. } = lock_job(tx, job_id)?;
            if job.status == JobStatus::Cancelled {
                return Err(cancelled(job_id));
            }
            if job.assignee == Some(assignee) {
                return Ok(job);
            }
            let previous = job.assignee.replace(assignee);
            job.revision += 1;
            save_job(tx, &job, now)?;
            if let Some(old) = previous {
                tx.execute(
                    "UPDATE job_assignments SET revoked_at = $3
                     WHERE job_id = $1 AND user_id = $2 AND revoked_at IS NULL",
                    &[&job_id.to_string(), &old.to_string(), &ts(now)],
                )?;
                add_change(
                    tx,
                    Some(old),
                    &ChangeKind::JobRevoked {
                        job_id,
                        reason: "已改派给其他人员 / reassigned to someone else".into(),
                    },
                    now,
                )?;
            }
            add_assignment(tx, job_id, assignee, now)?;
            add_change(
                tx,
                Some(assignee),
                &ChangeKind::JobUpserted { job: job.clone() },
                now,
            )?;
            Ok(job)
        })
    }

    fn schedule_job(
        &self,
        job_id: Uuid,
        window: AppointmentWindow,
        now: DateTime<Utc>,
    ) -> StoreResult<Job> {
        self.write(|tx| {
            let job = job_change(tx, job_id, now, |job| {
                if job.status == JobStatus::Cancelled {
                    return Err(cancelled(job_id));
                }
                let changed = job.window != Some(window);
                job.window = Some(window);
                Ok(changed)
            })?;
            Ok(job)
        })
    }

    fn cancel_job(&self, job_id: Uuid, reason: &str, now: DateTime<Utc>) -> StoreResult<Job> {
        self.write(|tx| {
            let job = job_change(tx, job_id, now, |job| {
                let changed = job.status != JobStatus::Cancelled;
                job.status = JobStatus::Cancelled;
                Ok(changed)
            })?;
            tx.execute(
                "UPDATE jobs SET cancel_reason = COALESCE(cancel_reason, $2) WHERE id = $1",
                &[&job_id.to_string(), &reason],
            )?;
            Ok(job)
        })
    }

    fn accept_field_job(
        &self,
        job_id: Uuid,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<JobRecord> {
        self.write(|tx| {
            let rec = lock_job(tx, job_id)?;
            if !rec.field_created {
                return Err(StoreError::Conflict {
                    code: ErrorCode::NotFieldCreated,
                    message: format!(
                        "job {job_id} was opened by the office; there is nothing to accept"
                    ),
                });
            }
            tx.execute(
                "UPDATE jobs SET accepted_at = $2, accepted_by = $3 WHERE id = $1 AND accepted_at IS NULL",
                &[&job_id.to_string(), &ts(now), &by.to_string()],
            )?;
            // Acceptance makes a field job count.
            super::kpi::refresh_job(tx, job_id)?;
            let rec = load_job(tx, job_id)?
                .ok_or_else(|| StoreError::not_found(format!("job {job_id}")))?;
            Ok(rec)
        })
    }

    fn job(&self, job_id: Uuid) -> StoreResult<Option<JobRecord>> {
        load_job(&mut *self.conn()?, job_id)
    }

    fn list_jobs(&self) -> StoreResult<Vec<JobRecord>> {
        select_jobs(&mut *self.conn()?, "ORDER BY created_at, id", &[])
    }

    fn board_jobs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        undated_limit: u32,
    ) -> StoreResult<Vec<JobRecord>> {
        let mut conn = self.conn()?;
        // One snapshot for both halves: a job scheduled in between is in one of them, not both.
        let mut tx = conn
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let mut jobs = select_jobs(
            &mut tx,
            "WHERE board_at >= $1 AND board_at < $2 ORDER BY board_at, id",
            &[&ts(from), &ts(to)],
        )?;
        jobs.extend(select_jobs(
            &mut tx,
            "WHERE board_at IS NULL AND status = 'open' ORDER BY created_at DESC LIMIT $1",
            &[&i64::from(undated_limit)],
        )?);
        tx.commit()?;
        Ok(jobs)
    }

    fn customer_jobs(&self, key: CustomerKey<'_>, limit: u32) -> StoreResult<Vec<JobRecord>> {
        // A prefix as an index range: every text starting with `prefix` sorts below
        // prefix + U+10FFFF, in byte order (the columns are `COLLATE "C"`: a language's
        // collation would skip the `-` of an account number and widen the range).
        let (filter, prefix) = match key {
            CustomerKey::Phone(p) => (
                "WHERE customer_phone >= $1 AND customer_phone < $2 ORDER BY created_at DESC LIMIT $3",
                phone_key(p),
            ),
            CustomerKey::Account(a) => (
                "WHERE customer_account >= $1 AND customer_account < $2 ORDER BY created_at DESC LIMIT $3",
                a.trim().to_owned(),
            ),
        };
        if prefix.is_empty() {
            return Ok(Vec::new());
        }
        let end = format!("{prefix}{}", char::MAX);
        select_jobs(
            &mut *self.conn()?,
            filter,
            &[&prefix, &end, &i64::from(limit)],
        )
    }

    fn jobs_events(&self, job_ids: &[Uuid]) -> StoreResult<HashMap<Uuid, Vec<StoredEvent>>> {
        let mut by_job: HashMap<Uuid, Vec<StoredEvent>> =
            job_ids.iter().map(|id| (*id, Vec::new())).collect();
        if job_ids.is_empty() {
            return Ok(by_job);
        }
        // The ids as one array parameter: one statement, each job an `events_job` lookup.
        let ids: Vec<String> = job_ids.iter().map(Uuid::to_string).collect();
        let events = select_events(
            &mut *self.conn()?,
            "WHERE e.job_id = ANY($1) ORDER BY e.job_id, e.rowid",
            &[&ids],
        )?;
        for e in events {
            by_job.entry(e.event.unsigned.job_id).or_default().push(e);
        }
        Ok(by_job)
    }
}
