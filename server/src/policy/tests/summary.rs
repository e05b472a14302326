//! What the request form is told a person may ask for.

use super::{groups, rules};
use crate::keys::KeyType;
use crate::policy::{AllowedSummary, allowed_for};

#[test]
fn the_summary_is_the_union_of_the_applicable_rules() {
    let summary = allowed_for(&rules(), &groups(&["platform-team", "platform-leads"]));
    assert_eq!(summary.rules, ["platform", "platform-wildcards", "devices", "lab"]);
    let suffixes: Vec<&str> = summary.suffixes.iter().map(|suffix| suffix.as_str()).collect();
    assert_eq!(suffixes, ["cluster.local", "priv.example.test", "devices.example.test", "lab.example.test"]);
    let wildcard_suffixes: Vec<&str> = summary.wildcard_suffixes.iter().map(|suffix| suffix.as_str()).collect();
    assert_eq!(wildcard_suffixes, ["cluster.local"]);
    assert!(summary.can_request() && summary.wildcards() && summary.ip_sans() && summary.client_auth);
    let ranges: Vec<String> = summary.ip_ranges.iter().map(ToString::to_string).collect();
    assert_eq!(ranges, ["10.20.0.0/16", "fd00:20::/32"]);
    assert_eq!(summary.max_validity_days, Some(365));
    assert_eq!(summary.key_types, KeyType::ALL);
}

#[test]
fn the_summary_follows_the_groups() {
    let team = allowed_for(&rules(), &groups(&["platform-team"]));
    assert_eq!(team.rules, ["platform", "lab"]);
    assert!(!team.wildcards() && !team.ip_sans() && !team.client_auth);
    assert_eq!(team.max_validity_days, Some(90));
    assert_eq!(team.key_types, KeyType::ALL, "`lab` allows every key type");

    let restricted: Vec<_> = rules().into_iter().filter(|rule| rule.name == "platform").collect();
    let team = allowed_for(&restricted, &groups(&["platform-team"]));
    assert_eq!(team.key_types, [KeyType::EcP256, KeyType::EcP384]);

    let nobody = allowed_for(&restricted, &groups(&["sales"]));
    assert_eq!(nobody, AllowedSummary::default());
    assert!(!nobody.can_request());
    assert_eq!(nobody.max_validity_days, None);
}

#[test]
fn the_summary_serialises_for_the_form() {
    let restricted: Vec<_> = rules().into_iter().filter(|rule| rule.name == "platform").collect();
    let json = serde_json::to_value(allowed_for(&restricted, &groups(&["platform-team"]))).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "rules": ["platform"],
            "suffixes": ["cluster.local", "priv.example.test"],
            "wildcard_suffixes": [],
            "ip_ranges": [],
            "client_auth": false,
            "max_validity_days": 90,
            "key_types": ["ec-p256", "ec-p384"],
        })
    );
}
