//! The complaints and reports tracker (投诉/举报, issue 13 point 5; [`crate::complaints`]), for
//! dispatchers and admins; field roles are refused (403).
//!
//! - `GET /console/complaints?state=open|overdue|answered|all&kind=&owner=`: the list, with the
//!   office's clock (`now`) for the countdowns.
//! - `POST /console/complaints`: intake; the caller becomes its owner (首问).
//! - `GET /console/complaints/{id}`: one complaint with its audit trail.
//! - `POST /console/complaints/{id}/handover|reply|callback`.
//! - `GET /console/complaints/figures?from=&to=`: the KPI counts ([`crate::complaints::figures`])
//!   for days in the company's time zone (`to` inclusive).

use crate::OfficeState;
use crate::api::extract::{ApiJson, Auth, Staff, blocking};
use crate::api::live::LiveEvent;
use crate::audit::{AuditEntry, AuditKind, NewAudit};
use crate::complaints::figures::{self, ComplaintFigures};
use crate::complaints::input::{
    self, CallbackRequest, CreateComplaintRequest, HandoverRequest, ReplyRequest,
};
use crate::complaints::{Complaint, ComplaintKind, ComplaintState, company_tz, due_at};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::store::StoreError;
use crate::store::complaints::{ComplaintChange, ComplaintFilter, ComplaintQuery, NewComplaint};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use heatcrew_protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use uuid::Uuid;

/// A request body larger than this is refused (413) before it is read: the longest valid intake
/// (4,000 characters of text, each up to 4 bytes, JSON-escaped) fits well inside.
pub const MAX_BODY: usize = 64 * 1024;
/// Complaints listed at most.
pub const LIST_LIMIT: u32 = 500;
/// The longest period the figures are asked for.
pub const MAX_PERIOD_DAYS: i64 = 366 * 5;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(list_complaints, create_complaint).layer(DefaultBodyLimit::max(MAX_BODY)))
        .routes(routes!(complaint_figures))
        .routes(routes!(get_complaint))
        .routes(routes!(handover).layer(DefaultBodyLimit::max(MAX_BODY)))
        .routes(routes!(reply).layer(DefaultBodyLimit::max(MAX_BODY)))
        .routes(routes!(callback).layer(DefaultBodyLimit::max(MAX_BODY)))
}

/// A complaint with where it stands at the office's `now`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ComplaintRow {
    #[serde(flatten)]
    pub complaint: Complaint,
    pub state: ComplaintState,
    /// Answered before the deadline (`null` while unanswered).
    pub answered_in_time: Option<bool>,
}

