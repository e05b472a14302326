//! The REST API for automation (`/api/v1/*`, personal API tokens only; see `auth::bearer`). Handlers are thin:
//! the caller comes from the token, the inputs from the extractors in `extract`, the work from the service layer
//! the UI uses (`backend::ServerBackend`), and every refusal is an `ApiError`. Every route is registered through
//! `routes!`, so the OpenAPI document served at `/api/v1/openapi.json` lists exactly what the router serves.

mod certificates;
mod error;
mod extract;
mod me;
mod openapi;
mod renewal;
mod revocation;

use axum::Router;
use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backend::ServerBackend;
use crate::state::AppState;

pub use error::{ApiError, ApiErrorBody};
pub use extract::{CertificateId, IdempotencyKey, JsonBody, PersonId, QueryOf, RevocationBatchId};

/// Where the OpenAPI document is served (without authentication).
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// Handlers take the service layer as state: `State(backend): State<ServerBackend>`.
impl FromRef<AppState> for ServerBackend {
    fn from_ref(state: &AppState) -> Self {
        ServerBackend::new(state.clone())
    }
}

/// Every `/api/v1` route with its OpenAPI description; the router and the document come from this one list.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(me::me))
        .routes(routes!(certificates::list_certificates, certificates::request_certificate))
        .routes(routes!(certificates::certificate_detail))
        .routes(routes!(certificates::download))
        .routes(routes!(revocation::revoke_one))
        .routes(routes!(renewal::renew))
        .routes(routes!(revocation::revoke_batch))
        .routes(routes!(revocation::batch_progress))
        .routes(routes!(revocation::offboard))
        .routes(routes!(openapi::document))
}

pub fn routes() -> Router<AppState> {
    documented().split_for_parts().0
}

/// The REST API's OpenAPI 3.1 document, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}
