//! A second factor for office staff: TOTP (RFC 6238, SHA-1, 6 digits, 30 s, one step of skew;
//! what every authenticator app reads from an `otpauth://` link). Optional for dispatchers,
//! required for admins when `Config::require_admin_totp` is on: an admin without one signs in to a
//! session that can only set it up.
//!
//! - `POST /auth/totp/setup` (signed-in staff): a fresh secret, kept as pending, returned once as
//!   base32 and as an `otpauth://` link.
//! - `POST /auth/totp/confirm` with a current code: the pending secret becomes the user's second
//!   factor; from then on `POST /auth/staff-login` needs `totp` too.

use super::extract::{ApiJson, STAFF, SetupAuth, blocking};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use totp_rs::{Builder, Secret, Totp};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(setup))
        .routes(routes!(confirm))
}

/// The issuer an authenticator app shows.
const ISSUER: &str = "HeatCrew";

fn totp(secret_base32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The code `code` is valid for `secret_base32` at `now` (± one 30 s step).
pub fn check_code(secret_base32: &str, code: &str, now: DateTime<Utc>) -> bool {
    let Some(t) = totp(secret_base32, "user") else {
        return false;
    };
    let Ok(time) = u64::try_from(now.timestamp()) else {
        return false;
    };
    t.check(code.trim(), time).is_some()
}

/// The current code for a secret (tests and the setup check).
pub fn code_at(secret_base32: &str, now: DateTime<Utc>) -> Option<String> {
    let t = totp(secret_base32, "user")?;
    Some(t.generate(u64::try_from(now.timestamp()).ok()?).to_string())
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct TotpSetup {
    /// The secret, base32 (type it into an authenticator app).
    pub secret: String,
    /// The same as an `otpauth://totp/…` link (show it as a QR code).
    pub otpauth_url: String,
}

/// Start setting up a second factor: a fresh secret, pending until confirmed with a code.
#[utoipa::path(post, path = "/api/v1/auth/totp/setup", tag = "auth",
    responses((status = 200, body = TotpSetup), (status = 403, body = ErrorBodySchema, description = "field staff")))]
pub async fn setup(
    State(state): State<OfficeState>,
    SetupAuth(auth): SetupAuth,
) -> ApiResult<Json<TotpSetup>> {
    auth.require(STAFF)?;
    let mut raw = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = Secret::from(raw.to_vec()).to_base32();
    let otpauth_url = totp(&secret, &auth.user.username)
        .and_then(|t| t.to_url().ok())
        .ok_or_else(|| ApiError::internal("could not build the TOTP link"))?;
    let (id, s) = (auth.user.id, secret.clone());
    blocking(&state, move |st| st.set_totp_pending(id, &s)).await?;
    Ok(Json(TotpSetup {
        secret,
        otpauth_url,
    }))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct TotpConfirm {
    /// The six digits the authenticator app shows now.
    pub code: String,
}

/// Confirm the pending secret with a current code: it becomes the second factor, and a session
/// opened only to set it up becomes a full one.
#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth", request_body = TotpConfirm,
    responses((status = 204), (status = 401, body = ErrorBodySchema, description = "bad_totp"),
        (status = 409, body = ErrorBodySchema, description = "totp_not_pending")))]
pub async fn confirm(
    State(state): State<OfficeState>,
    SetupAuth(auth): SetupAuth,
    ApiJson(req): ApiJson<TotpConfirm>,
) -> ApiResult<StatusCode> {
    auth.require(STAFF)?;
    let username = auth.user.username.clone();
    let user = blocking(&state, move |s| s.user_by_username(&username)).await?;
    let Some(pending) = user.and_then(|u| u.totp_pending) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::TotpNotPending,
            "no second factor is being set up: POST /api/v1/auth/totp/setup first",
        ));
    };
    if !check_code(&pending, &req.code, state.now()) {
        return Err(ApiError::unauthorized(
            ErrorCode::BadTotp,
            "that code does not match the new secret; check the app's clock and try the current code",
        ));
    }
    let id = auth.user.id;
    blocking(&state, move |s| {
        s.confirm_totp(id)?;
        s.end_totp_setup_sessions(id)
    })
    .await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::TotpEnabled).subject(id),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_checks_within_one_step_and_not_beyond() {
        let secret = Secret::from(vec![7u8; 20]).to_base32();
        let now = Utc::now();
        let code = code_at(&secret, now).expect("code");
        assert!(check_code(&secret, &code, now));
        assert!(check_code(
            &secret,
            &code,
            now + chrono::TimeDelta::seconds(30)
        ));
        assert!(!check_code(
            &secret,
            &code,
            now + chrono::TimeDelta::seconds(95)
        ));
        assert!(!check_code(&secret, "12345", now), "malformed");
    }
}
