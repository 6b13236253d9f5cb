//! Accounts as the console manages them: the list with who is deactivated (staff), and a new
//! password, deactivation and reactivation (admins). A new password or a deactivation revokes every
//! session of the user at once, in the same transaction; a deactivated user cannot sign in (their
//! records stay theirs and keep their name).

use crate::OfficeState;
use crate::api::admin::RevokedSessions;
use crate::api::auth::{hash_password, with_argon2};
use crate::api::extract::{ApiJson, Auth, STAFF, blocking};
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use axum::Json;
use axum::extract::{Path, State};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{Role, UserInfo};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(console_users))
        .routes(routes!(reset_password))
        .routes(routes!(deactivate_user))
        .routes(routes!(activate_user))
}

/// A user as the console lists them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ConsoleUser {
    #[serde(flatten)]
    #[schema(inline, value_type = Object)]
    pub user: UserInfo,
    /// False once deactivated: cannot sign in.
    pub active: bool,
}

#[utoipa::path(get, path = "/api/v1/console/users", tag = "console",
    responses((status = 200, body = Vec<ConsoleUser>), (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn console_users(
    State(state): State<OfficeState>,
    auth: Auth,
) -> ApiResult<Json<Vec<ConsoleUser>>> {
    auth.require(STAFF)?;
    let (users, inactive) =
        blocking(&state, |s| Ok((s.list_users()?, s.inactive_users()?))).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| ConsoleUser {
                active: !inactive.contains(&u.id),
                user: u,
            })
            .collect(),
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ResetPasswordRequest {
    pub password: String,
}

/// Give a user a new password (admin only); every session they hold ends.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "admin", params(("id" = Uuid, Path)),
    request_body = ResetPasswordRequest,
    responses((status = 200, body = RevokedSessions), (status = 422, body = ErrorBodySchema, description = "weak_password, unknown_user"),
        (status = 403, body = ErrorBodySchema, description = "not an admin")))]
pub async fn reset_password(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> ApiResult<Json<RevokedSessions>> {
    auth.require(&[Role::Admin])?;
    if req.password.chars().count() < 8 {
        return Err(ApiError::invalid(
            ErrorCode::WeakPassword,
            "a password needs at least 8 characters",
        ));
    }
    let password = req.password;
    let hash = with_argon2(move || hash_password(&password))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let now = state.now();
    let revoked = blocking(&state, move |s| s.set_password(id, &hash, now)).await?;
    tracing::info!(user = %id, by = %auth.user.id, revoked, "password reset");
    let detail = serde_json::json!({ "revoked": revoked });
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::PasswordChanged)
            .subject(id)
            .detail(detail),
    )
    .await?;
    Ok(Json(RevokedSessions { revoked }))
}

/// Deactivate a user (admin only): they cannot sign in, and every session they hold ends now.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "admin", params(("id" = Uuid, Path)),
    responses((status = 200, body = RevokedSessions), (status = 422, body = ErrorBodySchema, description = "cannot_deactivate_self, unknown_user"),
        (status = 403, body = ErrorBodySchema, description = "not an admin")))]
pub async fn deactivate_user(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<RevokedSessions>> {
    auth.require(&[Role::Admin])?;
    if id == auth.user.id {
        return Err(ApiError::invalid(
            ErrorCode::CannotDeactivateSelf,
            "an admin cannot deactivate their own account; ask another admin",
        ));
    }
    let now = state.now();
    let revoked = blocking(&state, move |s| s.set_user_active(id, false, now)).await?;
    tracing::info!(user = %id, by = %auth.user.id, revoked, "user deactivated");
    let detail = serde_json::json!({ "revoked": revoked });
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::UserDeactivated)
            .subject(id)
            .detail(detail),
    )
    .await?;
    Ok(Json(RevokedSessions { revoked }))
}

/// Let a deactivated user sign in again (admin only).
#[utoipa::path(post, path = "/api/v1/users/{id}/activate", tag = "admin", params(("id" = Uuid, Path)),
    responses((status = 200, body = RevokedSessions), (status = 422, body = ErrorBodySchema, description = "unknown_user"),
        (status = 403, body = ErrorBodySchema, description = "not an admin")))]
pub async fn activate_user(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<RevokedSessions>> {
    auth.require(&[Role::Admin])?;
    let now = state.now();
    blocking(&state, move |s| s.set_user_active(id, true, now)).await?;
    tracing::info!(user = %id, by = %auth.user.id, "user activated");
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::UserActivated).subject(id),
    )
    .await?;
    Ok(Json(RevokedSessions { revoked: 0 }))
}
