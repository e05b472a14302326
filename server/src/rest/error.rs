//! `ApiError`: the one error answer of `/api/v1`, an `AppError` as JSON (`kind`, `message`, `field`…) with its
//! status and, for quotas, rate limits and outages, a `Retry-After`.

use app::AppError;
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::json;

/// Seconds a client is asked to wait before retrying after a 503 (an issuer or the database is down).
const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 30;

/// What every `/api/v1` handler (and the token check in front of them) answers when it refuses or fails.
#[derive(Debug)]
pub struct ApiError {
    error: AppError,
    /// Replaces the error's own sentence where the refusal can say more (which token problem, which scope).
    message: Option<String>,
}

impl ApiError {
    pub fn new(error: AppError) -> Self {
        Self { error, message: None }
    }

    /// The same error with a more precise sentence for the person reading it.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Seconds after which retrying can succeed: the quota's or limit's own wait, a fixed pause for outages.
    fn retry_after_secs(&self) -> Option<u64> {
        self.error
            .retry_after_secs()
            .or_else(|| matches!(self.error, AppError::Unavailable { .. }).then_some(RETRY_AFTER_UNAVAILABLE_SECS))
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self::new(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after_secs();
        let mut response = (status, Json(ApiErrorBody::from(self))).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The wire form of `ApiError`, for the OpenAPI document: `kind` and `message` always, the rest when the kind
/// has it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ApiError)]
pub struct ApiErrorBody {
    /// What went wrong, as a machine reads it: `invalid`, `unauthenticated`, `forbidden`, `not_permitted`,
    /// `step_up_required`, `not_found`, `conflict`, `too_many_requests`, `quota_exceeded`, `unavailable`, `internal`.
    #[schema(example = "invalid")]
    kind: String,
    /// The sentence a person reads.
    message: String,
    /// `invalid`: the input that is wrong (`dns_names`, `idempotency_key`, `body`…), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// `not_found`: what was looked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    what: Option<String>,
    /// `unavailable`: the dependency that is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    /// `internal`: the id to quote when reporting it (the server logs the detail under it).
    #[serde(skip_serializing_if = "Option::is_none")]
    incident: Option<String>,
    /// `too_many_requests`, `quota_exceeded`: seconds to wait (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
}

impl From<ApiError> for ApiErrorBody {
    fn from(error: ApiError) -> Self {
        // The tagged `AppError` names the kind and carries the variant's fields; read them back by name.
        let wire = serde_json::to_value(&error.error).unwrap_or_else(|_| json!({ "kind": "internal" }));
        let text = |name: &str| wire.get(name).and_then(|value| value.as_str()).map(str::to_owned);
        Self {
            kind: text("kind").unwrap_or_else(|| "internal".into()),
            message: error.message.unwrap_or_else(|| error.error.to_string()),
            field: text("field"),
            what: text("what"),
            service: text("service"),
            incident: text("incident"),
            retry_after_secs: wire.get("retry_after_secs").and_then(|value| value.as_u64()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> serde_json::Value {
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    #[test]
    fn every_error_carries_its_status_and_a_503_or_429_says_when_to_retry() {
        let response = ApiError::from(AppError::Unavailable { service: "private (sealed)".into() }).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(http::header::RETRY_AFTER).map(|value| value.as_bytes()), Some(&b"30"[..]));
        let quota = AppError::QuotaExceeded { message: "daily quota".into(), retry_after_secs: 600 };
        let response = ApiError::from(quota).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(http::header::RETRY_AFTER).map(|value| value.as_bytes()), Some(&b"600"[..]));
        let response = ApiError::from(AppError::invalid("dns_names", "is empty")).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(http::header::RETRY_AFTER).is_none());
    }

    #[tokio::test]
    async fn the_message_is_the_errors_sentence_unless_a_refusal_says_more() {
        let response = ApiError::from(AppError::Unavailable { service: "private (sealed)".into() }).into_response();
        let body = body_of(response).await;
        assert_eq!(body["kind"], "unavailable");
        assert_eq!(body["service"], "private (sealed)");
        assert_eq!(body["message"], "private (sealed) is unavailable right now; please try again shortly");
        let body = body_of(ApiError::from(AppError::invalid("dns_names", "is empty")).into_response()).await;
        assert_eq!((body["field"].as_str(), body["message"].as_str()), (Some("dns_names"), Some("is empty")));
        let refusal = ApiError::new(AppError::Forbidden).with_message("this token's scope is read-only");
        let body = body_of(refusal.into_response()).await;
        assert_eq!(
            (body["kind"].as_str(), body["message"].as_str()),
            (Some("forbidden"), Some("this token's scope is read-only"))
        );
    }

    /// The documented schema names every field an error can carry, so the document and the wire agree.
    #[tokio::test]
    async fn every_field_on_the_wire_is_in_the_documented_schema() {
        let schema = serde_json::to_value(<ApiErrorBody as utoipa::PartialSchema>::schema()).unwrap();
        let properties = schema["properties"].as_object().unwrap();
        let errors = [
            AppError::invalid("name", "empty"),
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::NotPermitted { message: "no".into() },
            AppError::StepUpRequired,
            AppError::not_found("certificate"),
            AppError::Conflict { message: "no".into() },
            AppError::TooManyRequests { retry_after_secs: 1 },
            AppError::QuotaExceeded { message: "no".into(), retry_after_secs: 1 },
            AppError::Unavailable { service: "db".into() },
            AppError::Internal { incident: "x".into() },
            AppError::Transport { message: "no".into() },
        ];
        for error in errors {
            // Every field the error carries reaches the answer, under a documented name.
            let wire = serde_json::to_value(&error).unwrap();
            let body = body_of(ApiError::from(error).into_response()).await;
            for (field, value) in wire.as_object().unwrap() {
                assert!(properties.contains_key(field), "`{field}` of {wire} is not in the ApiError schema");
                // `message` is always the sentence a person reads (for `transport`, more than the bare cause).
                let kept = value.is_null() || field == "message" || &body[field] == value;
                assert!(kept, "`{field}` of {wire} is lost: {body}");
            }
            assert!(body["message"].is_string(), "{body}");
        }
    }
}
