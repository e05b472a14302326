//! `POST /api/v1/certificates/{id}/renew`: renew now, with the same rules as the button (owner or admin; a
//! read-only token is refused before this runs). 201 with the new certificate, 200 when an `Idempotency-Key`
//! repeats the first renewal's answer, 409 when the certificate cannot be renewed (saying why).

use app::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::error_response;
use crate::http::RequestContext;
use crate::renewal;
use crate::state::AppState;

pub async fn renew(
    State(state): State<AppState>,
    context: RequestContext,
    headers: http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let meta = &context.meta;
    let outcome = async {
        let caller = meta.caller()?;
        // Not a UUID: the same answer as someone else's certificate.
        let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::not_found("certificate"))?;
        let key = match headers.get("idempotency-key").map(|key| key.to_str()) {
            None => None,
            Some(Ok(key)) if !key.trim().is_empty() && key.len() <= 128 => Some(key.trim().to_owned()),
            Some(_) => return Err(AppError::invalid("idempotency_key", "at most 128 printable ASCII characters")),
        };
        renewal::manual::renew_now(&state, meta, caller, id, key).await.map_err(|error| error.into_app_error(meta))
    }
    .await;
    match outcome {
        Ok(renewed) => {
            let status = if renewed.replayed { StatusCode::OK } else { StatusCode::CREATED };
            (status, Json(renewed)).into_response()
        }
        Err(error) => error_response(error),
    }
}
