//! The browser's download routes (session cookie): `GET /certificates/{id}/download?format=` for certificate
//! formats, and `POST /certificates/{id}/download` (a form carrying the session's token) for the formats that
//! contain the private key, so a key never leaves through a link that could be prefetched, logged or embedded.

use app::AppError;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::download;
use crate::auth::page::{WayBack, refused};
use crate::bundle::{DownloadFormat, RenderOptions, Rendered};
use crate::http::RequestContext;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/certificates/{id}/download", get(get_download).post(post_download))
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

async fn get_download(
    State(state): State<AppState>,
    context: RequestContext,
    Path(id): Path<String>,
    Query(query): Query<FormatQuery>,
) -> Response {
    let format = match parse_format(query.format.as_deref()) {
        Ok(format) => format,
        Err(response) => return *response,
    };
    if format.needs_private_key() {
        return problem(StatusCode::METHOD_NOT_ALLOWED, "Use the download form for the private key.", &id);
    }
    respond(&state, &context, &id, format, RenderOptions::default(), None).await
}

#[derive(Deserialize)]
struct DownloadForm {
    #[serde(default)]
    csrf_token: String,
    format: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    secret_name: String,
    /// An admin's reason for exporting someone else's key on their behalf.
    #[serde(default)]
    reason: String,
}

async fn post_download(
    State(state): State<AppState>,
    context: RequestContext,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<DownloadForm>,
) -> Response {
    let Ok(caller) = context.meta.caller() else {
        return problem(StatusCode::UNAUTHORIZED, "Sign in again to download.", &id);
    };
    if !bool::from(form.csrf_token.as_bytes().ct_eq(caller.csrf_token.as_bytes())) {
        return problem(StatusCode::FORBIDDEN, "This download form did not come from a certdesk page.", &id);
    }
    let format = match parse_format(form.format.as_deref()) {
        Ok(format) => format,
        Err(response) => return *response,
    };
    let options = RenderOptions {
        pkcs12_password: (!form.password.is_empty()).then(|| secrecy::SecretString::from(form.password)),
        secret_name: (!form.secret_name.trim().is_empty()).then(|| form.secret_name.trim().to_owned()),
        namespace: (!form.namespace.trim().is_empty()).then(|| form.namespace.trim().to_owned()),
    };
    respond(&state, &context, &id, format, options, Some(&form.reason)).await
}

/// The requested format, or the page explaining which formats exist.
fn parse_format(format: Option<&str>) -> Result<DownloadFormat, Box<Response>> {
    format.unwrap_or("fullchain-pem").parse().map_err(|error: crate::bundle::UnknownFormat| {
        Box::new(problem(StatusCode::BAD_REQUEST, &error.to_string(), ""))
    })
}

async fn respond(
    state: &AppState,
    context: &RequestContext,
    id: &str,
    format: DownloadFormat,
    options: RenderOptions,
    on_behalf_reason: Option<&str>,
) -> Response {
    let meta = &context.meta;
    let caller = match meta.caller() {
        Ok(caller) => caller,
        Err(_) => return problem(StatusCode::UNAUTHORIZED, "Sign in again to download.", id),
    };
    let Ok(uuid) = uuid::Uuid::parse_str(id) else {
        return problem(StatusCode::NOT_FOUND, "There is no such certificate.", "");
    };
    match download(state, meta, caller, uuid, format, &options, on_behalf_reason).await {
        Ok(rendered) => attachment(rendered),
        Err(error) => {
            let error = error.into_app_error(meta);
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = match &error {
                AppError::NotFound { .. } => "There is no such certificate, or it is not yours.".to_owned(),
                AppError::StepUpRequired => "Exporting someone else's private key needs a recent sign-in with your \
                                             second factor. Confirm it's you, then export again."
                    .to_owned(),
                other => sentence(&other.to_string()),
            };
            let step_up = (error == AppError::StepUpRequired).then(|| crate::auth::step_up::href(&back_to(id)));
            problem_with(status, &message, id, step_up.as_deref())
        }
    }
}

/// The file itself, never cached (it may hold a private key).
pub fn attachment(rendered: Rendered) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", rendered.file_name.replace(['"', '\\'], ""));
    let mut response = rendered.bytes.to_vec().into_response();
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(rendered.content_type));
    if let Ok(value) = http::HeaderValue::from_str(&disposition) {
        headers.insert(http::header::CONTENT_DISPOSITION, value);
    }
    headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

fn back_to(id: &str) -> String {
    if id.is_empty() { "/certificates".to_owned() } else { format!("/certificates/{id}") }
}

/// A message that starts with a capital and ends with a full stop, as the page's other sentences do.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

fn problem(status: StatusCode, message: &str, id: &str) -> Response {
    problem_with(status, message, id, None)
}

fn problem_with(status: StatusCode, message: &str, id: &str, step_up: Option<&str>) -> Response {
    let back = back_to(id);
    refused(
        status,
        "Download not possible",
        message,
        &WayBack { href: &back, label: "Back to the certificate", step_up },
    )
}
