//! `[acme_validation]`: how certdesk's ACME server checks challenges itself: which DNS resolver answers every
//! lookup of a validation, which ports http-01 and tls-alpn-01 connect to, and how long one attempt may take.
//! Every key is optional; the defaults are what RFC 8555 and RFC 8737 prescribe.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAcmeValidation {
    resolver: Option<String>,
    http01_port: Option<u64>,
    tls_alpn01_port: Option<u64>,
    timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcmeValidationConfig {
    /// The recursive resolver asked for A/AAAA (http-01, tls-alpn-01) and TXT (dns-01); `None`: the `nameserver`
    /// lines of /etc/resolv.conf.
    pub resolver: Option<SocketAddr>,
    /// Where http-01 fetches the key authorization (RFC 8555 says 80; tests and some gateways differ).
    pub http01_port: u16,
    /// Where tls-alpn-01 connects (RFC 8737 says 443).
    pub tls_alpn01_port: u16,
    /// One whole attempt (lookups, connection, answer, redirects) ends within this.
    pub timeout: Duration,
}

const DEFAULT_HTTP01_PORT: u16 = 80;
const DEFAULT_TLS_ALPN01_PORT: u16 = 443;
const DEFAULT_TIMEOUT_SECONDS: u64 = 10;

impl Default for AcmeValidationConfig {
    fn default() -> Self {
        Self {
            resolver: None,
            http01_port: DEFAULT_HTTP01_PORT,
            tls_alpn01_port: DEFAULT_TLS_ALPN01_PORT,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
        }
    }
}

pub(super) fn validate(raw: Option<RawAcmeValidation>) -> Result<AcmeValidationConfig, ConfigError> {
    let raw = raw.unwrap_or_default();
    let resolver = raw.resolver.as_deref().map(resolver).transpose()?;
    let http01_port = port("acme_validation.http01_port", raw.http01_port, DEFAULT_HTTP01_PORT)?;
    let tls_alpn01_port = port("acme_validation.tls_alpn01_port", raw.tls_alpn01_port, DEFAULT_TLS_ALPN01_PORT)?;
    let seconds = raw.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    // Long enough for a slow resolver plus a slow web server; short enough that a job's worker is not held.
    if !(1..=60).contains(&seconds) {
        return Err(ConfigError::invalid("acme_validation.timeout_seconds", "must be between 1 and 60"));
    }
    Ok(AcmeValidationConfig { resolver, http01_port, tls_alpn01_port, timeout: Duration::from_secs(seconds) })
}

/// `ip:port`, or an IP address alone for port 53. A name is refused: resolving the resolver would need a resolver.
fn resolver(text: &str) -> Result<SocketAddr, ConfigError> {
    let text = text.trim();
    let address = text
        .parse::<SocketAddr>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
        .ok_or_else(|| {
            ConfigError::invalid(
                "acme_validation.resolver",
                "expected an IP address and port such as 10.0.0.53:53 or [fd00::53]:53 (port 53 when left out)",
            )
        })?;
    if address.port() == 0 || address.ip().is_unspecified() || address.ip().is_multicast() {
        return Err(ConfigError::invalid("acme_validation.resolver", "must be a resolver's unicast address and port"));
    }
    Ok(address)
}

fn port(key: &str, value: Option<u64>, default: u16) -> Result<u16, ConfigError> {
    let value = value.unwrap_or(u64::from(default));
    u16::try_from(value)
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| ConfigError::invalid(key, "must be a port between 1 and 65535"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::AcmeValidationConfig;
    use crate::config::{Config, ConfigError};

    fn config(section: &str) -> Result<Config, ConfigError> {
        crate::config::minimal_with(section)
    }

    fn invalid_key(section: &str) -> String {
        match config(section) {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key for {section:?}, got {other:?}"),
        }
    }

    #[test]
    fn absent_or_empty_means_the_rfc_defaults_and_the_system_resolver() {
        let expected = AcmeValidationConfig {
            resolver: None,
            http01_port: 80,
            tls_alpn01_port: 443,
            timeout: Duration::from_secs(10),
        };
        assert_eq!(config("").unwrap().acme_validation, expected);
        assert_eq!(config("[acme_validation]\n").unwrap().acme_validation, expected);
    }

    #[test]
    fn every_key_is_read() {
        let read = config(
            "[acme_validation]\nresolver = \"127.0.0.1:8053\"\nhttp01_port = 5002\ntls_alpn01_port = 5001\n\
             timeout_seconds = 3\n",
        )
        .unwrap()
        .acme_validation;
        assert_eq!(read.resolver, Some("127.0.0.1:8053".parse().unwrap()));
        assert_eq!((read.http01_port, read.tls_alpn01_port, read.timeout), (5002, 5001, Duration::from_secs(3)));
        let bare = config("[acme_validation]\nresolver = \"fd00::53\"\n").unwrap().acme_validation;
        assert_eq!(bare.resolver, Some("[fd00::53]:53".parse().unwrap()), "an address alone means port 53");
    }

    #[test]
    fn bad_values_name_their_key() {
        for resolver in ["dns.internal:53", "127.0.0.1:0", "0.0.0.0:53", "", "127.0.0.1:99999"] {
            assert_eq!(
                invalid_key(&format!("[acme_validation]\nresolver = \"{resolver}\"\n")),
                "acme_validation.resolver",
                "{resolver}"
            );
        }
        assert_eq!(invalid_key("[acme_validation]\nhttp01_port = 0\n"), "acme_validation.http01_port");
        assert_eq!(invalid_key("[acme_validation]\nhttp01_port = 65536\n"), "acme_validation.http01_port");
        assert_eq!(invalid_key("[acme_validation]\ntls_alpn01_port = 70000\n"), "acme_validation.tls_alpn01_port");
        assert_eq!(invalid_key("[acme_validation]\ntimeout_seconds = 0\n"), "acme_validation.timeout_seconds");
        assert_eq!(invalid_key("[acme_validation]\ntimeout_seconds = 61\n"), "acme_validation.timeout_seconds");
        assert_eq!(config("[acme_validation]\ntimeout_seconds = 60\n").unwrap().acme_validation.timeout.as_secs(), 60);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_parse_errors_naming_the_key() {
        let Err(ConfigError::Parse(message)) = config("[acme_validation]\nhttp_port = 80\n") else {
            panic!("an unknown key is refused")
        };
        assert!(message.contains("http_port"), "{message}");
        let Err(ConfigError::Parse(message)) = config("[acme_validation]\ntimeout_seconds = \"ten\"\n") else {
            panic!("a string for a number is refused")
        };
        assert!(message.contains("acme_validation.timeout_seconds"), "{message}");
    }
}
