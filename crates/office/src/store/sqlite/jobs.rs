//! Work orders: created by dispatch or by a device (through the ledger), assigned with a history of
//! assignees, scheduled, cancelled. Every change reaches the assignee's devices as a `JobUpserted`
//! (and a reassignment the previous assignee's as a `JobRevoked`).

use super::accounts::require_user;
use super::ledger::{add_change, select_events};
use super::{SqliteStore, json, parse_ts, select, to_json, ts};
use crate::store::{CustomerKey, JobRecord, JobStore, StoreError, StoreResult, StoredEvent};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::ChangeKind;
use heatcrew_protocol::{AppointmentWindow, Job, JobStatus};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use std::collections::HashMap;
use uuid::Uuid;

/// Jobs matching `filter` (a `WHERE`/`ORDER BY` tail).
fn select_jobs(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<JobRecord>> {
    select(
        conn,
        &format!(
            "SELECT body, created_at, cancel_reason, field_created, accepted_at FROM jobs {filter}"
        ),
        params,
        |r| <(String, String, Option<String>, bool, Option<String>)>::try_from(r),
        |(body, created_at, cancel_reason, field_created, accepted_at)| {
            Ok(JobRecord {
                job: json(&body)?,
                created_at: parse_ts(&created_at)?,
                cancel_reason,
                field_created,
                accepted_at: accepted_at.as_deref().map(parse_ts).transpose()?,
            })
        },
    )
}

pub(super) fn load_job(conn: &Connection, job_id: Uuid) -> StoreResult<Option<JobRecord>> {
    Ok(select_jobs(conn, "WHERE id = ?1", [job_id.to_string()])?.pop())
}

/// Insert or update a job's row (its body is the whole [`Job`]).
pub(super) fn save_job(tx: &Connection, job: &Job, now: DateTime<Utc>) -> StoreResult<()> {
    let phone = job
        .customer
        .as_ref()
        .map(|c| phone_key(&c.phone))
        .filter(|p| !p.is_empty());
    let account = job
        .customer
        .as_ref()
        .map(|c| c.account_no.trim())
        .filter(|a| !a.is_empty());
    tx.execute(
        "INSERT INTO jobs (id, kind, assignee, status, body, created_at, updated_at,
                           board_at, customer_phone, customer_account)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9)
         ON CONFLICT(id) DO UPDATE SET assignee = ?3, status = ?4, body = ?5, updated_at = ?6,
             board_at = ?7, customer_phone = ?8, customer_account = ?9",
        params![
            job.id.to_string(),
            job.kind.as_str(),
            job.assignee.map(|a| a.to_string()),
            if job.status == JobStatus::Cancelled {
                "cancelled"
            } else {
                "open"
            },
            to_json(job),
            ts(now),
            board_at(job).map(ts),
            phone,
            account,
        ],
    )?;
    // The job's KPI facts follow every change of it (issue 13).
    super::kpi::refresh_job(tx, job.id)
}

pub use crate::store::convert::{board_at, phone_key};

/// Remember that `user_id` was assigned `job_id`: their work on it stays evidence after a
/// reassignment.
pub(super) fn add_assignment(
    tx: &Connection,
    job_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO job_assignments (job_id, user_id, assigned_at) VALUES (?1, ?2, ?3)",
        params![job_id.to_string(), user_id.to_string(), ts(now)],
    )?;
    Ok(())
}

/// Apply `change` to a job; if it says something changed, bump the revision, save, and tell the
/// assignee's devices.
pub(super) fn job_change(
    tx: &Transaction<'_>,
    job_id: Uuid,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut Job) -> StoreResult<bool>,
) -> StoreResult<Job> {
    let JobRecord { mut job, .. } =
        load_job(tx, job_id)?.ok_or_else(|| StoreError::not_found(format!("job {job_id}")))?;
    if change(&mut job)? {
        job.revision += 1;
        save_job(tx, &job, now)?;
        if let Some(a) = job.assignee {
            add_change(
                tx,
                Some(a),
                &ChangeKind::JobUpserted { job: job.clone() },
                now,
            )?;
        }
    }
    Ok(job)
}

