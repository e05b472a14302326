//! Deciding one request against an issuer's rules, and choosing the most helpful refusal when no rule allows
//! it.
//!
//! How the refusal is chosen, most fundamental first:
//! 1. No rule applies to the person's groups → `NoRuleForYou` (nothing else they change would help).
//! 2. The request has no names at all → `NoNames`.
//! 3. A DNS name no applicable rule covers → `NameNotAllowed`, listing every suffix the person may use.
//! 4. Every name is covered by some rule but no single rule covers them all → `NamesInDifferentRules`.
//! 5. Otherwise, among the rules covering all the names, the "closest" is the one with the fewest other
//!    violations (wildcards, IP SANs outside its ranges, validity, key type, client authentication), the earlier rule in the
//!    configuration winning a tie; its first violation in that order is reported, naming that rule. Rules
//!    that do not cover the names are never blamed: their domains say the request is not theirs to judge.

use super::{Grant, PolicyRefusal, PolicyRequest, PolicyRule};
use crate::names::DnsName;

/// Allows `request` when one rule that applies to `groups` allows all of it; the first such rule in the
/// configuration is the grant.
pub fn evaluate(rules: &[PolicyRule], groups: &[String], request: &PolicyRequest) -> Result<Grant, PolicyRefusal> {
    judge(rules, groups, request.dns_names, request.ip_sans.is_empty(), |rule| violations(rule, request))
}

/// Judges only the DNS names (wildcards included), as an ACME order must be judged when it is placed: its key,
/// validity and usages come later, with the CSR, and are judged then by `evaluate`.
pub fn evaluate_names(rules: &[PolicyRule], groups: &[String], dns_names: &[DnsName]) -> Result<Grant, PolicyRefusal> {
    judge(rules, groups, dns_names, true, |rule| wildcard_violation(rule, dns_names).into_iter().collect())
}

/// The steps of the module comment, `violations_of` saying what a rule covering all the names refuses.
fn judge(
    rules: &[PolicyRule],
    groups: &[String],
    dns_names: &[DnsName],
    no_ip_sans: bool,
    violations_of: impl Fn(&PolicyRule) -> Vec<PolicyRefusal>,
) -> Result<Grant, PolicyRefusal> {
    let applicable: Vec<&PolicyRule> = rules.iter().filter(|rule| rule.applies_to(groups)).collect();
    if applicable.is_empty() {
        return Err(PolicyRefusal::NoRuleForYou { groups: groups.to_vec() });
    }
    if dns_names.is_empty() && no_ip_sans {
        return Err(PolicyRefusal::NoNames);
    }
    if let Some(name) = dns_names.iter().find(|name| !applicable.iter().any(|rule| rule.covers(name))) {
        return Err(PolicyRefusal::NameNotAllowed {
            name: name.clone(),
            allowed_suffixes: suffixes(applicable.iter().copied()),
        });
    }
    let closest = applicable
        .iter()
        .filter(|rule| dns_names.iter().all(|name| rule.covers(name)))
        .map(|rule| (*rule, violations_of(rule)))
        // `min_by_key` keeps the first of equals, so configuration order breaks ties.
        .min_by_key(|(_, violations)| violations.len());
    match closest {
        Some((rule, violations)) => match violations.into_iter().next() {
            None => Ok(Grant { rule: rule.name.clone(), max_validity_days: rule.max_validity_days }),
            Some(refusal) => Err(refusal),
        },
        None => Err(split_names(&applicable, dns_names)),
    }
}

/// The longest validity a rule applying to `groups` grants to `request` with everything else as asked; `None` when
/// no rule allows the rest of it (`evaluate` then says why). A renewal inherits at most this: when the policy has
/// shrunk since the certificate was issued, the renewal is shorter.
pub fn longest_validity(rules: &[PolicyRule], groups: &[String], request: &PolicyRequest) -> Option<u32> {
    let shortest = PolicyRequest { validity_days: 1, ..*request };
    rules
        .iter()
        .filter(|rule| rule.applies_to(groups) && request.dns_names.iter().all(|name| rule.covers(name)))
        .filter(|rule| violations(rule, &shortest).is_empty())
        .map(|rule| rule.max_validity_days)
        .max()
}

/// Everything `rule` (which covers all the names) refuses about `request`, in the order they are reported.
fn violations(rule: &PolicyRule, request: &PolicyRequest) -> Vec<PolicyRefusal> {
    let name = || rule.name.clone();
    let mut refusals: Vec<PolicyRefusal> = wildcard_violation(rule, request.dns_names).into_iter().collect();
    if let Some(ip) = request.ip_sans.iter().find(|ip| !rule.allows_ip(**ip)) {
        refusals.push(if rule.ip_ranges.is_empty() {
            PolicyRefusal::IpSansNotAllowed { ip: *ip, rule: name() }
        } else {
            PolicyRefusal::IpNotInRanges { ip: *ip, allowed: rule.ip_ranges.clone(), rule: name() }
        });
    }
    if request.validity_days > rule.max_validity_days {
        refusals.push(PolicyRefusal::ValidityTooLong {
            requested: request.validity_days,
            max: rule.max_validity_days,
            rule: name(),
        });
    }
    if !rule.key_types.contains(&request.key_type) {
        refusals.push(PolicyRefusal::KeyTypeNotAllowed {
            key_type: request.key_type,
            allowed: rule.key_types.clone(),
            rule: name(),
        });
    }
    if request.client_auth && !rule.allow_client_auth {
        refusals.push(PolicyRefusal::ClientAuthNotAllowed { rule: name() });
    }
    refusals
}

fn wildcard_violation(rule: &PolicyRule, dns_names: &[DnsName]) -> Option<PolicyRefusal> {
    let wildcard = dns_names.iter().find(|dns_name| dns_name.is_wildcard()).filter(|_| !rule.allow_wildcards)?;
    Some(PolicyRefusal::WildcardNotAllowed { name: wildcard.clone(), rule: rule.name.clone() })
}

/// Every name is covered by some rule, none covers all: names the rule covering the most of them, one name it
/// covers and the first it does not, so the person knows which names to split off.
fn split_names(applicable: &[&PolicyRule], names: &[DnsName]) -> PolicyRefusal {
    let covered_by = |rule: &PolicyRule| names.iter().filter(|name| rule.covers(name)).count();
    // `max_by_key` keeps the last of equals; reversing makes the earlier rule win, as everywhere else.
    let best = applicable.iter().rev().max_by_key(|rule| covered_by(rule));
    let pick = |covered: bool| names.iter().find(|name| best.is_some_and(|rule| rule.covers(name)) == covered).cloned();
    match (pick(false), pick(true)) {
        (Some(name), Some(other)) => PolicyRefusal::NamesInDifferentRules { name, other },
        // Not reached: every name is covered by some rule, so the best rule covers one and misses another.
        _ => PolicyRefusal::NoNames,
    }
}

/// The suffixes of `rules` in configuration order, without repeats.
pub(super) fn suffixes<'a>(rules: impl IntoIterator<Item = &'a PolicyRule>) -> Vec<DnsName> {
    let mut suffixes: Vec<DnsName> = Vec::new();
    for suffix in rules.into_iter().flat_map(|rule| &rule.domains) {
        if !suffixes.contains(suffix) {
            suffixes.push(suffix.clone());
        }
    }
    suffixes
}
