//! Push and pull (`docs/design.md`, "Sync"). The device is always the token's device.

use super::extract::{ApiJson, Auth, blocking};
use crate::OfficeState;
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{
    ClockJumpAck, ClockJumpReport, MAX_CLOCK_JUMPS, MAX_PULL_ACKNOWLEDGEMENTS, MAX_PUSH_EVENTS,
    PullResponse, PushRequest, PushResponse,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(push))
        .routes(routes!(pull))
        .routes(routes!(clock_jumps))
}

/// Keep the jumps of the token's device's wall clock that its monotonic clock saw (issue 15,
/// honest time); staff read them at `GET /api/v1/devices/{id}/clock-jumps`. Once per jump id:
/// a repeated report changes nothing.
#[utoipa::path(post, path = "/api/v1/sync/clock-jumps", tag = "sync",
    request_body = heatcrew_protocol::sync::ClockJumpReport, security(("device" = [])),
    responses((status = 200, body = heatcrew_protocol::sync::ClockJumpAck, description = "the ids held"),
        (status = 403, body = ErrorBodySchema, description = "no_device: a staff token has no clock to report"),
        (status = 413, body = ErrorBodySchema, description = "too_many_events: more than 100 jumps")))]
pub async fn clock_jumps(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<ClockJumpReport>,
) -> ApiResult<Json<ClockJumpAck>> {
    let device = auth.device_id.ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::NoDevice,
            "only a device token reports its clock",
        )
    })?;
    if req.jumps.len() > MAX_CLOCK_JUMPS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooManyEvents,
            format!("at most {MAX_CLOCK_JUMPS} clock jumps per report"),
        ));
    }
    // Times are range-checked like every stored time (issue 11): a report nothing can read back
    // is refused whole, with the field named, and nothing of it is kept.
    for (i, j) in req.jumps.iter().enumerate() {
        for (field, t) in [("wall_before", j.wall_before), ("wall_after", j.wall_after)] {
            heatcrew_protocol::bounds::check_time(&format!("jumps[{i}].{field}"), t)
                .map_err(|r| ApiError::invalid(ErrorCode::OutOfRange, r.to_string()))?;
        }
    }
    let user = auth.user.id;
    let now = state.now();
    let stored = blocking(&state, move |s| {
        s.record_device_clock_jumps(device, user, &req.jumps, now)
    })
    .await?;
    if !stored.is_empty() {
        tracing::warn!(device = %device, jumps = stored.len(), "device clock jumped");
    }
    Ok(Json(ClockJumpAck { stored }))
}

/// Apply a batch of the token's device's events in one transaction: `device_seq == last+1` is
/// verified (chain, signature, scope) and stored, with an office-signed receipt for every stored
/// event; `<= last` answers the stored result (and the same receipt); a gap is a
/// 409 `sequence_gap` with `expected_seq`, and nothing of the batch is stored.
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync",
    request_body = heatcrew_protocol::sync::PushRequest, security(("device" = [])),
    responses((status = 200, body = Object, description = "PushResponse: one result per event"),
        (status = 409, body = ErrorBodySchema, description = "sequence_gap with expected_seq"),
        (status = 403, body = ErrorBodySchema, description = "no_device: a staff token cannot push"),
        (status = 413, body = ErrorBodySchema, description = "too_large / too_many_events")))]
pub async fn push(
    State(state): State<OfficeState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    let device = auth.device_id.ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::NoDevice,
            "only a device token can push events",
        )
    })?;
    if req.events.len() > MAX_PUSH_EVENTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooManyEvents,
            format!("at most {MAX_PUSH_EVENTS} events per push; split the backlog"),
        ));
    }
    let user = auth.user.id;
    let n = req.events.len();
    let jobs: std::collections::BTreeSet<uuid::Uuid> =
        req.events.iter().map(|e| e.unsigned.job_id).collect();
    let urgent: Vec<uuid::Uuid> = req
        .events
        .iter()
        .filter(|e| heatcrew_protocol::is_urgent_record(&e.unsigned.kind, &e.unsigned.payload))
        .map(|e| e.unsigned.id)
        .collect();
    let started = std::time::Instant::now();
    let (key, clock) = (state.office_key.clone(), state.config.clock.clone());
    // The office's time when the push's work starts on its worker thread, not when the request
    // was queued for one.
    let resp = blocking(&state, move |s| {
        s.push(device, user, &req.events, clock.now(), &key)
    })
    .await?;
    super::device_info::record(&state, device, &headers, state.now()).await;
    tracing::info!(device = %device, events = n, last_seq = resp.last_seq, ms = started.elapsed().as_millis() as u64, "push");
    // The feedback record (信息反馈) of every closed job the batch touched is written now, so the
    // console's list never folds events per request; a failure here is repaired at the next start.
    let touched: Vec<uuid::Uuid> = jobs.iter().copied().collect();
    let now = state.now();
    if let Err(e) = blocking(&state, move |s| crate::feedback::refresh(s, touched, now)).await {
        tracing::warn!(device = %device, "feedback records not refreshed after a push: {}", e.body.message);
    }
    // Committed: open consoles refetch these jobs (a replayed batch changes nothing, but a spare
    // refetch is cheaper than telling the cases apart here).
    for job in jobs {
        state.live.job_changed(job);
    }
    super::console::alerts::publish_raised(&state, urgent).await;
    Ok(Json(resp))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PullParams {
    /// The `next_cursor` of the previous pull (0 at first).
    #[serde(default)]
    pub cursor: u64,
    /// At most this many changes (default 500, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Changes in the caller's scope after `cursor`, in office commit order, with the office's latest
/// signed tree head (the device keeps the newest; while pushes hold the SQLite writer, the newest
/// one kept rather than a new one: `evidence::pull_tree_head`) and the office's acknowledgements of the device's
/// urgent records.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", params(PullParams), security(("device" = [])),
    responses((status = 200, body = Object, description = "PullResponse")))]
pub async fn pull(
    State(state): State<OfficeState>,
    auth: Auth,
    headers: HeaderMap,
    Query(p): Query<PullParams>,
) -> ApiResult<Json<PullResponse>> {
    let limit = p.limit.unwrap_or(500).clamp(1, 1000);
    let user = auth.user.id;
    let device = auth.device_id;
    let (key, clock) = (state.office_key.clone(), state.config.clock.clone());
    let (changes, next_cursor, has_more, head, acknowledgements) = blocking(&state, move |s| {
        let (changes, next, more) = s.pull(user, p.cursor, limit)?;
        let head = crate::evidence::pull_tree_head(s, &key, clock.now())?;
        // The office's acknowledgements of this device's urgent records (accident reports).
        let acks = match device {
            Some(d) => s.device_acknowledgements(d, MAX_PULL_ACKNOWLEDGEMENTS)?,
            None => Vec::new(),
        };
        Ok((changes, next, more, head, acks))
    })
    .await?;
    if let Some(d) = device {
        super::device_info::record(&state, d, &headers, state.now()).await;
    }
    let company = blocking(&state, super::company::company_profile).await?;
    Ok(Json(PullResponse {
        changes,
        next_cursor,
        has_more,
        server_time: state.now(),
        tree_head: Some(head),
        acknowledgements,
        company,
    }))
}
