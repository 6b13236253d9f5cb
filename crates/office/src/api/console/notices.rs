//! The rectification notice register (`crate::notices`), office staff only:
//! `GET /console/notices?filter=&status=`, `GET /console/notices/{id}`,
//! `POST /console/notices/{id}/reinspector` (who re-inspects, before the job exists),
//! `POST /console/notices/{id}/outcome` (a dispatcher records the re-inspection's outcome).

use crate::OfficeState;
use crate::api::extract::{ApiJson, Staff, blocking};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::notices::register::{NoticeFilter, NoticeStatus, NoticeView, notice_view, notice_views};
use crate::notices::{NoticeOutcome, OutcomeEntry};
use crate::schedule::office_tz;
use crate::store::StoreError;
use crate::store::convert::ts;
use axum::Json;
use axum::extract::{Path, Query, State};
use heatcrew_protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(list_notices))
        .routes(routes!(get_notice))
        .routes(routes!(set_reinspector))
        .routes(routes!(record_outcome))
}

/// Longest outcome note.
pub const MAX_NOTE_CHARS: usize = 2000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NoticeQuery {
    /// `all` (default), `open`, `overdue`, `due_this_week`.
    pub filter: Option<NoticeFilter>,
    /// Only notices in this status.
    pub status: Option<NoticeStatus>,
}

/// The register: the notices asked for, with how many are open, overdue and due this week.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct NoticeList {
    pub notices: Vec<NoticeView>,
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub open: u64,
    #[ts(type = "number")]
    pub overdue: u64,
    #[ts(type = "number")]
    pub due_this_week: u64,
}

/// The notice register (newly pushed notices are brought in first).
#[utoipa::path(get, path = "/api/v1/console/notices", tag = "console", params(NoticeQuery),
    responses((status = 200, body = NoticeList), (status = 400, body = ErrorBodySchema),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn list_notices(
    State(state): State<OfficeState>,
    _staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> ApiResult<Json<NoticeList>> {
    let now = state.now();
    let list = blocking(&state, move |s| {
        s.import_notices(now)?;
        let all = notice_views(s, s.notices()?, now, office_tz())?;
        let count = |f: NoticeFilter| all.iter().filter(|v| f.keeps(v, now)).count() as u64;
        let (total, open, overdue, due_this_week) = (
            all.len() as u64,
            count(NoticeFilter::Open),
            count(NoticeFilter::Overdue),
            count(NoticeFilter::DueThisWeek),
        );
        let filter = q.filter.unwrap_or_default();
        let notices = all
            .into_iter()
            .filter(|v| filter.keeps(v, now) && q.status.is_none_or(|s| v.status == s))
            .collect();
        Ok(NoticeList {
            notices,
            total,
            open,
            overdue,
            due_this_week,
        })
    })
    .await?;
    Ok(Json(list))
}

/// One notice with its customer, findings and people (what a printed notice is made from).
#[utoipa::path(get, path = "/api/v1/console/notices/{id}", tag = "console", params(("id" = Uuid, Path)),
    responses((status = 200, body = NoticeView), (status = 404, body = ErrorBodySchema),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn get_notice(
    State(state): State<OfficeState>,
    _staff: Staff,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<NoticeView>> {
    let now = state.now();
    let view = blocking(&state, move |s| {
        notice_view(s, id, now, office_tz())?
            .ok_or_else(|| StoreError::not_found(format!("notice {id}")))
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ReinspectorRequest {
    pub user_id: Uuid,
}

/// Choose who re-inspects (before the re-inspection job is opened; afterwards reassign the job).
#[utoipa::path(post, path = "/api/v1/console/notices/{id}/reinspector", tag = "console",
    params(("id" = Uuid, Path)), request_body = ReinspectorRequest,
    responses((status = 200, body = NoticeView), (status = 404, body = ErrorBodySchema),
        (status = 409, body = ErrorBodySchema, description = "the re-inspection job exists"),
        (status = 422, body = ErrorBodySchema, description = "unknown_user"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn set_reinspector(
    State(state): State<OfficeState>,
    Staff(auth): Staff,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ReinspectorRequest>,
) -> ApiResult<Json<NoticeView>> {
    let now = state.now();
    let view = blocking(&state, move |s| {
        s.set_reinspector(id, req.user_id)?;
        notice_view(s, id, now, office_tz())?
            .ok_or_else(|| StoreError::not_found(format!("notice {id}")))
    })
    .await?;
    crate::audit::record(
        &state,
        crate::audit::NewAudit::by(&auth, crate::audit::AuditKind::NoticeReinspectorSet)
            .subject(id)
            .detail(serde_json::json!({"reinspector": req.user_id})),
    )
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct OutcomeRequest {
    pub outcome: NoticeOutcome,
    /// What the re-inspection found (required unless complied; at most 2,000 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// For `new_notice`: the notice issued in its place (in the register).
    #[serde(default)]
    pub next_notice: Option<Uuid>,
}

/// Record a re-inspection's outcome: `complied` closes the notice, `not_complied` and
/// `new_notice` escalate it. The first outcome stays (the same again answers the notice; another
/// is 409).
#[utoipa::path(post, path = "/api/v1/console/notices/{id}/outcome", tag = "console",
    params(("id" = Uuid, Path)), request_body = OutcomeRequest,
    responses((status = 200, body = NoticeView), (status = 404, body = ErrorBodySchema),
        (status = 409, body = ErrorBodySchema, description = "another outcome is recorded"),
        (status = 422, body = ErrorBodySchema, description = "invalid_value"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn record_outcome(
    State(state): State<OfficeState>,
    Staff(auth): Staff,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<OutcomeRequest>,
) -> ApiResult<Json<NoticeView>> {
    let note = req
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| {
        n.chars().count() > MAX_NOTE_CHARS || n.chars().any(|c| c.is_control() && c != '\n')
    }) {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            format!("note: at most {MAX_NOTE_CHARS} characters, no control characters"),
        ));
    }
    if req.outcome != NoticeOutcome::Complied && note.is_none() {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            "note: say what the re-inspection found",
        ));
    }
    if (req.outcome == NoticeOutcome::NewNotice) != req.next_notice.is_some() {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            "next_notice: name the new notice exactly when the outcome is new_notice",
        ));
    }
    let (now, by) = (state.now(), auth.user.id);
    let detail =
        serde_json::json!({"outcome": req.outcome, "note": note, "next_notice": req.next_notice});
    let (view, took_effect) = blocking(&state, move |s| {
        if let Some(next) = req.next_notice
            && (next == id || s.notice(next)?.is_none())
        {
            return Err(StoreError::Invalid {
                code: ErrorCode::InvalidValue,
                message: format!("next_notice: no other notice {next} in the register"),
            });
        }
        let stored = s.record_outcome(
            id,
            OutcomeEntry {
                outcome: req.outcome,
                note,
                by: Some(by),
                next_notice: req.next_notice,
            },
            now,
        )?;
        // The first outcome stays: only the one stored by this request is audited.
        let took_effect =
            stored.outcome_by == Some(by) && stored.outcome_at.map(ts) == Some(ts(now));
        let view = notice_view(s, id, now, office_tz())?
            .ok_or_else(|| StoreError::not_found(format!("notice {id}")))?;
        Ok((view, took_effect))
    })
    .await?;
    if took_effect {
        crate::audit::record(
            &state,
            crate::audit::NewAudit::by(&auth, crate::audit::AuditKind::NoticeOutcomeRecorded)
                .subject(id)
                .detail(detail),
        )
        .await?;
    }
    Ok(Json(view))
}
