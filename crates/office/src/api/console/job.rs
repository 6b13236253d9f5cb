//! `GET /api/v1/console/jobs/{id}`: a job's page ([`crate::job_view`]).

use crate::OfficeState;
use crate::api::extract::{Auth, STAFF, blocking};
use crate::error::{ApiResult, ErrorBodySchema};
use crate::job_view::{self, ConsoleJob};
use crate::store::StoreError;
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(console_job))
}

/// A job's page: the read-back, its board state, the timeline with localised step titles, names
/// and both clocks, and each recording device's chain status.
#[utoipa::path(get, path = "/api/v1/console/jobs/{id}", tag = "console", params(("id" = Uuid, Path)),
    responses((status = 200, body = ConsoleJob), (status = 404, body = ErrorBodySchema),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn console_job(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ConsoleJob>> {
    auth.require(STAFF)?;
    let page = blocking(&state, move |s| {
        let rec = s
            .job(id)?
            .ok_or_else(|| StoreError::not_found(format!("job {id}")))?;
        job_view::console_job(s, rec, Utc::now())
    })
    .await?;
    Ok(Json(page))
}
