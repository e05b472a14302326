//! Issuance policy: per-issuer rules from the configuration saying who may request which names, IP SANs,
//! validity, key types and client authentication, evaluated before any issuer is called.
//!
//! Rules are additive: a request is allowed when one rule that applies to the person's groups allows all of
//! it. An issuer without rules refuses everyone, so forgetting the policy can never mean "anything goes".

mod evaluate;
mod refusal;
mod summary;
#[cfg(test)]
mod tests;
mod validate;

use std::net::IpAddr;

use ipnet::IpNet;

use crate::keys::KeyType;
use crate::names::DnsName;

pub use evaluate::{evaluate, evaluate_names, longest_validity};
pub use refusal::PolicyRefusal;
pub use summary::{AllowedSummary, allowed_for};
pub(crate) use validate::domains as dns_suffixes;
pub use validate::{RawPolicyRule, validate_rules};

/// The longest validity any certificate request may ask for (the request check refuses more, naming
/// `validity_days`), and so the most a rule's `max_validity_days` may grant: configuration validation refuses a
/// longer rule, naming its key, rather than accept one whose extra days no request could ever get. 398 days is the
/// CA/Browser Forum's ceiling for publicly trusted TLS server certificates (since September 2020); certdesk holds
/// private issuers to it too, so one limit applies whichever issuer a request goes to.
pub const MAX_VALIDITY_DAYS: u32 = 398;

/// The group that stands for everyone signed in.
pub const EVERYONE: &str = "*";

/// One validated rule of an issuer's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// Shown in refusals so people know which rule to ask about.
    pub name: String,
    /// Any of these groups, or [`EVERYONE`]. Admins are not implicitly included: running certdesk is not the
    /// same as owning every name it can issue for.
    pub groups: Vec<String>,
    /// DNS suffixes; the suffix itself is allowed too.
    pub domains: Vec<DnsName>,
    pub allow_wildcards: bool,
    /// The ranges IP SANs may come from (IPv4 and IPv6); empty means no IP SANs at all.
    pub ip_ranges: Vec<IpNet>,
    pub max_validity_days: u32,
    pub key_types: Vec<KeyType>,
    pub allow_client_auth: bool,
}

impl PolicyRule {
    /// Whether this rule applies to someone in `groups`. Group names are compared exactly, as the identity
    /// provider spells them.
    pub fn applies_to(&self, groups: &[String]) -> bool {
        self.groups.iter().any(|rule_group| rule_group == EVERYONE || groups.contains(rule_group))
    }

    /// Whether `name` lies at or below one of this rule's suffixes, on a label boundary, ignoring whether the
    /// rule allows wildcards (that is its own refusal).
    pub fn covers(&self, name: &DnsName) -> bool {
        self.domains.iter().any(|suffix| name.matches_suffix(suffix.as_str()))
    }

    /// Whether `ip` lies in one of this rule's IP ranges.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.ip_ranges.iter().any(|range| range.contains(&ip))
    }
}

/// What is being asked for, already parsed and normalised.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRequest<'a> {
    /// All DNS names, including the common name when it is a DNS name.
    pub dns_names: &'a [DnsName],
    pub ip_sans: &'a [IpAddr],
    pub validity_days: u32,
    pub key_type: KeyType,
    pub client_auth: bool,
}

/// The rule that allowed a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    pub rule: String,
    pub max_validity_days: u32,
}
