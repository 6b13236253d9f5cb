//! The company's own details (OpenAPI tag `admin`): its name and service hotline, which the field
//! app fills into the standard phrases and the contact card it leaves with every customer. Set by
//! an admin (audited), read by anyone signed in, and sent to every device with each pull
//! ([`company_profile`]), so nothing company-specific is written into the app or its templates.

use super::extract::{ApiJson, Auth, blocking};
use crate::OfficeState;
use crate::audit::{self, AuditKind, NewAudit};
use crate::error::{ApiError, ApiResult};
use crate::store::{MetaStore, StoreResult};
use axum::Json;
use axum::extract::State;
use heatcrew_protocol::ErrorCode;
use heatcrew_protocol::sync::{CompanyProfile, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Where the profile is kept (the office's `meta` table).
const META_KEY: &str = "company_profile";

/// Longest name and hotline accepted (a hotline is digits with `-`, `+`, spaces, parentheses).
const MAX_NAME_CHARS: usize = 60;
const MAX_HOTLINE_CHARS: usize = 24;

/// Each route with its OpenAPI path.
pub fn routes() -> OpenApiRouter<OfficeState> {
    OpenApiRouter::default().routes(routes!(get_company, set_company))
}

/// The company's details as set (none until an admin sets them).
pub fn company_profile<S: MetaStore + ?Sized>(store: &S) -> StoreResult<Option<CompanyProfile>> {
    Ok(store
        .meta(META_KEY)?
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// Keep the company's details (the demo company and `PUT /api/v1/company`).
pub fn save_company_profile<S: MetaStore + ?Sized>(
    store: &S,
    profile: &CompanyProfile,
) -> StoreResult<()> {
    let json = serde_json::to_string(profile).expect("a profile serializes");
    store.set_meta(META_KEY, &json)
}

/// A name and hotline as a customer will read them: trimmed, filled, a dialable number.
fn validated(req: CompanyProfile) -> ApiResult<CompanyProfile> {
    let name = req.name.trim().to_owned();
    let hotline = req.hotline.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            format!("the company name needs 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let digits = hotline.chars().filter(char::is_ascii_digit).count();
    let dialable = hotline
        .chars()
        .all(|c| c.is_ascii_digit() || "-+ ()".contains(c));
    if !dialable || digits < 3 || hotline.chars().count() > MAX_HOTLINE_CHARS {
        return Err(ApiError::invalid(
            ErrorCode::InvalidValue,
            "the hotline is a phone number: digits, with - + ( ) or spaces",
        ));
    }
    Ok(CompanyProfile { name, hotline })
}

/// The company's details (anyone signed in: the console and the field app show them).
#[utoipa::path(get, path = "/api/v1/company", tag = "admin",
    responses((status = 200, body = CompanyProfile, description = "the profile, or null until an admin sets it")))]
pub async fn get_company(
    State(state): State<OfficeState>,
    _auth: Auth,
) -> ApiResult<Json<Option<CompanyProfile>>> {
    Ok(Json(blocking(&state, company_profile).await?))
}

/// Set the company's name and service hotline (admin only; audited). Devices receive them on their
/// next pull.
#[utoipa::path(put, path = "/api/v1/company", tag = "admin", request_body = CompanyProfile,
    responses((status = 200, body = CompanyProfile), (status = 403, description = "not an admin"),
        (status = 422, description = "invalid_value")))]
pub async fn set_company(
    State(state): State<OfficeState>,
    auth: Auth,
    ApiJson(req): ApiJson<CompanyProfile>,
) -> ApiResult<Json<CompanyProfile>> {
    auth.require(&[Role::Admin])?;
    let profile = validated(req)?;
    let saved = profile.clone();
    blocking(&state, move |s| save_company_profile(s, &saved)).await?;
    audit::record(
        &state,
        NewAudit::by(&auth, AuditKind::CompanyProfileChanged)
            .detail(serde_json::json!({ "name": profile.name, "hotline": profile.hotline })),
    )
    .await?;
    Ok(Json(profile))
}