fn row(c: Complaint, now: DateTime<Utc>) -> ComplaintRow {
    ComplaintRow {
        state: c.state(now),
        answered_in_time: c.answered_in_time(),
        complaint: c,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ComplaintList {
    /// The office's clock: countdowns are `due_at - now`.
    pub now: DateTime<Utc>,
    pub complaints: Vec<ComplaintRow>,
}

/// One complaint, its trail (oldest first) and the office's clock.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ComplaintDetail {
    pub now: DateTime<Utc>,
    pub complaint: ComplaintRow,
    pub trail: Vec<AuditEntry>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// `open` (unanswered, the default), `overdue`, `answered` or `all`.
    pub state: Option<String>,
    /// `complaint` or `report`.
    pub kind: Option<String>,
    /// Owned now by this user id.
    pub owner: Option<Uuid>,
}

fn bad_filter(what: &str, value: &str) -> ApiError {
    ApiError::bad_request(ErrorCode::BadRequest, format!("no {what} {value:?}"))
}

/// The tracker's list (dispatchers and admins).
#[utoipa::path(get, path = "/api/v1/console/complaints", tag = "console", params(ListParams),
    responses((status = 200, body = ComplaintList),
        (status = 400, body = ErrorBodySchema, description = "an unknown state or kind"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn list_complaints(
    State(state): State<OfficeState>,
    _staff: Staff,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<ComplaintList>> {
    let filter = match p.state.as_deref().unwrap_or("open") {
        "open" | "" => ComplaintFilter::Open,
        "overdue" => ComplaintFilter::Overdue,
        "answered" => ComplaintFilter::Answered,
        "all" => ComplaintFilter::All,
        other => return Err(bad_filter("state", other)),
    };
    let kind = match p.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(ComplaintKind::parse(k).ok_or_else(|| bad_filter("kind", k))?),
    };
    let now = state.now();
    let query = ComplaintQuery {
        filter,
        kind,
        owner: p.owner,
        now,
        limit: LIST_LIMIT,
    };
    let found = blocking(&state, move |s| s.complaints(&query)).await?;
    Ok(Json(ComplaintList {
        now,
        complaints: found.into_iter().map(|c| row(c, now)).collect(),
    }))
}

/// Take a complaint or report: the caller becomes its owner (首问) and the deadline starts.
#[utoipa::path(post, path = "/api/v1/console/complaints", tag = "console",
    request_body = CreateComplaintRequest,
    responses((status = 200, body = ComplaintDetail),
        (status = 400, body = ErrorBodySchema, description = "bad_json (an unknown kind or channel)"),
        (status = 409, body = ErrorBodySchema, description = "complaint_exists"),
        (status = 413, body = ErrorBodySchema, description = "too_large"),
        (status = 422, body = ErrorBodySchema, description = "complaint_field, unknown_job"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn create_complaint(
    State(state): State<OfficeState>,
    staff: Staff,
    ApiJson(req): ApiJson<CreateComplaintRequest>,
) -> ApiResult<Json<ComplaintDetail>> {
    let auth = staff.0;
    let now = state.now();
    let req = input::check_create(&req)?;
    let received_at = input::received_at(req.received_at, now)?;
    let new = NewComplaint {
        id: req.id.unwrap_or_else(Uuid::now_v7),
        kind: req.kind,
        channel: req.channel,
        caller_name: req.caller_name,
        caller_phone: req.caller_phone,
        subject: req.subject,
        text: req.text,
        job_id: req.job_id,
        customer: req.customer,
        received_at,
        due_at: due_at(req.kind, received_at),
        received_by: auth.user.id,
        created_at: now,
    };
    let mut audit = NewAudit::by(&auth, AuditKind::ComplaintReceived);
    audit.at = now;
    let id = new.id;
    let me = auth.user.id;
    let stored = blocking(&state, move |s| match s.create_complaint(&new, &audit) {
        // The same form sent again after a lost answer: the complaint it stored.
        Err(StoreError::Conflict {
            code: ErrorCode::ComplaintExists,
            ..
        }) => match s.complaint(new.id)? {
            Some(c)
                if c.received_by.id == me
                    && c.kind == new.kind
                    && c.subject == new.subject
                    && c.text == new.text =>
            {
                Ok(c)
            }
            _ => Err(StoreError::Conflict {
                code: ErrorCode::ComplaintExists,
                message: format!("another complaint already has id {}", new.id),
            }),
        },
        other => other,
    })
    .await?;
    tracing::info!(complaint = %id, number = %stored.number, "complaint received");
    state
        .live
        .publish(LiveEvent::ComplaintChanged { complaint_id: id });
    detail(&state, stored).await.map(Json)
}

async fn detail(state: &OfficeState, c: Complaint) -> ApiResult<ComplaintDetail> {
    let id = c.id;
    let trail = blocking(state, move |s| s.complaint_trail(id)).await?;
    let now = state.now();
    Ok(ComplaintDetail {
        now,
        complaint: row(c, now),
        trail,
    })
}

fn unknown(id: Uuid) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::UnknownComplaint,
        format!("there is no complaint {id}"),
    )
}

/// One complaint with its trail.
#[utoipa::path(get, path = "/api/v1/console/complaints/{id}", tag = "console",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ComplaintDetail),
        (status = 404, body = ErrorBodySchema, description = "unknown_complaint"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn get_complaint(
    State(state): State<OfficeState>,
    _staff: Staff,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ComplaintDetail>> {
    let c = blocking(&state, move |s| s.complaint(id))
        .await?
        .ok_or_else(|| unknown(id))?;
    detail(&state, c).await.map(Json)
}

async fn change(
    state: &OfficeState,
    auth: Auth,
    id: Uuid,
    change: ComplaintChange,
    kind: AuditKind,
) -> ApiResult<Json<ComplaintDetail>> {
    let mut audit = NewAudit::by(&auth, kind);
    audit.at = state.now();
    let actor = auth.user.clone();
    let answer = blocking(state, move |s| {
        Ok(s.change_complaint(id, &change, &actor, &audit))
    })
    .await?;
    let c = answer.map_err(|e| match e {
        StoreError::NotFound { .. } => unknown(id),
        StoreError::Conflict {
            code: ErrorCode::NotComplaintOwner,
            message,
        } => ApiError::new(StatusCode::FORBIDDEN, ErrorCode::NotComplaintOwner, message),
        other => other.into(),
    })?;
    tracing::info!(complaint = %id, kind = kind.as_str(), "complaint changed");
    state
        .live
        .publish(LiveEvent::ComplaintChanged { complaint_id: id });
    detail(state, c).await.map(Json)
}

/// Hand over to an active dispatcher or admin, or to a department, with a note (the owner or a
/// manager).
#[utoipa::path(post, path = "/api/v1/console/complaints/{id}/handover", tag = "console",
    params(("id" = Uuid, Path)), request_body = HandoverRequest,
    responses((status = 200, body = ComplaintDetail),
        (status = 404, body = ErrorBodySchema, description = "unknown_complaint"),
        (status = 409, body = ErrorBodySchema, description = "complaint_closed"),
        (status = 422, body = ErrorBodySchema, description = "complaint_field, handover_target, handover_inactive_user, unknown_user"),
        (status = 403, body = ErrorBodySchema, description = "not_complaint_owner, or not office staff")))]
pub async fn handover(
    State(state): State<OfficeState>,
    staff: Staff,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<HandoverRequest>,
) -> ApiResult<Json<ComplaintDetail>> {
    let (to, note) = input::check_handover(&req)?;
    let auth = staff.0;
    change(
        &state,
        auth,
        id,
        ComplaintChange::Handover { to, note },
        AuditKind::ComplaintHandedOver,
    )
    .await
}

/// Record the answer given to the caller (once).
#[utoipa::path(post, path = "/api/v1/console/complaints/{id}/reply", tag = "console",
    params(("id" = Uuid, Path)), request_body = ReplyRequest,
    responses((status = 200, body = ComplaintDetail),
        (status = 404, body = ErrorBodySchema, description = "unknown_complaint"),
        (status = 409, body = ErrorBodySchema, description = "complaint_already_replied, complaint_closed"),
        (status = 422, body = ErrorBodySchema, description = "complaint_field"),
        (status = 403, body = ErrorBodySchema, description = "not_complaint_owner, or not office staff")))]
pub async fn reply(
    State(state): State<OfficeState>,
    staff: Staff,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ReplyRequest>,
) -> ApiResult<Json<ComplaintDetail>> {
    let text = input::text("text", &req.text, 1, input::MAX_TEXT, true)?;
    let auth = staff.0;
    change(
        &state,
        auth,
        id,
        ComplaintChange::Reply { text },
        AuditKind::ComplaintReplied,
    )
    .await
}

/// Record the callback (回访) after the reply, with the customer's satisfaction (once).
#[utoipa::path(post, path = "/api/v1/console/complaints/{id}/callback", tag = "console",
    params(("id" = Uuid, Path)), request_body = CallbackRequest,
    responses((status = 200, body = ComplaintDetail),
        (status = 404, body = ErrorBodySchema, description = "unknown_complaint"),
        (status = 409, body = ErrorBodySchema, description = "complaint_not_replied, complaint_closed"),
        (status = 422, body = ErrorBodySchema, description = "complaint_field"),
        (status = 403, body = ErrorBodySchema, description = "not_complaint_owner, or not office staff")))]
