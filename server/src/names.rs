//! DNS names and IP addresses as users type them: normalised to the one form certificates carry (lowercase
//! A-labels, no trailing dot) and checked against the hostname rules CAs enforce.

mod dns;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;

pub use dns::normalize_dns_name;

/// Why a name was refused. The text is meant for the person who typed the name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a DNS name is required (the name is empty)")]
    Empty,
    #[error("'{name}' is not a valid DNS name: {reason}")]
    Invalid { name: String, reason: String },
    #[error("'{0}' is an IP address, not a DNS name: put it in the IP addresses (IP SANs) instead")]
    IpAddressLiteral(String),
    #[error("'{0}' is not a valid IP address")]
    InvalidIp(String),
}

/// A normalised DNS name: lowercase, ASCII (A-labels), no trailing dot, optionally `*.` + base domain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DnsName(String);

impl DnsName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with("*.")
    }

    /// The name without its wildcard label: `*.example.com` → `example.com`.
    pub fn base_domain(&self) -> &str {
        self.0.strip_prefix("*.").unwrap_or(&self.0)
    }

    /// Whether this name is `suffix` or lies below it, on a label boundary: `www.example.com` and
    /// `*.example.com` match `example.com`, `evil-example.com` does not. A suffix that is not a valid DNS name
    /// (after the same normalisation, a leading dot allowed) matches nothing.
    pub fn matches_suffix(&self, suffix: &str) -> bool {
        let suffix = suffix.trim();
        let suffix = suffix.strip_prefix('.').unwrap_or(suffix);
        let Ok(suffix) = normalize_dns_name(suffix) else {
            return false;
        };
        if suffix.is_wildcard() {
            return false;
        }
        let suffix = suffix.as_str();
        self.0 == suffix || self.0.strip_suffix(suffix).is_some_and(|head| head.ends_with('.'))
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DnsName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DnsName {
    type Error = NameError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        normalize_dns_name(&value)
    }
}

impl From<DnsName> for String {
    fn from(value: DnsName) -> Self {
        value.0
    }
}

impl std::str::FromStr for DnsName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        normalize_dns_name(s)
    }
}

/// Parses an IP address for an IP SAN. Accepts IPv4 dotted quads and IPv6 (optionally in `[...]`); refuses
/// zone IDs and the octal-looking forms some resolvers accept, because certificates carry plain addresses.
pub fn parse_ip_san(input: &str) -> Result<IpAddr, NameError> {
    let trimmed = input.trim();
    let bare = trimmed.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(trimmed);
    bare.parse::<IpAddr>().map_err(|_| NameError::InvalidIp(trimmed.to_owned()))
}
