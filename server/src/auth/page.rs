//! Small server-rendered pages for sign-in outcomes that happen outside the app (refusals, provider down):
//! a clear message, the right status, and a way forward — never a bare error.

use axum::response::{Html, IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use http::{HeaderValue, StatusCode};

pub fn problem(status: StatusCode, title: &str, message: &str, request_id: &str) -> Response {
    let main = format!(
        r#"<section class="error-panel" role="alert"><h1>{title}</h1><p>{message}</p>
<p><a class="button primary" href="/auth/login">Sign in again</a></p>
<p class="muted small">HTTP {code} · request {request_id}</p></section>"#,
        title = escape(title),
        message = escape(message),
        code = status.as_u16(),
        request_id = escape(request_id),
    );
    document(status, title, &main)
}

/// Where a refused form leads: back to where it came from, and to a step-up sign-in when that is what is missing.
pub struct WayBack<'a> {
    pub href: &'a str,
    pub label: &'a str,
    pub step_up: Option<&'a str>,
}

/// A refused form post (a download, an export): what went wrong and the way back.
pub fn refused(status: StatusCode, title: &str, message: &str, back: &WayBack<'_>) -> Response {
    let action = match back.step_up {
        Some(href) => format!(r#"<a class="button primary" href="{}">Confirm it's you</a> "#, escape(href)),
        None => String::new(),
    };
    let main = format!(
        r#"<section class="error-panel" role="alert"><h1>{title}</h1><p>{message}</p>
<p>{action}<a class="button" href="{back}">{label}</a></p><p class="muted small">HTTP {code}</p></section>"#,
        title = escape(title),
        message = escape(message),
        back = escape(back.href),
        label = escape(back.label),
        code = status.as_u16(),
    );
    document(status, title, &main)
}

/// A whole page around `main_html` (already escaped), never cached, under a CSP that allows no script at all:
/// these pages work with plain HTML forms.
pub fn document(status: StatusCode, title: &str, main_html: &str) -> Response {
    let body = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · certdesk</title><link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/pkg/certdesk.css"></head>
<body><main id="main" class="narrow">{main_html}</main></body></html>"#,
        title = escape(title),
    );
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped() {
        assert_eq!(super::escape(r#"<script>"x"&'"#), "&lt;script&gt;&quot;x&quot;&amp;&#39;");
    }
}
