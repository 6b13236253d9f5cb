//! Patrol plans, the rounds they opened (one per plan and shift start, created with its job in one
//! transaction) and the defects register (`crate::patrols`).

use super::accounts::require_user;
use super::jobs::{add_assignment, job_change, save_job};
use super::ledger::{add_change, select_events};
use super::{SqliteStore, json, parse_ts, parse_uuid, select, to_json, ts};
use crate::patrols::defects::{DefectRecord, DefectStatus, StatusChange};
use crate::patrols::{PatrolPlan, PatrolStore, PlannedRound};
use crate::readback::corrected;
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::sync::ChangeKind;
use heatcrew_protocol::{ErrorCode, EventBody, Job, JobStatus, Severity};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use uuid::Uuid;

fn select_plans(
    conn: &Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> StoreResult<Vec<PatrolPlan>> {
    select(
        conn,
        &format!("SELECT body FROM patrol_plans {filter}"),
        p,
        |r| r.get::<_, String>(0),
        |body| json(&body),
    )
}

/// Create `job` (an office job: its row, its assignee's history and the change their devices pull).
fn insert_job(tx: &Transaction<'_>, mut job: Job, now: DateTime<Utc>) -> StoreResult<Job> {
    let exists: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM jobs WHERE id = ?1",
            [job.id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_some() {
        return Err(StoreError::Conflict {
            code: ErrorCode::JobExists,
            message: format!("job {} exists", job.id),
        });
    }
    super::network::assign_codes(tx, &mut job.checkpoints, now)?;
    if let Some(a) = job.assignee {
        let active: Option<bool> = tx
            .query_row(
                "SELECT deactivated_at IS NULL FROM users WHERE id = ?1",
                [a.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if active != Some(true) {
            // Nobody who cannot sign in gets work; dispatch assigns it from the board.
            job.assignee = None;
        }
    }
    save_job(tx, &job, now)?;
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
}

const DEFECT_COLS: &str = "event_id, defect_id, job_id, reported_by, reported_at, checkpoint, \
    category, severity, description, status, repair_job_id, status_note, status_by, status_at";

type DefectRow = (
    [String; 5],
    Option<String>,
    [String; 4],
    [Option<String>; 4],
);

fn read_defect(r: &rusqlite::Row<'_>) -> rusqlite::Result<DefectRow> {
    Ok((
        [r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
        r.get(5)?,
        [r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?],
        [r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?],
    ))
}

fn parse_defect((a, checkpoint, b, c): DefectRow) -> StoreResult<DefectRecord> {
    let severity: Severity = serde_json::from_value(serde_json::Value::String(b[1].clone()))
        .map_err(|_| StoreError::Corrupt(format!("defect severity {:?}", b[1])))?;
    Ok(DefectRecord {
        id: parse_uuid(&a[0])?,
        defect_id: parse_uuid(&a[1])?,
        job_id: parse_uuid(&a[2])?,
        reported_by: parse_uuid(&a[3])?,
        reported_at: parse_ts(&a[4])?,
        checkpoint,
        category: b[0].clone(),
        severity,
        description: b[2].clone(),
        status: DefectStatus::parse(&b[3])
            .ok_or_else(|| StoreError::Corrupt(format!("defect status {:?}", b[3])))?,
        repair_job_id: c[0].as_deref().map(parse_uuid).transpose()?,
        status_note: c[1].clone(),
        status_by: c[2].as_deref().map(parse_uuid).transpose()?,
        status_at: c[3].as_deref().map(parse_ts).transpose()?,
    })
}

fn load_defect(conn: &Connection, id: Uuid) -> StoreResult<DefectRecord> {
    select(
        conn,
        &format!("SELECT {DEFECT_COLS} FROM defects WHERE event_id = ?1"),
        [id.to_string()],
        read_defect,
        parse_defect,
    )?
    .pop()
    .ok_or_else(|| StoreError::not_found(format!("defect {id}")))
}

impl PatrolStore for SqliteStore {
    fn create_plan(&self, plan: PatrolPlan) -> StoreResult<PatrolPlan> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let route: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM routes WHERE id = ?1",
                [plan.route_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if route.is_none() {
            return Err(StoreError::not_found(format!("route {}", plan.route_id)));
        }
        for s in &plan.shifts {
            require_user(&tx, s.assignee)?;
        }
        tx.execute(
            "INSERT INTO patrol_plans (id, name, route_id, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                plan.id.to_string(),
                plan.name,
                plan.route_id.to_string(),
                to_json(&plan),
                ts(plan.created_at),
            ],
        )?;
        tx.commit()?;
        Ok(plan)
    }

    fn revise_plan(
        &self,
        id: Uuid,
        mut plan: PatrolPlan,
        now: DateTime<Utc>,
    ) -> StoreResult<PatrolPlan> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut old = select_plans(&tx, "WHERE id = ?1", [id.to_string()])?
            .pop()
            .ok_or_else(|| StoreError::not_found(format!("patrol plan {id}")))?;
        if old.retired_at.is_some() {
            return Err(StoreError::Conflict {
                code: ErrorCode::InvalidValue,
                message: "the plan was edited already; edit its newest version".into(),
            });
        }
        let route: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM routes WHERE id = ?1",
                [plan.route_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if route.is_none() {
            return Err(StoreError::not_found(format!("route {}", plan.route_id)));
        }
        for s in &plan.shifts {
            require_user(&tx, s.assignee)?;
        }
        old.retired_at = Some(now);
        tx.execute(
            "UPDATE patrol_plans SET body = ?2 WHERE id = ?1",
            params![id.to_string(), to_json(&old)],
        )?;
        plan.replaces = Some(id);
        plan.created_at = now;
        tx.execute(
            "INSERT INTO patrol_plans (id, name, route_id, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                plan.id.to_string(),
                plan.name,
                plan.route_id.to_string(),
                to_json(&plan),
                ts(plan.created_at),
            ],
        )?;
        // Rounds already put on phones for shifts the old plan no longer runs.
        let ahead: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT job_id FROM patrol_rounds WHERE plan_id = ?1 AND shift_start >= ?2",
            )?;
            stmt.query_map(params![id.to_string(), ts(now)], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        for job in ahead {
            let job_id = parse_uuid(&job)?;
            let job = job_change(&tx, job_id, now, |job| {
                let open = job.status == JobStatus::Open;
                if open {
                    job.status = JobStatus::Cancelled;
                }
                Ok(open)
            })?;
            if job.status == JobStatus::Cancelled {
                tx.execute(
                    "UPDATE jobs SET cancel_reason = COALESCE(cancel_reason, ?2) WHERE id = ?1",
                    params![job_id.to_string(), "patrol plan edited"],
                )?;
            }
        }
        tx.commit()?;
        Ok(plan)
    }

    fn plans(&self) -> StoreResult<Vec<PatrolPlan>> {
        select_plans(&self.reader(), "ORDER BY created_at, id", [])
    }

    fn plan(&self, id: Uuid) -> StoreResult<Option<PatrolPlan>> {
        Ok(select_plans(&self.reader(), "WHERE id = ?1", [id.to_string()])?.pop())
    }

    fn open_round(
        &self,
        plan_id: Uuid,
        shift_start: DateTime<Utc>,
        job: Job,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The write lock is held from here: a racing run (or process) waits, then finds the row.
        let exists: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM patrol_rounds WHERE plan_id = ?1 AND shift_start = ?2",
                params![plan_id.to_string(), ts(shift_start)],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Ok(None);
        }
        // A run that read the plan before an edit retired it opens nothing the edit withdrew.
        let plan = select_plans(&tx, "WHERE id = ?1", [plan_id.to_string()])?.pop();
        if plan.is_none_or(|p| p.retired_at.is_some_and(|r| shift_start >= r)) {
            return Ok(None);
        }
        let job = insert_job(&tx, job, now)?;
        tx.execute(
            "INSERT INTO patrol_rounds (plan_id, shift_start, job_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![plan_id.to_string(), ts(shift_start), job.id.to_string(), ts(now)],
        )?;
        tx.commit()?;
        Ok(Some(job))
    }

    fn plan_rounds(&self, plan_id: Uuid) -> StoreResult<Vec<PlannedRound>> {
        select(
            &self.reader(),
            "SELECT shift_start, job_id FROM patrol_rounds WHERE plan_id = ?1 ORDER BY shift_start",
            [plan_id.to_string()],
            |r| <(String, String)>::try_from(r),
            |(start, job)| {
                Ok(PlannedRound {
                    shift_start: parse_ts(&start)?,
                    job_id: parse_uuid(&job)?,
                })
            },
        )
    }

    fn import_defects(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let fresh = select_events(
            &tx,
            "WHERE e.kind = 'defect_reported' AND e.status = 'accepted'
               AND NOT EXISTS (SELECT 1 FROM defects x WHERE x.event_id = e.id)
             ORDER BY e.received_at",
            [],
        )?;
        let mut added = 0;
        for e in &fresh {
            let u = &e.event.unsigned;
            let Ok(EventBody::DefectReported {
                defect_id,
                checkpoint,
                category,
                severity,
                description,
                ..
            }) = EventBody::from_parts(&u.kind, &u.payload)
            else {
                continue;
            };
            let severity = match severity {
                Severity::Minor => "minor",
                Severity::Major => "major",
                Severity::Critical => "critical",
            };
            added += tx.execute(
                "INSERT OR IGNORE INTO defects (event_id, defect_id, job_id, reported_by,
                     reported_at, checkpoint, category, severity, description, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    u.id.to_string(),
                    defect_id.to_string(),
                    u.job_id.to_string(),
                    e.user_id.to_string(),
                    ts(corrected(e)),
                    checkpoint,
                    category,
                    severity,
                    description,
                    ts(now),
                ],
            )? as u64;
        }
        tx.commit()?;
        Ok(added)
    }

    fn defects(&self) -> StoreResult<Vec<DefectRecord>> {
        select(
            &self.reader(),
            &format!("SELECT {DEFECT_COLS} FROM defects ORDER BY reported_at DESC, event_id"),
            [],
            read_defect,
            parse_defect,
        )
    }

    fn defect(&self, id: Uuid) -> StoreResult<Option<DefectRecord>> {
        match load_defect(&self.reader(), id) {
            Ok(d) => Ok(Some(d)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn set_defect_status(
        &self,
        id: Uuid,
        change: StatusChange,
        now: DateTime<Utc>,
    ) -> StoreResult<DefectRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let d = load_defect(&tx, id)?;
        if change.status == DefectStatus::RepairOrdered {
            return Err(StoreError::Invalid {
                code: ErrorCode::InvalidValue,
                message: "a repair is ordered by creating the repair job".into(),
            });
        }
        if d.status == change.status {
            return Ok(d);
        }
        tx.execute(
            "UPDATE defects SET status = ?2, status_note = ?3, status_by = ?4, status_at = ?5
             WHERE event_id = ?1",
            params![
                id.to_string(),
                change.status.as_str(),
                change.note,
                change.by.map(|b| b.to_string()),
                ts(now),
            ],
        )?;
        let d = load_defect(&tx, id)?;
        tx.commit()?;
        Ok(d)
    }

    fn open_repair(
        &self,
        id: Uuid,
        job: Job,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<(DefectRecord, bool)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let d = load_defect(&tx, id)?;
        if d.repair_job_id.is_some() {
            return Ok((d, false));
        }
        if let Some(a) = job.assignee {
            require_user(&tx, a)?;
        }
        let job = insert_job(&tx, job, now)?;
        tx.execute(
            "UPDATE defects SET status = 'repair_ordered', repair_job_id = ?2, status_by = ?3,
                 status_at = ?4, status_note = NULL
             WHERE event_id = ?1 AND repair_job_id IS NULL",
            params![id.to_string(), job.id.to_string(), by.to_string(), ts(now)],
        )?;
        let d = load_defect(&tx, id)?;
        tx.commit()?;
        Ok((d, true))
    }
}
