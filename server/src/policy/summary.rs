//! What one person may request from one issuer, for the request form's hints and inline validation.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::PolicyRule;
use super::evaluate::suffixes;
use crate::keys::KeyType;
use crate::names::DnsName;

/// The union over the rules that apply to the person. Each capability is possible under some rule, not
/// necessarily together with the others (IP SANs may come from one rule and the longest validity from
/// another), so the form uses it for hints and early warnings while [`super::evaluate`] has the final word.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedSummary {
    /// The rules that apply, in configuration order; empty means this issuer is not for this person.
    pub rules: Vec<String>,
    /// Every suffix the person may request names in (the suffix itself included).
    pub suffixes: Vec<DnsName>,
    /// The suffixes under which wildcard names are allowed; empty means no wildcards at all.
    pub wildcard_suffixes: Vec<DnsName>,
    /// The ranges IP SANs may come from, in configuration order; empty means no IP SANs at all.
    pub ip_ranges: Vec<IpNet>,
    pub client_auth: bool,
    /// The longest validity any applicable rule allows; `None` when no rule applies.
    pub max_validity_days: Option<u32>,
    /// In certdesk's usual order (`KeyType::ALL`).
    pub key_types: Vec<KeyType>,
}

impl AllowedSummary {
    pub fn can_request(&self) -> bool {
        !self.rules.is_empty()
    }

    pub fn wildcards(&self) -> bool {
        !self.wildcard_suffixes.is_empty()
    }

    pub fn ip_sans(&self) -> bool {
        !self.ip_ranges.is_empty()
    }
}

pub fn allowed_for(rules: &[PolicyRule], groups: &[String]) -> AllowedSummary {
    let applicable: Vec<&PolicyRule> = rules.iter().filter(|rule| rule.applies_to(groups)).collect();
    AllowedSummary {
        rules: applicable.iter().map(|rule| rule.name.clone()).collect(),
        suffixes: suffixes(applicable.iter().copied()),
        wildcard_suffixes: suffixes(applicable.iter().copied().filter(|rule| rule.allow_wildcards)),
        ip_ranges: {
            let mut ranges: Vec<IpNet> = Vec::new();
            for range in applicable.iter().flat_map(|rule| &rule.ip_ranges) {
                if !ranges.contains(range) {
                    ranges.push(*range);
                }
            }
            ranges
        },
        client_auth: applicable.iter().any(|rule| rule.allow_client_auth),
        max_validity_days: applicable.iter().map(|rule| rule.max_validity_days).max(),
        key_types: KeyType::ALL
            .into_iter()
            .filter(|key_type| applicable.iter().any(|rule| rule.key_types.contains(key_type)))
            .collect(),
    }
}
