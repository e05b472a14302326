//! ACME settings: the `[acme]` section (where the HTTP-01 responder listens) and the ACME-only keys of an
//! `[[issuers]]` entry (account contact, external account binding, which challenge proves which names, the order
//! deadline, the root that completes the CA's chains).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{ConfigError, SecretSource};
use crate::names::DnsName;

/// Orders normally finish within a minute; the CA's own validation may sleep and retry for a while.
const DEFAULT_ORDER_TIMEOUT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAcme {
    http01_listen: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AcmeConfig {
    /// A second listener that answers only `/.well-known/acme-challenge/`: where the CA's validator connects
    /// (port 80 behind the company's gateway). The main listener answers the same path too.
    pub http01_listen: Option<SocketAddr>,
}

pub(super) fn acme(raw: Option<RawAcme>) -> Result<AcmeConfig, ConfigError> {
    let Some(raw) = raw else { return Ok(AcmeConfig::default()) };
    let http01_listen = raw
        .http01_listen
        .map(|listen| {
            listen.parse().map_err(|_| {
                ConfigError::invalid("acme.http01_listen", "expected an address and port such as 0.0.0.0:80")
            })
        })
        .transpose()?;
    Ok(AcmeConfig { http01_listen })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChallengeRule {
    domains: Vec<String>,
    #[serde(rename = "type")]
    kind: String,
    dns_server: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    Http01,
    Dns01,
}

impl ChallengeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http01 => "http-01",
            Self::Dns01 => "dns-01",
        }
    }
}

/// Names at or below `domains` are proven with `kind`; DNS-01 names through the `[[dns_servers]]` entry
/// `dns_server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRule {
    pub domains: Vec<DnsName>,
    pub kind: ChallengeKind,
    pub dns_server: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ExternalAccountBinding {
    pub key_id: String,
    /// The MAC key as the CA hands it out (base64url), decoded.
    pub hmac_key: SecretString,
}

#[derive(Debug, Clone)]
pub struct AcmeIssuerConfig {
    pub directory_url: Url,
    pub contact_email: Option<String>,
    pub external_account: Option<ExternalAccountBinding>,
    pub challenges: Vec<ChallengeRule>,
    pub order_timeout: Duration,
    /// DER of the root completing the CA's chains, when configured.
    pub root_ca_der: Option<Vec<u8>>,
}

impl AcmeIssuerConfig {
    /// The challenge that proves `name`: the first rule covering it, else HTTP-01. Wildcards can only be proven
    /// over DNS (RFC 8555 §7.1.3), so for them only DNS-01 rules count and `None` means "cannot be proven".
    pub fn challenge_for(&self, name: &DnsName) -> Option<(ChallengeKind, Option<&str>)> {
        let rule = self
            .challenges
            .iter()
            .filter(|rule| !name.is_wildcard() || rule.kind == ChallengeKind::Dns01)
            .find(|rule| rule.domains.iter().any(|suffix| name.matches_suffix(suffix.as_str())));
        match rule {
            Some(rule) => Some((rule.kind, rule.dns_server.as_deref())),
            None if name.is_wildcard() => None,
            None => Some((ChallengeKind::Http01, None)),
        }
    }
}

/// The ACME-only keys of one `[[issuers]]` entry, as written.
pub(super) struct RawAcmeIssuer {
    pub contact_email: Option<String>,
    pub eab_key_id: Option<String>,
    pub eab_hmac_key: Option<SecretString>,
    pub eab_hmac_key_file: Option<PathBuf>,
    pub challenges: Vec<RawChallengeRule>,
    pub order_timeout_secs: Option<u64>,
    pub root_ca: Option<Vec<u8>>,
}

pub(super) fn acme_issuer(key: &str, directory_url: Url, raw: RawAcmeIssuer) -> Result<AcmeIssuerConfig, ConfigError> {
    if let Some(email) = &raw.contact_email {
        let plausible = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !email.contains([' ', ',', '<', '>'])
        });
        if !plausible {
            return Err(ConfigError::invalid(format!("{key}.contact_email"), "expected an e-mail address"));
        }
    }
    let external_account = match (raw.eab_key_id, raw.eab_hmac_key.is_some() || raw.eab_hmac_key_file.is_some()) {
        (None, false) => None,
        (None, true) => {
            return Err(ConfigError::invalid(format!("{key}.eab_key_id"), "is required with eab_hmac_key"));
        }
        (Some(key_id), _) => {
            let mac_key = format!("{key}.eab_hmac_key");
            let hmac_key =
                SecretSource { key: &mac_key, inline: raw.eab_hmac_key, file: raw.eab_hmac_key_file }.resolve()?;
            let decodes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(hmac_key.expose_secret().trim().trim_end_matches('='))
                .is_ok_and(|bytes| !bytes.is_empty());
            if !decodes {
                return Err(ConfigError::invalid(mac_key, "must be the base64url MAC key the CA gave"));
            }
            Some(ExternalAccountBinding { key_id, hmac_key })
        }
    };
    let challenges = raw
        .challenges
        .into_iter()
        .enumerate()
        .map(|(index, rule)| challenge_rule(&format!("{key}.challenges[{index}]"), rule))
        .collect::<Result<Vec<_>, _>>()?;
    let order_timeout = match raw.order_timeout_secs {
        None => DEFAULT_ORDER_TIMEOUT,
        Some(seconds @ 30..=86_400) => Duration::from_secs(seconds),
        Some(_) => {
            return Err(ConfigError::invalid(format!("{key}.order_timeout_secs"), "must be between 30 and 86400"));
        }
    };
    Ok(AcmeIssuerConfig {
        directory_url,
        contact_email: raw.contact_email,
        external_account,
        challenges,
        order_timeout,
        root_ca_der: raw.root_ca,
    })
}

