//! The REST API for automation (`/api/v1/*`, personal API tokens only; see `auth::bearer`). Handlers are thin:
//! the caller comes from the token, the work from the same backend the UI uses.

use app::AppError;
use app::model::{CertificateQuery, CertificateRequest};
use app::ssr::{Backend, Credential};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::json;

use crate::backend::ServerBackend;
use crate::bundle::{DownloadFormat, RenderOptions};
use crate::http::RequestContext;
use crate::state::AppState;
use crate::{downloads, issuance};

mod renewal;
mod revocation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/certificates", get(list_certificates).post(request_certificate))
        .route("/api/v1/certificates/{id}", get(certificate_detail))
        .route("/api/v1/certificates/{id}/download", get(download))
        .route("/api/v1/certificates/{id}/revoke", axum::routing::post(revocation::revoke_one))
        .route("/api/v1/certificates/{id}/renew", axum::routing::post(renewal::renew))
        .route("/api/v1/certificates/revoke", axum::routing::post(revocation::revoke_batch))
        .route("/api/v1/revocations/{id}", axum::routing::get(revocation::batch_progress))
        .route("/api/v1/people/{id}/offboard", axum::routing::post(revocation::offboard))
}

/// `POST /api/v1/certificates`: the same checks, policy and exactly-once issuance as the form. An
/// `Idempotency-Key` header takes precedence over the body's `idempotency_key`; a replay answers 200 with the
/// first request's certificate, a fresh issuance 201, an ACME order still running 202 with its `Location`.
async fn request_certificate(
    State(state): State<AppState>,
    context: RequestContext,
    headers: http::HeaderMap,
    body: Result<Json<CertificateRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let meta = &context.meta;
    let caller = match meta.caller() {
        Ok(caller) => caller,
        Err(error) => return error_response(error),
    };
    let mut input = match body {
        Ok(Json(input)) => input,
        Err(rejection) => return error_response(AppError::invalid("body", rejection.body_text())),
    };
    if let Some(key) = headers.get("idempotency-key") {
        match key.to_str() {
            Ok(key) => input.idempotency_key = Some(key.to_owned()),
            Err(_) => return error_response(AppError::invalid("idempotency_key", "must be printable ASCII")),
        }
    }
    let checked = match issuance::check(input, state.config.limits.renewal_floor) {
        Ok(checked) => checked,
        Err(error) => return error_response(error),
    };
    match issuance::issue(&state, meta, caller, checked).await {
        Ok(created) => {
            // A public (ACME) certificate is an order the CA finishes later: 202, and where to look.
            if created.status == app::model::CertStatus::Pending {
                let location = format!("/api/v1/certificates/{}", created.id);
                return (StatusCode::ACCEPTED, [(http::header::LOCATION, location)], Json(created)).into_response();
            }
            let status = if created.replayed { StatusCode::OK } else { StatusCode::CREATED };
            (status, Json(created)).into_response()
        }
        Err(error) => error_response(error.into_app_error(meta)),
    }
}

#[derive(serde::Deserialize)]
struct DownloadQuery {
    format: Option<String>,
    secret_name: Option<String>,
    namespace: Option<String>,
}

/// `GET /api/v1/certificates/{id}/download?format=…`; the PKCS#12 password travels in the `X-Pkcs12-Password`
/// header, never in the URL (URLs end up in logs).
async fn download(
    State(state): State<AppState>,
    context: RequestContext,
    headers: http::HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<DownloadQuery>,
) -> Response {
    let meta = &context.meta;
    let caller = match meta.caller() {
        Ok(caller) => caller,
        Err(error) => return error_response(error),
    };
    // Not a UUID: the same answer as someone else's certificate.
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return error_response(AppError::not_found("certificate")) };
    let format: DownloadFormat = match query.format.as_deref().unwrap_or("fullchain-pem").parse() {
        Ok(format) => format,
        Err(error) => return error_response(AppError::invalid("format", format!("{error}"))),
    };
    let options = RenderOptions {
        pkcs12_password: headers
            .get("x-pkcs12-password")
            .and_then(|value| value.to_str().ok())
            .map(|password| secrecy::SecretString::from(password.to_owned())),
        secret_name: query.secret_name,
        namespace: query.namespace,
    };
    // Tokens never export a key on someone's behalf: no reason is taken here.
    match downloads::download(&state, meta, caller, id, format, &options, None).await {
        Ok(rendered) => downloads::routes::attachment(rendered),
        Err(error) => error_response(error.into_app_error(meta)),
    }
}

