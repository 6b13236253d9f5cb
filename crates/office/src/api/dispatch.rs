//! The dispatch API for office staff: work orders from phone reports, appointment windows,
//! (re)assignment, cancellation, patrol routes, outage notices, users and crews, job read-back and
//! the summary report.

use super::{ApiJson, Auth, STAFF, blocking};
use crate::OfficeState;
use crate::error::{ApiError, ApiResult};
use crate::readback::{self, JobDetail};
use crate::reports::{self, Summary};
use crate::store::{Crew, DeviceRecord, NewUser, Route, StoreError};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use heatcrew_protocol::sync::{Role, UserInfo};
use heatcrew_protocol::{
    AppointmentWindow, Checkpoint, Customer, Job, JobKind, JobStatus, OutageNotice, TemplateRef,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The checklist template each job kind follows (templates are versioned data in heatcrew-core).
pub fn template_for(kind: JobKind) -> TemplateRef {
    TemplateRef {
        id: kind.as_str().to_owned(),
        version: 1,
    }
}

/// A work order, typically from a phone report (客户电话报修: name, phone, address, fault, time).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateJobRequest {
    /// A client-chosen job id makes the call idempotent: repeating it (a retry after a lost
    /// response) returns the job already created instead of a second one.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// `home_repair` (default), `heat_theft_inspection`, `patrol_round`, `acceptance_inspection`, `emergency_repair`.
    #[serde(default = "default_kind")]
    #[schema(value_type = String)]
    pub kind: JobKind,
    /// The fault as reported, e.g. 暖气不热; becomes the job title.
    pub fault: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub customer: Option<Customer>,
    #[serde(default)]
    pub site: Option<String>,
    /// When the customer called; the 4-hour clock runs from here. Defaults to now for repairs.
    #[serde(default)]
    pub reported_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
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
    #[schema(value_type = Vec<Object>)]
    pub checkpoints: Vec<Checkpoint>,
}

fn default_kind() -> JobKind {
    JobKind::HomeRepair
}

