//! `POST /auth/sign-out`: a device's signed word that its user signed out, and where its chain
//! stood then ([`crate::sign_out`]). No token: the phone may have none left (it signs out offline,
//! or its session ran out), and the device key's signature over the sign-in's one-time challenge
//! is the proof. Kept once; the same statement again is answered the same: the office's signature
//! that it keeps it (`heatcrew.sign-out-kept.v1`), which the phone keeps as evidence.

use super::extract::{ApiJson, blocking};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::ledger::makers::SignedHead;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{SignOutKept, SignOutStatement};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(sign_out))
}

#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth", request_body = SignOutStatement, security(()),
    responses((status = 200, body = SignOutKept, description = "kept (or kept already): the office's signature that it keeps it"),
        (status = 400, body = ErrorBodySchema, description = "bad_proof: not the device key's signature over this sign-out"),
        (status = 404, body = ErrorBodySchema, description = "unknown_sign_in"),
        (status = 409, body = ErrorBodySchema, description = "chain_head_mismatch or sign_out_conflict")))]
pub async fn sign_out(
    State(state): State<OfficeState>,
    ApiJson(statement): ApiJson<SignOutStatement>,
) -> ApiResult<Json<SignOutKept>> {
    let device_id = statement.device_id;
    let signed = SignedHead {
        head: statement.chain_head,
        challenge: statement.challenge,
        proof: statement.proof,
    };
    let challenge = signed.challenge.clone();
    let sign_in = blocking(&state, move |s| s.sign_in_to_end(device_id, &challenge))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownSignIn,
                "the office has no sign-in of this device with that challenge",
            )
        })?;
    let key = heatcrew_protocol::log::parse_public_key(&sign_in.device_key)
        .ok_or_else(|| ApiError::internal("a stored device key does not parse"))?;
    if !crate::sign_out::verifies(device_id, &key, &sign_in.username, &signed) {
        return Err(ApiError::bad_request(
            ErrorCode::BadProof,
            "the proof is not this device key's signature over this sign-out",
        ));
    }
    let head = signed.head;
    let office_sig = crate::sign_out::acknowledge(&state.office_key, device_id, &signed)
        .ok_or_else(|| ApiError::internal("a verified sign-out is not hex"))?;
    blocking(&state, move |s| s.keep_sign_out(device_id, &signed)).await?;
    audit::record(
        &state,
        NewAudit::new(AuditKind::SignOut)
            .username(&sign_in.username)
            .detail(serde_json::json!({
                "device": device_id,
                "signed_out_at_record": head.seq,
            })),
    )
    .await?;
    Ok(Json(SignOutKept { office_sig }))
}
