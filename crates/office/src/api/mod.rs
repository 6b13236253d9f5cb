//! The HTTP surface: routes, the auth extractor, JSON bodies with `{code, message}` rejections, the
//! protocol and server-time headers on every response, and the OpenAPI document.
//!
//! Under `/api/v1` (bearer token unless said; the device sync endpoints are those of
//! `heatcrew_protocol::sync`):
//! - `POST /auth/login` (device; enrols its key), `POST /auth/staff-login` (dispatcher/admin, no
//!   device), `POST /auth/refresh`, `POST /auth/revoke` (log out). No token needed for the first three.
//! - `POST /sync/push`, `GET /sync/pull?cursor=&limit=`.
//! - `POST /attachments`, `HEAD|PATCH|GET /attachments/{sha256}`.
//! - Staff: `GET|POST /jobs`, `GET /jobs/{id}` (read-back), `POST /jobs/{id}/assign|schedule|cancel`,
//!   `GET|POST /routes`, `GET|POST /outages` (GET for everyone), `POST /outages/{id}/clear`,
//!   `GET /users`, `GET /crews`, `GET /devices`, `GET /devices/{id}/events?after=&limit=` (a
//!   device's ledger as signed), `GET /reports/summary`.
//! - Admin: `POST /users`, `POST /crews`, `POST /devices/{id}/revoke`.
//!
//! Plus `GET /api/openapi.json` and `GET /healthz` without a token. A device may send its clock in
//! `x-heatcrew-device-time` (RFC 3339) on any request; the office records the offset.

pub mod attachments;
pub mod auth;
pub mod dispatch;
pub mod openapi;
pub mod sync;

use crate::OfficeState;
use crate::error::{ApiError, ApiResult};
use crate::store::{OfficeStore, StoreResult};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{SecondsFormat, Utc};
use heatcrew_protocol::sync::{MAX_CHUNK_BYTES, MAX_PUSH_BYTES, Role, UserInfo};
use heatcrew_protocol::{
    DEVICE_TIME_HEADER, Digest, PROTOCOL_HEADER, PROTOCOL_VERSION, SERVER_TIME_HEADER,
};
use serde::de::DeserializeOwned;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use uuid::Uuid;

/// Every route of the office.
pub fn router(state: OfficeState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/staff-login", post(auth::staff_login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/revoke", post(auth::revoke))
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", get(sync::pull))
        .route("/attachments", post(attachments::create))
        .route(
            "/attachments/{sha256}",
            get(attachments::download)
                .head(attachments::head)
                .patch(attachments::patch)
                .layer(DefaultBodyLimit::max(MAX_CHUNK_BYTES)),
        )
        .route("/jobs", get(dispatch::list_jobs).post(dispatch::create_job))
        .route("/jobs/{id}", get(dispatch::job_detail))
        .route("/jobs/{id}/assign", post(dispatch::assign_job))
        .route("/jobs/{id}/schedule", post(dispatch::schedule_job))
        .route("/jobs/{id}/cancel", post(dispatch::cancel_job))
        .route(
            "/routes",
            get(dispatch::list_routes).post(dispatch::create_route),
        )
        .route(
            "/outages",
            get(dispatch::list_outages).post(dispatch::create_outage),
        )
        .route("/outages/{id}/clear", post(dispatch::clear_outage))
        .route(
            "/users",
            get(dispatch::list_users).post(dispatch::create_user),
        )
        .route(
            "/crews",
            get(dispatch::list_crews).post(dispatch::create_crew),
        )
        .route("/devices", get(dispatch::list_devices))
        .route("/devices/{id}/revoke", post(dispatch::revoke_device))
        .route("/devices/{id}/events", get(dispatch::device_events))
        .route("/reports/summary", get(dispatch::summary));
    Router::new()
        .nest("/api/v1", api)
        .route("/api/openapi.json", get(openapi::document))
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"ok": true})) }),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES))
        // The hard cap: bodies far beyond any route's limit are cut off while streaming. Inside
        // `stamp_response`, so its 413 gets the JSON shape and headers too.
        .layer(RequestBodyLimitLayer::new(MAX_PUSH_BYTES + 64 * 1024))
        .layer(axum::middleware::map_response(stamp_response))
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

/// Stamp the protocol version and server time on every response, and turn any error response that
/// is not yet `{code, message}` (unknown route, wrong method, a layer's 413) into one.
async fn stamp_response(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut resp = if (status.is_client_error() || status.is_server_error()) && !is_json {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            s if s.is_client_error() => "bad_request",
            _ => "internal",
        };
        let (_, body) = resp.into_parts();
        let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
        let mut message = String::from_utf8_lossy(&text).trim().to_owned();
        if message.is_empty() {
            message = status.canonical_reason().unwrap_or("error").to_owned();
        }
        ApiError::new(status, code, message).into_response()
    } else {
        resp
    };
    let h = resp.headers_mut();
    h.insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL_VERSION));
    if let Ok(v) = HeaderValue::from_str(&Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)) {
        h.insert(SERVER_TIME_HEADER, v);
    }
    resp
}

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
                    "too_large",
                    "the request body is larger than this endpoint accepts",
                ),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as Content-Type: application/json",
                ),
                _ => ApiError::bad_request("bad_json", rej.body_text()),
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
}

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
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::unauthorized("missing_token", "send Authorization: Bearer <access token>")
            })?;
        let hash = token_hash(token.trim());
        let session = blocking(state, move |s| s.session_by_access(hash))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("bad_token", "unknown access token; log in again")
            })?;
        if session.revoked {
            return Err(ApiError::unauthorized(
                "token_revoked",
                "this session was revoked; log in again",
            ));
        }
        let now = Utc::now();
        if session.access_expires_at <= now {
            return Err(ApiError::unauthorized(
                "token_expired",
                "the access token expired; refresh it",
            ));
        }
        if let (Some(device), Some(device_time)) = (session.device_id, device_time(parts)) {
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
        })
    }
}

fn device_time(parts: &Parts) -> Option<chrono::DateTime<Utc>> {
    let v = parts.headers.get(DEVICE_TIME_HEADER)?.to_str().ok()?;
    chrono::DateTime::parse_from_rfc3339(v)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