fn invalid(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn check_window(w: &AppointmentWindow) -> ApiResult<()> {
    if w.end <= w.start {
        return Err(invalid(
            "bad_window",
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
        return Err(invalid(
            "missing_fault",
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
        return Err(invalid(
            "missing_customer",
            "a home visit needs the customer's name and address",
        ));
    }
    let checkpoints = match route {
        Some(r) => r.checkpoints,
        None => req.checkpoints,
    };
    if req.kind == JobKind::PatrolRound && checkpoints.is_empty() {
        return Err(invalid(
            "missing_checkpoints",
            "a patrol round needs a route_id or checkpoints",
        ));
    }
    let repair = matches!(req.kind, JobKind::HomeRepair | JobKind::EmergencyRepair);
    Ok(Job {
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
        revision: 1,
    })
}

#[utoipa::path(post, path = "/api/v1/jobs", tag = "dispatch", request_body = CreateJobRequest,
    responses((status = 200, body = Object, description = "the Job as dispatched"), (status = 422, body = crate::api::openapi::ErrorBodySchema)))]
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
    let job = job_from_request(req, route, Utc::now())?;
    let wanted = job.clone();
    let created = blocking(&state, move |s| {
        match s.create_job(job, Utc::now()) {
            Err(StoreError::Conflict {
                code: "job_exists", ..
            }) => {
                // Same id again: a retry if it describes the same work order, else a clash.
                let existing = s.job(wanted.id)?.map(|r| r.job);
                match existing {
                    Some(j)
                        if j.kind == wanted.kind
                            && j.title == wanted.title
                            && j.customer == wanted.customer =>
                    {
                        Ok(j)
                    }
                    _ => Err(StoreError::Conflict {
                        code: "job_exists",
                        message: format!("another job already has id {}", wanted.id),
                    }),
                }
            }
            other => other,
        }
    })
    .await?;
    tracing::info!(job = %created.id, kind = created.kind.as_str(), "job created");
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
    responses((status = 200, body = JobDetail), (status = 404, body = crate::api::openapi::ErrorBodySchema)))]
pub async fn job_detail(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<JobDetail>> {
    auth.require(STAFF)?;
    let detail = blocking(&state, move |s| {
        let rec = s
            .job(id)?
            .ok_or_else(|| crate::store::StoreError::not_found(format!("job {id}")))?;
        readback::job_detail(s, rec, Utc::now())
    })
    .await?;
    Ok(Json(detail))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssignRequest {
    pub assignee: Uuid,
}

/// Assign, or reassign: the previous assignee's devices get a `job_revoked` change.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/assign", tag = "dispatch", params(("id" = Uuid, Path)), request_body = AssignRequest,
    responses((status = 200, body = Object, description = "Job"), (status = 422, body = crate::api::openapi::ErrorBodySchema)))]
pub async fn assign_job(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<Job>> {
    auth.require(STAFF)?;
    Ok(Json(
        blocking(&state, move |s| s.assign_job(id, req.assignee, Utc::now())).await?,
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
    Ok(Json(
        blocking(&state, move |s| s.schedule_job(id, w, Utc::now())).await?,
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
    Ok(Json(
        blocking(&state, move |s| s.cancel_job(id, &req.reason, Utc::now())).await?,
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateRouteRequest {
    pub name: String,
    pub area: String,
    /// Head station, substations, pipeline segments, with the readings to take.
    #[schema(value_type = Vec<Object>)]
    pub checkpoints: Vec<Checkpoint>,
}

#[utoipa::path(post, path = "/api/v1/routes", tag = "dispatch", request_body = CreateRouteRequest, responses((status = 200, body = Route)))]
pub async fn create_route(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateRouteRequest>,
) -> ApiResult<Json<Route>> {
    auth.require(STAFF)?;
    if req.checkpoints.is_empty() {
        return Err(invalid(
            "missing_checkpoints",
            "a route needs at least one checkpoint",
        ));
    }
    let route = Route {
        id: Uuid::now_v7(),
        name: req.name,
        area: req.area,
        checkpoints: req.checkpoints,
    };
    Ok(Json(
        blocking(&state, move |s| s.create_route(route, Utc::now())).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/routes", tag = "dispatch", responses((status = 200, body = Vec<Route>)))]
pub async fn list_routes(
    State(state): State<OfficeState>,
    auth: Auth,
) -> ApiResult<Json<Vec<Route>>> {
    auth.require(STAFF)?;
    Ok(Json(blocking(&state, |s| s.list_routes()).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateOutageRequest {
    pub area: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    /// 预计恢复供热时间.
    pub expected_restore_at: DateTime<Utc>,
}

/// Publish an outage notice; every device receives it on its next pull.
#[utoipa::path(post, path = "/api/v1/outages", tag = "dispatch", request_body = CreateOutageRequest,
    responses((status = 200, body = Object, description = "OutageNotice")))]
pub async fn create_outage(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateOutageRequest>,
) -> ApiResult<Json<OutageNotice>> {
    auth.require(STAFF)?;
    if req.expected_restore_at <= req.starts_at {
        return Err(invalid(
            "bad_window",
            "restoration must be expected after the outage starts",
        ));
    }
    let notice = OutageNotice {
        id: Uuid::now_v7(),
        area: req.area,
        reason: req.reason,
        starts_at: req.starts_at,
        expected_restore_at: req.expected_restore_at,
    };
    Ok(Json(
        blocking(&state, move |s| s.upsert_outage(notice, Utc::now())).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/outages/{id}/clear", tag = "dispatch", params(("id" = Uuid, Path)), responses((status = 204)))]
pub async fn clear_outage(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::http::StatusCode> {
    auth.require(STAFF)?;
    blocking(&state, move |s| s.clear_outage(id, Utc::now())).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Active outage notices (any signed-in user: crews at the door should know them).
#[utoipa::path(get, path = "/api/v1/outages", tag = "dispatch", responses((status = 200, body = Vec<Object>, description = "OutageNotice list")))]
pub async fn list_outages(
    State(state): State<OfficeState>,
    _auth: Auth,
) -> ApiResult<Json<Vec<OutageNotice>>> {
    Ok(Json(blocking(&state, |s| s.list_outages()).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    /// `repair_technician`, `inspector`, `patrol`, `dispatcher`, `admin`.
    #[schema(value_type = String)]
    pub role: Role,
    pub display_name: String,
    /// Service badge number (统一编号的服务证).
    #[serde(default)]
    pub badge_no: String,
}

/// Create a user (admin only).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = CreateUserRequest,
    responses((status = 200, body = Object, description = "UserInfo"), (status = 409, body = crate::api::openapi::ErrorBodySchema, description = "username_taken")))]
pub async fn create_user(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<Json<UserInfo>> {
    auth.require(&[Role::Admin])?;
    let password = req.password.clone();
    let user = new_user(req).await?;
    let (username, role, display_name) =
        (user.username.clone(), user.role, user.display_name.clone());
    match blocking(&state, move |s| s.add_user(user, Utc::now())).await {
        Err(e) if e.body.code == "username_taken" => {
            // A retry after a lost response creates nothing new: the same username, role, name
            // and password is the same request; anything else is a clash.
            let existing = blocking(&state, move |s| s.user_by_username(&username)).await?;
            if let Some(u) = existing
                && u.info.role == role
                && u.info.display_name == display_name
                && super::auth::with_argon2(move || {
                    super::auth::verify_password(&password, &u.password_hash)
                })
                .await?
            {
                return Ok(Json(u.info));
            }
            Err(e)
        }
        other => Ok(Json(other?)),
    }
}

/// Validate and hash (shared with `heatcrew-office user add`).
pub async fn new_user(req: CreateUserRequest) -> ApiResult<NewUser> {
    let username = req.username.trim().to_owned();
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        return Err(invalid(
            "bad_username",
            "a username is one word without spaces",
        ));
    }
    if req.password.chars().count() < 8 {
        return Err(invalid(
            "weak_password",
            "a password needs at least 8 characters",
        ));
    }
    let password = req.password;
    let password_hash = super::auth::with_argon2(move || super::auth::hash_password(&password))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(NewUser {
        username,
        password_hash,
        display_name: req.display_name,
        role: req.role,
        badge_no: req.badge_no,
    })
}

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Vec<Object>, description = "UserInfo list")))]
pub async fn list_users(
    State(state): State<OfficeState>,
    auth: Auth,
) -> ApiResult<Json<Vec<UserInfo>>> {
    auth.require(STAFF)?;
    Ok(Json(blocking(&state, |s| s.list_users()).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateCrewRequest {
    pub name: String,
    #[serde(default)]
    pub members: Vec<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/crews", tag = "admin", request_body = CreateCrewRequest, responses((status = 200, body = Crew)))]
pub async fn create_crew(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateCrewRequest>,
) -> ApiResult<Json<Crew>> {
    auth.require(&[Role::Admin])?;
    Ok(Json(
        blocking(&state, move |s| {
            s.add_crew(&req.name, &req.members, Utc::now())
        })
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/crews", tag = "admin", responses((status = 200, body = Vec<Crew>)))]
pub async fn list_crews(
    State(state): State<OfficeState>,
    auth: Auth,
) -> ApiResult<Json<Vec<Crew>>> {
    auth.require(STAFF)?;
    Ok(Json(blocking(&state, |s| s.list_crews()).await?))
}

/// Enrolled devices with their ledger position and clock offset.
#[utoipa::path(get, path = "/api/v1/devices", tag = "admin", responses((status = 200, body = Vec<DeviceRecord>)))]
pub async fn list_devices(
    State(state): State<OfficeState>,
    auth: Auth,
) -> ApiResult<Json<Vec<DeviceRecord>>> {
    auth.require(STAFF)?;
    Ok(Json(blocking(&state, |s| s.list_devices()).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevokedSessions {
    pub revoked: u64,
}

/// Revoke every session of a device (a lost phone). Its records already pushed stay.
#[utoipa::path(post, path = "/api/v1/devices/{id}/revoke", tag = "admin", params(("id" = Uuid, Path)), responses((status = 200, body = RevokedSessions)))]
pub async fn revoke_device(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<RevokedSessions>> {
    auth.require(&[Role::Admin])?;
    let revoked = blocking(&state, move |s| s.revoke_device_sessions(id, Utc::now())).await?;
    Ok(Json(RevokedSessions { revoked }))
}

#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", responses((status = 200, body = Summary)))]
pub async fn summary(State(state): State<OfficeState>, auth: Auth) -> ApiResult<Json<Summary>> {
    auth.require(STAFF)?;
    Ok(Json(
        blocking(&state, |s| reports::summary(s, Utc::now())).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventPage {
    /// Events with `device_seq` above this (0 for the first page).
    #[serde(default)]
    pub after: u64,
    /// At most this many (default and maximum 1000).
    pub limit: Option<u32>,
}

/// A device's ledger as the office holds it, in `device_seq` order: accepted and content-refused
/// events alike (both are links of the signed chain), exactly as signed.
#[utoipa::path(get, path = "/api/v1/devices/{id}/events", tag = "admin", params(("id" = Uuid, Path), EventPage),
    responses((status = 200, body = Vec<Object>, description = "heatcrew_protocol::Event list")))]
pub async fn device_events(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Query(page): Query<EventPage>,
) -> ApiResult<Json<Vec<heatcrew_protocol::Event>>> {
    auth.require(STAFF)?;
    let limit = page.limit.unwrap_or(1000).clamp(1, 1000);
    let events = blocking(&state, move |s| {
        s.device_events_after(id, page.after, limit)
    })
    .await?;
    Ok(Json(events.into_iter().map(|e| e.event).collect()))
}
