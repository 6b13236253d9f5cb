//! Patrol plans, the compliance grid and the defects register (`crate::patrols`), office staff
//! only: `GET|POST /console/patrol-plans`, `PUT /console/patrol-plans/{id}` (an edit: the plan is
//! retired and its revision takes over from now), `GET /console/patrol-grid?plan=&from=&days=&resolution=`,
//! `GET /console/defects?status=`, `POST /console/defects/{id}/repair` (a repair job from a defect
//! in one action), `POST /console/defects/{id}/status`.

use crate::OfficeState;
use crate::api::extract::{ApiJson, Auth, Staff, blocking};
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::notices::register::PersonRef;
use crate::patrols::defects::{DefectRecord, DefectStatus, StatusChange, repair_job};
use crate::patrols::grid::{GridResolution, PatrolGrid, patrol_grid};
use crate::patrols::{NewPlan, PatrolPlan};
use crate::store::StoreError;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use heatcrew_protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(revise_plan))
        .routes(routes!(grid))
        .routes(routes!(list_defects))
        .routes(routes!(order_repair))
        .routes(routes!(set_status))
}

/// Every patrol plan.
#[utoipa::path(get, path = "/api/v1/console/patrol-plans", tag = "console",
    responses((status = 200, body = Vec<PatrolPlan>),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn list_plans(
    State(state): State<OfficeState>,
    _staff: Staff,
) -> ApiResult<Json<Vec<PatrolPlan>>> {
    Ok(Json(blocking(&state, |s| s.plans()).await?))
}

/// Put a route on a recurring schedule. Its rounds are opened by the office's periodic task for
/// shifts starting after now.
#[utoipa::path(post, path = "/api/v1/console/patrol-plans", tag = "console", request_body = NewPlan,
    responses((status = 200, body = PatrolPlan), (status = 404, body = ErrorBodySchema, description = "unknown route"),
        (status = 422, body = ErrorBodySchema, description = "invalid_value, unknown_user"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn create_plan(
    State(state): State<OfficeState>,
    Staff(auth): Staff,
    ApiJson(req): ApiJson<NewPlan>,
) -> ApiResult<Json<PatrolPlan>> {
    let now = state.now();
    let plan = blocking(&state, move |s| {
        let route = s
            .route(req.route_id)?
            .ok_or_else(|| StoreError::not_found(format!("route {}", req.route_id)))?;
        s.create_plan(req.validate(&route, now)?)
    })
    .await?;
    audit_plan(&state, &auth, &plan).await?;
    Ok(Json(plan))
}

/// Edit a plan. The days before keep the schedule they ran on: the plan is retired now and the
/// answer, a new plan (`replaces` = this one), runs from now; rounds the old plan had opened for
/// shifts not yet begun are cancelled (the new plan opens its own). Editing a retired plan: 409.
#[utoipa::path(put, path = "/api/v1/console/patrol-plans/{id}", tag = "console",
    params(("id" = Uuid, Path)), request_body = NewPlan,
    responses((status = 200, body = PatrolPlan),
        (status = 404, body = ErrorBodySchema, description = "unknown plan or route"),
        (status = 409, body = ErrorBodySchema, description = "the plan was edited already"),
        (status = 422, body = ErrorBodySchema, description = "invalid_value, unknown_user"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn revise_plan(
    State(state): State<OfficeState>,
    Staff(auth): Staff,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<NewPlan>,
) -> ApiResult<Json<PatrolPlan>> {
    let now = state.now();
    let plan = blocking(&state, move |s| {
        let route = s
            .route(req.route_id)?
            .ok_or_else(|| StoreError::not_found(format!("route {}", req.route_id)))?;
        s.revise_plan(id, req.validate(&route, now)?, now)
    })
    .await?;
    audit_plan(&state, &auth, &plan).await?;
    Ok(Json(plan))
}

/// Who set `plan` in force, and the schedule it runs (a round made less frequent is
/// answerable).
async fn audit_plan(state: &OfficeState, auth: &Auth, plan: &PatrolPlan) -> ApiResult<()> {
    audit::record(
        state,
        NewAudit::by(auth, AuditKind::PatrolPlanChanged)
            .subject(plan.id)
            .detail(json!({
                "name": plan.name,
                "route": plan.route_id,
                "replaces": plan.replaces,
                "shifts": plan.shifts,
                "intervals": plan.intervals,
            })),
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct GridQuery {
    pub plan: Uuid,
    /// First local day, `YYYY-MM-DD` (default: 6 days before today, so a week ending today).
    pub from: Option<NaiveDate>,
    /// 1 to 31 (default 7); hour resolution shows one day.
    pub days: Option<u32>,
    pub resolution: Option<GridResolution>,
}

/// A plan's compliance grid: checkpoint × day (or hour), each round on time, late, missed or
/// pending, with flagged readings.
#[utoipa::path(get, path = "/api/v1/console/patrol-grid", tag = "console", params(GridQuery),
    responses((status = 200, body = PatrolGrid), (status = 404, body = ErrorBodySchema),
        (status = 400, body = ErrorBodySchema, description = "bad_request"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn grid(
    State(state): State<OfficeState>,
    _staff: Staff,
    Query(q): Query<GridQuery>,
) -> ApiResult<Json<PatrolGrid>> {
    let days = q.days.unwrap_or(7);
    if !(1..=31).contains(&days) {
        return Err(ApiError::bad_request(
            ErrorCode::BadRequest,
            "days: 1 to 31",
        ));
    }
    let now = state.now();
    let grid = blocking(&state, move |s| {
        let plan = s
            .plan(q.plan)?
            .ok_or_else(|| StoreError::not_found(format!("patrol plan {}", q.plan)))?;
        let route = s
            .route(plan.route_id)?
            .ok_or_else(|| StoreError::not_found(format!("route {}", plan.route_id)))?;
        let today = now.with_timezone(&plan.tz()).date_naive();
        let resolution = q.resolution.unwrap_or_default();
        let from = q.from.unwrap_or(match resolution {
            GridResolution::Day => today - chrono::Duration::days(i64::from(days) - 1),
            GridResolution::Hour => today,
        });
        patrol_grid(s, plan, &route, from, days, resolution, now)
    })
    .await?;
    Ok(Json(grid))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DefectQuery {
    pub status: Option<DefectStatus>,
}

/// A defect with who reported it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DefectView {
    #[serde(flatten)]
    pub defect: DefectRecord,
    pub reported_by_person: Option<PersonRef>,
    /// The checkpoint's name on the round (when the defect names one).
    pub checkpoint_name: Option<String>,
}

/// The defects register, newest first (newly pushed defects are brought in first).
#[utoipa::path(get, path = "/api/v1/console/defects", tag = "console", params(DefectQuery),
    responses((status = 200, body = Vec<DefectView>),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn list_defects(
    State(state): State<OfficeState>,
    _staff: Staff,
    Query(q): Query<DefectQuery>,
) -> ApiResult<Json<Vec<DefectView>>> {
    let now = state.now();
    let list = blocking(&state, move |s| {
        s.import_defects(now)?;
        let users: HashMap<Uuid, PersonRef> = s
            .list_users()?
            .into_iter()
            .map(|u| {
                let p = PersonRef {
                    id: u.id,
                    name: u.display_name,
                    badge_no: u.badge_no,
                };
                (u.id, p)
            })
            .collect();
        let mut out = Vec::new();
        for d in s.defects()? {
            if q.status.is_some_and(|st| st != d.status) {
                continue;
            }
            let checkpoint_name = match &d.checkpoint {
                Some(cp) => s.job(d.job_id)?.and_then(|j| {
                    j.job
                        .checkpoints
                        .into_iter()
                        .find(|c| &c.id == cp)
                        .map(|c| c.name)
                }),
                None => None,
            };
            out.push(DefectView {
                reported_by_person: users.get(&d.reported_by).cloned(),
                checkpoint_name,
                defect: d,
            });
        }
        Ok(out)
    })
    .await?;
    Ok(Json(list))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RepairRequest {
    /// Who repairs; none: dispatch assigns it from the board.
    #[serde(default)]
    pub assignee: Option<Uuid>,
}

/// The repair ordered for a defect.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RepairOrdered {
    pub defect: DefectRecord,
    pub job_id: Uuid,
    /// False when the defect already had its repair job (that one is answered).
    pub created: bool,
}

/// Create the repair job of a defect in one action (an emergency repair at its place) and mark it
/// `repair_ordered`. Once only: asking again answers the existing job.
#[utoipa::path(post, path = "/api/v1/console/defects/{id}/repair", tag = "console",
    params(("id" = Uuid, Path)), request_body = RepairRequest,
    responses((status = 200, body = RepairOrdered), (status = 404, body = ErrorBodySchema),
        (status = 422, body = ErrorBodySchema, description = "unknown_user"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn order_repair(
    State(state): State<OfficeState>,
    Staff(auth): Staff,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<RepairRequest>,
) -> ApiResult<Json<RepairOrdered>> {
    let (now, by) = (state.now(), auth.user.id);
    let assignee = req.assignee;
    let answer = blocking(&state, move |s| {
        let d = s
            .defect(id)?
            .ok_or_else(|| StoreError::not_found(format!("defect {id}")))?;
        if d.status == DefectStatus::Dismissed {
            return Err(StoreError::Conflict {
                code: ErrorCode::InvalidValue,
                message: "the defect was dismissed; open it again first".into(),
            });
        }
        let round = s.job(d.job_id)?.map(|r| r.job);
        let job = repair_job(&d, round.as_ref(), req.assignee, now);
        let (defect, created) = s.open_repair(id, job, by, now)?;
        let job_id = defect
            .repair_job_id
            .ok_or_else(|| StoreError::Corrupt(format!("defect {id} has no repair job")))?;
        Ok(RepairOrdered {
            defect,
            job_id,
            created,
        })
    })
    .await?;
    if answer.created {
        // A work order opened by office staff, like one taken by phone: on the job's page.
        audit::record(
            &state,
            NewAudit::by(&auth, AuditKind::JobCreated)
                .subject(answer.job_id)
                .detail(json!({"kind": "emergency_repair", "assignee": assignee, "defect": id})),
        )
        .await?;
    }
    Ok(Json(answer))
}

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DefectStatusRequest {
    /// `open`, `fixed` or `dismissed` (a repair is ordered with `/repair`).
    pub status: DefectStatus,
    /// Required to dismiss; at most 2,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// Set a defect's status by hand: fixed, dismissed (with a note), or open again.
#[utoipa::path(post, path = "/api/v1/console/defects/{id}/status", tag = "console",
    params(("id" = Uuid, Path)), request_body = DefectStatusRequest,
    responses((status = 200, body = DefectRecord), (status = 404, body = ErrorBodySchema),
        (status = 422, body = ErrorBodySchema, description = "invalid_value"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn set_status(
    State(state): State<OfficeState>,
    Staff(auth): Staff,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<DefectStatusRequest>,
) -> ApiResult<Json<DefectRecord>> {
    let note = req
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| {
        n.chars().count() > super::notices::MAX_NOTE_CHARS
            || n.chars().any(|c| c.is_control() && c != '\n')
    }) {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            "note: at most 2000 characters, no control characters",
        ));
    }
    if req.status == DefectStatus::Dismissed && note.is_none() {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            "note: say why the defect is dismissed",
        ));
    }
    let (now, by) = (state.now(), auth.user.id);
    let detail = json!({"status": req.status, "note": note});
    let d = blocking(&state, move |s| {
        s.set_defect_status(
            id,
            StatusChange {
                status: req.status,
                note,
                by: Some(by),
            },
            now,
        )
    })
    .await?;
    // The register keeps the latest status only; the audit log keeps every change and who made it.
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::DefectStatusChanged)
            .subject(id)
            .detail(detail),
    )
    .await?;
    Ok(Json(d))
}
