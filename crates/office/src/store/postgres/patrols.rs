//! Patrol plans, the rounds they opened (one per plan and shift start, created with its job in one
//! transaction) and the defects register (`crate::patrols`), as `sqlite/patrols.rs`. What SQLite's
//! single writer serialises, row locks do here: opening a round and editing a plan both lock the
//! plan's row first (so a round is opened once, and never for a shift an edit withdrew), and a
//! defect's changes lock the defect's row.

use super::PgStore;
use super::accounts::require_user;
use super::jobs::{job_change, open_for_active_assignee};
use super::ledger::select_events;
use super::network::assign_codes;
use crate::patrols::defects::{DefectRecord, DefectStatus, StatusChange};
use crate::patrols::{PatrolPlan, PatrolStore, PlannedRound};
use crate::readback::corrected;
use crate::store::convert::{json, parse_ts, parse_uuid, to_json, ts};
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{ErrorCode, EventBody, Job, JobStatus, Severity};
use postgres::types::ToSql;
use postgres::{GenericClient, Transaction};
use uuid::Uuid;

fn select_plans(
    c: &mut impl GenericClient,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<PatrolPlan>> {
    c.query(&format!("SELECT body FROM patrol_plans {filter}"), params)?
        .iter()
        .map(|r| json(r.try_get(0)?))
        .collect()
}

fn require_route(c: &mut impl GenericClient, route_id: Uuid) -> StoreResult<()> {
    c.query_opt(
        "SELECT 1 FROM routes WHERE id = $1",
        &[&route_id.to_string()],
    )?
    .map(|_| ())
    .ok_or_else(|| StoreError::not_found(format!("route {route_id}")))
}

fn insert_plan(c: &mut impl GenericClient, plan: &PatrolPlan) -> StoreResult<()> {
    c.execute(
        "INSERT INTO patrol_plans (id, name, route_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            &plan.id.to_string(),
            &plan.name,
            &plan.route_id.to_string(),
            &to_json(plan),
            &ts(plan.created_at),
        ],
    )?;
    Ok(())
}

/// Create `job` (an office job: its row, its assignee's history and the change their devices pull).
fn insert_job(tx: &mut Transaction<'_>, mut job: Job, now: DateTime<Utc>) -> StoreResult<Job> {
    if tx
        .query_opt("SELECT 1 FROM jobs WHERE id = $1", &[&job.id.to_string()])?
        .is_some()
    {
        return Err(StoreError::Conflict {
            code: ErrorCode::JobExists,
            message: format!("job {} exists", job.id),
        });
    }
    assign_codes(tx, &mut job.checkpoints, now)?;
    open_for_active_assignee(tx, &mut job, now)?;
    Ok(job)
}

const DEFECT_COLS: &str = "event_id, defect_id, job_id, reported_by, reported_at, checkpoint, \
    category, severity, description, status, repair_job_id, status_note, status_by, status_at";

fn parse_defect(r: &postgres::Row) -> StoreResult<DefectRecord> {
    let s = |i: usize| r.try_get::<_, String>(i);
    let o = |i: usize| r.try_get::<_, Option<String>>(i);
    let severity = s(7)?;
    let status = s(9)?;
    Ok(DefectRecord {
        id: parse_uuid(&s(0)?)?,
        defect_id: parse_uuid(&s(1)?)?,
        job_id: parse_uuid(&s(2)?)?,
        reported_by: parse_uuid(&s(3)?)?,
        reported_at: parse_ts(&s(4)?)?,
        checkpoint: o(5)?,
        category: s(6)?,
        severity: serde_json::from_value(serde_json::Value::String(severity.clone()))
            .map_err(|_| StoreError::Corrupt(format!("defect severity {severity:?}")))?,
        description: s(8)?,
        status: DefectStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("defect status {status:?}")))?,
        repair_job_id: o(10)?.as_deref().map(parse_uuid).transpose()?,
        status_note: o(11)?,
        status_by: o(12)?.as_deref().map(parse_uuid).transpose()?,
        status_at: o(13)?.as_deref().map(parse_ts).transpose()?,
    })
}

