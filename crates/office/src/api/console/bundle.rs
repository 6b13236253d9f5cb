//! `GET /api/v1/jobs/{id}/bundle`: a job's evidence bundle as a ZIP ([`crate::bundle`]).

use crate::OfficeState;
use crate::api::extract::{Auth, STAFF};
use crate::bundle::{self, BundleError};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(job_bundle))
}

/// A job's evidence bundle: the office export for the job (JSON lines), every referenced file the
/// office holds, the device and office public keys, `SHA256SUMS`, an independent verifier and a
/// README (zh + en) on checking it with standard tools, and a PDF summary to read (`summary.pdf`).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/bundle", tag = "console", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>, description = "the ZIP"),
        (status = 404, body = ErrorBodySchema), (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn job_bundle(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    auth.require(STAFF)?;
    crate::audit::record(
        &state,
        crate::audit::NewAudit::by(&auth, crate::audit::AuditKind::BundleDownload).subject(id),
    )
    .await?;
    let state2 = state.clone();
    let now = state.now();
    let built = tokio::task::spawn_blocking(move || {
        let s = &state2;
        let sources = bundle::Sources {
            store: &*s.store,
            files: &s.files,
            office: &s.office_key,
            chains: &s.chains,
            pdf_font: s.config.pdf_font.as_deref(),
        };
        bundle::bundle(&sources, id, now)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let built = match built {
        Ok(b) => b,
        Err(BundleError::Store(e)) => return Err(e.into()),
        Err(e) => {
            tracing::error!(job = %id, error = %e, "could not build an evidence bundle");
            return Err(ApiError::internal(
                "the bundle could not be built; the office log says why",
            ));
        }
    };
    if let Some(why) = &built.no_summary {
        tracing::warn!(job = %id, "evidence bundle without its PDF summary: {why}");
    }
    tracing::info!(job = %id, files = built.files, missing = built.missing.len(), bytes = built.zip.len(), "evidence bundle");
    Ok((
        [
            (CONTENT_TYPE, "application/zip".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"heatcrew-job-{id}.zip\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        built.zip,
    )
        .into_response())
}
