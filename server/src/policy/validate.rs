//! The policy rules as written in the configuration, and their validation into [`PolicyRule`]s; every error
//! names the exact key, such as `issuers[0].policy[1].domains[2]`.

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use super::{EVERYONE, MAX_VALIDITY_DAYS, PolicyRule};
use crate::config::ConfigError;
use crate::keys::KeyType;
use crate::names::{DnsName, NameError, normalize_dns_name};

/// Long enough for a descriptive name, short enough to read in a one-line refusal.
const MAX_RULE_NAME_CHARS: usize = 64;

/// One `[[issuers.policy]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicyRule {
    pub name: String,
    pub groups: Vec<String>,
    pub domains: Vec<String>,
    #[serde(default)]
    pub allow_wildcards: bool,
    /// CIDR ranges (or single addresses) IP SANs may come from.
    #[serde(default)]
    pub ip_ranges: Vec<String>,
    /// Replaced by `ip_ranges`; read only to tell an operator whose configuration still says `true` what to write.
    pub allow_ip_sans: Option<bool>,
    /// Signed so that a negative value is refused here with the range rather than as a type error.
    pub max_validity_days: i64,
    /// Absent means every key type certdesk supports.
    pub key_types: Option<Vec<String>>,
    #[serde(default)]
    pub allow_client_auth: bool,
}

/// Validates an issuer's rules; `key_prefix` is where they live, e.g. `issuers[0].policy`.
pub fn validate_rules(raw: Vec<RawPolicyRule>, key_prefix: &str) -> Result<Vec<PolicyRule>, ConfigError> {
    let mut names = HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(index, rule)| {
            let key = format!("{key_prefix}[{index}]");
            let rule = validate_rule(rule, &key)?;
            if !names.insert(rule.name.clone()) {
                return Err(ConfigError::invalid(format!("{key}.name"), format!("`{}` is used twice", rule.name)));
            }
            Ok(rule)
        })
        .collect()
}

fn validate_rule(raw: RawPolicyRule, key: &str) -> Result<PolicyRule, ConfigError> {
    let name = raw.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_RULE_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ConfigError::invalid(
            format!("{key}.name"),
            format!("use 1 to {MAX_RULE_NAME_CHARS} printable characters"),
        ));
    }
    let max_validity_days = u32::try_from(raw.max_validity_days)
        .ok()
        .filter(|days| (1..=MAX_VALIDITY_DAYS).contains(days))
        .ok_or_else(|| {
            ConfigError::invalid(
                format!("{key}.max_validity_days"),
                format!("must be between 1 and {MAX_VALIDITY_DAYS} days, the longest validity a request may ask for"),
            )
        })?;
    Ok(PolicyRule {
        name,
        groups: groups(raw.groups, key)?,
        domains: domains(raw.domains, key)?,
        allow_wildcards: raw.allow_wildcards,
        ip_ranges: ip_ranges(raw.ip_ranges, raw.allow_ip_sans, key)?,
        max_validity_days,
        key_types: key_types(raw.key_types, key)?,
        allow_client_auth: raw.allow_client_auth,
    })
}

fn groups(raw: Vec<String>, key: &str) -> Result<Vec<String>, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::invalid(
            format!("{key}.groups"),
            format!("list at least one group, or \"{EVERYONE}\" for everyone signed in"),
        ));
    }
    let mut groups: Vec<String> = Vec::with_capacity(raw.len());
    for (index, group) in raw.into_iter().enumerate() {
        // Groups are compared exactly; stray whitespace would make a rule that silently matches nobody.
        if group.trim().is_empty() || group.trim() != group {
            return Err(ConfigError::invalid(
                format!("{key}.groups[{index}]"),
                "must be a group name without leading or trailing spaces",
            ));
        }
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    Ok(groups)
}

