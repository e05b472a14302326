//! Security headers on every response. HTML pages get a Content-Security-Policy with a per-request nonce, which
//! the Leptos renderer also puts on its hydration scripts (see `provide_request_nonce`); everything else gets a
//! deny-all policy.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use leptos::prelude::{provide_context, use_context};

/// The CSP nonce of one request.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    /// HSTS only when certdesk is served over TLS: on plain http it is ignored at best and confusing at worst.
    pub hsts: bool,
    /// Origins a form may lead to besides our own: sign-out is a form post that ends at the identity provider,
    /// and browsers apply `form-action` to the redirects that follow a submission.
    pub form_action: String,
}

pub async fn set_security_headers(State(config): State<SecurityHeaders>, mut request: Request, next: Next) -> Response {
    let nonce = crate::auth::session::random_token();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        let policy = if is_html {
            format!(
                "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
                 img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                 frame-ancestors 'none'; form-action 'self' {}",
                config.form_action
            )
        } else {
            "default-src 'none'; frame-ancestors 'none'".to_owned()
        };
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(CONTENT_SECURITY_POLICY, value);
        }
    }
    if config.hsts {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    response
}

/// Called in the Leptos render context: replaces the nonce leptos_axum generated with this request's, so the
/// hydration scripts carry the nonce the response header allows.
pub fn provide_request_nonce() {
    let nonce = use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}
