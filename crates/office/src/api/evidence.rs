//! The office's evidence (OpenAPI tag `evidence`, `docs/evidence.md`): its signed log for anyone
//! signed in (the latest tree head, inclusion and consistency proofs), a device's enrolled key and
//! chain tip (staff, or the device itself), and exports (staff).

use super::extract::{Auth, STAFF, blocking};
use crate::OfficeState;
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::export::{ExportScope, export, write_lines};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use heatcrew_protocol::ChainTip;
use heatcrew_protocol::log::{ConsistencyProof, InclusionProof, TreeHead};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(tree_head))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
        .routes(routes!(device_tip))
        .routes(routes!(export_lines))
}

/// The office's latest signed tree head (one per size: asking twice gives the same one).
#[utoipa::path(get, path = "/api/v1/log/tree-head", tag = "evidence", security(("device" = []), ("staff" = [])),
    responses((status = 200, body = Object, description = "TreeHead {size, root, timestamp, sig}")))]
pub async fn tree_head(State(state): State<OfficeState>, _auth: Auth) -> ApiResult<Json<TreeHead>> {
    let key = state.office_key.clone();
    let now = state.now();
    Ok(Json(
        blocking(&state, move |s| {
            crate::evidence::latest_tree_head(s, &key, now)
        })
        .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InclusionParams {
    /// The leaf's log index (a receipt's `log_index`).
    pub index: u64,
    /// The size of the tree head to prove it against.
    pub size: u64,
}

/// Proof that the leaf at `index` is in the log of `size` leaves (RFC 9162 audit path).
#[utoipa::path(get, path = "/api/v1/log/inclusion", tag = "evidence", params(InclusionParams), security(("device" = []), ("staff" = [])),
    responses((status = 200, body = Object, description = "InclusionProof {index, size, path}"),
        (status = 404, body = ErrorBodySchema, description = "no such leaf or size")))]
pub async fn inclusion(
    State(state): State<OfficeState>,
    _auth: Auth,
    Query(p): Query<InclusionParams>,
) -> ApiResult<Json<InclusionProof>> {
    let path = blocking(&state, move |s| s.inclusion_proof(p.index, p.size))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "the log of size {} has no leaf {} (or the log is smaller)",
                p.size, p.index
            ))
        })?;
    Ok(Json(InclusionProof {
        index: p.index,
        size: p.size,
        path,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConsistencyParams {
    /// The earlier tree head's size (at least 1).
    pub first: u64,
    /// The later tree head's size.
    pub second: u64,
}

/// Proof that the log of `second` leaves extends the log of `first` leaves unchanged (RFC 9162).
#[utoipa::path(get, path = "/api/v1/log/consistency", tag = "evidence", params(ConsistencyParams), security(("device" = []), ("staff" = [])),
    responses((status = 200, body = Object, description = "ConsistencyProof {first, second, path}"),
        (status = 404, body = ErrorBodySchema, description = "not 0 < first <= second <= log size")))]
pub async fn consistency(
    State(state): State<OfficeState>,
    _auth: Auth,
    Query(p): Query<ConsistencyParams>,
) -> ApiResult<Json<ConsistencyProof>> {
    let path = blocking(&state, move |s| s.consistency_proof(p.first, p.second))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no consistency proof {} → {}: the sizes must be 0 < first <= second <= the log's size",
                p.first, p.second
            ))
        })?;
    Ok(Json(ConsistencyProof {
        first: p.first,
        second: p.second,
        path,
    }))
}

/// A device's enrolled key and the last event of its chain as the office holds it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeviceTip {
    pub device_id: Uuid,
    /// Ed25519 public key as enrolled, hex.
    pub public_key: String,
    /// `{seq, hash}`: seq 0 and 64 zeros before the first event.
    #[schema(value_type = Object)]
    pub tip: ChainTip,
}

/// A device's enrolled public key and chain tip (staff, or the device itself).
#[utoipa::path(get, path = "/api/v1/devices/{id}/tip", tag = "evidence", security(("device" = []), ("staff" = [])),
    params(("id" = Uuid, Path, description = "device id")),
    responses((status = 200, body = DeviceTip), (status = 404, body = ErrorBodySchema)))]
pub async fn device_tip(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<DeviceTip>> {
    if auth.device_id != Some(id) {
        auth.require(STAFF)?;
    }
    let (dev, tip) = blocking(&state, move |s| Ok((s.device(id)?, s.device_tip(id)?))).await?;
    let (Some(dev), Some(tip)) = (dev, tip) else {
        return Err(ApiError::not_found(format!("device {id} is not enrolled")));
    };
    Ok(Json(DeviceTip {
        device_id: id,
        public_key: dev.public_key,
        tip,
    }))
}

/// An evidence export as JSON lines (`docs/evidence.md`), staff only: per device, job, date range.
#[utoipa::path(get, path = "/api/v1/export", tag = "evidence", params(ExportScope),
    responses((status = 200, content_type = "application/x-ndjson", body = String, description = "export lines"),
        (status = 403, body = ErrorBodySchema), (status = 404, body = ErrorBodySchema)))]
pub async fn export_lines(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(scope): Query<ExportScope>,
) -> ApiResult<impl IntoResponse> {
    auth.require(STAFF)?;
    crate::audit::record(
        &state,
        crate::audit::NewAudit::by(&auth, crate::audit::AuditKind::Export)
            .detail(serde_json::json!({ "scope": format!("{scope:?}") })),
    )
    .await?;
    let key = state.office_key.clone();
    let now = state.now();
    let lines = blocking(&state, move |s| export(s, &key, &scope, now)).await?;
    let mut body = Vec::new();
    write_lines(&lines, &mut body)?;
    Ok(([(CONTENT_TYPE, "application/x-ndjson")], body))
}
