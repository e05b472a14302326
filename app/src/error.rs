//! `AppError`: the one error type that crosses the wire, with its HTTP status and user-facing message.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::api::codec::JsonText;

mod record;

/// What the browser (or an API client) is told when something fails. Carries no internal detail: the server logs
/// that under the `incident` id and sends only this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "record::ErrorRecord")]
pub enum AppError {
    /// The request itself is wrong; `field` names the offending input when there is one.
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },
    #[error("sign in to continue")]
    Unauthenticated,
    #[error("you are not allowed to do this")]
    Forbidden,
    /// Not allowed, and why: for what the caller can see but not do (another person's private key).
    #[error("{message}")]
    NotPermitted { message: String },
    /// A sensitive action needs a recent second factor: sign in again, then retry.
    #[error("this action needs a fresh sign-in with your second factor")]
    StepUpRequired,
    /// Also the answer for objects that exist but belong to someone else, so ids cannot be probed.
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{message}")]
    Conflict { message: String },
    /// Too many requests from this person or address; retrying after the wait succeeds.
    #[error("too many requests; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// A per-person quota is used up (certificates requested per day): `message` names it and says when the next
    /// request is possible.
    #[error("{message}")]
    QuotaExceeded { message: String, retry_after_secs: u64 },
    /// A dependency (database, issuer) is down; retrying later can succeed.
    #[error("{service} is unavailable right now; please try again shortly")]
    Unavailable { service: String },
    #[error("something went wrong on our side; quote incident {incident} when reporting it")]
    Internal { incident: String },
    /// Raised in the browser when the server could not be reached or answered with something unreadable.
    #[error("could not reach certdesk: {message}")]
    Transport { message: String },
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: Some(field.into()), message: message.into() }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    /// The HTTP status this error is served with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden | Self::NotPermitted { .. } | Self::StepUpRequired => 403,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::TooManyRequests { .. } | Self::QuotaExceeded { .. } => 429,
            Self::Unavailable { .. } => 503,
            Self::Internal { .. } => 500,
            Self::Transport { .. } => 502,
        }
    }

    /// Seconds after which retrying can succeed, for a `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_secs } | Self::QuotaExceeded { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// A short title for error pages and panels.
    pub fn title(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "Check your input",
            Self::Unauthenticated => "Sign-in required",
            Self::Forbidden | Self::NotPermitted { .. } => "Not allowed",
            Self::StepUpRequired => "Confirm it's you",
            Self::NotFound { .. } => "Not found",
            Self::Conflict { .. } => "Conflict",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::QuotaExceeded { .. } => "Quota reached",
            Self::Unavailable { .. } => "Temporarily unavailable",
            Self::Internal { .. } => "Unexpected error",
            Self::Transport { .. } => "Connection problem",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                Self::Invalid { field: None, message }
            }
            ServerFnErrorErr::Request(message)
            | ServerFnErrorErr::Response(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::Serialization(message) => Self::Transport { message },
            other => Self::Transport { message: other.to_string() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_client_errors_for_caller_mistakes() {
        assert_eq!(AppError::invalid("name", "empty").status(), 400);
        assert_eq!(AppError::not_found("certificate").status(), 404);
        assert_eq!(AppError::Unavailable { service: "database".into() }.status(), 503);
    }

    #[test]
    fn wire_form_is_tagged_json_and_round_trips() {
        let error = AppError::invalid("common_name", "must not be empty");
        let json = serde_json::to_string(&error).unwrap();
        assert!(json.contains(r#""kind":"invalid""#), "{json}");
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), error);
    }

    #[test]
    fn argument_errors_become_invalid_not_transport() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Args("bad field".into()));
        assert_eq!(error.status(), 400);
    }
}
