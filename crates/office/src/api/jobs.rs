//! Work orders for office staff (OpenAPI tag `dispatch`): created from phone reports, scheduled into
//! appointment windows, (re)assigned, cancelled, and read back with what the crew recorded.

use super::extract::{ApiJson, Auth, STAFF, blocking};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::readback::{self, JobDetail};
use crate::store::{Route, StoreError};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use heatcrew_protocol::{
    AppointmentWindow, Checkpoint, Customer, Job, JobKind, JobStatus, TemplateRef,
};
use heatcrew_protocol::{ErrorCode, bounds};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(list_jobs, create_job))
        .routes(routes!(job_detail))
        .routes(routes!(assign_job))
        .routes(routes!(schedule_job))
        .routes(routes!(cancel_job))
}

/// The checklist template a new job of `kind` follows: the newest this build bundles
/// (`heatcrew_rules::template`, the same catalog the field app is built with). A job keeps the
/// version it was created with.
pub fn template_for(kind: JobKind) -> TemplateRef {
    heatcrew_rules::template::latest_for(kind).reference()
}

/// A work order, typically from a phone report (客户电话报修: name, phone, address, fault, time).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CreateJobRequest {
    /// A client-chosen job id makes the call idempotent: repeating it (a retry after a lost
    /// response) returns the job already created instead of a second one.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// `home_repair` (default), `heat_theft_inspection`, `patrol_round`, `acceptance_inspection`, `emergency_repair`.
    #[serde(default = "default_kind")]
    pub kind: JobKind,
    /// The fault as reported, e.g. 暖气不热; becomes the job title.
    pub fault: String,
    #[serde(default)]
    pub customer: Option<Customer>,
    #[serde(default)]
    pub site: Option<String>,
    /// When the customer called; the 4-hour clock runs from here. Defaults to now for repairs.
    #[serde(default)]
    pub reported_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub window: Option<AppointmentWindow>,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    #[serde(default)]
    pub street_work: bool,
    /// Patrol rounds: take the checkpoints from this route…
    #[serde(default)]
    pub route_id: Option<Uuid>,
    /// …or give them here.
    #[serde(default)]
    pub checkpoints: Vec<Checkpoint>,
}

fn default_kind() -> JobKind {
    JobKind::HomeRepair
}

fn out_of_range(r: heatcrew_protocol::bounds::OutOfRange) -> ApiError {
    ApiError::invalid(ErrorCode::OutOfRange, r.to_string())
}

fn check_window(w: &AppointmentWindow) -> ApiResult<()> {
    // The same bounds as every record (heatcrew_protocol::bounds): a window in year 262142 would
    // reach devices and every clock computed from it.
    bounds::check_time("window.start", w.start).map_err(out_of_range)?;
    bounds::check_time("window.end", w.end).map_err(out_of_range)?;
    if w.end <= w.start {
        return Err(ApiError::invalid(
            ErrorCode::BadWindow,
            "the appointment window must end after it starts",
        ));
    }
    Ok(())
}

/// Build the job a request describes (validation only; nothing stored).
pub fn job_from_request(
    req: CreateJobRequest,
    route: Option<Route>,
    now: DateTime<Utc>,
) -> ApiResult<Job> {
    if req.fault.trim().is_empty() {
        return Err(ApiError::invalid(
            ErrorCode::MissingFault,
            "say what the customer reported (fault)",
        ));
    }
    if let Some(w) = &req.window {
        check_window(w)?;
    }
    let needs_customer = matches!(req.kind, JobKind::HomeRepair | JobKind::HeatTheftInspection);
    if needs_customer
        && req
            .customer
            .as_ref()
            .is_none_or(|c| c.name.trim().is_empty() || c.address.trim().is_empty())
    {
        return Err(ApiError::invalid(
            ErrorCode::MissingCustomer,
            "a home visit needs the customer's name and address",
        ));
    }
    let checkpoints = match route {
        Some(r) => r.checkpoints,
        None => req.checkpoints,
    };
    if req.kind == JobKind::PatrolRound && checkpoints.is_empty() {
        return Err(ApiError::invalid(
            ErrorCode::MissingCheckpoints,
            "a patrol round needs a route_id or checkpoints",
        ));
    }
    let repair = matches!(req.kind, JobKind::HomeRepair | JobKind::EmergencyRepair);
    let job = Job {
        id: req.id.unwrap_or_else(Uuid::now_v7),
        kind: req.kind,
        template: template_for(req.kind),
        title: req.fault.trim().to_owned(),
        customer: req.customer,
        site: req.site,
        reported_at: req.reported_at.or(repair.then_some(now)),
        window: req.window,
        assignee: req.assignee,
        street_work: req.street_work,
        checkpoints,
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    };
    bounds::check_job(&job).map_err(out_of_range)?;
    bounds::check_json("job", &serde_json::to_value(&job).unwrap_or_default())
        .map_err(out_of_range)?;
    Ok(job)
}

#[utoipa::path(post, path = "/api/v1/jobs", tag = "dispatch", request_body = CreateJobRequest,
    responses((status = 200, body = Object, description = "the Job as dispatched"), (status = 422, body = ErrorBodySchema)))]