/// `GET /api/v1/certificates/{id}`: one certificate as its page shows it, with an ACME order's progress; what a
/// client polls after a 202.
async fn certificate_detail(
    State(state): State<AppState>,
    context: RequestContext,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    // Not a UUID: the same answer as someone else's certificate.
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return error_response(AppError::not_found("certificate")) };
    match ServerBackend::new(state).certificate_detail(&context.meta, id).await {
        Ok(detail) => Json(detail).into_response(),
        Err(error) => error_response(error),
    }
}

async fn me(context: RequestContext) -> Response {
    match context.meta.caller() {
        Ok(caller) => Json(json!({
            "user_id": caller.user_id,
            "name": caller.display_name,
            "role": caller.role.as_str(),
            "token_scope": match caller.credential {
                Credential::Token { scope, .. } => Some(scope.as_str()),
                Credential::Session => None,
            },
            "private_keys": matches!(caller.credential, Credential::Token { private_keys: true, .. }),
        }))
        .into_response(),
        Err(error) => error_response(error),
    }
}

/// `GET /api/v1/certificates?search=&status=&issuer_id=&expiring_within_days=&after=`: one page, newest first;
/// `next` is the `after` of the following page.
async fn list_certificates(
    State(state): State<AppState>,
    context: RequestContext,
    query: Result<axum::extract::Query<CertificateQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = match query {
        Ok(axum::extract::Query(query)) => query,
        Err(rejection) => return error_response(AppError::invalid("query", rejection.body_text())),
    };
    match ServerBackend::new(state).list_certificates(&context.meta, query).await {
        Ok(certificates) => Json(certificates).into_response(),
        Err(error) => error_response(error),
    }
}

/// Seconds a client is asked to wait before retrying after a 503 (an issuer or the database is down).
const RETRY_AFTER_SECS: &str = "30";

/// The one wire error, with its status. Every error also carries `message`, the sentence a person reads (as the
/// bearer and CSRF refusals do); a 503 and a 429 say when to retry.
pub fn error_response(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = serde_json::to_value(&error).unwrap_or_else(|_| json!({ "kind": "internal" }));
    if let Some(fields) = body.as_object_mut() {
        fields.entry("message").or_insert_with(|| error.to_string().into());
    }
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static(RETRY_AFTER_SECS));
    }
    if let Some(seconds) = error.retry_after_secs() {
        response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_carries_a_message_and_a_503_says_when_to_retry() {
        let response = error_response(AppError::Unavailable { service: "private (sealed)".into() });
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(http::header::RETRY_AFTER).map(|value| value.as_bytes()), Some(&b"30"[..]));
        let response = error_response(AppError::invalid("dns_names", "is empty"));
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(http::header::RETRY_AFTER).is_none());
    }

    #[tokio::test]
    async fn the_message_is_the_errors_sentence() {
        let response = error_response(AppError::Unavailable { service: "private (sealed)".into() });
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["kind"], "unavailable");
        assert_eq!(body["service"], "private (sealed)");
        assert_eq!(body["message"], "private (sealed) is unavailable right now; please try again shortly");
        let response = error_response(AppError::invalid("dns_names", "is empty"));
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((body["field"].as_str(), body["message"].as_str()), (Some("dns_names"), Some("is empty")));
    }
}
