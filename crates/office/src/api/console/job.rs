//! `GET /api/v1/console/jobs/{id}`: a job's page ([`crate::job_view`]); `POST
//! /api/v1/console/jobs/{id}/accept`: a dispatcher accepts a job opened in the field, which from
//! then on counts in the KPIs (docs/domain.md, "Field-created jobs").

use crate::OfficeState;
use crate::api::extract::{Auth, STAFF, blocking};
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiResult, ErrorBodySchema};
use crate::job_view::{self, ConsoleJob};
use crate::store::StoreError;
use crate::store::convert::ts;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(console_job))
        .routes(routes!(accept_field_job))
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
    let chains = state.chains.clone();
    let now = state.now();
    let page = blocking(&state, move |s| {
        let rec = s
            .job(id)?
            .ok_or_else(|| StoreError::not_found(format!("job {id}")))?;
        job_view::console_job(s, &chains, rec, now)
    })
    .await?;
    Ok(Json(page))
}

/// Accept a job a device opened in the field (an accident report, a repair found on patrol): it
/// counts in the KPIs from now on. Office staff only (dispatcher or admin); accepting twice keeps
/// the first acceptance. Answers the job's page.
#[utoipa::path(post, path = "/api/v1/console/jobs/{id}/accept", tag = "console", params(("id" = Uuid, Path)),
    responses((status = 200, body = ConsoleJob), (status = 404, body = ErrorBodySchema),
        (status = 409, body = ErrorBodySchema, description = "not_field_created"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn accept_field_job(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ConsoleJob>> {
    auth.require(STAFF)?;
    let by = auth.user.id;
    let now = state.now();
    let rec = blocking(&state, move |s| s.accept_field_job(id, by, now)).await?;
    // Accepting twice keeps the first acceptance: only the one stored now is audited.
    if rec.accepted_at.map(ts) == Some(ts(now)) {
        audit::record(
            &state,
            NewAudit::by(&auth, AuditKind::FieldJobAccepted).subject(id),
        )
        .await?;
    }
    let chains = state.chains.clone();
    let page = blocking(&state, move |s| job_view::console_job(s, &chains, rec, now)).await?;
    Ok(Json(page))
}
