//! Evaluating requests: grants, each refusal with its exact sentence and form field, and which rule a refusal
//! blames when several apply.

use std::net::IpAddr;

use super::{groups, rules};
use crate::keys::KeyType::{self, EcP256, EcP384, Rsa2048};
use crate::names::DnsName;
use crate::policy::{PolicyRefusal, PolicyRequest, PolicyRule, evaluate, longest_validity};

struct Case {
    what: &'static str,
    groups: &'static [&'static str],
    names: &'static [&'static str],
    ips: &'static [&'static str],
    days: u32,
    key: KeyType,
    client_auth: bool,
    /// Evaluate without the `lab` rule for everyone, so that some people have no rule at all.
    without_lab: bool,
    /// `Ok(rule)` or `Err((field, message))`.
    expect: Result<&'static str, (&'static str, &'static str)>,
}

const fn case(what: &'static str, groups: &'static [&'static str], names: &'static [&'static str]) -> Case {
    Case {
        what,
        groups,
        names,
        ips: &[],
        days: 30,
        key: EcP256,
        client_auth: false,
        without_lab: false,
        expect: Ok(""),
    }
}

fn run(rules: &[PolicyRule], case: &Case) -> Result<String, PolicyRefusal> {
    let names: Vec<DnsName> = case.names.iter().map(|name| name.parse().unwrap()).collect();
    let ips: Vec<IpAddr> = case.ips.iter().map(|ip| ip.parse().unwrap()).collect();
    let request = PolicyRequest {
        dns_names: &names,
        ip_sans: &ips,
        validity_days: case.days,
        key_type: case.key,
        client_auth: case.client_auth,
    };
    evaluate(rules, &groups(case.groups), &request).map(|grant| grant.rule)
}

#[test]
fn requests_are_granted_or_refused_with_the_most_helpful_reason() {
    let team = &["platform-team"];
    let cases = [
        Case { expect: Ok("platform"), ..case("a name below a suffix", team, &["a.cluster.local"]) },
        Case { expect: Ok("platform"), ..case("the bare suffix itself", team, &["cluster.local"]) },
        Case {
            expect: Ok("platform"),
            ..case("names under two suffixes of one rule", team, &["a.cluster.local", "b.priv.example.test"])
        },
        Case {
            expect: Ok("lab"),
            ..Case { days: 7, ..case("\"*\" is everyone signed in", &["sales"], &["x.lab.example.test"]) }
        },
        Case {
            expect: Err((
                "dns_names",
                "'evil-cluster.local' is not a name you may request from this issuer; you may request names in the \
                 domains cluster.local, priv.example.test or lab.example.test",
            )),
            ..case("suffixes match on label boundaries", team, &["a.cluster.local", "evil-cluster.local"])
        },
        Case {
            expect: Err((
                "dns_names",
                "'a.cluster.local' is not a name you may request from this issuer; you may request names in the \
                 domains lab.example.test",
            )),
            ..case("other groups' suffixes are not offered", &["sales"], &["a.cluster.local"])
        },
        Case {
            expect: Err((
                "dns_names",
                "the issuance policy 'platform' does not allow wildcard names such as '*.a.cluster.local'; list the \
                 names you need instead",
            )),
            ..case("wildcards need allow_wildcards", team, &["*.a.cluster.local"])
        },
        Case {
            expect: Ok("platform-wildcards"),
            ..case(
                "a second rule grants what the first refuses",
                &["platform-team", "platform-leads"],
                &["*.a.cluster.local"],
            )
        },
        Case {
            expect: Err((
                "ip_sans",
                "the issuance policy 'platform' does not allow IP addresses in certificates, such as 192.0.2.1; use \
                 DNS names instead",
            )),
            ..Case { ips: &["192.0.2.1"], ..case("IP SANs need ip_ranges", team, &["a.cluster.local"]) }
        },
        Case {
            expect: Ok("devices"),
            ..Case { ips: &["10.20.3.4"], client_auth: true, ..case("IP-only client certificate", &["iot"], &[]) }
        },
        Case {
            expect: Ok("devices"),
            ..Case {
                ips: &["10.20.0.1", "fd00:20:1::7", "10.20.255.255"],
                ..case("IPv4 and IPv6 addresses inside the ranges", &["iot"], &["a.devices.example.test"])
            }
        },
        Case {
            expect: Err((
                "ip_sans",
                "the IP address 10.21.0.1 is outside the ranges the issuance policy 'devices' allows: 10.20.0.0/16 \
                 or fd00:20::/32",
            )),
            ..Case {
                ips: &["10.20.0.1", "10.21.0.1"],
                ..case("an IPv4 address just outside the range", &["iot"], &["a.devices.example.test"])
            }
        },
        Case {
            expect: Err((
                "ip_sans",
                "the IP address fd00:21::1 is outside the ranges the issuance policy 'devices' allows: 10.20.0.0/16 \
                 or fd00:20::/32",
            )),
            ..Case { ips: &["fd00:21::1"], ..case("an IPv6 address outside the range", &["iot"], &[]) }
        },
        Case {
            expect: Err((
                "ip_sans",
                "the IP address ::ffff:10.20.0.1 is outside the ranges the issuance policy 'devices' allows: \
                 10.20.0.0/16 or fd00:20::/32",
            )),
            ..Case { ips: &["::ffff:10.20.0.1"], ..case("an IPv4-mapped IPv6 address is IPv6", &["iot"], &[]) }
        },
        Case {
            expect: Err((
                "validity_days",
                "a validity of 120 days is longer than the issuance policy 'platform' allows: at most 90 days",
            )),
            ..Case { days: 120, ..case("validity over the maximum", team, &["a.cluster.local"]) }
        },
        Case {
            expect: Err((
                "validity_days",
                "a validity of 120 days is longer than the issuance policy 'platform' allows: at most 90 days",
            )),
            // `devices` would allow 365 days, but not for these names: the rule covering them is blamed.
            ..Case { days: 120, ..case("the covering rule is blamed", &["platform-team", "iot"], &["a.cluster.local"]) }
        },
        Case {
            expect: Err((
                "key_type",
                "the issuance policy 'platform' does not allow RSA 2048 keys; use EC P-256 or EC P-384",
            )),
            ..Case { key: Rsa2048, ..case("key type not listed", team, &["a.cluster.local"]) }
        },
        Case { expect: Ok("platform"), ..Case { key: EcP384, ..case("key type listed", team, &["a.cluster.local"]) } },
        Case {
            expect: Err((
                "client_auth",
                "the issuance policy 'platform' does not allow client authentication; request a server certificate \
                 instead",
            )),
            ..Case { client_auth: true, ..case("client auth needs allow_client_auth", team, &["a.cluster.local"]) }
        },
        Case {
            expect: Err((
                "validity_days",
                "a validity of 60 days is longer than the issuance policy 'platform-wildcards' allows: at most 30 days",
            )),
            // `platform` refuses the wildcard and the key (two), `platform-wildcards` only the validity (one).
            ..Case {
                days: 60,
                key: Rsa2048,
                ..case("fewest violations wins", &["platform-team", "platform-leads"], &["*.a.cluster.local"])
            }
        },
        Case {
            expect: Err((
                "dns_names",
                "no single issuance policy of this issuer covers both 'a.cluster.local' and 'x.lab.example.test'; \
                 request them in separate certificates",
            )),
            ..case("names of two rules", team, &["a.cluster.local", "x.lab.example.test"])
        },
        Case {
            expect: Err((
                "dns_names",
                "a certificate needs at least one name: a DNS name, a common name that is a DNS name, or an IP address",
            )),
            ..case("no names at all", team, &[])
        },
        Case {
            expect: Err(("issuer", "no issuance policy of this issuer applies to your groups (developers, qa)")),
            ..Case {
                without_lab: true,
                ..case("no rule for these groups", &["developers", "qa"], &["a.cluster.local"])
            }
        },
    ];
    let all = rules();
    let without_lab: Vec<PolicyRule> = all.iter().filter(|rule| rule.name != "lab").cloned().collect();
    for case in &cases {
        let rules = if case.without_lab { &without_lab[..] } else { &all[..] };
        match (run(rules, case), case.expect) {
            (Ok(rule), Ok(expected)) => assert_eq!(rule, expected, "{}", case.what),
            (Err(refusal), Err((field, message))) => {
                assert_eq!(refusal.to_string(), message, "{}", case.what);
                assert_eq!(refusal.field(), field, "{}", case.what);
            }
            (got, _) => panic!("{}: unexpected {got:?}", case.what),
        }
    }
}

#[test]
fn grants_carry_the_rules_maximum_validity() {
    let names: Vec<DnsName> = vec!["a.cluster.local".parse().unwrap()];
    let request =
        PolicyRequest { dns_names: &names, ip_sans: &[], validity_days: 10, key_type: EcP256, client_auth: false };
    let grant = evaluate(&rules(), &groups(&["platform-leads", "platform-team"]), &request).unwrap();
    assert_eq!((grant.rule.as_str(), grant.max_validity_days), ("platform", 90), "the first allowing rule grants");
}

#[test]
fn admins_are_not_implicitly_allowed_and_no_rules_refuse_everyone() {
    let names: Vec<DnsName> = vec!["a.cluster.local".parse().unwrap()];
    let request =
        PolicyRequest { dns_names: &names, ip_sans: &[], validity_days: 10, key_type: EcP256, client_auth: false };
    let refusal = evaluate(&[], &groups(&["certdesk-admins"]), &request).unwrap_err();
    assert_eq!(refusal, PolicyRefusal::NoRuleForYou { groups: groups(&["certdesk-admins"]) });
}

#[test]
fn no_rule_for_you_shortens_long_group_lists_and_handles_none() {
    let many = PolicyRefusal::NoRuleForYou { groups: groups(&["a", "b", "c", "d", "e", "f", "g"]) };
    assert_eq!(many.to_string(), "no issuance policy of this issuer applies to your groups (a, b, c, d, e and 2 more)");
    let none = PolicyRefusal::NoRuleForYou { groups: Vec::new() };
    assert_eq!(none.to_string(), "no issuance policy of this issuer applies to you: your sign-in carries no groups");
}

#[test]
fn the_longest_validity_is_that_of_the_most_generous_rule_allowing_the_rest() {
    let longest = |who: &[&str], names: &[&str], key: KeyType| {
        let names: Vec<DnsName> = names.iter().map(|name| name.parse().unwrap()).collect();
        let request =
            PolicyRequest { dns_names: &names, ip_sans: &[], validity_days: 398, key_type: key, client_auth: false };
        longest_validity(&rules(), &groups(who), &request)
    };
    assert_eq!(longest(&["platform-team"], &["a.cluster.local"], EcP256), Some(90));
    // Two rules cover the name for a lead: the longer one counts.
    assert_eq!(longest(&["platform-team", "platform-leads"], &["a.cluster.local"], EcP256), Some(90));
    assert_eq!(longest(&["platform-leads"], &["*.cluster.local"], EcP256), Some(30));
    // Nothing else allowed (a key type no rule takes, a name outside every rule): no validity to shorten to.
    assert_eq!(longest(&["platform-team"], &["a.cluster.local"], Rsa2048), None);
    assert_eq!(longest(&["platform-team"], &["a.example.org"], EcP256), None);
}
