//! `GET /console/audit` (admins): the audit log ([`crate::audit`]) newest first, a page at a time
//! (keyset: `before` = the last `seq` seen), filtered by user, kind, time and subject.

use crate::OfficeState;
use crate::api::extract::{Auth, blocking};
use crate::audit::{AuditEntry, AuditKind, AuditQuery};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::Role;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(audit_log))
}

/// Entries per page unless `limit` says fewer.
pub const PAGE: u32 = 100;
/// The most `limit` may ask for.
pub const MAX_PAGE: u32 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// Entries older than this `seq` (the previous page's `next_before`).
    pub before: Option<u64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
    /// Entries by this user: a user id or a username (also failed sign-ins under that name).
    pub user: Option<String>,
    /// One kind (`sign_in`, `sign_in_failed`, `device_moved`, …).
    pub kind: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC) or instant (RFC 3339) on.
    pub from: Option<String>,
    /// Up to and including this day (`YYYY-MM-DD`, UTC), or before this instant (RFC 3339).
    pub to: Option<String>,
    /// About this subject: a job, user or device id (a job's whole trail).
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[ts(type = "number | null")]
    pub next_before: Option<u64>,
}

/// A day (start of it; with `end`, the start of the next) or an RFC 3339 instant.
fn instant(s: &str, end: bool) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| if end { d.succ_opt() } else { Some(d) })
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::BadDate,
                format!("{s:?} is neither a day (YYYY-MM-DD) nor an RFC 3339 time"),
            )
        })
}

/// The audit log, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/console/audit", tag = "console", params(AuditParams),
    responses((status = 200, body = AuditPage),
        (status = 400, body = ErrorBodySchema, description = "bad_date, unknown_audit_kind"),
        (status = 403, body = ErrorBodySchema, description = "not an admin")))]
pub async fn audit_log(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    auth.require(&[Role::Admin])?;
    let kind = match p.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(AuditKind::parse(k).ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::UnknownAuditKind,
                format!("no audit entry kind {k:?}"),
            )
        })?),
    };
    let limit = p.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE);
    let query = AuditQuery {
        before: p.before,
        limit,
        user: p
            .user
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty()),
        kind,
        from: p
            .from
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| instant(s, false))
            .transpose()?,
        to: p
            .to
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| instant(s, true))
            .transpose()?,
        subject: p
            .subject
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    };
    let entries = blocking(&state, move |s| s.audit_page(&query)).await?;
    let next_before = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage {
        entries,
        next_before,
    }))
}
