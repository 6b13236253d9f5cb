//! Content-addressed, resumable attachment uploads (create, HEAD for the offset, PATCH at the
//! offset) and downloads for office staff. A file counts only once its SHA-256 matched.

use super::extract::{ApiJson, Auth, blocking};
use super::live::LiveEvent;
use crate::OfficeState;
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::files::Finish;
use crate::store::AttachmentRow;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use heatcrew_protocol::Digest;
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{
    AttachmentCreate, AttachmentStatus, MAX_ATTACHMENT_BYTES, MAX_CHUNK_BYTES, UPLOAD_OFFSET_HEADER,
};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Each route with its OpenAPI path; uploaded chunks have a body limit of their own.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(create))
        .routes(routes!(download, head, patch).layer(DefaultBodyLimit::max(MAX_CHUNK_BYTES)))
}

fn parse_sha(s: &str) -> ApiResult<Digest> {
    s.parse().map_err(|_| {
        ApiError::bad_request(
            ErrorCode::BadDigest,
            "the path must end in a SHA-256 as 64 lowercase hex characters",
        )
    })
}

/// Field users may upload and read only files their own accepted events reference.
async fn check_scope(state: &OfficeState, auth: &Auth, sha: Digest) -> ApiResult<()> {
    if auth.is_office_staff() {
        return Ok(());
    }
    let user = auth.user.id;
    if blocking(state, move |s| s.attachment_referenced_by(sha, user)).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::NotReferenced,
            "no event of yours references this attachment; push the record before its photos",
        ))
    }
}

async fn status(state: &OfficeState, row: AttachmentRow) -> ApiResult<AttachmentStatus> {
    let offset = if row.complete {
        row.size
    } else {
        state.files.partial_len(row.sha256)?
    };
    Ok(AttachmentStatus {
        sha256: row.sha256,
        offset,
        size: row.size,
        complete: row.complete,
    })
}

/// Finish what a stop interrupted: all bytes arrived but the office stopped before checking them,
/// or the file was moved into place but its row not yet committed. Without this, HEAD would report
/// the full length as held for a file that does not count.
async fn adopt_orphan(state: &OfficeState, row: AttachmentRow) -> ApiResult<AttachmentRow> {
    if row.complete {
        return Ok(row);
    }
    let sha = row.sha256;
    let _guard = state.files.lock_for(sha).lock().await;
    let files = state.files.clone();
    let size = row.size;
    let counted = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
        if files.has_final(sha) {
            return files.final_is_intact(sha);
        }
        if size > 0 && files.partial_len(sha)? == size {
            return Ok(files.finish(sha)? == Finish::Stored);
        }
        Ok(false)
    })
    .await??;
    if counted {
        blocking(state, move |s| s.complete_attachment(sha, Utc::now())).await?;
        return Ok(AttachmentRow {
            complete: true,
            ..row
        });
    }
    Ok(row)
}

/// Announce an upload (or look one up): returns where to continue. Already-complete content is
/// deduplicated: the answer is `complete: true` at once.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments",
    request_body = heatcrew_protocol::sync::AttachmentCreate, security(("device" = [])),
    responses((status = 200, body = Object, description = "AttachmentStatus"),
        (status = 403, body = ErrorBodySchema, description = "not_referenced"),
        (status = 409, body = ErrorBodySchema, description = "size_conflict"),
        (status = 413, body = ErrorBodySchema, description = "too_large")))]
pub async fn create(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<AttachmentCreate>,
) -> ApiResult<Json<AttachmentStatus>> {
    if req.size > MAX_ATTACHMENT_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("attachments are at most {MAX_ATTACHMENT_BYTES} bytes"),
        ));
    }
    check_scope(&state, &auth, req.sha256).await?;
    let user = auth.user.id;
    let row = blocking(&state, move |s| s.create_attachment(&req, user, Utc::now())).await?;
    let row = adopt_orphan(&state, row).await?;
    Ok(Json(status(&state, row).await?))
}

async fn existing(state: &OfficeState, sha: Digest) -> ApiResult<AttachmentRow> {
    blocking(state, move |s| s.attachment(sha))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownAttachment,
                "announce the upload with POST /api/v1/attachments first",
            )
        })
}

fn offset_headers(st: &AttachmentStatus) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(UPLOAD_OFFSET_HEADER, HeaderValue::from(st.offset));
    h.insert("upload-length", HeaderValue::from(st.size));
    h
}

/// How many bytes the office holds (`Upload-Offset`), to resume after a cut.
#[utoipa::path(head, path = "/api/v1/attachments/{sha256}", tag = "attachments", security(("device" = [])),
    params(("sha256" = String, Path, description = "content address")),
    responses((status = 200, description = "Upload-Offset and Upload-Length headers"), (status = 404)))]
