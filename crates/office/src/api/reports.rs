//! Reports for office staff (OpenAPI tag `reports`); the figures are computed in
//! [`crate::reports`].

use super::extract::{Auth, STAFF, blocking};
use crate::OfficeState;
use crate::error::ApiResult;
use crate::reports::Summary;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(summary))
}

#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", responses((status = 200, body = Summary)))]
pub async fn summary(State(state): State<OfficeState>, auth: Auth) -> ApiResult<Json<Summary>> {
    auth.require(STAFF)?;
    let now = state.now();
    Ok(Json(
        blocking(&state, move |s| crate::reports::summary(s, now)).await?,
    ))
}
