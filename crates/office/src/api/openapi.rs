//! The OpenAPI document, generated from the handlers' annotations (utoipa).
//!
//! Office-only request and response types are described in full. The frozen wire types of
//! `heatcrew-protocol` (events, jobs, push/pull messages) appear as JSON objects named in each
//! operation's description: deriving schemas for them would put an OpenAPI dependency and
//! annotations into the frozen protocol crate, and their Rust docs are the contract.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Every error response: `{code, message}` (+ `expected_seq` for `sequence_gap`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ErrorBody)]
pub struct ErrorBodySchema {
    pub code: String,
    pub message: String,
    pub expected_seq: Option<u64>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "HeatCrew office", description = "Accounts, dispatch, exactly-once sync and attachments for HeatCrew field devices. Every response carries x-heatcrew-protocol and x-heatcrew-server-time."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    paths(
        super::auth::login, super::auth::staff_login, super::auth::refresh, super::auth::revoke,
        super::sync::push, super::sync::pull,
        super::attachments::create, super::attachments::head, super::attachments::patch, super::attachments::download,
        super::dispatch::create_job, super::dispatch::list_jobs, super::dispatch::job_detail, super::dispatch::assign_job,
        super::dispatch::schedule_job, super::dispatch::cancel_job, super::dispatch::create_route, super::dispatch::list_routes,
        super::dispatch::create_outage, super::dispatch::clear_outage, super::dispatch::list_outages,
        super::dispatch::create_user, super::dispatch::list_users, super::dispatch::create_crew, super::dispatch::list_crews,
        super::dispatch::list_devices, super::dispatch::revoke_device, super::dispatch::device_events, super::dispatch::summary,
    ),
    components(schemas(ErrorBodySchema))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
