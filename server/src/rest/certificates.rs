//! `/api/v1/certificates`: list, request (the same checks, policy and exactly-once issuance as the form), one
//! certificate as its page shows it, and downloads.

use app::AppError;
use app::model::{
    CertStatus, CertificateDetail, CertificatePage, CertificateQuery, CertificateRequest, RequestedCertificate,
};
use app::ssr::Backend;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::openapi::Refusals;
use super::{ApiError, ApiErrorBody, CertificateId, IdempotencyKey, JsonBody, QueryOf};
use crate::backend::ServerBackend;
use crate::bundle::{DownloadFormat, RenderOptions};
use crate::http::RequestContext;

/// One page of certificates (the caller's own; everyone's for admins and auditors); `next` is the `after` of the
/// following page.
#[utoipa::path(
    get,
    path = "/api/v1/certificates",
    tag = "certificates",
    summary = "List certificates",
    params(CertificateQuery),
    responses(
        (status = 200, description = "One page of certificates", body = CertificatePage),
        (status = 400, description = "A filter is not understood (`field` names it)", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn list_certificates(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    QueryOf(query): QueryOf<CertificateQuery>,
) -> Result<Json<CertificatePage>, ApiError> {
    Ok(Json(backend.list_certificates(&context.meta, query).await?))
}

/// The same checks, policy and exactly-once issuance as the form. An `Idempotency-Key` header takes precedence
/// over the body's `idempotency_key`; a replay answers 200 with the first request's certificate, a fresh
/// issuance 201, an ACME order still running 202 with its `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/certificates",
    tag = "certificates",
    summary = "Request a certificate",
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "The same key from the same person means the same request: one certificate (1 to 128 printable ASCII characters)"),
    ),
    request_body = CertificateRequest,
    responses(
        (status = 201, description = "Issued", body = RequestedCertificate),
        (status = 200, description = "A repeat of an earlier request with the same idempotency key: its certificate", body = RequestedCertificate),
        (status = 202, description = "A public (ACME) order the CA finishes later; poll the `Location`", body = RequestedCertificate,
         headers(("Location" = String, description = "The certificate, `/api/v1/certificates/{id}`"))),
        (status = 400, description = "The request is wrong (`field` names the input: `body`, `dns_names`, `idempotency_key`…) or refused by policy", body = ApiErrorBody),
        (status = 409, description = "The idempotency key was used for a different request", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn request_certificate(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut input): JsonBody<CertificateRequest>,
) -> Result<Response, ApiError> {
    if key.is_some() {
        input.idempotency_key = key;
    }
    let created = backend.request_certificate(&context.meta, input).await?;
    // A public (ACME) certificate is an order the CA finishes later: 202, and where to look.
    if created.status == CertStatus::Pending {
        let location = format!("/api/v1/certificates/{}", created.id);
        return Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(created)).into_response());
    }
    let status = if created.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(created)).into_response())
}

/// One certificate as its page shows it, with an ACME order's progress: what a client polls after a 202.
#[utoipa::path(
    get,
    path = "/api/v1/certificates/{id}",
    tag = "certificates",
    summary = "One certificate",
    params(("id" = uuid::Uuid, Path, description = "The certificate's id")),
    responses(
        (status = 200, description = "The certificate", body = CertificateDetail),
        (status = 404, description = "No such certificate, someone else's, or an id that is not a UUID", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn certificate_detail(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    id: CertificateId,
) -> Result<Json<CertificateDetail>, ApiError> {
    Ok(Json(backend.certificate_detail(&context.meta, id.id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// The file to download; `fullchain-pem` when absent.
    #[param(value_type = Option<DownloadFormat>)]
    format: Option<String>,
    /// `kubernetes-secret`: the Secret's name.
    secret_name: Option<String>,
    /// `kubernetes-secret`: the Secret's namespace.
    namespace: Option<String>,
}

/// The certificate as a file. The PKCS#12 password travels in the `X-Pkcs12-Password` header, never in the URL
/// (URLs end up in logs). Formats with the private key need a token created for private keys.
#[utoipa::path(
    get,
    path = "/api/v1/certificates/{id}/download",
    tag = "certificates",
    summary = "Download a certificate",
    params(
        ("id" = uuid::Uuid, Path, description = "The certificate's id"),
        DownloadQuery,
        ("X-Pkcs12-Password" = Option<String>, Header, description = "`pkcs12`: the file's password"),
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "application/x-pem-file"),
            (Vec<u8> = "application/x-pkcs12"),
            (String = "application/yaml"),
        )),
        (status = 400, description = "An unknown format or a missing PKCS#12 password (`field` names it)", body = ApiErrorBody),
        (status = 404, description = "No such certificate, someone else's, or an id that is not a UUID", body = ApiErrorBody),
        (status = 409, description = "The certificate has not been issued, or certdesk does not hold its key", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn download(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    headers: HeaderMap,
    id: CertificateId,
    QueryOf(query): QueryOf<DownloadQuery>,
) -> Result<Response, ApiError> {
    let format: DownloadFormat = query
        .format
        .as_deref()
        .unwrap_or("fullchain-pem")
        .parse()
        .map_err(|error| AppError::invalid("format", format!("{error}")))?;
    let options = RenderOptions {
        pkcs12_password: headers
            .get("x-pkcs12-password")
            .and_then(|value| value.to_str().ok())
            .map(|password| secrecy::SecretString::from(password.to_owned())),
        secret_name: query.secret_name,
        namespace: query.namespace,
    };
    // Tokens never export a key on someone's behalf: no reason is taken here.
    let rendered = backend.download_certificate(&context.meta, id.id, format, &options, None).await?;
    Ok(crate::downloads::routes::attachment(rendered))
}