impl JobStore for SqliteStore {
    fn create_job(&self, mut job: Job, now: DateTime<Utc>) -> StoreResult<Job> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        super::network::assign_codes(&tx, &mut job.checkpoints, now)?;
        if load_job(&tx, job.id)?.is_some() {
            return Err(StoreError::Conflict {
                code: ErrorCode::JobExists,
                message: format!("job {} exists", job.id),
            });
        }
        // The assignee is checked before the row is written: an unknown one is the caller's
        // mistake (`unknown_user`), not a foreign-key failure.
        if let Some(a) = job.assignee {
            require_user(&tx, a)?;
        }
        save_job(&tx, &job, now)?;
        if let Some(a) = job.assignee {
            add_assignment(&tx, job.id, a, now)?;
            add_change(
                &tx,
                Some(a),
                &ChangeKind::JobUpserted { job: job.clone() },
                now,
            )?;
        }
        tx.commit()?;
        Ok(job)
    }

    fn assign_job(&self, job_id: Uuid, assignee: Uuid, now: DateTime<Utc>) -> StoreResult<Job> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_user(&tx, assignee)?;
        let JobRecord { mut job, .. } =
            load_job(&tx, job_id)?.ok_or_else(|| StoreError::not_found(format!("job {job_id}")))?;
        if job.status == JobStatus::Cancelled {
            return Err(StoreError::Invalid {
                code: ErrorCode::JobCancelled,
                message: format!("job {job_id} is cancelled"),
            });
        }
        if job.assignee == Some(assignee) {
            return Ok(job);
        }
        let previous = job.assignee.replace(assignee);
        job.revision += 1;
        save_job(&tx, &job, now)?;
        if let Some(old) = previous {
            tx.execute(
                "UPDATE job_assignments SET revoked_at = ?3 WHERE job_id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
                params![job_id.to_string(), old.to_string(), ts(now)],
            )?;
            add_change(
                &tx,
                Some(old),
                &ChangeKind::JobRevoked {
                    job_id,
                    reason: "已改派给其他人员 / reassigned to someone else".into(),
                },
                now,
            )?;
        }
        add_assignment(&tx, job_id, assignee, now)?;
        add_change(
            &tx,
            Some(assignee),
            &ChangeKind::JobUpserted { job: job.clone() },
            now,
        )?;
        tx.commit()?;
        Ok(job)
    }

    fn schedule_job(
        &self,
        job_id: Uuid,
        window: AppointmentWindow,
        now: DateTime<Utc>,
    ) -> StoreResult<Job> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let job = job_change(&tx, job_id, now, |job| {
            if job.status == JobStatus::Cancelled {
                return Err(StoreError::Invalid {
                    code: ErrorCode::JobCancelled,
                    message: format!("job {job_id} is cancelled"),
                });
            }
            let changed = job.window != Some(window);
            job.window = Some(window);
            Ok(changed)
        })?;
        tx.commit()?;
        Ok(job)
    }

    fn cancel_job(&self, job_id: Uuid, reason: &str, now: DateTime<Utc>) -> StoreResult<Job> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let job = job_change(&tx, job_id, now, |job| {
            let changed = job.status != JobStatus::Cancelled;
            job.status = JobStatus::Cancelled;
            Ok(changed)
        })?;
        tx.execute(
            "UPDATE jobs SET cancel_reason = COALESCE(cancel_reason, ?2) WHERE id = ?1",
            params![job_id.to_string(), reason],
        )?;
        tx.commit()?;
        Ok(job)
    }

    fn accept_field_job(
        &self,
        job_id: Uuid,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<JobRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec =
            load_job(&tx, job_id)?.ok_or_else(|| StoreError::not_found(format!("job {job_id}")))?;
        if !rec.field_created {
            return Err(StoreError::Conflict {
                code: ErrorCode::NotFieldCreated,
                message: format!(
                    "job {job_id} was opened by the office; there is nothing to accept"
                ),
            });
        }
        tx.execute(
            "UPDATE jobs SET accepted_at = ?2, accepted_by = ?3 WHERE id = ?1 AND accepted_at IS NULL",
            params![job_id.to_string(), ts(now), by.to_string()],
        )?;
        super::kpi::refresh_job(&tx, job_id)?;
        let rec =
            load_job(&tx, job_id)?.ok_or_else(|| StoreError::not_found(format!("job {job_id}")))?;
        tx.commit()?;
        Ok(rec)
    }

    fn job(&self, job_id: Uuid) -> StoreResult<Option<JobRecord>> {
        load_job(&self.reader(), job_id)
    }

    fn list_jobs(&self) -> StoreResult<Vec<JobRecord>> {
        select_jobs(&self.reader(), "ORDER BY created_at, id", [])
    }

    fn board_jobs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        undated_limit: u32,
    ) -> StoreResult<Vec<JobRecord>> {
        let conn = self.reader();
        let mut jobs = select_jobs(
            &conn,
            "WHERE board_at >= ?1 AND board_at < ?2 ORDER BY board_at, id",
            params![ts(from), ts(to)],
        )?;
        jobs.extend(select_jobs(
            &conn,
            "WHERE board_at IS NULL AND status = 'open' ORDER BY created_at DESC LIMIT ?1",
            [undated_limit],
        )?);
        Ok(jobs)
    }

    fn customer_jobs(&self, key: CustomerKey<'_>, limit: u32) -> StoreResult<Vec<JobRecord>> {
        // A prefix as an index range: every text starting with `prefix` sorts below prefix + U+10FFFF.
        let (filter, prefix) = match key {
            CustomerKey::Phone(p) => (
                "WHERE customer_phone >= ?1 AND customer_phone < ?2 ORDER BY created_at DESC LIMIT ?3",
                phone_key(p),
            ),
            CustomerKey::Account(a) => (
                "WHERE customer_account >= ?1 AND customer_account < ?2 ORDER BY created_at DESC LIMIT ?3",
                a.trim().to_owned(),
            ),
        };
        if prefix.is_empty() {
            return Ok(Vec::new());
        }
        let end = format!("{prefix}{}", char::MAX);
        select_jobs(&self.reader(), filter, params![prefix, end, limit])
    }

    fn jobs_events(&self, job_ids: &[Uuid]) -> StoreResult<HashMap<Uuid, Vec<StoredEvent>>> {
        let mut by_job: HashMap<Uuid, Vec<StoredEvent>> =
            job_ids.iter().map(|id| (*id, Vec::new())).collect();
        if job_ids.is_empty() {
            return Ok(by_job);
        }
        // The ids as one JSON array parameter: one statement, each job an `events_job` lookup.
        let ids: Vec<String> = job_ids.iter().map(Uuid::to_string).collect();
        let events = select_events(
            &self.reader(),
            "WHERE e.job_id IN (SELECT value FROM json_each(?1)) ORDER BY e.job_id, e.rowid",
            [to_json(&ids)],
        )?;
        for e in events {
            by_job.entry(e.event.unsigned.job_id).or_default().push(e);
        }
        Ok(by_job)
    }
}