pub async fn callback(
    State(state): State<OfficeState>,
    staff: Staff,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<CallbackRequest>,
) -> ApiResult<Json<ComplaintDetail>> {
    let note = input::text("note", &req.note, 0, input::MAX_NOTE, true)?;
    let auth = staff.0;
    change(
        &state,
        auth,
        id,
        ComplaintChange::Callback {
            satisfaction: req.satisfaction,
            note,
        },
        AuditKind::ComplaintCalledBack,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FigureParams {
    /// First day (`YYYY-MM-DD`, company time zone).
    pub from: String,
    /// Last day, inclusive (`YYYY-MM-DD`, company time zone).
    pub to: String,
}

/// The start of `day` in the company's time zone.
fn day_start(s: &str, next: bool) -> ApiResult<DateTime<Utc>> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2199).contains(&chrono::Datelike::year(d)))
        .and_then(|d| if next { d.succ_opt() } else { Some(d) })
        .and_then(|d| {
            company_tz()
                .from_local_datetime(&d.and_time(NaiveTime::MIN))
                .single()
        })
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::BadDate,
                format!("{s:?} is not a day (YYYY-MM-DD)"),
            )
        })
}

/// Complaints received, answered in time (B ÷ A), reports answered in time, overdue open — for the
/// KPI dashboard.
#[utoipa::path(get, path = "/api/v1/console/complaints/figures", tag = "console",
    params(FigureParams),
    responses((status = 200, body = ComplaintFigures),
        (status = 400, body = ErrorBodySchema, description = "bad_date"),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn complaint_figures(
    State(state): State<OfficeState>,
    _staff: Staff,
    Query(p): Query<FigureParams>,
) -> ApiResult<Json<ComplaintFigures>> {
    let from = day_start(&p.from, false)?;
    let to = day_start(&p.to, true)?;
    if to <= from || (to - from).num_days() > MAX_PERIOD_DAYS {
        return Err(ApiError::bad_request(
            ErrorCode::BadDate,
            format!("from must be on or before to, at most {MAX_PERIOD_DAYS} days apart"),
        ));
    }
    let now = state.now();
    Ok(Json(
        blocking(&state, move |s| figures::figures(s, from, to, now)).await?,
    ))
}
