//! Accounts and devices (OpenAPI tag `admin`): users and crews, enrolled devices, revoking a lost
//! phone, binding a device to another user or marking it a crew's shared phone, and a device's
//! ledger as signed. Staff read; only admins change, and each change goes to the audit log.

use super::auth::{hash_password, verify_password, with_argon2};
use super::extract::{ApiJson, Auth, STAFF, blocking};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::store::{Crew, DeviceRecord, NewUser};
use axum::Json;
use axum::extract::{Path, Query, State};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{Role, UserInfo};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(list_users, create_user))
        .routes(routes!(list_crews, create_crew))
        .routes(routes!(list_devices))
        .routes(routes!(device_clock_jumps))
        .routes(routes!(revoke_device))
        .routes(routes!(move_device))
        .routes(routes!(share_device))
        .routes(routes!(device_events))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    /// `repair_technician`, `inspector`, `patrol`, `dispatcher`, `admin`.
    pub role: Role,
    pub display_name: String,
    /// Service badge number (统一编号的服务证).
    #[serde(default)]
    pub badge_no: String,
}

/// Create a user (admin only).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = CreateUserRequest,
    responses((status = 200, body = Object, description = "UserInfo"), (status = 409, body = ErrorBodySchema, description = "username_taken")))]
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
    let now = state.now();
    match blocking(&state, move |s| s.add_user(user, now)).await {
        Err(e) if e.body.code == ErrorCode::UsernameTaken => {
            // A retry after a lost response creates nothing new: the same username, role, name
            // and password is the same request; anything else is a clash.
            let existing = blocking(&state, move |s| s.user_by_username(&username)).await?;
            if let Some(u) = existing
                && u.info.role == role
                && u.info.display_name == display_name
                && with_argon2(move || verify_password(&password, &u.password_hash)).await?
            {
                return Ok(Json(u.info));
            }
            Err(e)
        }
        other => {
            let user = other?;
            audit::record(
                &state,
                NewAudit::by(&auth, AuditKind::UserCreated)
                    .subject(user.id)
                    .detail(serde_json::json!({ "username": user.username, "role": user.role })),
            )
            .await?;
            Ok(Json(user))
        }
    }
}

/// Validate and hash (shared with `heatcrew-office user add`).
pub async fn new_user(req: CreateUserRequest) -> ApiResult<NewUser> {
    let username = req.username.trim().to_owned();
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid(
            ErrorCode::BadUsername,
            "a username is one word without spaces",
        ));
    }
    if req.password.chars().count() < 8 {
        return Err(ApiError::invalid(
            ErrorCode::WeakPassword,
            "a password needs at least 8 characters",
        ));
    }
    // The console's form requires a name too (console/src/lib/forms/validate.ts): a record's
    // author is shown by name and badge, never as a bare account.
    let display_name = req.display_name.trim().to_owned();
    if display_name.is_empty() {
        return Err(ApiError::invalid(
            ErrorCode::BadRequest,
            "a user needs a name (display_name)",
        ));
    }
    let password = req.password;
    let password_hash = with_argon2(move || hash_password(&password))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(NewUser {
        username,
        password_hash,
        display_name,
        role: req.role,
        badge_no: req.badge_no.trim().to_owned(),
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
    let now = state.now();
    Ok(Json(
        blocking(&state, move |s| s.add_crew(&req.name, &req.members, now)).await?,
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

/// The jumps of a device's wall clock that the device itself saw (its monotonic clock), newest
/// first (at most 200): a technician who set the phone's clock shows here.
#[utoipa::path(get, path = "/api/v1/devices/{id}/clock-jumps", tag = "admin", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<heatcrew_protocol::sync::ClockJumpRecord>)))]
pub async fn device_clock_jumps(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<heatcrew_protocol::sync::ClockJumpRecord>>> {
    auth.require(STAFF)?;
    Ok(Json(
        blocking(&state, move |s| s.device_clock_jumps(id, 200)).await?,
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RevokedSessions {
    #[ts(type = "number")]
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
    let now = state.now();
    let revoked = blocking(&state, move |s| s.revoke_device_sessions(id, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::DeviceRevoked)
            .subject(id)
            .detail(serde_json::json!({ "revoked": revoked })),
    )
    .await?;
    Ok(Json(RevokedSessions { revoked }))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct MoveDeviceRequest {
    /// The user the device is bound to from now on.
    pub user_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct MovedDevice {
    pub device: DeviceRecord,
    /// Sessions on the device that ended (its previous user's).
    #[ts(type = "number")]
    pub revoked: u64,
}

/// Bind a device to another user (admin only): a phone handed on. It is no longer shared, and
/// every session on it ends; its records already pushed stay their authors'.
#[utoipa::path(post, path = "/api/v1/devices/{id}/move", tag = "admin", params(("id" = Uuid, Path)),
    request_body = MoveDeviceRequest,
    responses((status = 200, body = MovedDevice), (status = 403, body = ErrorBodySchema, description = "not an admin"),
        (status = 404, body = ErrorBodySchema), (status = 422, body = ErrorBodySchema, description = "unknown_user")))]
pub async fn move_device(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<MoveDeviceRequest>,
) -> ApiResult<Json<MovedDevice>> {
    auth.require(&[Role::Admin])?;
    let now = state.now();
    let before = blocking(&state, move |s| s.device(id)).await?;
    let (device, revoked) = blocking(&state, move |s| s.move_device(id, req.user_id, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::DeviceMoved).subject(id).detail(serde_json::json!({
            "from": before.map(|d| d.user_id), "to": req.user_id, "code": device.code, "revoked": revoked,
        })),
    )
    .await?;
    Ok(Json(MovedDevice { device, revoked }))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ShareDeviceRequest {
    /// True: a crew's shared phone, any field user may sign in on it. False: only its user.
    pub shared: bool,
}

/// Mark a device shared by a crew, or bound to its user alone again (admin only).
#[utoipa::path(post, path = "/api/v1/devices/{id}/shared", tag = "admin", params(("id" = Uuid, Path)),
    request_body = ShareDeviceRequest,
    responses((status = 200, body = DeviceRecord), (status = 403, body = ErrorBodySchema, description = "not an admin"),
        (status = 404, body = ErrorBodySchema)))]
pub async fn share_device(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ShareDeviceRequest>,
) -> ApiResult<Json<DeviceRecord>> {
    auth.require(&[Role::Admin])?;
    let device = blocking(&state, move |s| s.set_device_shared(id, req.shared)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::DeviceShared)
            .subject(id)
            .detail(serde_json::json!({ "shared": req.shared, "code": device.code })),
    )
    .await?;
    Ok(Json(device))
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
