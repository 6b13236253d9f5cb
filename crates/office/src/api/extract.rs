//! What handlers take from a request: the caller ([`Auth`], from the bearer token), JSON bodies whose
//! rejections are `{code, message}` ([`ApiJson`]), and storage calls moved off the async threads
//! ([`blocking`]).

use crate::OfficeState;
use crate::error::{ApiError, ApiResult};
use crate::store::{OfficeStore, StoreResult};
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{TimeDelta, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{Role, UserInfo};
use heatcrew_protocol::{DEVICE_TIME_HEADER, Digest, bounds};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Run a storage call on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    state: &OfficeState,
    f: impl FnOnce(&dyn OfficeStore) -> StoreResult<T> + Send + 'static,
) -> ApiResult<T> {
    let store = state.store.clone();
    Ok(tokio::task::spawn_blocking(move || f(&*store)).await??)
}

/// A JSON body whose rejections are `{code, message}`: malformed → 400 `bad_json`,
/// oversized → 413 `too_large`, wrong content type → 415 `unsupported_media_type`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(match rej.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::TooLarge,
                    "the request body is larger than this endpoint accepts",
                ),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::UnsupportedMediaType,
                    "send the body as Content-Type: application/json",
                ),
                _ => ApiError::bad_request(ErrorCode::BadJson, rej.body_text()),
            }),
        }
    }
}

/// The hash of a bearer or refresh token as stored (tokens themselves are never stored).
pub fn token_hash(token: &str) -> Digest {
    Digest::of(token.as_bytes())
}

/// The caller, from the bearer token. Scope always comes from here, never from request fields.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: UserInfo,
    pub device_id: Option<Uuid>,
    pub session_id: Uuid,
    /// The client's address ([`client_address`]), for the audit log.
    pub address: Option<String>,
}

/// The caller of the few endpoints an admin may use before setting up a second factor (the TOTP
/// setup); [`Auth`] refuses such a session everywhere else with `totp_setup_required`.
#[derive(Debug, Clone)]
pub struct SetupAuth(pub Auth);

/// The client's address: the TCP peer, or behind a reverse proxy the last entry of the header
/// named in `Config::client_address_header` (the one the proxy itself appended). `None` when
/// neither is known (a router served without connect info).
pub fn client_address(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
    state: &OfficeState,
) -> Option<String> {
    if let Some(name) = state.config.client_address_header.as_deref() {
        return headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .map(str::to_owned);
    }
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// The client's address as [`client_address`] reads it (for handlers without a token: sign-in).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl FromRequestParts<OfficeState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &OfficeState) -> Result<Self, ApiError> {
        Ok(ClientAddr(client_address(
            &parts.headers,
            &parts.extensions,
            state,
        )))
    }
}

/// How often a session's `last_seen_at` is written (the staff idle timeout counts from it).
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

impl Auth {
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs one of the roles {roles:?}"
            )))
        }
    }

    pub fn is_office_staff(&self) -> bool {
        matches!(self.user.role, Role::Dispatcher | Role::Admin)
    }
}

pub const STAFF: &[Role] = &[Role::Dispatcher, Role::Admin];

impl FromRequestParts<OfficeState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &OfficeState) -> Result<Self, ApiError> {
        authenticate(parts, state, false).await
    }
}

impl FromRequestParts<OfficeState> for SetupAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &OfficeState) -> Result<Self, ApiError> {
        authenticate(parts, state, true).await.map(SetupAuth)
    }
}

async fn authenticate(
    parts: &mut Parts,
    state: &OfficeState,
    totp_setup: bool,
) -> Result<Auth, ApiError> {
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::unauthorized(
                ErrorCode::MissingToken,
                "send Authorization: Bearer <access token>",
            )
        })?;
    let device_time = device_time(&parts.headers)?;
    let hash = token_hash(token.trim());
    let session = blocking(state, move |s| s.session_by_access(hash))
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(ErrorCode::BadToken, "unknown access token; log in again")
        })?;
    if session.revoked {
        return Err(ApiError::unauthorized(
            ErrorCode::TokenRevoked,
            "this session was revoked; log in again",
        ));
    }
    let now = state.now();
    let staff = session.device_id.is_none();
    let idle_for = now - session.last_seen_at;
    let idle = staff
        && TimeDelta::from_std(state.config.staff_idle_timeout)
            .is_ok_and(|limit| idle_for >= limit);
    if session.absolute_expires_at <= now || idle {
        let id = session.id;
        blocking(state, move |s| s.revoke_session(id, now)).await?;
        return Err(ApiError::unauthorized(
            ErrorCode::SessionExpired,
            if idle {
                "this session was idle too long and has ended; sign in again"
            } else {
                "this session reached its time limit and has ended; sign in again"
            },
        ));
    }
    if session.access_expires_at <= now {
        return Err(ApiError::unauthorized(
            ErrorCode::TokenExpired,
            "the access token expired; refresh it",
        ));
    }
    if session.totp_setup_only && !totp_setup {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::TotpSetupRequired,
            "set up two-step verification first (POST /api/v1/auth/totp/setup, then /confirm)",
        ));
    }
    // Only staff sessions idle out; a device's requests cost no extra write.
    if staff && idle_for >= TOUCH_EVERY {
        let id = session.id;
        blocking(state, move |s| s.touch_session(id, now)).await?;
    }
    if let (Some(device), Some(device_time)) = (session.device_id, device_time) {
        let offset = (now - device_time).num_milliseconds();
        let jump = state.config.clock_jump_threshold.as_millis() as i64;
        if let Err(e) = blocking(state, move |s| {
            s.record_clock_offset(device, offset, jump, now)
        })
        .await
        {
            tracing::warn!(code = %e.body.code, "could not record the device clock offset");
        }
    }
    Ok(Auth {
        user: session.user,
        device_id: session.device_id,
        session_id: session.id,
        address: client_address(&parts.headers, &parts.extensions, state),
    })
}

/// The device's clock as it sent it in [`DEVICE_TIME_HEADER`] (`None` without the header). A value
/// that is not an RFC 3339 time within the protocol's bounds (`heatcrew_protocol::bounds`, the
/// range every recorded time must fall in) is refused with 400 `bad_device_time`, so no stored
/// clock offset can be absurd.
pub fn device_time(headers: &axum::http::HeaderMap) -> ApiResult<Option<chrono::DateTime<Utc>>> {
    let Some(v) = headers.get(DEVICE_TIME_HEADER) else {
        return Ok(None);
    };
    let time = v
        .to_str()
        .ok()
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| (bounds::earliest()..bounds::latest()).contains(t));
    match time {
        Some(t) => Ok(Some(t)),
        None => Err(ApiError::bad_request(
            ErrorCode::BadDeviceTime,
            format!(
                "{DEVICE_TIME_HEADER} must be the device's clock as an RFC 3339 time from {} up to {}; set the phone's clock",
                bounds::earliest().to_rfc3339(),
                bounds::latest().to_rfc3339()
            ),
        )),
    }
}

/// Office staff (dispatchers and admins), checked before the body or the query is read, so a field
/// token gets 403 whatever it sends.
#[derive(Debug)]
pub struct Staff(pub Auth);

impl FromRequestParts<OfficeState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &OfficeState,
    ) -> Result<Self, ApiError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        auth.require(STAFF)?;
        Ok(Staff(auth))
    }
}
