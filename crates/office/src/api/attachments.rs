//! Content-addressed, resumable attachment uploads (create, HEAD for the offset, PATCH at the
//! offset) and downloads.
//!
//! Every uploader (a device, or a staff user without one) has an upload session of its own per
//! content address: its own announced size, its own partial file. A session counts only once its
//! own bytes hashed to the address, so nobody can block or poison another's upload, and nobody
//! becomes an uploader of content they do not hold. Downloads are for office staff, for the
//! uploaders, and for the assignee of a job whose event referencing the content was pushed by an
//! uploader or by office staff (naming someone else's hash in your own event gives you nothing).
//! Files are served with the type recognised in their bytes, never the uploader's, as downloads
//! (with `nosniff` and a sandboxing policy from [`super::headers`], like every answer).

use super::extract::{ApiJson, Auth, blocking};
use super::live::LiveEvent;
use crate::OfficeState;
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::objects::{Finish, SNIFF_BYTES, served_type};
use crate::store::{UploadRow, Uploader};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
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

fn uploader(auth: &Auth) -> Uploader {
    Uploader {
        user_id: auth.user.id,
        device_id: auth.device_id,
    }
}

/// Field users may upload only files their own accepted events reference, or that events this
/// same device pushed reference: on a shared phone the next user's sync uploads the photos of the
/// records the previous user pushed (the device holds them; its key signed the events).
async fn check_upload_scope(state: &OfficeState, auth: &Auth, sha: Digest) -> ApiResult<()> {
    if auth.is_office_staff() {
        return Ok(());
    }
    let user = auth.user.id;
    let device = auth.device_id;
    if blocking(state, move |s| {
        Ok(s.attachment_referenced_by(sha, user)?
            || match device {
                Some(d) => s.attachment_pushed_from(sha, d)?,
                None => false,
            })
    })
    .await?
    {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::NotReferenced,
            "no event of yours references this attachment; push the record before its photos",
        ))
    }
}

/// Field users may read only what they uploaded, or what an uploader (or office staff) recorded on
/// a job now assigned to them.
async fn check_read_scope(state: &OfficeState, auth: &Auth, sha: Digest) -> ApiResult<()> {
    if auth.is_office_staff() {
        return Ok(());
    }
    let user = auth.user.id;
    if blocking(state, move |s| s.attachment_readable_by(sha, user)).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "you may read files you uploaded, and files their uploader recorded on a job assigned to you",
        ))
    }
}

async fn status(
    state: &OfficeState,
    who: Uploader,
    row: &UploadRow,
) -> ApiResult<AttachmentStatus> {
    let offset = if row.complete {
        row.size
    } else {
        state.files.partial_len(row.sha256, &who.key()).await?
    };
    Ok(AttachmentStatus {
        sha256: row.sha256,
        offset,
        size: row.size,
        complete: row.complete,
    })
}

/// Count a session whose bytes are all in, hash-checked and durably in place (by
/// [`crate::objects::Objects::finish`], which found them to be `mime`): commit, then drop the
/// partial bytes. The caller holds the content's lock.
async fn count_upload(
    state: &OfficeState,
    who: Uploader,
    row: &UploadRow,
    mime: &'static str,
) -> ApiResult<()> {
    let sha = row.sha256;
    let now = state.now();
    blocking(state, move |s| s.complete_upload(sha, who, mime, now)).await?;
    state.files.discard_partial(sha, &who.key()).await?;
    tracing::info!(sha256 = %sha, bytes = row.size, uploader = %who.key(), "attachment upload counted");
    state.live.publish(LiveEvent::AttachmentReceived {
        sha256: sha.to_hex(),
    });
    Ok(())
}

