//! Table-driven tests for DNS name normalisation and IP SAN parsing.

use std::net::IpAddr;

use super::{NameError, normalize_dns_name, parse_ip_san};

#[test]
fn accepted_names_normalise() {
    let cases = [
        ("example.com", "example.com"),
        ("  Example.COM  ", "example.com"),
        ("www.example.com.", "www.example.com"),
        ("*.example.com", "*.example.com"),
        ("*.Example.com.", "*.example.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("*.münchen.de", "*.xn--mnchen-3ya.de"),
        ("localhost", "localhost"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("r3--sn-abc.example.com", "r3--sn-abc.example.com"),
        ("123.example.com", "123.example.com"),
    ];
    for (input, expected) in cases {
        let name = normalize_dns_name(input).unwrap_or_else(|e| panic!("{input:?} refused: {e}"));
        assert_eq!(name.as_str(), expected, "input {input:?}");
    }
}

#[test]
fn refused_names_say_why() {
    let long_label = format!("{}.example.com", "a".repeat(64));
    let long_name = format!("{}.com", ["abcdefghij"; 25].join("."));
    let cases: Vec<(&str, &str)> = vec![
        ("foo..example.com", "'foo..example.com' is not a valid DNS name: empty label"),
        (".example.com", "empty label"),
        ("example.com..", "empty label"),
        (".", "empty label"),
        ("xn--a.example", "IDNA"),
        ("under_score.example.com", "contains '_'"),
        ("-lead.example.com", "starts with a hyphen"),
        ("trail-.example.com", "ends with a hyphen"),
        ("foo*.example.com", "only allowed as the whole leftmost label"),
        ("*.*.x", "only allowed as the whole leftmost label"),
        ("a.*.x", "only allowed as the whole leftmost label"),
        ("*", "bare '*'"),
        ("*.", "bare '*'"),
        (&long_label, "the limit is 63"),
        (&long_name, "the limit is 253"),
        ("exa mple.com", "contains ' '"),
        ("1.2.3.999", "all digits"),
    ];
    for (input, expected) in cases {
        match normalize_dns_name(input) {
            Ok(name) => panic!("{input:?} accepted as {name}"),
            Err(e) => assert!(e.to_string().contains(expected), "{input:?}: {e}"),
        }
    }
}

#[test]
fn empty_and_ip_literals_are_refused() {
    assert_eq!(normalize_dns_name("   "), Err(NameError::Empty));
    for ip in ["192.0.2.1", "2001:db8::1", "[2001:db8::1]", " 10.0.0.1 "] {
        let err = normalize_dns_name(ip).expect_err(ip);
        assert!(matches!(err, NameError::IpAddressLiteral(_)), "{ip}: {err:?}");
        assert!(err.to_string().contains("IP SANs"), "{err}");
    }
}

#[test]
fn wildcard_and_base_domain() {
    let wild = normalize_dns_name("*.example.com").expect("valid");
    assert!(wild.is_wildcard());
    assert_eq!(wild.base_domain(), "example.com");
    let plain = normalize_dns_name("www.example.com").expect("valid");
    assert!(!plain.is_wildcard());
    assert_eq!(plain.base_domain(), "www.example.com");
}

#[test]
fn suffix_matching_respects_label_boundaries() {
    let cases = [
        ("www.example.com", "example.com", true),
        ("example.com", "example.com", true),
        ("example.com", ".example.com", true),
        ("*.example.com", "example.com", true),
        ("a.b.example.com", "EXAMPLE.com.", true),
        ("evil-example.com", "example.com", false),
        ("notexample.com", "example.com", false),
        ("example.com", "www.example.com", false),
        ("*.example.com", "www.example.com", false),
        ("xn--bcher-kva.example", "bücher.example", true),
        ("www.example.com", "", false),
        ("www.example.com", "*.example.com", false),
    ];
    for (name, suffix, expected) in cases {
        let name = normalize_dns_name(name).expect("valid");
        assert_eq!(name.matches_suffix(suffix), expected, "{name} vs {suffix:?}");
    }
}

#[test]
fn serde_round_trip_normalises() {
    let name: super::DnsName = serde_json::from_str("\"WWW.Example.com.\"").expect("valid");
    assert_eq!(name.as_str(), "www.example.com");
    assert_eq!(serde_json::to_string(&name).expect("serialises"), "\"www.example.com\"");
    assert!(serde_json::from_str::<super::DnsName>("\"a..b\"").is_err());
}

#[test]
fn ip_sans_parse() {
    let ok: [(&str, IpAddr); 4] = [
        ("192.0.2.1", "192.0.2.1".parse().expect("ip")),
        (" 2001:DB8::1 ", "2001:db8::1".parse().expect("ip")),
        ("[::1]", "::1".parse().expect("ip")),
        ("10.0.0.255", "10.0.0.255".parse().expect("ip")),
    ];
    for (input, expected) in ok {
        assert_eq!(parse_ip_san(input), Ok(expected), "{input:?}");
    }
    for bad in ["", "256.1.1.1", "010.0.0.1", "fe80::1%eth0", "example.com", "1.2.3"] {
        let err = parse_ip_san(bad).expect_err(bad);
        assert!(err.to_string().contains("is not a valid IP address"), "{bad}: {err}");
    }
}
