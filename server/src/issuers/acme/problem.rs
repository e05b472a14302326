//! What an ACME failure means for an order: worth retrying later (network, server errors, rate limits with the
//! CA's `Retry-After`, nonces), final (the CA refused: a failed challenge, a rejected identifier), or "account
//! gone" (a new account fixes it). And the problem document in words a requester can act on.

use std::time::Duration;

use instant_acme::{Error, Problem};
use serde_json::{Value, json};

const RETRYABLE_TYPES: [&str; 4] = ["rateLimited", "serverInternal", "badNonce", "connection"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcmeFailure {
    Transient { detail: String, retry_after: Option<Duration> },
    Final(String),
    AccountGone(String),
}

pub fn classify(error: &Error, retry_after: Option<Duration>) -> AcmeFailure {
    match error {
        Error::Api(problem) => {
            let kind = short_type(problem);
            if kind == "accountDoesNotExist" {
                AcmeFailure::AccountGone(describe(problem))
            } else if RETRYABLE_TYPES.contains(&kind) || problem.status.is_some_and(|status| status >= 500) {
                AcmeFailure::Transient { detail: describe(problem), retry_after }
            } else {
                AcmeFailure::Final(describe(problem))
            }
        }
        Error::Other(_) | Error::Timeout(_) | Error::Http(_) => {
            AcmeFailure::Transient { detail: format!("cannot reach the ACME server: {error}"), retry_after }
        }
        // A garbled answer is more likely a proxy or an outage than a final verdict on the order.
        Error::Json(_) => AcmeFailure::Transient { detail: format!("unreadable answer: {error}"), retry_after },
        other => AcmeFailure::Final(other.to_string()),
    }
}

/// `urn:ietf:params:acme:error:rateLimited` → `rateLimited`.
pub fn short_type(problem: &Problem) -> &str {
    let kind = problem.r#type.as_deref().unwrap_or_default();
    kind.strip_prefix("urn:ietf:params:acme:error:").unwrap_or(kind)
}

/// The CA's own words first, then each identifier's sub-problem: "The CA could not validate www.example.com:
/// connection refused".
pub fn describe(problem: &Problem) -> String {
    let mut text = problem.detail.clone().unwrap_or_else(|| short_type(problem).to_owned());
    for sub in &problem.subproblems {
        let identifier = sub.identifier.as_ref().map(|id| id.authorized(false).to_string()).unwrap_or_default();
        let detail = sub.detail.as_deref().unwrap_or_default();
        text.push_str(&format!("; {identifier}: {detail}"));
    }
    text
}

/// The problem document as stored with the order (instant-acme's type is not serialisable).
pub fn to_json(problem: &Problem) -> Value {
    json!({
        "type": problem.r#type,
        "detail": problem.detail,
        "status": problem.status,
        "subproblems": problem.subproblems.iter().map(|sub| json!({
            "identifier": sub.identifier.as_ref().map(|id| id.authorized(false).to_string()),
            "type": sub.r#type,
            "detail": sub.detail,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(kind: &str, status: u16) -> Error {
        let json =
            json!({ "type": format!("urn:ietf:params:acme:error:{kind}"), "detail": "said the CA", "status": status });
        Error::Api(serde_json::from_value(json).unwrap())
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried_refusals_are_final() {
        let wait = Some(Duration::from_secs(60));
        assert_eq!(
            classify(&problem("rateLimited", 429), wait),
            AcmeFailure::Transient { detail: "said the CA".into(), retry_after: wait }
        );
        assert!(matches!(classify(&problem("serverInternal", 500), None), AcmeFailure::Transient { .. }));
        assert!(matches!(classify(&problem("badNonce", 400), None), AcmeFailure::Transient { .. }));
        assert_eq!(classify(&problem("rejectedIdentifier", 400), None), AcmeFailure::Final("said the CA".into()));
        assert!(matches!(classify(&problem("accountDoesNotExist", 400), None), AcmeFailure::AccountGone(_)));
        assert!(matches!(classify(&Error::Str("no nonce"), None), AcmeFailure::Final(_)));
    }
}
