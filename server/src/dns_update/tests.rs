use std::time::Duration;

use secrecy::SecretString;

use super::{DnsServers, DnsUpdateError};
use crate::config::{DnsServerConfig, TsigAlgorithm};

const SECRET: &str = "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg=";

/// A server on a port nobody listens on: anything that reaches the network fails as unreachable.
fn server(id: &str, zone: &str) -> DnsServerConfig {
    DnsServerConfig {
        id: id.into(),
        address: "127.0.0.1:9".into(),
        zone: zone.into(),
        tsig_key_name: "certdesk-acme".into(),
        tsig_algorithm: TsigAlgorithm::HmacSha256,
        tsig_secret: SecretString::from(SECRET),
        timeout: Duration::from_secs(2),
    }
}

#[test]
fn the_longest_zone_holding_the_name_wins() {
    let servers =
        DnsServers::from_config(&[server("outer", "example.com"), server("inner", "acme.example.com")]).unwrap();
    let id = |name: &str| servers.for_name(name).map(|(id, _)| id.to_owned());
    assert_eq!(id("www.example.com").as_deref(), Some("outer"));
    assert_eq!(id("_acme-challenge.www.acme.example.com.").as_deref(), Some("inner"));
    assert_eq!(id("*.ACME.example.com").as_deref(), Some("inner"));
    assert_eq!(id("acme.example.com").as_deref(), Some("inner"));
    assert_eq!(id("notexample.com"), None);
    assert_eq!(id("example.org"), None);
    assert_eq!(id("not a name"), None);
    assert!(servers.get("inner").is_some() && servers.get("nope").is_none());
    assert!(DnsServers::default().is_empty() && !servers.is_empty());
}

#[test]
fn debug_output_never_holds_the_secret() {
    let servers = DnsServers::from_config(&[server("bind", "dns01.certdesk.test")]).unwrap();
    let debug = format!("{servers:?}");
    assert!(debug.contains("dns01.certdesk.test") && !debug.contains(SECRET), "{debug}");
    assert!(!debug.contains("115, 101, 99"), "no key bytes either: {debug}");
}

#[tokio::test]
async fn names_outside_the_zone_and_bad_values_are_refused_before_sending() {
    let servers = DnsServers::from_config(&[server("bind", "dns01.certdesk.test")]).unwrap();
    let publisher = servers.get("bind").unwrap();
    // Had anything been sent, the error would be Unreachable (nobody listens on port 9).
    for outside in ["_acme-challenge.www.example.com", "evil-dns01.certdesk.test", "certdesk.test"] {
        let error = publisher.add_txt(outside, "value", 60).await.unwrap_err();
        assert!(matches!(error, DnsUpdateError::OutsideZone { .. }), "{outside}: {error:?}");
        assert!(error.to_string().contains("nothing was sent"), "{error}");
        assert!(matches!(publisher.remove_txt(outside, "value").await, Err(DnsUpdateError::OutsideZone { .. })));
        assert!(matches!(publisher.txt_values(outside).await, Err(DnsUpdateError::OutsideZone { .. })));
    }
    let error = publisher.add_txt("bad name.dns01.certdesk.test", "value", 60).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::InvalidName { .. }), "{error:?}");
    let long = "x".repeat(256);
    let error = publisher.add_txt("_acme-challenge.dns01.certdesk.test", &long, 60).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::InvalidValue { .. }), "{error:?}");
    let error = publisher.add_txt("_acme-challenge.dns01.certdesk.test", "value", 60).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::Unreachable { .. }), "a valid request is sent: {error:?}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("127.0.0.1:9"), "{error}");
}
