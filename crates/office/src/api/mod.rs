//! The HTTP surface: one module per part of the API (named after its OpenAPI tag; [`jobs`] and
//! [`network`] share the tag `dispatch`), each registering its routes together with their OpenAPI
//! paths in `routes()`, so an endpoint is written once. This module joins them, serves the document,
//! and wraps every response: the protocol and server-time headers, `{code, message}` errors, body
//! limits, compression and tracing, and the security headers ([`headers`]).
//!
//! Under `/api/v1` (bearer token unless said; the device sync endpoints are those of
//! `heatcrew_protocol::sync`):
//! - [`auth`]: `POST /auth/challenge` (a one-time challenge the device signs), `POST /auth/login`
//!   (device; proves and enrols its key), `POST /auth/staff-login` (dispatcher/admin, no device),
//!   `POST /auth/refresh`, `POST /auth/revoke` (log out). No token needed for the first four.
//! - [`sync`]: `POST /sync/push`, `GET /sync/pull?cursor=&limit=`.
//! - [`attachments`]: `POST /attachments`, `HEAD|PATCH|GET /attachments/{sha256}`.
//! - [`jobs`] (staff): `GET|POST /jobs`, `GET /jobs/{id}` (read-back),
//!   `POST /jobs/{id}/assign|schedule|cancel`.
//! - [`network`]: `GET|POST /routes` (staff), `GET|POST /outages` (GET for everyone),
//!   `POST /outages/{id}/clear` (staff).
//! - [`admin`]: `GET /users`, `GET /crews`, `GET /devices`, `GET /devices/{id}/events?after=&limit=`
//!   (a device's ledger as signed) for staff; `POST /users`, `POST /crews`,
//!   `POST /devices/{id}/revoke` for admins.
//! - [`reports`] (staff): `GET /reports/summary`.
//! - [`company`]: `GET /company` (anyone signed in), `PUT /company` (admins): the company's name and
//!   hotline, sent to devices with every pull.
//! - [`documents`] (staff): feedback records (list, CSV), the monthly workbook, printable PDFs.
//! - [`console`] (staff): `GET /console/board?date=`, the console's own views.
//! - [`live`] (staff): `GET /live`, server-sent events telling open consoles what changed.
//! - [`kpi`] (staff): `GET /kpi`, `GET /kpi/jobs`, `GET|PUT /kpi/targets` (PUT: admins),
//!   `GET /kpi/violations/{id}`: the service standard's KPIs and rule re-checks (issue 13).
//! - [`evidence`]: `GET /log/tree-head`, `GET /log/inclusion?index=&size=`,
//!   `GET /log/consistency?first=&second=` (anyone signed in), `GET /devices/{id}/tip` (staff or the
//!   device), `GET /export?device=&job=&from=&to=&consistency_from=` (staff; JSON lines).
//!
//! Plus `GET /api/openapi.json` ([`openapi`]), `GET /healthz` (liveness) and `GET /readyz`
//! (readiness: the database answers) without a token; every other path
//! outside `/api/` is the office console ([`crate::console`]). A device may send
//! its clock in `x-heatcrew-device-time` (RFC 3339) on any request; the office records the offset.
//! Handlers take their inputs through [`extract`].

pub mod admin;
pub mod attachments;
pub mod auth;
pub mod company;
pub mod console;
pub mod device_info;
pub mod documents;
pub mod evidence;
pub mod extract;
pub mod headers;
pub mod jobs;
pub mod kpi;
pub mod live;
pub mod network;
pub mod openapi;
pub mod reports;
pub mod sign_out;
pub mod sync;
pub mod totp;

use crate::OfficeState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::SecondsFormat;
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::MAX_PUSH_BYTES;
use heatcrew_protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION, SERVER_TIME_HEADER};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use utoipa_axum::router::OpenApiRouter;

/// Every documented endpoint, module by module.
fn endpoints() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .merge(auth::routes())
        .merge(sign_out::routes())
        .merge(sync::routes())
        .merge(attachments::routes())
        .merge(jobs::routes())
        .merge(network::routes())
        .merge(admin::routes())
        .merge(reports::routes())
        .merge(live::routes())
        .merge(evidence::routes())
        .merge(console::routes())
        .merge(company::routes())
        .merge(documents::routes())
        .merge(kpi::routes())
}

/// Every route of the office.
pub fn router(state: OfficeState) -> Router {
    let (api, paths) = endpoints().split_for_parts();
    // Assembled once; every request gets the same bytes.
    let doc = Bytes::from(
        serde_json::to_vec(&openapi::document(paths)).expect("the OpenAPI document serializes"),
    );
    let serve_doc = move || {
        let doc = doc.clone();
        async move { ([(CONTENT_TYPE, "application/json")], doc) }
    };
    let router = headers::no_store(api)
        .route("/api/openapi.json", get(serve_doc))
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"ok": true})) }),
        )
        .route("/readyz", get(ready))
        .fallback(crate::console::serve.layer(headers::console_csp()))
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES))
        // The hard cap: bodies far beyond any route's limit are cut off while streaming. Inside
        // `stamp_response`, so its 413 gets the JSON shape and headers too.
        .layer(RequestBodyLimitLayer::new(MAX_PUSH_BYTES + 64 * 1024))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            stamp_response,
        ))
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        );
    headers::secure(router).with_state(state)
}

/// How long readiness waits for the database before it says the process is not ready.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness (`GET /readyz`, no token): 200 `{"ok":true}` when this process read its database (one
/// row of `meta`) within [`READY_WITHIN`], else 503 `{code, message}` saying why, so that a load
/// balancer stops sending requests to a process that could not answer them (docs/deploy.md,
/// "Monitoring"). `/healthz` only says the process serves.
async fn ready(
    axum::extract::State(state): axum::extract::State<OfficeState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let read = extract::blocking(&state, |s| s.meta("schema_version").map(drop));
    let why = match tokio::time::timeout(READY_WITHIN, read).await {
        Ok(Ok(())) => return Ok(Json(serde_json::json!({"ok": true}))),
        Ok(Err(e)) => e.body.message,
        Err(_) => format!("no answer within {} s", READY_WITHIN.as_secs()),
    };
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal,
        format!("not ready: the database did not answer ({why})"),
    ))
}

/// Stamp the protocol version and server time on every response, and turn any error response that
/// is not yet `{code, message}` (unknown route, wrong method, a layer's 413) into one.
async fn stamp_response(
    axum::extract::State(state): axum::extract::State<OfficeState>,
    resp: Response,
) -> Response {
    let status = resp.status();
    // JSON errors are already `{code, message}`; the console's HTML pages explain themselves.
    let is_json = resp.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    let mut resp = if (status.is_client_error() || status.is_server_error()) && !is_json {
        let code = match status {
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            s if s.is_client_error() => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
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
    if let Ok(v) = HeaderValue::from_str(&state.now().to_rfc3339_opts(SecondsFormat::Millis, true))
    {
        h.insert(SERVER_TIME_HEADER, v);
    }
    resp
}
