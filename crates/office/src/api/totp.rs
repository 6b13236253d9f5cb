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
use crate::store::UserRecord;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::Role;
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

/// The 30 s step whose code `code` is, if it is valid for `secret_base32` at `now` (± one step).
pub fn check_code(secret_base32: &str, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let t = totp(secret_base32, "user")?;
    let time = u64::try_from(now.timestamp()).ok()?;
    t.check(code.trim(), time)
        .and_then(|step| i64::try_from(step).ok())
}

/// Check `code` against `secret` for user `id` and spend its step: a code is accepted once
/// (RFC 6238 §5.2), so one seen over a shoulder or in a proxy log cannot sign in again. The inner
/// error is why the code was refused (`bad_totp`, `totp_used`).
async fn spend(
    state: &OfficeState,
    id: uuid::Uuid,
    secret: &str,
    code: &str,
    now: DateTime<Utc>,
) -> ApiResult<Result<(), ErrorCode>> {
    let Some(step) = check_code(secret, code, now) else {
        return Ok(Err(ErrorCode::BadTotp));
    };
    let fresh = blocking(state, move |s| s.spend_totp_step(id, step)).await?;
    Ok(if fresh {
        Ok(())
    } else {
        Err(ErrorCode::TotpUsed)
    })
}

fn refused(code: ErrorCode) -> ApiError {
    ApiError::unauthorized(
        code,
        if code == ErrorCode::TotpUsed {
            "this authenticator code was already used; wait for the next one"
        } else {
            "the authenticator code is wrong or expired"
        },
    )
}

/// The second factor of a staff sign-in whose password checked: with one set up, `code` must be a
/// current code not used before (`totp_required`, `bad_totp`, `totp_used`; a wrong or reused code
/// counts as a failed sign-in). Returns whether the session may only set one up (an admin without
/// one while `Config::require_admin_totp` is on).
pub(super) async fn second_factor(
    state: &OfficeState,
    user: &UserRecord,
    code: Option<&str>,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let Some(secret) = &user.totp_secret else {
        return Ok(state.config.require_admin_totp && user.info.role == Role::Admin);
    };
    let Some(code) = code else {
        return Err(ApiError::unauthorized(
            ErrorCode::TotpRequired,
            "this account has two-step verification: send the authenticator code as totp",
        ));
    };
    if let Err(e) = spend(state, user.info.id, secret, code, now).await? {
        super::auth::failed(state, &user.info.username, address, e.as_str()).await?;
        return Err(refused(e));
    }
    Ok(false)
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
    /// The same as an `otpauth://totp/…` link.
    pub otpauth_url: String,
    /// That link as a QR code for the authenticator app's camera: a PNG, base64 (no `data:` prefix).
    pub qr_png_base64: String,
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
    let t = totp(&secret, &auth.user.username)
        .ok_or_else(|| ApiError::internal("could not build the TOTP secret"))?;
    let otpauth_url = t
        .to_url()
        .map_err(|_| ApiError::internal("could not build the TOTP link"))?;
    let qr_png_base64 = t
        .to_qr_base64()
        .map_err(|_| ApiError::internal("could not draw the TOTP link as a QR code"))?;
    let (id, s) = (auth.user.id, secret.clone());
    blocking(&state, move |st| st.set_totp_pending(id, &s)).await?;
    Ok(Json(TotpSetup {
        secret,
        otpauth_url,
        qr_png_base64,
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
    let id = auth.user.id;
    // The confirming code is spent too: it cannot then sign in.
    match spend(&state, id, &pending, &req.code, state.now()).await? {
        Ok(()) => {}
        Err(ErrorCode::TotpUsed) => return Err(refused(ErrorCode::TotpUsed)),
        Err(_) => {
            return Err(ApiError::unauthorized(
                ErrorCode::BadTotp,
                "that code does not match the new secret; check the app's clock and try the current code",
            ));
        }
    }
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
        let step = now.timestamp() / 30;
        assert_eq!(check_code(&secret, &code, now), Some(step));
        assert_eq!(
            check_code(&secret, &code, now + chrono::TimeDelta::seconds(30)),
            Some(step),
            "the step of the code, not of the time it is checked at"
        );
        assert_eq!(
            check_code(&secret, &code, now + chrono::TimeDelta::seconds(95)),
            None
        );
        assert_eq!(check_code(&secret, "12345", now), None, "malformed");
    }
}