pub async fn head(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(sha): Path<String>,
) -> ApiResult<Response> {
    let sha = parse_sha(&sha)?;
    check_scope(&state, &auth, sha).await?;
    let row = existing(&state, sha).await?;
    let row = adopt_orphan(&state, row).await?;
    let st = status(&state, row).await?;
    Ok((StatusCode::OK, offset_headers(&st)).into_response())
}

/// Append raw bytes at `Upload-Offset`. A wrong offset is a 409 `offset_mismatch` carrying the
/// real offset; the chunk that completes the file is hash-checked, and a mismatch discards the
/// upload (422 `hash_mismatch`).
#[utoipa::path(patch, path = "/api/v1/attachments/{sha256}", tag = "attachments", security(("device" = [])),
    params(("sha256" = String, Path, description = "content address"), ("upload-offset" = u64, Header, description = "where this chunk starts")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream", description = "at most MAX_CHUNK_BYTES"),
    responses((status = 200, body = Object, description = "AttachmentStatus"),
        (status = 409, body = ErrorBodySchema, description = "offset_mismatch; Upload-Offset has the real offset"),
        (status = 422, body = ErrorBodySchema, description = "hash_mismatch: the upload was discarded"),
        (status = 413, body = ErrorBodySchema)))]
pub async fn patch(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let sha = parse_sha(&sha)?;
    let offset: u64 = headers
        .get(UPLOAD_OFFSET_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(ErrorCode::MissingOffset, "send the Upload-Offset header")
        })?;
    check_scope(&state, &auth, sha).await?;
    let _guard = state.files.lock_for(sha).lock().await;
    let row = existing(&state, sha).await?;
    if row.complete {
        let st = status(&state, row).await?;
        return Ok((offset_headers(&st), Json(st)).into_response());
    }
    let held = state.files.partial_len(sha)?;
    if offset != held {
        let mut err = ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::OffsetMismatch,
            format!("the office holds {held} bytes; continue from there"),
        );
        err.upload_offset = Some(held);
        return Err(err);
    }
    if held + body.len() as u64 > row.size {
        return Err(ApiError::bad_request(
            ErrorCode::BeyondSize,
            format!("the upload was announced with {} bytes", row.size),
        ));
    }
    let files = state.files.clone();
    let now_len = tokio::task::spawn_blocking(move || files.append(sha, offset, &body)).await??;
    if now_len == row.size {
        let files = state.files.clone();
        match tokio::task::spawn_blocking(move || files.finish(sha)).await?? {
            Finish::Stored => {
                blocking(&state, move |s| s.complete_attachment(sha, Utc::now())).await?;
                tracing::info!(sha256 = %sha, bytes = row.size, "attachment stored");
                state.live.publish(LiveEvent::AttachmentReceived {
                    sha256: sha.to_hex(),
                });
            }
            Finish::HashMismatch { actual } => {
                tracing::warn!(sha256 = %sha, %actual, "attachment bytes do not match their hash; discarded");
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::HashMismatch,
                    format!(
                        "the bytes hash to {actual}, not {sha}; the upload was discarded, send it again from 0"
                    ),
                ));
            }
        }
    }
    let row = existing(&state, sha).await?;
    let st = status(&state, row).await?;
    Ok((offset_headers(&st), Json(st)).into_response())
}

/// Download a received file (office staff, or a field user whose events reference it).
#[utoipa::path(get, path = "/api/v1/attachments/{sha256}", tag = "attachments", security(("device" = []), ("staff" = [])),
    params(("sha256" = String, Path, description = "content address")),
    responses((status = 200, content_type = "application/octet-stream", description = "the file, with its recorded MIME type"),
        (status = 404, body = ErrorBodySchema, description = "not_received")))]
pub async fn download(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(sha): Path<String>,
) -> ApiResult<Response> {
    let sha = parse_sha(&sha)?;
    check_scope(&state, &auth, sha).await?;
    let row = existing(&state, sha).await?;
    if !row.complete {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotReceived,
            "the file has not fully arrived yet",
        ));
    }
    let files = state.files.clone();
    let bytes = tokio::task::spawn_blocking(move || files.read(sha)).await??;
    let mime = HeaderValue::from_str(&row.mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // Content-addressed: the bytes at this URL never change (private: it needs a token).
    let cache = HeaderValue::from_static("private, max-age=31536000, immutable");
    Ok(([(CONTENT_TYPE, mime), (CACHE_CONTROL, cache)], bytes).into_response())
}
