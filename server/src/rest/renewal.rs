//! `POST /api/v1/certificates/{id}/renew`: renew now, with the same rules as the button (owner or admin; a
//! read-only token is refused before this runs). 201 with the new certificate, 200 when an `Idempotency-Key`
//! repeats the first renewal's answer, 409 when the certificate cannot be renewed (saying why).

use app::model::RequestedCertificate;
use axum::Json;
use axum::extract::State;
use http::StatusCode;

use super::openapi::Refusals;
use super::{ApiError, ApiErrorBody, CertificateId, IdempotencyKey};
use crate::backend::ServerBackend;
use crate::http::RequestContext;

#[utoipa::path(
    post,
    path = "/api/v1/certificates/{id}/renew",
    tag = "certificates",
    summary = "Renew a certificate now",
    params(
        ("id" = uuid::Uuid, Path, description = "The certificate's id"),
        ("Idempotency-Key" = Option<String>, Header,
         description = "The same key from the same person answers the first renewal (1 to 128 printable ASCII characters)"),
    ),
    responses(
        (status = 201, description = "Renewed: the new certificate", body = RequestedCertificate),
        (status = 200, description = "A repeat with the same idempotency key: the first renewal's certificate", body = RequestedCertificate),
        (status = 400, description = "A malformed `Idempotency-Key` (`field` is `idempotency_key`)", body = ApiErrorBody),
        (status = 404, description = "No such certificate, someone else's, or an id that is not a UUID", body = ApiErrorBody),
        (status = 409, description = "The certificate cannot be renewed (the message says why)", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn renew(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    id: CertificateId,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<(StatusCode, Json<RequestedCertificate>), ApiError> {
    let renewed = backend.renew_certificate_once(&context.meta, id.id, key).await?;
    let status = if renewed.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(renewed)))
}
