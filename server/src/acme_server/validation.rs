//! certdesk's own check of an ACME challenge, as a production CA does it (Let's Encrypt's Boulder is the model):
//! `http-01` (RFC 8555 §8.3), `dns-01` (§8.4) and `tls-alpn-01` (RFC 8737), every DNS lookup through the configured
//! resolver, every attempt bounded by `acme_validation.timeout_seconds`. Pure: it reads nothing from and writes
//! nothing to the database; the caller turns a [`ValidationFailure`] into the challenge's RFC 8555 error.
//!
//! Files: `resolve` (A/AAAA and TXT lookups), `http01`, `dns01`, `tls_alpn01` (one challenge type each),
//! `any_certificate` (the TLS client settings of http-01 redirects and tls-alpn-01).

mod any_certificate;
mod dns01;
mod http01;
mod resolve;
mod tls_alpn01;

use std::sync::Arc;

use tokio::time::Instant;

use crate::config::{AcmeValidationConfig, ConfigError};

/// The challenge types certdesk validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    Http01,
    Dns01,
    TlsAlpn01,
}

impl ChallengeKind {
    pub const ALL: [ChallengeKind; 3] = [ChallengeKind::Http01, ChallengeKind::Dns01, ChallengeKind::TlsAlpn01];

    /// The `type` of the challenge object (RFC 8555 §8, RFC 8737).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http01 => "http-01",
            Self::Dns01 => "dns-01",
            Self::TlsAlpn01 => "tls-alpn-01",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One challenge to check.
#[derive(Debug, Clone, Copy)]
pub struct Challenge<'a> {
    pub kind: ChallengeKind,
    /// DNS name, lower-case ASCII, no `*.` (a wildcard's base name)
    pub identifier: &'a str,
    pub token: &'a str,
    /// token + "." + the account key's RFC 7638 thumbprint
    pub key_authorization: &'a str,
}

/// Why a challenge did not validate: an RFC 8555 error type and a detail for the ACME client's operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ValidationFailure {
    /// RFC 8555 §6.7 error type without the "urn:ietf:params:acme:error:" prefix: "connection", "dns",
    /// "incorrectResponse", "unauthorized", "tls". Input certdesk itself never produces (an identifier that is no
    /// DNS name, a token that is not base64url) is "rejectedIdentifier" or "malformed", before anything is sent.
    pub problem: &'static str,
    pub detail: String,
}

impl ValidationFailure {
    /// Nothing (or nothing usable) could be reached: refused, reset, timed out, a redirect certdesk does not follow.
    fn connection(detail: impl Into<String>) -> Self {
        Self { problem: "connection", detail: detail.into() }
    }

    /// The name could not be resolved.
    fn dns(detail: impl Into<String>) -> Self {
        Self { problem: "dns", detail: detail.into() }
    }

    /// An answer came, but it is not the one the challenge asks for.
    fn incorrect_response(detail: impl Into<String>) -> Self {
        Self { problem: "incorrectResponse", detail: detail.into() }
    }

    /// The target answered without proving control: an HTTP error status, no TXT record, no acmeIdentifier.
    fn unauthorized(detail: impl Into<String>) -> Self {
        Self { problem: "unauthorized", detail: detail.into() }
    }

    /// The TLS handshake failed or did not negotiate `acme-tls/1`.
    fn tls(detail: impl Into<String>) -> Self {
        Self { problem: "tls", detail: detail.into() }
    }
}

/// Validates challenges; built once from the configuration and shared (cheap to clone).
#[derive(Debug, Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    resolver: Arc<resolve::Resolver>,
    http: http01::Fetcher,
    tls: tls_alpn01::Prober,
    timeout: std::time::Duration,
}

impl Validator {
    /// Reads /etc/resolv.conf now when no resolver is configured (a changed file needs a restart, as for most
    /// daemons), and builds the HTTP and TLS clients.
    pub fn new(config: &AcmeValidationConfig) -> Result<Self, ConfigError> {
        let resolver = Arc::new(resolve::Resolver::new(config.resolver)?);
        let http = http01::Fetcher::new(Arc::clone(&resolver), config.http01_port)?;
        let tls = tls_alpn01::Prober::new(Arc::clone(&resolver), config.tls_alpn01_port)?;
        Ok(Self { inner: Arc::new(Inner { resolver, http, tls, timeout: config.timeout }) })
    }

    /// One attempt at `challenge`: `Ok` when the target proved control of the identifier, otherwise why not.
    /// Returns within the configured timeout whatever the target does.
    pub async fn validate(&self, challenge: &Challenge<'_>) -> Result<(), ValidationFailure> {
        check_input(challenge)?;
        let timeout = self.inner.timeout;
        let deadline = Instant::now() + timeout;
        let attempt = async {
            match challenge.kind {
                ChallengeKind::Http01 => self.inner.http.validate(challenge, deadline).await,
                ChallengeKind::Dns01 => dns01::validate(&self.inner.resolver, challenge, deadline).await,
                ChallengeKind::TlsAlpn01 => self.inner.tls.validate(challenge, deadline).await,
            }
        };
        // Each step has its own bound at the same deadline and says which step ran out; this one is the guarantee.
        tokio::time::timeout_at(deadline, attempt).await.unwrap_or_else(|_| {
            Err(ValidationFailure::connection(format!(
                "{} for {} timed out after {} s",
                challenge.kind.as_str(),
                challenge.identifier,
                timeout.as_secs()
            )))
        })
    }
}

