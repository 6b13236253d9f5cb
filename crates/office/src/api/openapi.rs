//! The OpenAPI document: the paths each API module registered with its routes, plus the title,
//! description and bearer security scheme given here.
//!
//! Office-only request and response types are described in full. The frozen wire types of
//! `heatcrew-protocol` (events, jobs, push/pull messages) appear as JSON objects named in each
//! operation's description: deriving schemas for them would put an OpenAPI dependency and
//! annotations into the frozen protocol crate, and their Rust docs are the contract.

use crate::error::ErrorBodySchema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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

/// What the document says besides its paths.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "HeatCrew office", description = "Accounts, dispatch, exactly-once sync and attachments for HeatCrew field devices. Every response carries x-heatcrew-protocol and x-heatcrew-server-time."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBodySchema))
)]
struct ApiDoc;

/// The whole document: title, description and security scheme, with `paths` (and the schemas they
/// use) merged in.
pub fn document(paths: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    ApiDoc::openapi().merge_from(paths)
}
