//! Feedback records and documents for office staff (OpenAPI tag `documents`):
//! - `GET /console/feedback?from=&to=&staff=&customer=&result=&rating_min=&rating_max=&after=&limit=`:
//!   the feedback records (信息反馈), newest closing first, a page at a time;
//! - `GET /console/feedback.csv?…` (same filters): all of them as CSV (UTF-8 with BOM), streamed;
//! - `GET /reports/monthly.xlsx?month=YYYY-MM`: the monthly workbook, streamed;
//! - `GET /jobs/{id}/service-record.pdf`, `GET /jobs/{id}/notices/{number}/pdf`: the printable
//!   PDFs, with their SHA-256 in `x-heatcrew-sha256` (kept with the job);
//! - `GET /jobs/{id}/documents`: every digest kept for the job's documents.
//!
//! Every download of a document with customers' details is in the audit log
//! (`document_download`: who, from where, which document, the PDF's digest or the filters).

use super::extract::{Auth, STAFF, blocking};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::documents::csv::write_csv;
use crate::documents::monthly::{month_range, monthly_workbook};
use crate::documents::printable::{PrintError, Printable, print};
use crate::documents::stream::body_from_blocking;
use crate::documents::tables::FeedbackTable;
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::feedback::{DocumentDigest, FeedbackPage, FeedbackQuery};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use heatcrew_protocol::ErrorCode;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The PDF's SHA-256 (hex), as kept with the job.
pub const SHA256_HEADER: &str = "x-heatcrew-sha256";

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(feedback_list))
        .routes(routes!(feedback_csv))
        .routes(routes!(monthly_xlsx))
        .routes(routes!(service_record_pdf))
        .routes(routes!(notice_pdf))
        .routes(routes!(job_documents))
}