/// Finish what a stop interrupted: all of this uploader's bytes arrived but the office stopped
/// before checking them, or before counting them, or after counting but before dropping the partial
/// file. Without this, HEAD would report the full length as held for an upload that does not count.
async fn adopt_orphan(state: &OfficeState, who: Uploader, row: UploadRow) -> ApiResult<UploadRow> {
    let sha = row.sha256;
    let _guard = state.files.lock_for(sha).lock().await;
    if row.complete {
        state.files.discard_partial(sha, &who.key()).await?;
        return Ok(row);
    }
    let key = who.key();
    let finished = if row.size > 0 && state.files.partial_len(sha, &key).await? == row.size {
        state.files.finish(sha, &key).await?
    } else {
        return Ok(row);
    };
    if let Finish::Stored { mime } = finished {
        count_upload(state, who, &row, mime).await?;
        return Ok(UploadRow {
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
    check_upload_scope(&state, &auth, req.sha256).await?;
    let who = uploader(&auth);
    let sha = req.sha256;
    let now = state.now();
    let row = {
        let _guard = state.files.lock_for(sha).lock().await;
        let (row, restarted) = blocking(&state, move |s| s.open_upload(&req, who, now)).await?;
        if restarted {
            tracing::info!(sha256 = %sha, uploader = %who.key(), "upload announced with another size; starting over");
            state.files.discard_partial(sha, &who.key()).await?;
        }
        row
    };
    let row = adopt_orphan(&state, who, row).await?;
    Ok(Json(status(&state, who, &row).await?))
}

/// This uploader's session of `sha`.
async fn existing(state: &OfficeState, who: Uploader, sha: Digest) -> ApiResult<UploadRow> {
    blocking(state, move |s| s.upload(sha, who))
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

/// How many bytes the office holds of the caller's upload (`Upload-Offset`), to resume after a cut.
/// Office staff without an upload of their own learn whether the content arrived: its full length
/// as offset if it did, 404 if not.
#[utoipa::path(head, path = "/api/v1/attachments/{sha256}", tag = "attachments", security(("device" = []), ("staff" = [])),
    params(("sha256" = String, Path, description = "content address")),
    responses((status = 200, description = "Upload-Offset and Upload-Length headers"), (status = 404)))]
pub async fn head(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(sha): Path<String>,
) -> ApiResult<Response> {
    let sha = parse_sha(&sha)?;
    check_upload_scope(&state, &auth, sha).await?;
    let who = uploader(&auth);
    let row = match existing(&state, who, sha).await {
        Err(_) if auth.is_office_staff() => {
            let got = blocking(&state, move |s| s.attachment(sha)).await?;
            let row = got.filter(|row| row.complete).ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    ErrorCode::NotReceived,
                    "the file has not fully arrived yet",
                )
            })?;
            UploadRow {
                sha256: sha,
                size: row.size,
                complete: true,
            }
        }
        found => adopt_orphan(&state, who, found?).await?,
    };
    let st = status(&state, who, &row).await?;
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
    check_upload_scope(&state, &auth, sha).await?;
    let who = uploader(&auth);
    let key = who.key();
    let _guard = state.files.lock_for(sha).lock().await;
    let row = existing(&state, who, sha).await?;
    if row.complete {
        let st = status(&state, who, &row).await?;
        return Ok((offset_headers(&st), Json(st)).into_response());
    }
    let held = state.files.partial_len(sha, &key).await?;
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
    let now_len = state.files.append(sha, &key, offset, body).await?;
    if now_len == row.size {
        match state.files.finish(sha, &key).await? {
            Finish::Stored { mime } => count_upload(&state, who, &row, mime).await?,
            Finish::HashMismatch { actual } => {
                tracing::warn!(sha256 = %sha, %actual, uploader = %key, "attachment bytes do not match their hash; discarded");
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
    let row = existing(&state, who, sha).await?;
    let st = status(&state, who, &row).await?;
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
    check_read_scope(&state, &auth, sha).await?;
    let received = blocking(&state, move |s| s.attachment(sha))
        .await?
        .is_some_and(|row| row.complete);
    if !received {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotReceived,
            "the file has not fully arrived yet",
        ));
    }
    let (size, mut chunks) = state.files.stream(sha).await?;
    // The office decides the type from the bytes; the uploader's announcement is never used. The
    // first chunks are held back until the type is known, then the rest streams.
    let mut first: Vec<Bytes> = Vec::new();
    let mut held = 0;
    while held < SNIFF_BYTES {
        match futures_util::StreamExt::next(&mut chunks).await {
            Some(chunk) => {
                let chunk = chunk?;
                held += chunk.len();
                first.push(chunk);
            }
            None => break,
        }
    }
    let head: Vec<u8> = first
        .iter()
        .flat_map(|c| c.iter().copied())
        .take(SNIFF_BYTES)
        .collect();
    let (mime, ext) = served_type(&head);
    let body = Body::from_stream(
        futures_util::stream::iter(first.into_iter().map(Ok::<_, std::io::Error>)).chain(chunks),
    );
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{sha}.{ext}\""))
        .expect("a hex name and a fixed extension are a valid header");
    // Content-addressed: the bytes at this URL never change (private: it needs a token).
    let cache = HeaderValue::from_static("private, max-age=31536000, immutable");
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(mime)),
            (CONTENT_DISPOSITION, disposition),
            // `nosniff` and a sandboxing CSP (opened as a page anyway, it could run nothing) come
            // from the layer every answer passes (`api::headers::secure`).
            (CACHE_CONTROL, cache),
            (CONTENT_LENGTH, HeaderValue::from(size)),
        ],
        body,
    )
        .into_response())
}
