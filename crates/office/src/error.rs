//! The HTTP edge's closed error shape: `{code, message}` ([`ErrorBody`]) with a status. Handlers log
//! detail and return a short, actionable message. [`ErrorBodySchema`] describes it in the OpenAPI
//! document.

use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{ErrorBody, UPLOAD_OFFSET_HEADER};
use serde::Serialize;

// The OpenAPI schema of [`ErrorBody`], which lives in the frozen protocol crate and so carries no
// OpenAPI annotations. The doc comment below is the schema's description.
/// Every error response: `{code, message}` (+ `expected_seq` for `sequence_gap`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ErrorBody)]
pub struct ErrorBodySchema {
    /// One of the closed vocabulary (`heatcrew_protocol::ErrorCode`); clients read codes they do
    /// not know as `unknown` and show the message.
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    pub message: String,
    pub expected_seq: Option<u64>,
}

/// The schema of [`ErrorCode`]: a string, one of [`ErrorCode::ALL`].
fn error_code_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .build()
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// For `offset_mismatch` (409): the offset the office holds.
    pub upload_offset: Option<u64>,
    /// For 429: how many seconds to wait (`Retry-After`).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code,
                message: message.into(),
                expected_seq: None,
            },
            upload_offset: None,
            retry_after: None,
        }
    }
    /// 429 with `Retry-After: secs` (at least 1).
    pub fn too_many(code: ErrorCode, message: impl Into<String>, secs: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        e.retry_after = Some(secs.max(1));
        e
    }
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }
    /// 422: the request can never succeed as sent.
    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            message,
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => ApiError::not_found(format!("{what} not found")),
            StoreError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            StoreError::Invalid { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            StoreError::SequenceGap { expected } => {
                let mut err = ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::SequenceGap,
                    format!(
                        "events are missing before this batch: push again from device_seq {expected}"
                    ),
                );
                err.body.expected_seq = Some(expected);
                err
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal("the office could not complete the request; try again later")
            }
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        tracing::error!(error = %e, "blocking task failed");
        ApiError::internal("the office could not complete the request; try again later")
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        tracing::error!(error = %e, "file storage failure");
        ApiError::internal("the office could not store the file; try again later")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = %self.body.code, message = %self.body.message, "request failed");
        } else {
            tracing::debug!(code = %self.body.code, message = %self.body.message, "request refused");
        }
        let mut resp = (self.status, axum::Json(self.body)).into_response();
        if let Some(off) = self.upload_offset {
            resp.headers_mut()
                .insert(UPLOAD_OFFSET_HEADER, HeaderValue::from(off));
        }
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
