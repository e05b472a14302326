//! Every refusal of the ACME server, as one error type, and the one place it becomes an RFC 8555 / RFC 7807
//! problem document (`application/problem+json`). Bad input is always a 4xx naming what is wrong; only certdesk's
//! own failures (the database, a sealed key that does not open) are a 5xx, logged in full and shown without detail.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde_json::json;

use super::jwk::SUPPORTED_ALGORITHMS;

const PREFIX: &str = "urn:ietf:params:acme:error:";
/// What a client is told to wait when the issuer or the database is down.
const RETRY_UNAVAILABLE_AFTER_SECS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("{0}")]
    Malformed(String),
    #[error("the request body is larger than the {0} KiB an ACME request may be")]
    TooLarge(usize),
    #[error("ACME requests are JWS in the flattened JSON serialization: send Content-Type: application/jose+json")]
    UnsupportedMediaType,
    #[error("{0}")]
    BadNonce(String),
    #[error("{0}")]
    BadSignatureAlgorithm(String),
    #[error("{0}")]
    AccountDoesNotExist(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    ExternalAccountRequired(String),
    #[error("{0}")]
    InvalidContact(String),
    #[error("{0}")]
    UnsupportedContact(String),
    /// A resource of a later part of issue 17 (orders, revocation, key change, renewal information).
    #[error("certdesk's ACME server does not serve {0} yet")]
    NotYet(&'static str),
    #[error("{0}")]
    NotFound(String),
    /// Names the policy, the account key's restriction or the CA refuses; one subproblem per name.
    #[error("{detail}")]
    RejectedIdentifier { detail: String, subproblems: Vec<Subproblem> },
    #[error("{0}")]
    UnsupportedIdentifier(String),
    #[error("{0}")]
    BadCsr(String),
    #[error("{0}")]
    BadPublicKey(String),
    #[error("{0}")]
    OrderNotReady(String),
    #[error("{0}")]
    AlreadyRevoked(String),
    #[error("{0}")]
    BadRevocationReason(String),
    /// A quota of the certificate's owner is used up.
    #[error("{detail}")]
    RateLimited { detail: String, retry_after_secs: u64 },
    /// newOrder's `replaces` names a certificate another order or certificate already replaces (RFC 9773).
    #[error("{0}")]
    AlreadyReplaced(String),
    /// keyChange to a key another account has: its URL goes in `Location`.
    #[error("{detail}")]
    KeyInUse { detail: String, account: String },
    /// A dependency (the issuer, the database) is down; retrying later can succeed.
    #[error("{0}")]
    Unavailable(String),
    #[error("no ACME directory at {0}: the issuer does not exist or has not enabled certdesk's ACME server")]
    NoDirectory(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::AuditError),
    #[error("sealed secret: {0}")]
    Sealing(#[from] crate::sealing::SealError),
    #[error("internal: {0}")]
    Internal(String),
}

impl AcmeError {
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::Malformed(detail.into())
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized(detail.into())
    }

    /// The database is down or restarting: the client is told to come back, as when the issuer is down.
    fn is_database_down(&self) -> bool {
        match self {
            Self::Database(error) | Self::Audit(crate::audit::AuditError::Database(error)) => {
                crate::error::is_unavailable(error)
            }
            _ => false,
        }
    }

    /// The problem type (after `urn:ietf:params:acme:error:`) and the HTTP status.
    fn kind(&self) -> (&'static str, StatusCode) {
        match self {
            _ if self.is_database_down() => ("serverInternal", StatusCode::SERVICE_UNAVAILABLE),
            Self::Malformed(_) => ("malformed", StatusCode::BAD_REQUEST),
            Self::TooLarge(_) => ("malformed", StatusCode::PAYLOAD_TOO_LARGE),
            Self::UnsupportedMediaType => ("malformed", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            Self::BadNonce(_) => ("badNonce", StatusCode::BAD_REQUEST),
            Self::BadSignatureAlgorithm(_) => ("badSignatureAlgorithm", StatusCode::BAD_REQUEST),
            Self::AccountDoesNotExist(_) => ("accountDoesNotExist", StatusCode::BAD_REQUEST),
            Self::Unauthorized(_) => ("unauthorized", StatusCode::UNAUTHORIZED),
            Self::ExternalAccountRequired(_) => ("externalAccountRequired", StatusCode::UNAUTHORIZED),
            Self::InvalidContact(_) => ("invalidContact", StatusCode::BAD_REQUEST),
            Self::UnsupportedContact(_) => ("unsupportedContact", StatusCode::BAD_REQUEST),
            Self::NotYet(_) => ("malformed", StatusCode::NOT_IMPLEMENTED),
            Self::RejectedIdentifier { .. } => ("rejectedIdentifier", StatusCode::BAD_REQUEST),
            Self::UnsupportedIdentifier(_) => ("unsupportedIdentifier", StatusCode::BAD_REQUEST),
            Self::BadCsr(_) => ("badCSR", StatusCode::BAD_REQUEST),
            Self::BadPublicKey(_) => ("badPublicKey", StatusCode::BAD_REQUEST),
            Self::OrderNotReady(_) => ("orderNotReady", StatusCode::FORBIDDEN),
            Self::AlreadyRevoked(_) => ("alreadyRevoked", StatusCode::BAD_REQUEST),
            Self::BadRevocationReason(_) => ("badRevocationReason", StatusCode::BAD_REQUEST),
            Self::RateLimited { .. } => ("rateLimited", StatusCode::TOO_MANY_REQUESTS),
            Self::Unavailable(_) => ("serverInternal", StatusCode::SERVICE_UNAVAILABLE),
            Self::KeyInUse { .. } => ("malformed", StatusCode::CONFLICT),
            Self::AlreadyReplaced(_) => ("alreadyReplaced", StatusCode::CONFLICT),
            Self::NotFound(_) | Self::NoDirectory(_) => ("malformed", StatusCode::NOT_FOUND),
            Self::Database(_) | Self::Audit(_) | Self::Sealing(_) | Self::Internal(_) => {
                ("serverInternal", StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    fn is_ours(&self) -> bool {
        matches!(self, Self::Database(_) | Self::Audit(_) | Self::Sealing(_) | Self::Internal(_))
    }

    /// The problem document as stored with an invalid order or challenge (its `error`), for refusals only.
    pub fn document(&self) -> serde_json::Value {
        let (kind, status) = self.kind();
        let mut body =
            json!({ "type": format!("{PREFIX}{kind}"), "detail": self.to_string(), "status": status.as_u16() });
        if let Self::RejectedIdentifier { subproblems, .. } = self
            && !subproblems.is_empty()
        {
            body["subproblems"] = subproblems.iter().map(Subproblem::document).collect();
        }
        body
    }
}

/// The part of a problem that concerns one identifier (RFC 8555 §6.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subproblem {
    /// The error type after `urn:ietf:params:acme:error:`.
    pub kind: &'static str,
    pub detail: String,
    /// The DNS name as the client asked for it.
    pub name: String,
}

impl Subproblem {
    fn document(&self) -> serde_json::Value {
        json!({ "type": format!("{PREFIX}{}", self.kind), "detail": self.detail,
                "identifier": { "type": "dns", "value": self.name } })
    }
}

/// A problem document of a kind the server does not answer with itself (a failed validation's `connection`,
/// `dns`, `incorrectResponse`…), for storing with the challenge, the authorization's order as subproblem.
pub fn document(kind: &str, detail: &str) -> serde_json::Value {
    json!({ "type": format!("{PREFIX}{kind}"), "detail": detail })
}

impl IntoResponse for AcmeError {
    fn into_response(self) -> Response {
        let (kind, status) = self.kind();
        let detail = if self.is_database_down() {
            tracing::warn!(error = %self, "ACME request failed: the database is unavailable");
            "certdesk's database is unavailable for a moment; try again shortly".to_owned()
        } else if self.is_ours() {
            tracing::error!(error = %self, "ACME request failed");
            "certdesk could not complete the request; try again later".to_owned()
        } else {
            tracing::info!(problem = kind, detail = %self, "ACME request refused");
            self.to_string()
        };
        let mut body = if self.is_ours() {
            json!({ "type": format!("{PREFIX}{kind}"), "detail": detail, "status": status.as_u16() })
        } else {
            self.document()
        };
        if matches!(self, Self::BadSignatureAlgorithm(_)) {
            body["algorithms"] = json!(SUPPORTED_ALGORITHMS);
        }
        let retry_after = match &self {
            Self::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
            Self::Unavailable(_) => Some(RETRY_UNAVAILABLE_AFTER_SECS),
            _ if self.is_database_down() => Some(RETRY_UNAVAILABLE_AFTER_SECS),
            _ => None,
        };
        let location = match &self {
            Self::KeyInUse { account, .. } => HeaderValue::from_str(account).ok(),
            _ => None,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(location) = location {
            response.headers_mut().insert(http::header::LOCATION, location);
        }
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_failures_are_500_without_their_detail_and_refusals_name_their_type() {
        let response = AcmeError::Internal("secret detail".into()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(AcmeError::BadNonce("x".into()).kind(), ("badNonce", StatusCode::BAD_REQUEST));
        assert_eq!(AcmeError::UnsupportedMediaType.kind().1, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let refused = AcmeError::BadSignatureAlgorithm("no".into()).into_response();
        assert_eq!(refused.headers()[http::header::CONTENT_TYPE], "application/problem+json");
    }
}
