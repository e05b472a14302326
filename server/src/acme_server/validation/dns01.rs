//! dns-01 (RFC 8555 §8.4): a TXT record at `_acme-challenge.<name>` holding base64url(SHA-256(key authorization)),
//! as the configured resolver answers it. Other values beside it are fine (two orders, a wildcard and its base).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::time::Instant;

use super::resolve::Resolver;
use super::{Challenge, ValidationFailure, escaped, key_authorization_digest};

/// How many of the wrong values a failure quotes, and how much of each.
const SHOWN_VALUES: usize = 3;
const SHOWN_VALUE_CHARS: usize = 128;

pub(super) async fn validate(
    resolver: &Resolver,
    challenge: &Challenge<'_>,
    deadline: Instant,
) -> Result<(), ValidationFailure> {
    let record = format!("_acme-challenge.{}", challenge.identifier);
    let expected = URL_SAFE_NO_PAD.encode(key_authorization_digest(challenge.key_authorization));
    let values = tokio::time::timeout_at(deadline, resolver.txt(&record, deadline))
        .await
        .map_err(|_| ValidationFailure::dns(format!("DNS problem: query timed out looking up TXT for {record}")))??;
    if values.iter().any(|value| value.as_slice() == expected.as_bytes()) {
        return Ok(());
    }
    if values.is_empty() {
        return Err(ValidationFailure::unauthorized(format!("No TXT record found at {record}")));
    }
    let mut found: Vec<String> =
        values.iter().take(SHOWN_VALUES).map(|value| format!("\"{}\"", escaped(value, SHOWN_VALUE_CHARS))).collect();
    if values.len() > SHOWN_VALUES {
        found.push(format!("and {} more", values.len() - SHOWN_VALUES));
    }
    Err(ValidationFailure::incorrect_response(format!(
        "Incorrect TXT record {} found at {record}, expected \"{expected}\"",
        found.join(", ")
    )))
}
