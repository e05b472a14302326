//! Why a request is refused by an issuer's policy: the offending value, the rule that came closest, a
//! sentence for the person, and the form field the sentence belongs next to.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::keys::KeyType;
use crate::names::DnsName;

/// More groups than this make the refusal unreadable; the rest are counted instead of listed.
const MAX_GROUPS_SHOWN: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    /// No rule of this issuer names any of the person's groups (or `*`).
    #[error("no issuance policy of this issuer applies to {}", describe_groups(groups))]
    NoRuleForYou { groups: Vec<String> },
    #[error("a certificate needs at least one name: a DNS name, a common name that is a DNS name, or an IP address")]
    NoNames,
    /// No rule that applies to the person covers `name`.
    #[error(
        "'{name}' is not a name you may request from this issuer; you may request names in the \
        domains {}",
        Alternatives(allowed_suffixes)
    )]
    NameNotAllowed { name: DnsName, allowed_suffixes: Vec<DnsName> },
    /// Every name is covered by some rule, but no one rule covers them all: `name` and `other` need different
    /// rules, so they cannot share a certificate.
    #[error(
        "no single issuance policy of this issuer covers both '{other}' and '{name}'; request them in separate \
        certificates"
    )]
    NamesInDifferentRules { name: DnsName, other: DnsName },
    #[error(
        "the issuance policy '{rule}' does not allow wildcard names such as '{name}'; list the names you need \
        instead"
    )]
    WildcardNotAllowed { name: DnsName, rule: String },
    #[error(
        "the issuance policy '{rule}' does not allow IP addresses in certificates, such as {ip}; use DNS names \
        instead"
    )]
    IpSansNotAllowed { ip: IpAddr, rule: String },
    #[error("the IP address {ip} is outside the ranges the issuance policy '{rule}' allows: {}", Alternatives(allowed))]
    IpNotInRanges { ip: IpAddr, allowed: Vec<IpNet>, rule: String },
    #[error("a validity of {requested} days is longer than the issuance policy '{rule}' allows: at most {max} days")]
    ValidityTooLong { requested: u32, max: u32, rule: String },
    #[error("the issuance policy '{rule}' does not allow {key_type} keys; use {}", Alternatives(allowed))]
    KeyTypeNotAllowed { key_type: KeyType, allowed: Vec<KeyType>, rule: String },
    #[error(
        "the issuance policy '{rule}' does not allow client authentication; request a server certificate \
        instead"
    )]
    ClientAuthNotAllowed { rule: String },
}

impl PolicyRefusal {
    /// The request form field this refusal belongs to. `issuer` when the whole issuer is out of reach.
    pub fn field(&self) -> &'static str {
        match self {
            Self::NoRuleForYou { .. } => "issuer",
            Self::NoNames
            | Self::NameNotAllowed { .. }
            | Self::NamesInDifferentRules { .. }
            | Self::WildcardNotAllowed { .. } => "dns_names",
            Self::IpSansNotAllowed { .. } | Self::IpNotInRanges { .. } => "ip_sans",
            Self::ValidityTooLong { .. } => "validity_days",
            Self::KeyTypeNotAllowed { .. } => "key_type",
            Self::ClientAuthNotAllowed { .. } => "client_auth",
        }
    }
}

fn describe_groups(groups: &[String]) -> String {
    if groups.is_empty() {
        return "you: your sign-in carries no groups".to_owned();
    }
    let shown = groups.iter().take(MAX_GROUPS_SHOWN).map(String::as_str).collect::<Vec<_>>().join(", ");
    match groups.len().saturating_sub(MAX_GROUPS_SHOWN) {
        0 => format!("your groups ({shown})"),
        more => format!("your groups ({shown} and {more} more)"),
    }
}

/// `a`, `a or b`, `a, b or c`.
struct Alternatives<'a, T>(&'a [T]);

impl<T: fmt::Display> fmt::Display for Alternatives<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        for (index, item) in self.0.iter().enumerate() {
            match index {
                0 => {}
                last if last + 1 == count => f.write_str(" or ")?,
                _ => f.write_str(", ")?,
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}
