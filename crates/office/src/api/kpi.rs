//! The service standard's KPIs (OpenAPI tag `kpi`; issue 13), office staff only:
//! - `GET /kpi?from=&to=&utc_offset_minutes=&group=&kind=&crew=&person=`: the figures of a period
//!   (B ÷ A against their targets), per group, with a daily trend ([`crate::kpi::answer`]);
//! - `GET /kpi/jobs?key=&…`: the jobs behind a figure, those that count against it first;
//! - `GET /kpi/targets`, `PUT /kpi/targets` (admins, audited): the targets;
//! - `GET /kpi/violations/{id}`: the rules a job's records broke when the office re-checked them.

use super::console::board::DEFAULT_UTC_OFFSET_MINUTES;
use super::extract::{ApiJson, Auth, STAFF, blocking};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult, ErrorBodySchema};
use crate::kpi::conformance::Violation;
use crate::kpi::figures::{self, JOB_FIGURES};
use crate::kpi::{self, GroupBy, KpiAnswer, KpiJob, KpiQuery};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{ErrorCode, JobKind};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default()
        .routes(routes!(kpis))
        .routes(routes!(kpi_jobs))
        .routes(routes!(get_targets, set_target))
        .routes(routes!(violations))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct KpiParams {
    /// First local day of the period, `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// Last local day (inclusive); at most 366 days after `from`.
    pub to: NaiveDate,
    /// The days' UTC offset in minutes east (480 for China; the default).
    pub utc_offset_minutes: Option<i32>,
    /// `none` (default), `crew`, `person` or `kind`.
    pub group: Option<GroupBy>,
    /// Only jobs of this kind (`home_repair`, …).
    pub kind: Option<String>,
    /// Only jobs of this crew's members.
    pub crew: Option<Uuid>,
    /// Only this person's jobs.
    pub person: Option<Uuid>,
    /// For `/kpi/jobs`: the figure (`timely_repair`, `closure`, …).
    pub key: Option<String>,
}

fn query(p: &KpiParams) -> ApiResult<KpiQuery> {
    let offset = p.utc_offset_minutes.unwrap_or(DEFAULT_UTC_OFFSET_MINUTES);
    if !(-14 * 60..=14 * 60).contains(&offset) {
        return Err(ApiError::bad_request(
            ErrorCode::BadOffset,
            "utc_offset_minutes must be between -840 and 840",
        ));
    }
    let kind = match &p.kind {
        None => None,
        Some(k) => Some(
            JobKind::ALL
                .into_iter()
                .find(|x| x.as_str() == k)
                .ok_or_else(|| {
                    ApiError::invalid(ErrorCode::InvalidValue, format!("no job kind {k:?}"))
                })?,
        ),
    };
    let q = KpiQuery {
        from: p.from,
        to: p.to,
        utc_offset_minutes: offset,
        group: p.group.unwrap_or_default(),
        kind,
        crew: p.crew,
        person: p.person,
    };
    if q.bounds().is_none() {
        return Err(ApiError::bad_request(
            ErrorCode::BadDate,
            format!(
                "the period runs from `from` to `to` (inclusive), at most {} days",
                kpi::MAX_DAYS
            ),
        ));
    }
    Ok(q)
}

/// The job-based KPIs of a period: each figure B ÷ A with its target, per group, and by day.
#[utoipa::path(get, path = "/api/v1/kpi", tag = "kpi", params(KpiParams),
    responses((status = 200, body = KpiAnswer),
        (status = 400, body = ErrorBodySchema, description = "bad_date, bad_offset"),
        (status = 403, body = ErrorBodySchema, description = "not office staff"),
        (status = 422, body = ErrorBodySchema, description = "invalid_value: an unknown kind")))]
pub async fn kpis(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(p): Query<KpiParams>,
) -> ApiResult<Json<KpiAnswer>> {
    auth.require(STAFF)?;
    let q = query(&p)?;
    let now = state.now();
    let answer = blocking(&state, move |s| kpi::answer(s, &q, now)).await?;
    answer
        .map(Json)
        .ok_or_else(|| ApiError::bad_request(ErrorCode::BadDate, "no such period"))
}

