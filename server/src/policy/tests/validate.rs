//! Configuration validation: normalised values, defaults, and errors that name the exact key.

use super::parse;
use crate::config::ConfigError;
use crate::keys::KeyType;
use crate::policy::MAX_VALIDITY_DAYS;

/// A valid rule table, with `overrides` replacing (or, with an empty value, removing) default lines.
fn rule(overrides: &[(&str, &str)]) -> String {
    let defaults =
        [("name", "\"r\""), ("groups", "[\"g\"]"), ("domains", "[\"example.test\"]"), ("max_validity_days", "90")];
    let mut lines = vec!["[[policy]]".to_owned()];
    for (key, value) in defaults {
        let value = overrides.iter().find(|(name, _)| *name == key).map_or(value, |(_, value)| *value);
        if !value.is_empty() {
            lines.push(format!("{key} = {value}"));
        }
    }
    for (key, value) in overrides.iter().filter(|(key, _)| !defaults.iter().any(|(name, _)| name == key)) {
        lines.push(format!("{key} = {value}"));
    }
    lines.join("\n") + "\n"
}

#[test]
fn valid_rules_are_normalised_with_defaults() {
    let rules = parse(&rule(&[
        ("domains", r#"[" .Cluster.Local. ", "Bücher.example", "cluster.local"]"#),
        ("groups", r#"["a", "*", "a"]"#),
    ]))
    .unwrap();
    let [rule] = rules.as_slice() else { panic!("one rule expected: {rules:?}") };
    let domains: Vec<&str> = rule.domains.iter().map(|domain| domain.as_str()).collect();
    assert_eq!(domains, ["cluster.local", "xn--bcher-kva.example"]);
    assert_eq!(rule.groups, ["a", "*"]);
    assert_eq!(rule.key_types, KeyType::ALL, "no key_types means all of them");
    assert!(!rule.allow_wildcards && !rule.allow_client_auth, "all default to false");
    assert!(rule.ip_ranges.is_empty(), "no IP SANs unless ranges are listed");
    assert_eq!(rule.max_validity_days, 90);
}

#[test]
fn key_types_accept_certdesk_names_and_the_hyphenated_rsa_spelling() {
    let rules =
        parse(&rule(&[("key_types", r#"["ec-p256", "EC-P384", "rsa2048", "rsa-3072", "rsa-4096", "ed25519"]"#)]))
            .unwrap();
    assert_eq!(rules[0].key_types, KeyType::ALL);
}

#[test]
fn ip_ranges_take_cidr_ranges_of_both_families_and_single_addresses() {
    let rules = parse(&rule(&[(
        "ip_ranges",
        r#"[" 10.20.0.0/16 ", "fd00:20::/32", "192.0.2.7", "2001:db8::1", "10.20.0.0/16", "0.0.0.0/0"]"#,
    )]))
    .unwrap();
    let ranges: Vec<String> = rules[0].ip_ranges.iter().map(ToString::to_string).collect();
    assert_eq!(ranges, ["10.20.0.0/16", "fd00:20::/32", "192.0.2.7/32", "2001:db8::1/128", "0.0.0.0/0"]);
}

#[test]
fn the_old_switch_set_to_false_still_means_no_ip_sans() {
    let rules = parse(&rule(&[("allow_ip_sans", "false")])).unwrap();
    assert!(rules[0].ip_ranges.is_empty());
}

#[test]
fn unknown_keys_are_refused() {
    let Err(ConfigError::Parse(message)) = parse(&rule(&[("allow_wildcard", "true")])) else {
        panic!("a misspelt key must not be ignored")
    };
    assert!(message.contains("allow_wildcard"), "{message}");
}

#[test]
fn errors_name_the_exact_key() {
    let two = |second: &[(&str, &str)]| rule(&[("name", "\"first\"")]) + &rule(second);
    let ceiling = format!("between 1 and {MAX_VALIDITY_DAYS} days, the longest validity a request may ask for");
    let one_day_more = (MAX_VALIDITY_DAYS + 1).to_string();
    let cases: Vec<(String, &str, &str)> = vec![
        (
            two(&[("domains", r#"["cluster.local", "priv.example.test", "bad..name"]"#)]),
            "issuers[0].policy[1].domains[2]",
            "'bad..name' is not a valid DNS name: empty label",
        ),
        (two(&[("domains", "[]")]), "issuers[0].policy[1].domains", "list at least one DNS suffix"),
        (
            two(&[("domains", r#"["*.example.test"]"#)]),
            "issuers[0].policy[1].domains[0]",
            "write the suffix without '*.' (`example.test`); wildcards are allowed with allow_wildcards = true",
        ),
        (two(&[("domains", r#"["10.0.0.0"]"#)]), "issuers[0].policy[1].domains[0]", "is an IP address"),
        (two(&[("groups", "[]")]), "issuers[0].policy[1].groups", "list at least one group, or \"*\""),
        (two(&[("groups", r#"["ok", " "]"#)]), "issuers[0].policy[1].groups[1]", "without leading or trailing"),
        (two(&[("groups", r#"["platform-team "]"#)]), "issuers[0].policy[1].groups[0]", "without leading"),
        (two(&[("max_validity_days", "0")]), "issuers[0].policy[1].max_validity_days", &ceiling),
        (two(&[("max_validity_days", &one_day_more)]), "issuers[0].policy[1].max_validity_days", &ceiling),
        (two(&[("max_validity_days", "-5")]), "issuers[0].policy[1].max_validity_days", &ceiling),
        (
            two(&[("key_types", r#"["ec-p256", "rsa1024"]"#)]),
            "issuers[0].policy[1].key_types[1]",
            "`rsa1024` is not a key type; use one of: ec-p256, ec-p384, rsa2048, rsa3072, rsa4096, ed25519",
        ),
        (two(&[("key_types", "[]")]), "issuers[0].policy[1].key_types", "leave the key out to allow all"),
        (two(&[("name", "\"first\"")]), "issuers[0].policy[1].name", "`first` is used twice"),
        (two(&[("name", "\"  \"")]), "issuers[0].policy[1].name", "1 to 64 printable characters"),
        (
            two(&[("ip_ranges", r#"["10.20.0.0/16", "10.30.0.0/33"]"#)]),
            "issuers[0].policy[1].ip_ranges[1]",
            "`10.30.0.0/33` is not an IP range; write one such as \"10.20.0.0/16\"",
        ),
        (
            two(&[("ip_ranges", r#"["printers.example.test"]"#)]),
            "issuers[0].policy[1].ip_ranges[0]",
            "`printers.example.test` is not an IP range",
        ),
        (
            two(&[("ip_ranges", r#"["10.20.1.0/16"]"#)]),
            "issuers[0].policy[1].ip_ranges[0]",
            "`10.20.1.0/16` has bits set after the prefix; the range starts at 10.20.0.0/16",
        ),
        (
            two(&[("ip_ranges", r#"["fd00:20::1/32"]"#)]),
            "issuers[0].policy[1].ip_ranges[0]",
            "the range starts at fd00:20::/32",
        ),
        (
            two(&[("allow_ip_sans", "true")]),
            "issuers[0].policy[1].allow_ip_sans",
            "was replaced by ip_ranges: list the ranges IP addresses may come from, such as ip_ranges = \
             [\"10.20.0.0/16\"",
        ),
    ];
    for (toml, expected_key, expected_reason) in cases {
        match parse(&toml) {
            Err(ConfigError::Invalid { key, reason }) => {
                assert_eq!(key, expected_key, "{toml}");
                assert!(reason.contains(expected_reason), "{toml}\n{reason}");
            }
            other => panic!("expected an invalid key for\n{toml}\ngot {other:?}"),
        }
    }
}

#[test]
fn the_error_reads_as_one_sentence() {
    let error = parse(&rule(&[("domains", r#"["ok.test", "bad..name"]"#)])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "configuration key `issuers[0].policy[0].domains[1]`: 'bad..name' is not a valid DNS name: empty label"
    );
}

#[test]
fn missing_required_keys_are_parse_errors() {
    for key in ["name", "groups", "domains", "max_validity_days"] {
        let Err(ConfigError::Parse(message)) = parse(&rule(&[(key, "")])) else { panic!("{key} is required") };
        assert!(message.contains(key), "{key}: {message}");
    }
}
