//! certdesk's own validation of ACME challenges against real servers on 127.0.0.1: the test stack's BIND is the
//! resolver (its zone `dns01.certdesk.test` answers 127.0.0.1 for every name through a wildcard and takes TXT
//! records by RFC 2136), and each test runs the responder it needs: an axum server for http-01 (`http01`), TXT
//! records in BIND for dns-01 (`dns01`), a tokio-rustls server presenting an rcgen certificate for tls-alpn-01
//! (`tls_alpn01`). This module holds what they share.

mod dns01;
mod http01;
mod tls_alpn01;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use certdesk::acme_server::validation::{Challenge, ChallengeKind, ValidationFailure, Validator};
use certdesk::config::AcmeValidationConfig;

/// A base64url RFC 7638 thumbprint, as an account key would have.
const THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/// The stack's BIND: its address (the resolver of every test) and its zone.
pub struct Bind {
    pub stack: crate::support::Stack,
    pub address: SocketAddr,
    pub zone: String,
}

pub fn bind() -> Bind {
    let stack = crate::support::stack();
    let address = stack.read("bind/address");
    let address = address.parse().unwrap_or_else(|error| panic!("the stack's bind/address `{address}`: {error}"));
    Bind { address, zone: stack.read("bind/zone"), stack }
}

impl Bind {
    /// A name nobody else uses that BIND answers with 127.0.0.1 (the zone's wildcard) and no AAAA.
    pub fn fresh_name(&self) -> String {
        format!("t{}.{}", uuid::Uuid::new_v4().simple(), self.zone)
    }

    /// A name BIND answers NXDOMAIN for: below `ns`, which exists, so the zone's wildcard does not cover it.
    pub fn missing_name(&self) -> String {
        format!("t{}.ns.{}", uuid::Uuid::new_v4().simple(), self.zone)
    }

    /// A validator asking this BIND, with the given ports and timeout.
    pub fn validator(&self, http01_port: u16, tls_alpn01_port: u16, timeout: Duration) -> Validator {
        validator_with(Some(self.address), http01_port, tls_alpn01_port, timeout)
    }
}

pub fn validator_with(
    resolver: Option<SocketAddr>,
    http01_port: u16,
    tls_alpn01_port: u16,
    timeout: Duration,
) -> Validator {
    Validator::new(&AcmeValidationConfig { resolver, http01_port, tls_alpn01_port, timeout }).unwrap()
}

/// A token and its key authorization, fresh per call.
pub struct Proof {
    pub token: String,
    pub key_authorization: String,
}

impl Proof {
    pub fn new() -> Self {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let key_authorization = format!("{token}.{THUMBPRINT}");
        Self { token, key_authorization }
    }

    pub fn challenge<'a>(&'a self, kind: ChallengeKind, identifier: &'a str) -> Challenge<'a> {
        Challenge { kind, identifier, token: &self.token, key_authorization: &self.key_authorization }
    }
}

/// Validates and measures how long it took.
pub async fn timed(validator: &Validator, challenge: &Challenge<'_>) -> (Result<(), ValidationFailure>, Duration) {
    let started = Instant::now();
    let result = validator.validate(challenge).await;
    (result, started.elapsed())
}

/// The failure of `result`, asserting its problem type.
#[track_caller]
pub fn failure(result: Result<(), ValidationFailure>, problem: &str) -> String {
    match result {
        Err(failure) if failure.problem == problem => failure.detail,
        other => panic!("expected a `{problem}` failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_resolver_nobody_runs_is_a_dns_problem_for_every_kind_at_once() {
    let bind = bind();
    let nobody: SocketAddr = format!("127.0.0.1:{}", crate::support::free_port()).parse().unwrap();
    let validator = validator_with(Some(nobody), 9, 9, Duration::from_secs(5));
    let name = bind.fresh_name();
    let proof = Proof::new();
    for kind in ChallengeKind::ALL {
        let (result, took) = timed(&validator, &proof.challenge(kind, &name)).await;
        let detail = failure(result, "dns");
        assert!(detail.contains(&nobody.to_string()) && detail.contains("cannot be reached"), "{detail}");
        assert!(took < Duration::from_secs(2), "a refused connection is reported at once, took {took:?}");
    }
}

#[tokio::test]
async fn a_silent_resolver_is_a_dns_timeout_within_the_timeout() {
    let (port, holder) = crate::support::silent_listener().await;
    let validator = validator_with(Some(format!("127.0.0.1:{port}").parse().unwrap()), 9, 9, Duration::from_secs(2));
    let proof = Proof::new();
    for kind in [ChallengeKind::Http01, ChallengeKind::Dns01] {
        let (result, took) = timed(&validator, &proof.challenge(kind, "www.example.test")).await;
        let detail = failure(result, "dns");
        assert!(detail.contains("timed out"), "{detail}");
        assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(3), "{kind:?} took {took:?}");
    }
    holder.abort();
}
