//! `POST /api/v1/certificates/{id}/revoke`, `POST /api/v1/certificates/revoke` (a batch, 202: carried out in the
//! background), `GET /api/v1/revocations/{id}` (its progress) and `POST /api/v1/people/{id}/offboard`: the same
//! rules as the UI — owner or admin (with a recent second factor, which API tokens never carry), intent recorded,
//! issuer told, outcome recorded.

use app::AppError;
use app::model::{OffboardingReport, RevocationBatchView, RevocationReason, RevocationResult};
use app::ssr::Backend;
use axum::Json;
use axum::extract::State;
use http::{StatusCode, header};
use serde::Deserialize;

use super::openapi::Refusals;
use super::{ApiError, ApiErrorBody, CertificateId, JsonBody, PersonId, RevocationBatchId};
use crate::backend::ServerBackend;
use crate::http::RequestContext;

/// Why a certificate is revoked.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RevokeBody {
    /// One of `keyCompromise`, `affiliationChanged`, `superseded`, `cessationOfOperation`.
    #[schema(value_type = Option<RevocationReason>)]
    reason: Option<String>,
}

/// The certificates of a batch and why they are revoked.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct BatchBody {
    /// Certificate ids.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    ids: Vec<String>,
    #[schema(value_type = Option<RevocationReason>)]
    reason: Option<String>,
}

fn reason_of(name: Option<&str>) -> Result<RevocationReason, AppError> {
    let allowed = || RevocationReason::ALL.map(RevocationReason::as_str).join(", ");
    match name {
        None | Some("") => Err(AppError::invalid("reason", format!("is required: one of {}", allowed()))),
        Some(name) => RevocationReason::parse(name)
            .ok_or_else(|| AppError::invalid("reason", format!("`{name}` is not offered; use one of {}", allowed()))),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/certificates/{id}/revoke",
    tag = "revocation",
    summary = "Revoke a certificate",
    params(("id" = uuid::Uuid, Path, description = "The certificate's id")),
    request_body = RevokeBody,
    responses(
        (status = 200, description = "Revoked (or already revoked: the first reason stands)", body = RevocationResult),
        (status = 400, description = "A missing or unknown `reason`, or a body that is not JSON (`field` names it)", body = ApiErrorBody),
        (status = 404, description = "No such certificate, someone else's, or an id that is not a UUID", body = ApiErrorBody),
        (status = 409, description = "The certificate cannot be revoked in its state", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn revoke_one(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    id: CertificateId,
    JsonBody(body): JsonBody<RevokeBody>,
) -> Result<Json<RevocationResult>, ApiError> {
    let reason = reason_of(body.reason.as_deref())?;
    Ok(Json(backend.revoke_certificate(&context.meta, id.id, reason).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/certificates/revoke",
    tag = "revocation",
    summary = "Revoke several certificates in the background",
    request_body = BatchBody,
    responses(
        (status = 202, description = "Accepted: carried out in the background; the `Location` says how far it got", body = RevocationBatchView,
         headers(("Location" = String, description = "The batch, `/api/v1/revocations/{id}`"))),
        (status = 400, description = "A missing or unknown `reason`, an id that is not a UUID (`ids[n]`), or a body that is not JSON", body = ApiErrorBody),
        (status = 409, description = "The batch cannot be queued (the message says why)", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn revoke_batch(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    JsonBody(body): JsonBody<BatchBody>,
) -> Result<(StatusCode, [(header::HeaderName, String); 1], Json<RevocationBatchView>), ApiError> {
    let reason = reason_of(body.reason.as_deref())?;
    let ids = body
        .ids
        .iter()
        .enumerate()
        .map(|(index, text)| {
            uuid::Uuid::parse_str(text)
                .map_err(|_| AppError::invalid(format!("ids[{index}]"), format!("`{text}` is not a certificate id")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let batch = backend.revoke_certificates(&context.meta, ids, reason).await?;
    // Accepted: the certificates are revoked in the background; the batch's URL says how far it got.
    let location = format!("/api/v1/revocations/{}", batch.id);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(batch)))
}

/// Where a batch stands, for whoever asked for it and for admins.
#[utoipa::path(
    get,
    path = "/api/v1/revocations/{id}",
    tag = "revocation",
    summary = "A revocation batch's progress",
    params(("id" = uuid::Uuid, Path, description = "The batch's id")),
    responses(
        (status = 200, description = "Where each certificate of the batch stands", body = RevocationBatchView),
        (status = 404, description = "No such batch, someone else's, or an id that is not a UUID", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn batch_progress(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    id: RevocationBatchId,
) -> Result<Json<RevocationBatchView>, ApiError> {
    Ok(Json(backend.revocation_batch(&context.meta, id.id).await?))
}

/// An admin's read-write token off-boards the person (see `revocation::offboarding`); the answer says what was
/// done to each thing they held.
#[utoipa::path(
    post,
    path = "/api/v1/people/{id}/offboard",
    tag = "revocation",
    summary = "Off-board a person (admins)",
    params(("id" = uuid::Uuid, Path, description = "The person's id")),
    request_body = RevokeBody,
    responses(
        (status = 200, description = "What was done to each thing the person held", body = OffboardingReport),
        (status = 400, description = "A missing or unknown `reason`, or a body that is not JSON (`field` names it)", body = ApiErrorBody),
        (status = 404, description = "No such person, or an id that is not a UUID", body = ApiErrorBody),
        (status = 409, description = "The person cannot be off-boarded (the message says why)", body = ApiErrorBody),
        Refusals,
    )
)]
pub async fn offboard(
    State(backend): State<ServerBackend>,
    context: RequestContext,
    id: PersonId,
    JsonBody(body): JsonBody<RevokeBody>,
) -> Result<Json<OffboardingReport>, ApiError> {
    let reason = reason_of(body.reason.as_deref())?;
    Ok(Json(backend.offboard_person(&context.meta, id.id, reason).await?))
}
