//! The OpenAPI 3.1 document of `/api/v1`: its frame (title, the bearer-token scheme), the refusals every
//! authenticated path can answer, and `GET /api/v1/openapi.json`, which serves it without authentication.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::response::{IntoResponse, Response};
use http::header;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::ApiErrorBody;

/// The security scheme's name in the document.
const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "certdesk REST API",
        version = "1",
        description = "Certificates for automation: list, request, download, renew and revoke. Every path but this \
                       document needs a personal API token (`Authorization: Bearer <token>`, created on the Tokens \
                       page); changes need a read-write token. Errors are `ApiError` JSON with the status; 429 and \
                       503 carry `Retry-After`."
    ),
    security(("bearer" = [])),
    modifiers(&BearerScheme),
    components(schemas(ApiErrorBody)),
    tags(
        (name = "certificates", description = "The inventory, requests, downloads and renewal"),
        (name = "revocation", description = "Revoking one certificate, a batch, or everything a person holds"),
        (name = "session", description = "The token itself"),
        (name = "meta", description = "This document"),
    )
)]
struct Frame;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("A personal API token (`Authorization: Bearer <token>`)"))
            .build();
        components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The document before any path is added (`rest::documented` adds them as it registers the routes).
pub fn base() -> utoipa::openapi::OpenApi {
    Frame::openapi()
}

/// What any authenticated path may answer besides its own outcomes: no or a bad token, not allowed, too many
/// requests or a used-up quota (with `Retry-After`), a dependency down (with `Retry-After`), an incident.
pub struct Refusals;

impl IntoResponses for Refusals {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        let error = || ContentBuilder::new().schema(Some(Ref::from_schema_name(ApiErrorBody::name()))).build();
        let retry_after = || {
            HeaderBuilder::new()
                .schema(<u64 as utoipa::PartialSchema>::schema())
                .description(Some("Seconds to wait before retrying"))
                .build()
        };
        let response = |description: &str, with_retry_after: bool| {
            let mut builder = ResponseBuilder::new().description(description).content("application/json", error());
            if with_retry_after {
                builder = builder.header("Retry-After", retry_after());
            }
            RefOr::T(builder.build())
        };
        BTreeMap::from([
            ("401".to_owned(), response("No token, or one that is unknown, revoked or expired", false)),
            (
                "403".to_owned(),
                response("Not allowed: a read-only token for a change, or beyond the owner's rights", false),
            ),
            ("429".to_owned(), response("Too many requests, or a quota used up: retry after the wait", true)),
            ("500".to_owned(), response("An incident on certdesk's side (quote its id)", false)),
            ("503".to_owned(), response("The database or an issuer is unavailable: retry after the wait", true)),
        ])
    }
}

/// The document as JSON, built once: it is derived from the code and never changes while the server runs.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| super::openapi().to_json().unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}")));

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    summary = "This document",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of `/api/v1`", content_type = "application/json"))
)]
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], DOCUMENT.as_str())
        .into_response()
}