/// Refuses what certdesk's own ACME server should never hand over, so no odd byte reaches a URL, a DNS query or
/// a problem document.
fn check_input(challenge: &Challenge<'_>) -> Result<(), ValidationFailure> {
    let identifier = challenge.identifier;
    let normalized = crate::names::normalize_dns_name(identifier).map_err(|error| ValidationFailure {
        problem: "rejectedIdentifier",
        detail: format!("certdesk validates DNS names only: {error}"),
    })?;
    if normalized.is_wildcard() || normalized.as_str() != identifier {
        return Err(ValidationFailure {
            problem: "rejectedIdentifier",
            detail: format!(
                "`{}` is not a validation target: expected a lower-case DNS name without `*.` and trailing dot",
                escaped(identifier.as_bytes(), 256)
            ),
        });
    }
    let malformed = |detail: &str| ValidationFailure { problem: "malformed", detail: detail.to_owned() };
    if challenge.token.is_empty() || !challenge.token.bytes().all(is_base64url) {
        return Err(malformed("the challenge token is not base64url"));
    }
    let thumbprint = challenge
        .key_authorization
        .strip_prefix(challenge.token)
        .and_then(|rest| rest.strip_prefix('.'))
        .ok_or_else(|| malformed("the key authorization does not start with the token and a dot"))?;
    if thumbprint.is_empty() || !thumbprint.bytes().all(is_base64url) {
        return Err(malformed("the key authorization's thumbprint is not base64url"));
    }
    Ok(())
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// `bytes` as printable text for a problem detail: invalid UTF-8 replaced, control and quote characters escaped,
/// cut after `limit` characters with "…" so a large answer cannot flood the problem document.
fn escaped(bytes: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut shown: String = text.chars().take(limit).flat_map(char::escape_debug).collect();
    if text.chars().nth(limit).is_some() {
        shown.push('…');
    }
    shown
}

/// An I/O failure in Let's Encrypt's words where it has some.
fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::ConnectionRefused => "Connection refused".into(),
        std::io::ErrorKind::ConnectionReset => "Connection reset by peer".into(),
        std::io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
        _ => error.to_string(),
    }
}

/// SHA-256 of the key authorization: the TXT value of dns-01 (base64url) and the acmeIdentifier of tls-alpn-01.
fn key_authorization_digest(key_authorization: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(key_authorization.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge<'a>(identifier: &'a str, token: &'a str, key_authorization: &'a str) -> Challenge<'a> {
        Challenge { kind: ChallengeKind::Http01, identifier, token, key_authorization }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ChallengeKind::ALL {
            assert_eq!(ChallengeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ChallengeKind::Http01.as_str(), "http-01");
        assert_eq!(ChallengeKind::Dns01.as_str(), "dns-01");
        assert_eq!(ChallengeKind::TlsAlpn01.as_str(), "tls-alpn-01");
        for unknown in ["", "HTTP-01", "tls-sni-01", "dns-account-01", "http-01 "] {
            assert_eq!(ChallengeKind::parse(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn input_certdesk_never_produces_is_refused_before_anything_is_sent() {
        assert_eq!(check_input(&challenge("www.example.test", "tok-EN_1", "tok-EN_1.thumb")), Ok(()));
        for identifier in ["*.example.test", "WWW.example.test", "www.example.test.", "127.0.0.1", "", "a b.test"] {
            let problem = check_input(&challenge(identifier, "t", "t.x")).unwrap_err().problem;
            assert_eq!(problem, "rejectedIdentifier", "{identifier:?}");
        }
        for (token, key_authorization) in
            [("", ".x"), ("../x", "../x.y"), ("t", "u.x"), ("t", "t"), ("t", "t."), ("t", "t.x/y"), ("t%2F", "t%2F.x")]
        {
            let problem = check_input(&challenge("www.example.test", token, key_authorization)).unwrap_err().problem;
            assert_eq!(problem, "malformed", "{token:?} {key_authorization:?}");
        }
    }

    #[test]
    fn shown_answers_are_escaped_and_cut() {
        assert_eq!(escaped(b"abc", 10), "abc");
        assert_eq!(escaped(b"a\"b\n\x00", 10), "a\\\"b\\n\\0");
        assert_eq!(escaped(&[b'x'; 20], 5), "xxxxx…");
        assert_eq!(escaped(&[0xff, b'a'], 10), "\u{fffd}a");
    }
}
