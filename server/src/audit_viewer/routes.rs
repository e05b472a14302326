//! `POST /admin/audit/export`: the viewer's export buttons, a plain form carrying the session's CSRF token and the
//! current filters, answered with the file as a download. Refusals are small pages that say what to do next;
//! a missing step-up links to the second-factor sign-in and back to the same filtered view.

use app::AppError;
use app::model::AuditQuery;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::export::{ExportFormat, export};
use crate::auth::page::{WayBack, refused};
use crate::http::RequestContext;
use crate::state::AppState;

pub const EXPORT_PATH: &str = "/admin/audit/export";

pub fn routes() -> Router<AppState> {
    Router::new().route(EXPORT_PATH, post(post_export))
}

#[derive(Deserialize)]
struct ExportForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    object: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn post_export(
    State(state): State<AppState>,
    context: RequestContext,
    axum::Form(form): axum::Form<ExportForm>,
) -> Response {
    let meta = &context.meta;
    let query = AuditQuery {
        actor: form.actor,
        action: form.action,
        object: form.object,
        outcome: form.outcome,
        from: form.from,
        to: form.to,
        before: None,
    };
    let back = viewer_href(&query);
    let Ok(caller) = meta.caller() else {
        return problem(StatusCode::UNAUTHORIZED, "Sign in again to export the audit log.", &back, None);
    };
    if !bool::from(form.csrf_token.as_bytes().ct_eq(caller.csrf_token.as_bytes())) {
        return problem(StatusCode::FORBIDDEN, "This export form did not come from a certdesk page.", &back, None);
    }
    let format = match ExportFormat::parse(&form.format) {
        Ok(format) => format,
        Err(error) => return problem(StatusCode::BAD_REQUEST, &error.to_string(), &back, None),
    };
    match export(&state, meta, &query, format, OffsetDateTime::now_utc()).await {
        Ok(export) => {
            let mut response = Body::from_stream(export.body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(export.content_type));
            let disposition = format!("attachment; filename=\"{}\"", export.file_name);
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            let error = error.into_app_error(meta);
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let step_up = (error == AppError::StepUpRequired).then(|| crate::auth::step_up::href(&back));
            let message = match &error {
                AppError::StepUpRequired => {
                    "Exporting the audit log needs a recent sign-in with your second factor. Confirm it's you, then \
                     export again."
                        .to_owned()
                }
                other => other.to_string(),
            };
            problem(status, &message, &back, step_up.as_deref())
        }
    }
}

/// The viewer with the same filters, as a same-site path.
fn viewer_href(query: &AuditQuery) -> String {
    let Ok(url) = reqwest::Url::parse_with_params("http://certdesk/admin/audit", query.filter_pairs()) else {
        return "/admin/audit".to_owned();
    };
    match url.query().filter(|query| !query.is_empty()) {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

fn problem(status: StatusCode, message: &str, back: &str, step_up: Option<&str>) -> Response {
    let way_back = WayBack { href: back, label: "Back to the audit log", step_up };
    refused(status, "Export not possible", message, &way_back)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_come_back() {
        let query = AuditQuery { action: "certificate.".into(), actor: "Ada L".into(), ..Default::default() };
        let back = viewer_href(&query);
        assert_eq!(back, "/admin/audit?actor=Ada+L&action=certificate.");
        assert_eq!(
            crate::auth::step_up::href(&back),
            "/auth/login?step_up=1&next=%2Fadmin%2Faudit%3Factor%3DAda%2BL%26action%3Dcertificate."
        );
        assert_eq!(viewer_href(&AuditQuery::default()), "/admin/audit");
    }
}
