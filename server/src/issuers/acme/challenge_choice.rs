//! Which challenge proves a name to an ACME CA, by the issuer's `challenges` rules: HTTP-01 by default, DNS-01
//! (through one of the configured DNS servers) where a rule says so, and always for wildcards.

use crate::config::{AcmeIssuerConfig, ChallengeKind};
use crate::names::DnsName;

#[derive(Debug, Clone)]
pub struct Choice {
    pub kind: ChallengeKind,
    pub dns_server: Option<String>,
}

/// The challenge for an identifier as the CA spells it (`*.example.com` for a wildcard, or an IP address).
pub fn choose(config: &AcmeIssuerConfig, identifier: &str) -> Result<Choice, String> {
    let Ok(name) = identifier.parse::<DnsName>() else {
        // IP identifiers (RFC 8738) are proven over HTTP-01 only.
        return Ok(Choice { kind: ChallengeKind::Http01, dns_server: None });
    };
    match config.challenge_for(&name) {
        Some((kind, dns_server)) => Ok(Choice { kind, dns_server: dns_server.map(str::to_owned) }),
        None => Err(format!(
            "{identifier}: wildcard names can only be proven over DNS-01, and no DNS-01 rule of this issuer covers \
             {}",
            name.base_domain()
        )),
    }
}
