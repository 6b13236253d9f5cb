//! OpenAPI schemas of the types whose serde form is written by hand (feature `utoipa`, for the
//! office's API document): a [`Digest`] is 64 lowercase hex characters, a [`Format`] the number 1
//! or 2. The other request types derive theirs next to their definition.

use crate::{Digest, Format};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

impl utoipa::PartialSchema for Digest {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some("^[0-9a-f]{64}$"))
            .min_length(Some(64))
            .max_length(Some(64))
            .description(Some("SHA-256, 64 lowercase hex characters"))
            .into()
    }
}

impl utoipa::ToSchema for Digest {}

impl utoipa::PartialSchema for Format {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Integer))
            .enum_values(Some([1, 2]))
            .description(Some(
                "The canonical encoding the hash covers: absent or 1 for events sealed before formats were versioned, 2 now",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Format {}
