//! The heating network as dispatch sees it (OpenAPI tag `dispatch`): patrol routes (the checkpoints
//! a patrol round visits) and outage notices, which every device receives on its next pull; the
//! stations' codes (`GET /checkpoint-codes`, staff) to print the plates patrols confirm presence with.

use super::extract::{ApiJson, Auth, STAFF, blocking};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult};
use crate::store::{CheckpointCode, Route};
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::{Checkpoint, OutageNotice};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(list_routes, create_route))
        .routes(routes!(list_outages, create_outage))
        .routes(routes!(clear_outage))
        .routes(routes!(checkpoint_codes))
}

/// The code posted at each patrol station, to print the plates a patrol scans or types (staff).
#[utoipa::path(get, path = "/api/v1/checkpoint-codes", tag = "dispatch", responses((status = 200, body = Vec<CheckpointCode>)))]
pub async fn checkpoint_codes(
    State(state): State<OfficeState>,
    auth: Auth,
) -> ApiResult<Json<Vec<CheckpointCode>>> {
    auth.require(STAFF)?;
    Ok(Json(blocking(&state, |s| s.checkpoint_codes()).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateRouteRequest {
    pub name: String,
    pub area: String,
    /// Head station, substations, pipeline segments, with the readings to take.
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
        return Err(ApiError::invalid(
            ErrorCode::MissingCheckpoints,
            "a route needs at least one checkpoint",
        ));
    }
    let route = Route {
        id: Uuid::now_v7(),
        name: req.name,
        area: req.area,
        checkpoints: req.checkpoints,
    };
    let now = state.now();
    Ok(Json(
        blocking(&state, move |s| s.create_route(route, now)).await?,
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

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
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
        return Err(ApiError::invalid(
            ErrorCode::BadWindow,
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
    let now = state.now();
    let stored = blocking(&state, move |s| s.upsert_outage(notice, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::OutagePublished)
            .subject(stored.id)
            .detail(
                serde_json::json!({"area": stored.area, "reason": stored.reason,
                "starts_at": stored.starts_at, "expected_restore_at": stored.expected_restore_at}),
            ),
    )
    .await?;
    Ok(Json(stored))
}

#[utoipa::path(post, path = "/api/v1/outages/{id}/clear", tag = "dispatch", params(("id" = Uuid, Path)), responses((status = 204)))]
pub async fn clear_outage(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::http::StatusCode> {
    auth.require(STAFF)?;
    let now = state.now();
    blocking(&state, move |s| s.clear_outage(id, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::OutageCleared).subject(id),
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Active outage notices (any signed-in user: crews at the door should know them).
#[utoipa::path(get, path = "/api/v1/outages", tag = "dispatch", security(("device" = []), ("staff" = [])), responses((status = 200, body = Vec<Object>, description = "OutageNotice list")))]
pub async fn list_outages(
    State(state): State<OfficeState>,
    _auth: Auth,
) -> ApiResult<Json<Vec<OutageNotice>>> {
    Ok(Json(blocking(&state, |s| s.list_outages()).await?))
}
