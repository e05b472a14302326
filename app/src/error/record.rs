//! How an `AppError` is read back from its JSON (`{"kind": "invalid", "field": …, "message": …}`): through one flat
//! record rather than serde's internally tagged enum, whose buffering deserializer was the largest single item of
//! the first-load wasm (22 KB before gzip, issue 16). The written form is still the derive's; this reads exactly
//! that form, and names a missing field or an unknown kind as serde would.

use serde::Deserialize;

use super::AppError;

/// Every field any variant has; which ones must be present depends on `kind`.
#[derive(Deserialize)]
pub struct ErrorRecord {
    kind: String,
    field: Option<String>,
    message: Option<String>,
    what: Option<String>,
    service: Option<String>,
    incident: Option<String>,
    retry_after_secs: Option<u64>,
}

impl TryFrom<ErrorRecord> for AppError {
    type Error = String;

    fn try_from(record: ErrorRecord) -> Result<Self, String> {
        fn required<T>(value: Option<T>, name: &str) -> Result<T, String> {
            value.ok_or_else(|| format!("missing field `{name}`"))
        }
        let ErrorRecord { kind, field, message, what, service, incident, retry_after_secs } = record;
        Ok(match kind.as_str() {
            "invalid" => Self::Invalid { field, message: required(message, "message")? },
            "unauthenticated" => Self::Unauthenticated,
            "forbidden" => Self::Forbidden,
            "not_permitted" => Self::NotPermitted { message: required(message, "message")? },
            "step_up_required" => Self::StepUpRequired,
            "not_found" => Self::NotFound { what: required(what, "what")? },
            "conflict" => Self::Conflict { message: required(message, "message")? },
            "too_many_requests" => {
                Self::TooManyRequests { retry_after_secs: required(retry_after_secs, "retry_after_secs")? }
            }
            "quota_exceeded" => Self::QuotaExceeded {
                message: required(message, "message")?,
                retry_after_secs: required(retry_after_secs, "retry_after_secs")?,
            },
            "unavailable" => Self::Unavailable { service: required(service, "service")? },
            "internal" => Self::Internal { incident: required(incident, "incident")? },
            "transport" => Self::Transport { message: required(message, "message")? },
            other => return Err(format!("unknown variant `{other}`")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_as_written() {
        let errors = [
            AppError::invalid("name", "must not be empty"),
            AppError::Invalid { field: None, message: "bad".into() },
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::NotPermitted { message: "not yours".into() },
            AppError::StepUpRequired,
            AppError::not_found("certificate"),
            AppError::Conflict { message: "already revoked".into() },
            AppError::TooManyRequests { retry_after_secs: 7 },
            AppError::QuotaExceeded { message: "200 a day".into(), retry_after_secs: 3600 },
            AppError::Unavailable { service: "database".into() },
            AppError::Internal { incident: "abc123".into() },
            AppError::Transport { message: "offline".into() },
        ];
        for error in errors {
            let json = serde_json::to_string(&error).unwrap();
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), error, "{json}");
        }
    }

    #[test]
    fn unknown_fields_are_ignored_and_order_does_not_matter() {
        let json = r#"{"message":"m","extra":1,"kind":"conflict"}"#;
        assert_eq!(serde_json::from_str::<AppError>(json).unwrap(), AppError::Conflict { message: "m".into() });
    }

    #[test]
    fn a_missing_field_or_unknown_kind_is_an_error_that_says_so() {
        let missing = serde_json::from_str::<AppError>(r#"{"kind":"not_found"}"#).unwrap_err();
        assert!(missing.to_string().contains("missing field `what`"), "{missing}");
        let unknown = serde_json::from_str::<AppError>(r#"{"kind":"teapot"}"#).unwrap_err();
        assert!(unknown.to_string().contains("unknown variant `teapot`"), "{unknown}");
        assert!(serde_json::from_str::<AppError>(r#"{"message":"m"}"#).is_err());
    }
}
