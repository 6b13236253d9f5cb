//! The OpenAPI document: the paths each API module registered with its routes, plus the title,
//! description and security schemes given here.
//!
//! Request bodies are described in full, the frozen wire types of `heatcrew-protocol` included
//! (their schemas come from its `utoipa` feature), so generated tests reach the signature and
//! storage code. Some answers of the device protocol are still `object`s named in their
//! description; their Rust docs are the contract.
//!
//! Security per operation: the sign-in operations (`/auth/challenge`, `/auth/login`,
//! `/auth/staff-login`, `/auth/refresh`) say `security(())` in their annotation and need no token
//! (`security: []` in the document); the device's own operations name `device`, those open to any
//! signed-in token name both; every other operation needs a `staff` token and gets it here.

use crate::error::ErrorBodySchema;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};

/// What the document says besides its paths.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "HeatCrew office",
        description = "Accounts, dispatch, exactly-once sync and attachments for HeatCrew field devices. Every response carries x-heatcrew-protocol and x-heatcrew-server-time."
    ),
    components(schemas(ErrorBodySchema))
)]
struct ApiDoc;

/// The bearer schemes: both are `Authorization: Bearer <access token>`, told apart by how the
/// token was obtained.
fn schemes() -> [(&'static str, SecurityScheme); 2] {
    let bearer = |description: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description))
                .build(),
        )
    };
    [
        (
            "staff",
            bearer(
                "An access token from POST /api/v1/auth/staff-login: a dispatcher or an admin (some operations: admins only).",
            ),
        ),
        (
            "device",
            bearer(
                "An access token from POST /api/v1/auth/login: a signed-in field device (its user's scope).",
            ),
        ),
    ]
}

/// The whole document: title, description and security schemes, with `paths` (and the schemas
/// they use) merged in, and each operation's security settled (see the module docs).
pub fn document(paths: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi().merge_from(paths);
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, scheme) in schemes() {
        components.add_security_scheme(name, scheme);
    }
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            op.security = match op.security.take() {
                // Not said in the annotation: staff only.
                None => Some(vec![SecurityRequirement::new(
                    "staff",
                    Vec::<String>::new(),
                )]),
                // `security(())`: no token at all (an empty list, not an optional one).
                Some(list) if list.iter().all(|r| *r == SecurityRequirement::default()) => {
                    Some(Vec::new())
                }
                named => named,
            };
        }
    }
    doc
}
