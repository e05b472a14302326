//! One request-body limit for every route, server functions included: a body larger than `server.max_body_kib`
//! is refused with 413 before any handler reads it. Leptos server functions read their body themselves (not
//! through axum's `DefaultBodyLimit`, which only extractors honour), so the limit is enforced here, in front of
//! everything: a declared `Content-Length` above it is refused unread, and a body without one (chunked) is read
//! here up to the limit and handed on in memory. Responses (downloads) are not touched.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

use crate::auth::page::{document, escape};

#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub max_bytes: usize,
}

pub async fn limit_request_body(State(limit): State<BodyLimit>, request: Request, next: Next) -> Response {
    let max = limit.max_bytes;
    let declared = request.headers().get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let hint = axum::body::HttpBody::size_hint(request.body());
    if declared.is_some_and(|length| length > max as u64) || hint.lower() > max as u64 {
        return too_large(request.uri().path(), max);
    }
    // A declared length (hyper stops the body there) or a body known to fit: on, still capped in case it lies.
    if declared.is_some() || hint.upper().is_some_and(|upper| upper <= max as u64) {
        return next.run(request.map(|body| Body::new(Limited::new(body, max)))).await;
    }
    let (parts, body) = request.into_parts();
    match Limited::new(body, max).collect().await {
        Ok(collected) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => too_large(parts.uri.path(), max),
        Err(error) => {
            tracing::info!(error = %error, "request body could not be read");
            refusal(parts.uri.path(), StatusCode::BAD_REQUEST, "the request body could not be read".to_owned())
        }
    }
}

fn too_large(path: &str, max_bytes: usize) -> Response {
    tracing::info!(limit_bytes = max_bytes, "request body over the limit refused");
    let message = format!("the request body is larger than the {} KiB certdesk accepts", max_bytes / 1024);
    refusal(path, StatusCode::PAYLOAD_TOO_LARGE, message)
}

/// JSON (the `AppError` wire form, so the UI shows the message) for server functions and the API; the plain
/// HTML problem page for forms.
fn refusal(path: &str, status: StatusCode, message: String) -> Response {
    if path.starts_with("/rpc/") || path.starts_with("/api/") {
        let body = json!({ "kind": "invalid", "field": "body", "message": message });
        return (status, [(http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response();
    }
    let main = format!(
        r#"<section class="error-panel" role="alert"><h1>Request too large</h1><p>{message}</p>
<p><a class="button primary" href="/">Back to certdesk</a></p><p class="muted small">HTTP {code}</p></section>"#,
        message = escape(&message),
        code = status.as_u16(),
    );
    document(status, "Request too large", &main)
}