/// Every DNS-01 rule names a configured DNS server whose zone holds the rule's domains (a record outside the
/// zone could never be published).
pub(super) fn check_dns_rules(
    issuers: &[super::IssuerConfig],
    dns_servers: &[super::DnsServerConfig],
) -> Result<(), ConfigError> {
    for (index, issuer) in issuers.iter().enumerate() {
        let super::IssuerKindConfig::Acme(acme) = &issuer.kind else { continue };
        for (rule_index, rule) in acme.challenges.iter().enumerate() {
            let Some(id) = &rule.dns_server else { continue };
            let key = format!("issuers[{index}].challenges[{rule_index}]");
            let Some(server) = dns_servers.iter().find(|server| &server.id == id) else {
                return Err(ConfigError::invalid(
                    format!("{key}.dns_server"),
                    format!("there is no [[dns_servers]] entry with id `{id}`"),
                ));
            };
            if let Some(outside) = rule.domains.iter().find(|domain| !domain.matches_suffix(&server.zone)) {
                return Err(ConfigError::invalid(
                    format!("{key}.domains"),
                    format!("`{outside}` is not inside zone `{}` of DNS server `{id}`", server.zone),
                ));
            }
        }
    }
    Ok(())
}

fn challenge_rule(key: &str, raw: RawChallengeRule) -> Result<ChallengeRule, ConfigError> {
    let kind = match raw.kind.as_str() {
        "http-01" => ChallengeKind::Http01,
        "dns-01" => ChallengeKind::Dns01,
        other => {
            return Err(ConfigError::invalid(
                format!("{key}.type"),
                format!("unknown challenge `{other}`; expected `http-01` or `dns-01`"),
            ));
        }
    };
    match (kind, &raw.dns_server) {
        (ChallengeKind::Dns01, None) => {
            return Err(ConfigError::invalid(
                format!("{key}.dns_server"),
                "DNS-01 needs the id of the [[dns_servers]] entry that publishes its TXT records",
            ));
        }
        (ChallengeKind::Http01, Some(_)) => {
            return Err(ConfigError::invalid(format!("{key}.dns_server"), "only DNS-01 rules name a DNS server"));
        }
        _ => {}
    }
    Ok(ChallengeRule { domains: crate::policy::dns_suffixes(raw.domains, key)?, kind, dns_server: raw.dns_server })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(challenges: Vec<RawChallengeRule>) -> RawAcmeIssuer {
        RawAcmeIssuer {
            contact_email: None,
            eab_key_id: None,
            eab_hmac_key: None,
            eab_hmac_key_file: None,
            challenges,
            order_timeout_secs: None,
            root_ca: None,
        }
    }

    fn config(challenges: Vec<RawChallengeRule>) -> AcmeIssuerConfig {
        acme_issuer("issuers[1]", "https://127.0.0.1:14000/dir".parse().unwrap(), raw(challenges)).unwrap()
    }

    fn rule(domains: &[&str], kind: &str, dns_server: Option<&str>) -> RawChallengeRule {
        RawChallengeRule {
            domains: domains.iter().map(|domain| (*domain).to_owned()).collect(),
            kind: kind.into(),
            dns_server: dns_server.map(Into::into),
        }
    }

    fn name(text: &str) -> DnsName {
        text.parse().unwrap()
    }

    #[test]
    fn names_get_the_first_covering_rule_and_wildcards_only_dns() {
        let config =
            config(vec![rule(&["dns01.example.test"], "dns-01", Some("bind")), rule(&["web.test"], "http-01", None)]);
        assert_eq!(config.challenge_for(&name("a.dns01.example.test")), Some((ChallengeKind::Dns01, Some("bind"))));
        assert_eq!(config.challenge_for(&name("*.dns01.example.test")), Some((ChallengeKind::Dns01, Some("bind"))));
        assert_eq!(config.challenge_for(&name("www.web.test")), Some((ChallengeKind::Http01, None)));
        assert_eq!(config.challenge_for(&name("other.test")), Some((ChallengeKind::Http01, None)));
        assert_eq!(config.challenge_for(&name("*.web.test")), None);
    }

    #[test]
    fn bad_rules_name_their_key() {
        let url: Url = "https://ca.test/dir".parse().unwrap();
        let key_of = |result: Result<AcmeIssuerConfig, ConfigError>| match result {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        };
        assert_eq!(
            key_of(acme_issuer("issuers[0]", url.clone(), raw(vec![rule(&["a.test"], "dns-01", None)]))),
            "issuers[0].challenges[0].dns_server"
        );
        assert_eq!(
            key_of(acme_issuer("issuers[0]", url.clone(), raw(vec![rule(&["a.test"], "tls-alpn-01", None)]))),
            "issuers[0].challenges[0].type"
        );
        assert_eq!(
            key_of(acme_issuer("issuers[0]", url.clone(), raw(vec![rule(&[], "http-01", None)]))),
            "issuers[0].challenges[0].domains"
        );
        let mut bad_mail = raw(vec![]);
        bad_mail.contact_email = Some("not an address".into());
        assert_eq!(key_of(acme_issuer("issuers[0]", url.clone(), bad_mail)), "issuers[0].contact_email");
        let mut half_eab = raw(vec![]);
        half_eab.eab_hmac_key = Some("c2VjcmV0".to_owned().into());
        assert_eq!(key_of(acme_issuer("issuers[0]", url.clone(), half_eab)), "issuers[0].eab_key_id");
        let mut short = raw(vec![]);
        short.order_timeout_secs = Some(5);
        assert_eq!(key_of(acme_issuer("issuers[0]", url, short)), "issuers[0].order_timeout_secs");
    }
}
