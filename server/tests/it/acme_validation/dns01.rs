//! dns-01 against BIND: TXT values published by RFC 2136 (certdesk's own publisher, the stack's TSIG key) and
//! read back through BIND as the resolver.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certdesk::acme_server::validation::{ChallengeKind, Validator};
use certdesk::config::{DnsServerConfig, TsigAlgorithm};
use certdesk::dns_update::{Rfc2136Publisher, TxtPublisher};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::{Bind, Proof, bind, failure, timed};

fn publisher(bind: &Bind) -> Rfc2136Publisher {
    Rfc2136Publisher::new(&DnsServerConfig {
        id: "bind".into(),
        address: bind.address.to_string(),
        zone: bind.zone.clone(),
        tsig_key_name: bind.stack.read("bind/key_name"),
        tsig_algorithm: TsigAlgorithm::HmacSha256,
        tsig_secret: SecretString::from(bind.stack.read("bind/tsig.secret")),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

/// A fresh name in BIND's zone, its record, a proof, and what publishes and validates.
struct Case {
    publisher: Rfc2136Publisher,
    validator: Validator,
    name: String,
    record: String,
    proof: Proof,
}

impl Case {
    fn new() -> Self {
        let bind = bind();
        let name = bind.fresh_name();
        Self {
            publisher: publisher(&bind),
            validator: bind.validator(9, 9, Duration::from_secs(5)),
            record: format!("_acme-challenge.{name}"),
            name,
            proof: Proof::new(),
        }
    }
}

fn txt_value(key_authorization: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(key_authorization.as_bytes()))
}

#[tokio::test]
async fn the_right_txt_value_validates_even_beside_others() {
    let Case { publisher, validator, name, record, proof } = Case::new();
    publisher.add_txt(&record, &txt_value(&proof.key_authorization), 5).await.unwrap();
    assert_eq!(validator.validate(&proof.challenge(ChallengeKind::Dns01, &name)).await, Ok(()));
    // Another order's value at the same name (a wildcard and its base name) does not get in the way.
    let other = Proof::new();
    publisher.add_txt(&record, &txt_value(&other.key_authorization), 5).await.unwrap();
    assert_eq!(validator.validate(&proof.challenge(ChallengeKind::Dns01, &name)).await, Ok(()));
    assert_eq!(validator.validate(&other.challenge(ChallengeKind::Dns01, &name)).await, Ok(()));
    publisher.remove_txt(&record, &txt_value(&proof.key_authorization)).await.unwrap();
    let detail = failure(validator.validate(&proof.challenge(ChallengeKind::Dns01, &name)).await, "incorrectResponse");
    assert!(detail.contains(&txt_value(&other.key_authorization)), "what was found is named: {detail}");
}

#[tokio::test]
async fn a_wrong_value_is_an_incorrect_response_naming_what_was_found() {
    let Case { publisher, validator, name, record, proof } = Case::new();
    // The key authorization itself rather than its digest: a classic client mistake.
    publisher.add_txt(&record, &proof.key_authorization, 5).await.unwrap();
    let detail = failure(validator.validate(&proof.challenge(ChallengeKind::Dns01, &name)).await, "incorrectResponse");
    assert!(detail.contains(&proof.key_authorization), "{detail}");
    assert!(detail.contains(&txt_value(&proof.key_authorization)), "the expected value is named: {detail}");
    assert!(detail.contains(&record), "{detail}");
}

#[tokio::test]
async fn no_txt_record_is_unauthorized_and_nxdomain_is_a_dns_problem() {
    let bind = bind();
    let validator = bind.validator(9, 9, Duration::from_secs(5));
    let proof = Proof::new();
    // The zone's wildcard makes the name exist (with an A record only).
    let name = bind.fresh_name();
    let detail = failure(validator.validate(&proof.challenge(ChallengeKind::Dns01, &name)).await, "unauthorized");
    assert_eq!(detail, format!("No TXT record found at _acme-challenge.{name}"));
    let missing = bind.missing_name();
    let (result, took) = timed(&validator, &proof.challenge(ChallengeKind::Dns01, &missing)).await;
    let detail = failure(result, "dns");
    assert!(detail.contains("NXDOMAIN") && detail.contains(&format!("_acme-challenge.{missing}")), "{detail}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