/// The jobs behind figure `key` in a period (its A; `in_numerator` marks its B), those that
/// count against it first, at most 500.
#[utoipa::path(get, path = "/api/v1/kpi/jobs", tag = "kpi", params(KpiParams),
    responses((status = 200, body = Vec<KpiJob>),
        (status = 400, body = ErrorBodySchema, description = "bad_date, bad_offset"),
        (status = 403, body = ErrorBodySchema, description = "not office staff"),
        (status = 422, body = ErrorBodySchema, description = "invalid_value: an unknown figure or kind")))]
pub async fn kpi_jobs(
    State(state): State<OfficeState>,
    auth: Auth,
    Query(p): Query<KpiParams>,
) -> ApiResult<Json<Vec<KpiJob>>> {
    auth.require(STAFF)?;
    let q = query(&p)?;
    let key = p.key.clone().unwrap_or_default();
    if !JOB_FIGURES.contains(&key.as_str()) {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            format!("key must be one of {}", JOB_FIGURES.join(", ")),
        ));
    }
    let now = state.now();
    let jobs = blocking(&state, move |s| kpi::drill(s, &q, &key, now)).await?;
    jobs.map(Json)
        .ok_or_else(|| ApiError::bad_request(ErrorCode::BadDate, "no such period"))
}

/// A figure's target as in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct TargetView {
    pub key: String,
    /// `ratio` (0–1) or `stars` (1–5).
    pub unit: String,
    pub target: Option<f64>,
    /// What it is without an admin's setting.
    pub default_target: Option<f64>,
    /// A ceiling (lower is better) rather than a floor.
    pub at_most: bool,
}

/// An admin sets a figure's target; `null` goes back to the default.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SetTarget {
    pub key: String,
    pub target: Option<f64>,
}

fn target_views(s: &dyn crate::store::OfficeStore) -> crate::store::StoreResult<Vec<TargetView>> {
    let set = kpi::targets(s)?;
    Ok(figures::settable()
        .map(|k| TargetView {
            key: k.to_string(),
            unit: figures::unit(k).to_owned(),
            target: set.get(k).copied(),
            default_target: figures::default_target(k),
            at_most: crate::kpi::standard::at_most(k),
        })
        .collect())
}

/// The targets in force.
#[utoipa::path(get, path = "/api/v1/kpi/targets", tag = "kpi",
    responses((status = 200, body = Vec<TargetView>),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn get_targets(
    State(state): State<OfficeState>,
    auth: Auth,
) -> ApiResult<Json<Vec<TargetView>>> {
    auth.require(STAFF)?;
    Ok(Json(blocking(&state, target_views).await?))
}

/// Set a figure's target (admins; audited): a share from 0 to 1, or a mean from 1 to 5 stars.
#[utoipa::path(put, path = "/api/v1/kpi/targets", tag = "kpi", request_body = SetTarget,
    responses((status = 200, body = Vec<TargetView>),
        (status = 403, body = ErrorBodySchema, description = "not an admin"),
        (status = 422, body = ErrorBodySchema, description = "invalid_value")))]
pub async fn set_target(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<SetTarget>,
) -> ApiResult<Json<Vec<TargetView>>> {
    auth.require(&[Role::Admin])?;
    let known = figures::settable().any(|k| k == req.key);
    if !known
        || req
            .target
            .is_some_and(|t| !figures::valid_target(&req.key, t))
    {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            "a target is a share from 0 to 1 (0.98 = 98 %), or a mean from 1 to 5 stars, for a known figure",
        ));
    }
    let (key, target, by, now) = (req.key.clone(), req.target, auth.user.id, state.now());
    blocking(&state, move |s| s.set_kpi_target(&key, target, by, now)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::KpiTargetChanged)
            .subject(&req.key)
            .detail(serde_json::json!({ "key": req.key, "target": req.target })),
    )
    .await?;
    Ok(Json(blocking(&state, target_views).await?))
}

/// The rules a job's records broke when the office re-checked them (empty: it conforms).
#[utoipa::path(get, path = "/api/v1/kpi/violations/{id}", tag = "kpi",
    params(("id" = Uuid, Path, description = "the job")),
    responses((status = 200, body = Vec<Violation>),
        (status = 403, body = ErrorBodySchema, description = "not office staff")))]
pub async fn violations(
    State(state): State<OfficeState>,
    auth: Auth,
    Path(job): Path<Uuid>,
) -> ApiResult<Json<Vec<Violation>>> {
    auth.require(STAFF)?;
    Ok(Json(
        blocking(&state, move |s| s.job_violations(job)).await?,
    ))
}