/// DNS suffixes as configured under `{key}.domains`: normalised, no wildcards, no IP addresses, no duplicates.
pub(crate) fn domains(raw: Vec<String>, key: &str) -> Result<Vec<DnsName>, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::invalid(
            format!("{key}.domains"),
            "list at least one DNS suffix, such as \"cluster.local\"",
        ));
    }
    let mut domains: Vec<DnsName> = Vec::with_capacity(raw.len());
    for (index, domain) in raw.iter().enumerate() {
        let entry_key = format!("{key}.domains[{index}]");
        let trimmed = domain.trim();
        // `.example.com` is a common way to write "below example.com"; it means the same as `example.com` here.
        let suffix = normalize_dns_name(trimmed.strip_prefix('.').unwrap_or(trimmed)).map_err(|error| match error {
            NameError::IpAddressLiteral(_) => ConfigError::invalid(
                &entry_key,
                "is an IP address, not a DNS suffix; allow IP SANs with ip_ranges = [\"10.20.0.0/16\"]",
            ),
            other => ConfigError::invalid(&entry_key, other.to_string()),
        })?;
        if suffix.is_wildcard() {
            return Err(ConfigError::invalid(
                &entry_key,
                format!(
                    "write the suffix without '*.' (`{}`); wildcards are allowed with allow_wildcards = true",
                    suffix.base_domain()
                ),
            ));
        }
        if !domains.contains(&suffix) {
            domains.push(suffix);
        }
    }
    Ok(domains)
}

/// The IP ranges under `{key}.ip_ranges`: CIDR ranges of either family, a bare address meaning just itself. A range
/// with host bits set (`10.20.1.0/16`) is refused rather than widened: it is a typo for /24 as often as for /16.
/// `allow_ip_sans = true` (the switch `ip_ranges` replaced) is refused, naming the ranges to write instead;
/// `allow_ip_sans = false` says what an empty list says and is accepted.
fn ip_ranges(raw: Vec<String>, allow_ip_sans: Option<bool>, key: &str) -> Result<Vec<IpNet>, ConfigError> {
    if allow_ip_sans == Some(true) {
        return Err(ConfigError::invalid(
            format!("{key}.allow_ip_sans"),
            "was replaced by ip_ranges: list the ranges IP addresses may come from, such as \
            ip_ranges = [\"10.20.0.0/16\", \"fd00:20::/32\"] (\"0.0.0.0/0\" and \"::/0\" allow any address)",
        ));
    }
    let mut ranges: Vec<IpNet> = Vec::with_capacity(raw.len());
    for (index, text) in raw.iter().enumerate() {
        let entry_key = format!("{key}.ip_ranges[{index}]");
        let text = text.trim();
        let range = match text.parse::<IpNet>() {
            Ok(range) => range,
            Err(_) => text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
                ConfigError::invalid(
                    &entry_key,
                    format!("`{text}` is not an IP range; write one such as \"10.20.0.0/16\" or \"fd00:20::/32\""),
                )
            })?,
        };
        if range.trunc() != range {
            return Err(ConfigError::invalid(
                &entry_key,
                format!("`{text}` has bits set after the prefix; the range starts at {}", range.trunc()),
            ));
        }
        if !ranges.contains(&range) {
            ranges.push(range);
        }
    }
    Ok(ranges)
}

fn key_types(raw: Option<Vec<String>>, key: &str) -> Result<Vec<KeyType>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(KeyType::ALL.to_vec());
    };
    if raw.is_empty() {
        return Err(ConfigError::invalid(
            format!("{key}.key_types"),
            "list at least one key type, or leave the key out to allow all of them",
        ));
    }
    let mut key_types: Vec<KeyType> = Vec::with_capacity(raw.len());
    for (index, name) in raw.iter().enumerate() {
        let key_type = parse_key_type(name).ok_or_else(|| {
            let valid: Vec<&str> = KeyType::ALL.iter().map(|key_type| key_type.as_str()).collect();
            ConfigError::invalid(
                format!("{key}.key_types[{index}]"),
                format!("`{}` is not a key type; use one of: {}", name.trim(), valid.join(", ")),
            )
        })?;
        if !key_types.contains(&key_type) {
            key_types.push(key_type);
        }
    }
    Ok(key_types)
}

/// The names certdesk uses everywhere (`rsa2048`), plus `rsa-2048`, which reads like `ec-p256` and is what
/// people naturally write next to it.
fn parse_key_type(name: &str) -> Option<KeyType> {
    let name = name.trim();
    name.parse().ok().or_else(|| {
        let (family, size) = name.split_once('-')?;
        family.eq_ignore_ascii_case("rsa").then(|| format!("rsa{size}").parse().ok()).flatten()
    })
}
