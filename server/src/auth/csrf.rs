//! Cross-site request forgery protection for everything authenticated by the session cookie. A state-changing
//! request must prove it comes from certdesk's own origin (Origin, or Referer when a browser omits Origin;
//! `Origin: null` never passes), and additionally:
//! - server functions must be sent as `application/json`, which a cross-site form cannot produce and a
//!   cross-site script cannot send without a CORS preflight certdesk never grants;
//! - HTML forms carry the session's synchronizer token (checked by their handlers).
//!
//! GET never changes state, so it is not checked. Refusals are audited.

use app::AppError;
use axum::Json;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, ORIGIN, REFERER};
use http::{HeaderMap, Method, StatusCode};
use serde_json::json;

use crate::audit::{Action, Actor, Object};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NullOrigin,
    ForeignOrigin,
    NoOrigin,
    NotJson,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Self::NullOrigin => "Origin: null",
            Self::ForeignOrigin => "foreign Origin",
            Self::NoOrigin => "no Origin or Referer",
            Self::NotJson => "server function call not sent as application/json",
        }
    }
}

/// Decides whether a request may proceed; `expected_origin` is `scheme://host[:port]` of `server.public_url`.
pub fn check(method: &Method, path: &str, headers: &HeaderMap, expected_origin: &str) -> Result<(), Refusal> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    // Machine clients with a bearer token and no cookie cannot be driven by a foreign page.
    if path.starts_with("/api/v1/") && headers.contains_key(AUTHORIZATION) && !headers.contains_key(COOKIE) {
        return Ok(());
    }
    match headers.get(ORIGIN).map(|origin| origin.to_str().unwrap_or("")) {
        Some("null") => return Err(Refusal::NullOrigin),
        Some(origin) if origin == expected_origin => {}
        Some(_) => return Err(Refusal::ForeignOrigin),
        None => {
            let referer = headers.get(REFERER).and_then(|referer| referer.to_str().ok()).unwrap_or("");
            if !(referer.starts_with(expected_origin) && referer[expected_origin.len()..].starts_with('/')) {
                return Err(if referer.is_empty() { Refusal::NoOrigin } else { Refusal::ForeignOrigin });
            }
        }
    }
    if path.starts_with("/rpc/") {
        let content_type = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
        if !content_type.starts_with("application/json") {
            return Err(Refusal::NotJson);
        }
    }
    Ok(())
}

pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let expected = state.config.server.public_url.origin().ascii_serialization();
    let Err(refusal) = check(request.method(), request.uri().path(), request.headers(), &expected) else {
        return next.run(request).await;
    };
    let meta = crate::http::meta_of(request.extensions());
    let object = Object::request_path(request.uri().path());
    let details = json!({ "reason": refusal.reason(), "method": request.method().as_str() });
    let actor = Actor::anonymous(&meta);
    super::audit_refusal(&state, &meta, &actor, Action::CrossSiteRequestDenied, object, details).await;
    let error = AppError::Forbidden;
    tracing::info!(reason = refusal.reason(), "cross-site request refused");
    (
        StatusCode::FORBIDDEN,
        Json(json!({ "kind": "forbidden", "message": error.to_string(), "reason": refusal.reason() })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN_OK: &str = "https://certdesk.example";

    fn headers(pairs: &[(http::HeaderName, &str)]) -> HeaderMap {
        pairs.iter().map(|(name, value)| (name.clone(), value.parse().unwrap())).collect()
    }

    #[test]
    fn safe_methods_pass() {
        assert_eq!(check(&Method::GET, "/", &HeaderMap::new(), ORIGIN_OK), Ok(()));
    }

    #[test]
    fn unsafe_methods_need_our_origin() {
        let post = Method::POST;
        assert_eq!(check(&post, "/auth/logout", &HeaderMap::new(), ORIGIN_OK), Err(Refusal::NoOrigin));
        assert_eq!(check(&post, "/auth/logout", &headers(&[(ORIGIN, "null")]), ORIGIN_OK), Err(Refusal::NullOrigin));
        assert_eq!(
            check(&post, "/auth/logout", &headers(&[(ORIGIN, "https://evil.example")]), ORIGIN_OK),
            Err(Refusal::ForeignOrigin)
        );
        assert_eq!(check(&post, "/auth/logout", &headers(&[(ORIGIN, ORIGIN_OK)]), ORIGIN_OK), Ok(()));
        assert_eq!(
            check(&post, "/auth/logout", &headers(&[(REFERER, "https://certdesk.example/certificates")]), ORIGIN_OK),
            Ok(())
        );
        assert_eq!(
            check(&post, "/auth/logout", &headers(&[(REFERER, "https://certdesk.example.evil/x")]), ORIGIN_OK),
            Err(Refusal::ForeignOrigin)
        );
    }

    #[test]
    fn server_functions_must_be_json() {
        let form = headers(&[(ORIGIN, ORIGIN_OK), (CONTENT_TYPE, "application/x-www-form-urlencoded")]);
        assert_eq!(check(&Method::POST, "/rpc/x", &form, ORIGIN_OK), Err(Refusal::NotJson));
        let json = headers(&[(ORIGIN, ORIGIN_OK), (CONTENT_TYPE, "application/json")]);
        assert_eq!(check(&Method::POST, "/rpc/x", &json, ORIGIN_OK), Ok(()));
    }

    #[test]
    fn bearer_clients_without_cookies_are_not_origin_checked() {
        let bearer = headers(&[(AUTHORIZATION, "Bearer t")]);
        assert_eq!(check(&Method::POST, "/api/v1/certificates", &bearer, ORIGIN_OK), Ok(()));
        let both = headers(&[(AUTHORIZATION, "Bearer t"), (COOKIE, "certdesk_session=x")]);
        assert_eq!(check(&Method::POST, "/api/v1/certificates", &both, ORIGIN_OK), Err(Refusal::NoOrigin));
    }
}