/// The feedback records (信息反馈) matching the filters, newest closing first.
#[utoipa::path(get, path = "/api/v1/console/feedback", tag = "documents", params(FeedbackQuery),
    responses((status = 200, body = FeedbackPage),
        (status = 422, body = ErrorBodySchema, description = "invalid_value: a bad result, rating or cursor"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn feedback_list(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(q): Query<FeedbackQuery>,
) -> ApiResult<Json<FeedbackPage>> {
    auth.require(STAFF)?;
    Ok(Json(blocking(&state, move |s| s.feedback_page(&q)).await?))
}

fn download(content_type: &str, filename: &str, body: impl IntoResponse) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Every feedback record matching the filters as CSV (UTF-8 with BOM, CRLF; paging ignored).
#[utoipa::path(get, path = "/api/v1/console/feedback.csv", tag = "documents", params(FeedbackQuery),
    responses((status = 200, content_type = "text/csv", body = String, description = "the CSV, streamed"),
        (status = 422, body = ErrorBodySchema, description = "invalid_value"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn feedback_csv(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(q): Query<FeedbackQuery>,
) -> ApiResult<Response> {
    auth.require(STAFF)?;
    q.check()?;
    // What was asked for (the filters given, the customer searched for included).
    let mut filters = json!({
        "from": q.from, "to": q.to, "staff": q.staff, "customer": q.customer,
        "result": q.result, "rating_min": q.rating_min, "rating_max": q.rating_max,
    });
    if let Some(given) = filters.as_object_mut() {
        given.retain(|_, v| !v.is_null());
    }
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::DocumentDownload)
            .detail(json!({"document": "feedback_csv", "filters": filters})),
    )
    .await?;
    let store = state.store.clone();
    let body = body_from_blocking("feedback.csv", move |out| {
        let mut table = FeedbackTable { query: q };
        write_csv(&mut table, &*store, out).map(|_| ())
    });
    Ok(download(
        "text/csv; charset=utf-8",
        "heatcrew-feedback.csv",
        body,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MonthParams {
    /// The company's month (China Standard Time), `YYYY-MM`.
    pub month: String,
}

/// The monthly report as an Excel workbook: the month's summary, feedback records and jobs, one
/// sheet each, written in constant memory and streamed.
#[utoipa::path(get, path = "/api/v1/reports/monthly.xlsx", tag = "documents", params(MonthParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "the workbook, streamed"),
        (status = 422, body = ErrorBodySchema, description = "invalid_value: not a YYYY-MM month"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn monthly_xlsx(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(p): Query<MonthParams>,
) -> ApiResult<Response> {
    auth.require(STAFF)?;
    month_range(&p.month)?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::DocumentDownload)
            .detail(json!({"document": "monthly_xlsx", "month": p.month})),
    )
    .await?;
    let now = state.now();
    let month = p.month.clone();
    // The summary is counted before the first byte, so a store failure there is a clear error.
    let book = blocking(&state, move |s| monthly_workbook(s, &month, now)).await?;
    let store = state.store.clone();
    let body = body_from_blocking("monthly.xlsx", move |out| {
        book.write(&*store, out).map(|_| ())
    });
    Ok(download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("heatcrew-monthly-{}.xlsx", p.month),
        body,
    ))
}

async fn printed(
    state: &OfficeState,
    auth: &Auth,
    id: Uuid,
    what: Printable,
) -> ApiResult<Response> {
    let (document, notice) = match &what {
        Printable::ServiceRecord => ("service_record", None),
        Printable::Notice(number) => ("notice", Some(number.clone())),
    };
    let st = state.clone();
    let now = state.now();
    let key = what.key();
    let made = tokio::task::spawn_blocking(move || {
        print(&*st.store, st.config.pdf_font.as_deref(), id, &what, now)
    })
    .await?;
    let made = match made {
        Ok(m) => m,
        Err(PrintError::Store(e)) => return Err(e.into()),
        Err(PrintError::NotFound(m)) => return Err(ApiError::not_found(m)),
        Err(e @ PrintError::Font(_)) => {
            tracing::error!(job = %id, error = %e, "no PDF font");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Internal,
                "the office has no PDF font; start it with --pdf-font",
            ));
        }
        Err(e) => {
            tracing::error!(job = %id, error = %e, "could not typeset a document");
            return Err(ApiError::internal(
                "the document could not be made; the office log says why",
            ));
        }
    };
    // Recorded before the first byte leaves, with the digest of exactly what leaves.
    audit::record(
        state,
        NewAudit::by(auth, AuditKind::DocumentDownload)
            .subject(id)
            .detail(json!({"document": document, "notice": notice, "sha256": made.digest.sha256})),
    )
    .await?;
    let filename = format!(
        "heatcrew-{}-{id}.pdf",
        key.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
    );
    let mut resp = download("application/pdf", &filename, made.pdf);
    if let Ok(v) = made.digest.sha256.parse() {
        resp.headers_mut()
            .insert(HeaderName::from_static(SHA256_HEADER), v);
    }
    Ok(resp)
}

/// A visit's service record (上门服务记录单) as a PDF; its SHA-256 is kept with the job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/service-record.pdf", tag = "documents", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>, description = "the PDF; x-heatcrew-sha256 is its digest"),
        (status = 404, body = ErrorBodySchema), (status = 403, body = ErrorBodySchema, description = "not office staff"),
        (status = 503, body = ErrorBodySchema, description = "no PDF font configured")))]
pub async fn service_record_pdf(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    auth.require(STAFF)?;
    printed(&state, &auth, id, Printable::ServiceRecord).await
}

/// A rectification notice (整改通知书) of the job as handed to the customer, as a PDF; its SHA-256
/// is kept with the job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/notices/{number}/pdf", tag = "documents",
    params(("id" = Uuid, Path), ("number" = String, Path, description = "the notice number")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>, description = "the PDF; x-heatcrew-sha256 is its digest"),
        (status = 404, body = ErrorBodySchema), (status = 403, body = ErrorBodySchema, description = "not office staff"),
        (status = 503, body = ErrorBodySchema, description = "no PDF font configured")))]
pub async fn notice_pdf(
    State(state): State<OfficeState>,
    auth: Auth,
    Path((id, number)): Path<(Uuid, String)>,
) -> ApiResult<Response> {
    auth.require(STAFF)?;
    printed(&state, &auth, id, Printable::Notice(number)).await
}

/// Every distinct PDF the office made for the job, with its SHA-256 and when it was first made.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/documents", tag = "documents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<DocumentDigest>), (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn job_documents(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<DocumentDigest>>> {
    auth.require(STAFF)?;
    Ok(Json(
        blocking(&state, move |s| s.document_digests(id)).await?,
    ))
}
