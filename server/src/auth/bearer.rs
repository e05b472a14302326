//! Authentication of `/api/v1/*`: a personal API token as `Authorization: Bearer`, and nothing else (browser
//! sessions are not accepted there, and tokens are not accepted anywhere else). Requests that change state need
//! a read-write token. Refusals are audited and answered as the REST API's `ApiError`. The OpenAPI document
//! (`rest::OPENAPI_PATH`) is public: it is the contract clients read before they hold a token.

use app::AppError;
use app::model::TokenScope;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Method};
use serde_json::json;
use time::OffsetDateTime;

use super::tokens;
use crate::audit::{Action, Actor, Object};
use crate::rest::{ApiError, OPENAPI_PATH};
use crate::state::AppState;

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn presented_token(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
}

pub async fn require_token(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/v1/") || path == OPENAPI_PATH {
        return next.run(request).await;
    }
    let Some(presented) = presented_token(request.headers()).map(str::to_owned) else {
        return unauthorized("send a personal API token as `Authorization: Bearer <token>`");
    };
    let now = OffsetDateTime::now_utc();
    let refused = Refused::of(&request);
    let (caller, scope) = match tokens::authenticate(&state.pool, &state.config.auth, &presented, now).await {
        Ok(Ok(found)) => found,
        Ok(Err(refusal)) => {
            let actor = Actor::anonymous(&refused.meta);
            refused.record(&state, &actor, refusal.reason()).await;
            return unauthorized("the token is not valid (unknown, revoked or expired)");
        }
        Err(error) => {
            tracing::warn!(error = %error, "cannot check an API token");
            return ApiError::from(AppError::Unavailable { service: "the database".into() }).into_response();
        }
    };
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes_state && scope == TokenScope::Read {
        let actor = Actor::caller(&refused.meta, &caller);
        refused.record(&state, &actor, "read-only token used for a change").await;
        return ApiError::new(AppError::Forbidden).with_message("this token's scope is read-only").into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(AppError::Unauthenticated).with_message(message).into_response();
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"certdesk\""));
    response
}

/// What the audit row of a refusal needs from the request, taken before any await (a request is not `Sync`).
struct Refused {
    meta: app::ssr::RequestMeta,
    path: String,
    method: String,
}

impl Refused {
    fn of(request: &Request) -> Self {
        Self {
            meta: crate::http::meta_of(request.extensions()),
            path: request.uri().path().to_owned(),
            method: request.method().as_str().to_owned(),
        }
    }

    async fn record(self, state: &AppState, actor: &Actor, reason: &str) {
        let details = json!({ "reason": reason, "method": self.method });
        let object = Object::request_path(&self.path);
        super::audit_refusal(state, &self.meta, actor, Action::ApiAccessDenied, object, details).await;
    }
}
