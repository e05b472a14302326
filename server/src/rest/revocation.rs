//! `POST /api/v1/certificates/{id}/revoke`, `POST /api/v1/certificates/revoke` (a batch, 202: carried out in the
//! background) and `GET /api/v1/revocations/{id}` (its progress): the same rules as the UI — owner or admin (with a
//! recent second factor, which API tokens never carry), intent recorded, issuer told, outcome recorded.

use app::AppError;
use app::model::RevocationReason;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error_response;
use crate::http::RequestContext;
use crate::revocation;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct RevokeBody {
    reason: Option<String>,
}

#[derive(Deserialize)]
pub struct BatchBody {
    #[serde(default)]
    ids: Vec<String>,
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

fn body_of<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    body.map(|Json(body)| body).map_err(|rejection| AppError::invalid("body", rejection.body_text()))
}

/// The JSON answer, or the one wire error.
fn respond(outcome: Result<serde_json::Value, AppError>) -> Response {
    match outcome {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => error_response(error),
    }
}

pub async fn revoke_one(
    State(state): State<AppState>,
    context: RequestContext,
    Path(id): Path<String>,
    body: Result<Json<RevokeBody>, JsonRejection>,
) -> Response {
    let meta = &context.meta;
    respond(
        async {
            let caller = meta.caller()?;
            // Not a UUID: the same answer as someone else's certificate.
            let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::not_found("certificate"))?;
            let reason = reason_of(body_of(body)?.reason.as_deref())?;
            let result = revocation::revoke(&state, meta, caller, id, reason)
                .await
                .map_err(|error| error.into_app_error(meta))?;
            Ok(json!(result))
        }
        .await,
    )
}

pub async fn revoke_batch(
    State(state): State<AppState>,
    context: RequestContext,
    body: Result<Json<BatchBody>, JsonRejection>,
) -> Response {
    let meta = &context.meta;
    let outcome = async {
        let caller = meta.caller()?;
        let body = body_of(body)?;
        let reason = reason_of(body.reason.as_deref())?;
        let ids = body
            .ids
            .iter()
            .enumerate()
            .map(|(index, text)| {
                uuid::Uuid::parse_str(text).map_err(|_| {
                    AppError::invalid(format!("ids[{index}]"), format!("`{text}` is not a certificate id"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        revocation::bulk::submit(&state, meta, caller, &ids, reason).await.map_err(|error| error.into_app_error(meta))
    }
    .await;
    match outcome {
        // Accepted: the certificates are revoked in the background; the batch's URL says how far it got.
        Ok(batch) => {
            let location = format!("/api/v1/revocations/{}", batch.id);
            (StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(batch)).into_response()
        }
        Err(error) => error_response(error),
    }
}

/// `GET /api/v1/revocations/{id}`: where a batch stands, for whoever asked for it and for admins.
pub async fn batch_progress(
    State(state): State<AppState>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Response {
    let meta = &context.meta;
    respond(
        async {
            let caller = meta.caller()?;
            let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::not_found("revocation batch"))?;
            let batch =
                revocation::bulk::progress(&state, caller, id).await.map_err(|error| error.into_app_error(meta))?;
            Ok(json!(batch))
        }
        .await,
    )
}

/// `POST /api/v1/people/{id}/offboard {reason}`: an admin's read-write token off-boards the person (see
/// `revocation::offboarding`); the answer says what was done to each thing they held.
pub async fn offboard(
    State(state): State<AppState>,
    context: RequestContext,
    Path(id): Path<String>,
    body: Result<Json<RevokeBody>, JsonRejection>,
) -> Response {
    let meta = &context.meta;
    respond(
        async {
            let caller = meta.caller()?;
            let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::not_found("person"))?;
            let reason = reason_of(body_of(body)?.reason.as_deref())?;
            let report = revocation::offboarding::offboard(&state, meta, caller, id, reason)
                .await
                .map_err(|error| error.into_app_error(meta))?;
            Ok(json!(report))
        }
        .await,
    )
}