/// The defect (`lock`: its row locked until the transaction ends), or `NotFound`.
fn load_defect(c: &mut impl GenericClient, id: Uuid, lock: bool) -> StoreResult<DefectRecord> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    c.query_opt(
        &format!("SELECT {DEFECT_COLS} FROM defects WHERE event_id = $1{lock}"),
        &[&id.to_string()],
    )?
    .as_ref()
    .map(parse_defect)
    .transpose()?
    .ok_or_else(|| StoreError::not_found(format!("defect {id}")))
}

impl PatrolStore for PgStore {
    fn create_plan(&self, plan: PatrolPlan) -> StoreResult<PatrolPlan> {
        self.write(|tx| {
            // A retry starts again from what the caller gave.
            let plan = plan.clone();
            require_route(tx, plan.route_id)?;
            for s in &plan.shifts {
                require_user(tx, s.assignee)?;
            }
            insert_plan(tx, &plan)?;
            Ok(plan)
        })
    }

    fn revise_plan(
        &self,
        id: Uuid,
        plan: PatrolPlan,
        now: DateTime<Utc>,
    ) -> StoreResult<PatrolPlan> {
        self.write(|tx| {
            // A retry starts again from what the caller gave.
            let mut plan = plan.clone();
            // Locked: a second edit waits and then finds the plan retired; a round being opened
            // from it finishes first or sees the retirement.
            let mut old = select_plans(tx, "WHERE id = $1 FOR UPDATE", &[&id.to_string()])?
                .pop()
                .ok_or_else(|| StoreError::not_found(format!("patrol plan {id}")))?;
            if old.retired_at.is_some() {
                return Err(StoreError::Conflict {
                    code: ErrorCode::InvalidValue,
                    message: "the plan was edited already; edit its newest version".into(),
                });
            }
            require_route(tx, plan.route_id)?;
            for s in &plan.shifts {
                require_user(tx, s.assignee)?;
            }
            old.retired_at = Some(now);
            tx.execute(
                "UPDATE patrol_plans SET body = $2 WHERE id = $1",
                &[&id.to_string(), &to_json(&old)],
            )?;
            plan.replaces = Some(id);
            plan.created_at = now;
            insert_plan(tx, &plan)?;
            // Rounds already put on phones for shifts the old plan no longer runs, in job-id order
            // (the order every writer locks jobs in).
            let ahead: Vec<String> = tx
                .query(
                    "SELECT job_id FROM patrol_rounds WHERE plan_id = $1 AND shift_start >= $2
                     ORDER BY job_id",
                    &[&id.to_string(), &ts(now)],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            for job in ahead {
                let job_id = parse_uuid(&job)?;
                let job = job_change(tx, job_id, now, |job| {
                    let open = job.status == JobStatus::Open;
                    if open {
                        job.status = JobStatus::Cancelled;
                    }
                    Ok(open)
                })?;
                if job.status == JobStatus::Cancelled {
                    tx.execute(
                        "UPDATE jobs SET cancel_reason = COALESCE(cancel_reason, $2) WHERE id = $1",
                        &[&job_id.to_string(), &"patrol plan edited"],
                    )?;
                }
            }
            Ok(plan)
        })
    }

    fn plans(&self) -> StoreResult<Vec<PatrolPlan>> {
        select_plans(&mut *self.conn()?, "ORDER BY created_at, id", &[])
    }

    fn plan(&self, id: Uuid) -> StoreResult<Option<PatrolPlan>> {
        Ok(select_plans(&mut *self.conn()?, "WHERE id = $1", &[&id.to_string()])?.pop())
    }

    fn open_round(
        &self,
        plan_id: Uuid,
        shift_start: DateTime<Utc>,
        job: Job,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        self.write(|tx| {
            // A retry starts again from what the caller gave.
            let job = job.clone();
            // The plan's row is locked from here: a racing run (or office) waits, then finds the
            // round; an edit that retired the plan meanwhile is seen.
            let plan =
                select_plans(tx, "WHERE id = $1 FOR UPDATE", &[&plan_id.to_string()])?.pop();
            // A run that read the plan before an edit retired it opens nothing the edit withdrew.
            if plan.is_none_or(|p| p.retired_at.is_some_and(|r| shift_start >= r)) {
                return Ok(None);
            }
            if tx
                .query_opt(
                    "SELECT 1 FROM patrol_rounds WHERE plan_id = $1 AND shift_start = $2",
                    &[&plan_id.to_string(), &ts(shift_start)],
                )?
                .is_some()
            {
                return Ok(None);
            }
            let job = insert_job(tx, job, now)?;
            tx.execute(
                "INSERT INTO patrol_rounds (plan_id, shift_start, job_id, created_at) VALUES ($1, $2, $3, $4)",
                &[
                    &plan_id.to_string(),
                    &ts(shift_start),
                    &job.id.to_string(),
                    &ts(now),
                ],
            )?;
            Ok(Some(job))
        })
    }

    fn plan_rounds(&self, plan_id: Uuid) -> StoreResult<Vec<PlannedRound>> {
        self.conn()?
            .query(
                "SELECT shift_start, job_id FROM patrol_rounds WHERE plan_id = $1
                 ORDER BY shift_start",
                &[&plan_id.to_string()],
            )?
            .iter()
            .map(|r| {
                Ok(PlannedRound {
                    shift_start: parse_ts(r.try_get(0)?)?,
                    job_id: parse_uuid(r.try_get(1)?)?,
                })
            })
            .collect()
    }

    fn import_defects(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(|tx| {
            let fresh = select_events(
                tx,
                "WHERE e.kind = 'defect_reported' AND e.status = 'accepted'
                   AND NOT EXISTS (SELECT 1 FROM defects x WHERE x.event_id = e.id)
                 ORDER BY e.received_at, e.rowid",
                &[],
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
                // Another office importing at once: its row wins, this one counts nothing.
                added += tx.execute(
                    "INSERT INTO defects (event_id, defect_id, job_id, reported_by,
                         reported_at, checkpoint, category, severity, description, imported_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                    &[
                        &u.id.to_string(),
                        &defect_id.to_string(),
                        &u.job_id.to_string(),
                        &e.user_id.to_string(),
                        &ts(corrected(e)),
                        &checkpoint,
                        &category,
                        &severity,
                        &description,
                        &ts(now),
                    ],
                )?;
            }
            Ok(added)
        })
    }

    fn defects(&self) -> StoreResult<Vec<DefectRecord>> {
        self.conn()?
            .query(
                &format!("SELECT {DEFECT_COLS} FROM defects ORDER BY reported_at DESC, event_id"),
                &[],
            )?
            .iter()
            .map(parse_defect)
            .collect()
    }

    fn defect(&self, id: Uuid) -> StoreResult<Option<DefectRecord>> {
        match load_defect(&mut *self.conn()?, id, false) {
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
        self.write(|tx| {
            let d = load_defect(tx, id, true)?;
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
                "UPDATE defects SET status = $2, status_note = $3, status_by = $4, status_at = $5
                 WHERE event_id = $1",
                &[
                    &id.to_string(),
                    &change.status.as_str(),
                    &change.note,
                    &change.by.map(|b| b.to_string()),
                    &ts(now),
                ],
            )?;
            let d = load_defect(tx, id, false)?;
            Ok(d)
        })
    }

    fn open_repair(
        &self,
        id: Uuid,
        job: Job,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<(DefectRecord, bool)> {
        self.write(|tx| {
            // A retry starts again from what the caller gave.
            let job = job.clone();
            // Locked: a second dispatcher's click waits, then finds the repair job.
            let d = load_defect(tx, id, true)?;
            if d.repair_job_id.is_some() {
                return Ok((d, false));
            }
            if let Some(a) = job.assignee {
                require_user(tx, a)?;
            }
            let job = insert_job(tx, job, now)?;
            tx.execute(
                "UPDATE defects SET status = 'repair_ordered', repair_job_id = $2, status_by = $3,
                     status_at = $4, status_note = NULL
                 WHERE event_id = $1 AND repair_job_id IS NULL",
                &[
                    &id.to_string(),
                    &job.id.to_string(),
                    &by.to_string(),
                    &ts(now),
                ],
            )?;
            let d = load_defect(tx, id, false)?;
            Ok((d, true))
        })
    }
}