pub async fn create_job(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateJobRequest>,
) -> ApiResult<Json<Job>> {
    auth.require(STAFF)?;
    let route = match req.route_id {
        Some(id) => Some(
            blocking(&state, move |s| s.route(id))
                .await?
                .ok_or_else(|| ApiError::not_found(format!("route {id}")))?,
        ),
        None => None,
    };
    let now = state.now();
    let job = job_from_request(req, route, now)?;
    let wanted = job.clone();
    let (created, fresh) = blocking(&state, move |s| {
        match s.create_job(job, now).map(|j| (j, true)) {
            Err(StoreError::Conflict {
                code: ErrorCode::JobExists,
                ..
            }) => {
                // Same id again: a retry if it describes the same work order, else a clash.
                let existing = s.job(wanted.id)?.map(|r| r.job);
                match existing {
                    Some(j)
                        if j.kind == wanted.kind
                            && j.title == wanted.title
                            && j.customer == wanted.customer =>
                    {
                        Ok((j, false))
                    }
                    _ => Err(StoreError::Conflict {
                        code: ErrorCode::JobExists,
                        message: format!("another job already has id {}", wanted.id),
                    }),
                }
            }
            other => other,
        }
    })
    .await?;
    tracing::info!(job = %created.id, kind = created.kind.as_str(), "job created");
    if fresh {
        audit::record(
            &state,
            NewAudit::by(&auth, AuditKind::JobCreated)
                .subject(created.id)
                .detail(json!({"kind": created.kind.as_str(), "assignee": created.assignee})),
        )
        .await?;
    }
    state.live.job_changed(created.id);
    Ok(Json(created))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct JobFilter {
    /// Only jobs assigned to this user.
    pub assignee: Option<Uuid>,
    /// `open` or `cancelled`.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "dispatch", params(JobFilter), responses((status = 200, body = Vec<Object>, description = "Jobs")))]
pub async fn list_jobs(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(f): Query<JobFilter>,
) -> ApiResult<Json<Vec<Job>>> {
    auth.require(STAFF)?;
    let jobs = blocking(&state, |s| s.list_jobs()).await?;
    Ok(Json(
        jobs.into_iter()
            .map(|r| r.job)
            .filter(|j| f.assignee.is_none_or(|a| j.assignee == Some(a)))
            .filter(|j| match f.status.as_deref() {
                Some("open") => j.status == JobStatus::Open,
                Some("cancelled") => j.status == JobStatus::Cancelled,
                _ => true,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "dispatch", params(("id" = Uuid, Path)),
    responses((status = 200, body = JobDetail), (status = 404, body = ErrorBodySchema)))]
pub async fn job_detail(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<JobDetail>> {
    auth.require(STAFF)?;
    let now = state.now();
    let detail = blocking(&state, move |s| {
        let rec = s
            .job(id)?
            .ok_or_else(|| StoreError::not_found(format!("job {id}")))?;
        readback::job_detail(s, rec, now)
    })
    .await?;
    Ok(Json(detail))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AssignRequest {
    pub assignee: Uuid,
}

/// Assign, or reassign: the previous assignee's devices get a `job_revoked` change.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/assign", tag = "dispatch", params(("id" = Uuid, Path)), request_body = AssignRequest,
    responses((status = 200, body = Object, description = "Job"), (status = 422, body = ErrorBodySchema)))]
pub async fn assign_job(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<Job>> {
    auth.require(STAFF)?;
    let now = state.now();
    let job = blocking(&state, move |s| s.assign_job(id, req.assignee, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::JobAssigned)
            .subject(id)
            .detail(json!({"assignee": req.assignee})),
    )
    .await?;
    state.live.job_changed(job.id);
    Ok(Json(job))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ScheduleRequest {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Set the appointment window agreed with the customer (预约时间).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/schedule", tag = "dispatch", params(("id" = Uuid, Path)), request_body = ScheduleRequest,
    responses((status = 200, body = Object, description = "Job")))]
pub async fn schedule_job(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ScheduleRequest>,
) -> ApiResult<Json<Job>> {
    auth.require(STAFF)?;
    let w = AppointmentWindow {
        start: req.start,
        end: req.end,
    };
    check_window(&w)?;
    let now = state.now();
    let job = blocking(&state, move |s| s.schedule_job(id, w, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::JobScheduled)
            .subject(id)
            .detail(json!({"start": req.start, "end": req.end})),
    )
    .await?;
    state.live.job_changed(job.id);
    Ok(Json(job))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CancelRequest {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "dispatch", params(("id" = Uuid, Path)), request_body = CancelRequest,
    responses((status = 200, body = Object, description = "Job")))]
pub async fn cancel_job(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<CancelRequest>,
) -> ApiResult<Json<Job>> {
    auth.require(STAFF)?;
    let reason = req.reason.clone();
    let now = state.now();
    let job = blocking(&state, move |s| s.cancel_job(id, &req.reason, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::JobCancelled)
            .subject(id)
            .detail(json!({"reason": reason})),
    )
    .await?;
    state.live.job_changed(job.id);
    Ok(Json(job))
}
