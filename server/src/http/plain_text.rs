//! The plain-text answer machine clients (CRL fetchers, scrapers, ACME validators) get on refusal.

/// A short plain-text answer that is never cached: what machine clients (CRL fetchers, scrapers) get on refusal.
pub fn plain_text(status: http::StatusCode, message: impl Into<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let headers =
        [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8"), (http::header::CACHE_CONTROL, "no-store")];
    (status, headers, message.into()).into_response()
}
