//! The REST API for automation (`/api/v1/*`, personal API tokens only; see `auth::bearer`). Handlers are thin:
//! the caller comes from the token, the work from the same backend the UI uses.

use app::AppError;
use app::model::TokenScope;
use app::ssr::Backend;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::json;

use crate::backend::ServerBackend;
use crate::http::RequestContext;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me)).route("/api/v1/certificates", get(list_certificates))
}

async fn me(context: RequestContext, scope: Option<axum::Extension<TokenScope>>) -> Response {
    match context.meta.caller() {
        Ok(caller) => Json(json!({
            "user_id": caller.user_id,
            "name": caller.display_name,
            "role": caller.role.as_str(),
            "token_scope": scope.map(|scope| scope.0.as_str()),
        }))
        .into_response(),
        Err(error) => error_response(error),
    }
}

async fn list_certificates(State(state): State<AppState>, context: RequestContext) -> Response {
    match ServerBackend::new(state).list_certificates(&context.meta).await {
        Ok(certificates) => Json(certificates).into_response(),
        Err(error) => error_response(error),
    }
}

/// The one wire error, with its status.
pub fn error_response(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(error)).into_response()
}
