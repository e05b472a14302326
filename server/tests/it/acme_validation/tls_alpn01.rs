//! tls-alpn-01 against a tokio-rustls server on a free port of 127.0.0.1 presenting an rcgen certificate, the name
//! looked up through BIND.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use certdesk::acme_server::validation::{ChallengeKind, ValidationFailure};
use rcgen::{CertificateParams, CustomExtension, KeyPair};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use sha2::{Digest, Sha256};

use super::{Bind, Proof, bind, failure, timed};
use crate::support::{free_port, silent_listener};

const ACME_TLS_1: &[u8] = b"acme-tls/1";

/// The SNI and the ALPN protocols of each ClientHello the server got.
type Seen = Arc<Mutex<Vec<(Option<String>, Vec<Vec<u8>>)>>>;

/// A certificate (DER) and its key, as the server presents them.
type Presented = (Vec<u8>, KeyPair);

/// The RFC 8737 certificate for `name` and `key_authorization`, changed by `change` first.
fn certificate(name: &str, key_authorization: &str, change: impl FnOnce(&mut CertificateParams)) -> Presented {
    let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
    params.custom_extensions.push(CustomExtension::new_acme_identifier(&Sha256::digest(key_authorization.as_bytes())));
    change(&mut params);
    let key = KeyPair::generate().unwrap();
    (params.self_signed(&key).unwrap().der().to_vec(), key)
}

/// A TLS server on a free port presenting `certificate`, choosing among `alpn` (none: it ignores ALPN), speaking
/// only `versions`.
async fn serve(
    (certificate, key): Presented,
    alpn: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> (u16, Seen) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let signing_key = provider.key_provider.load_private_key(PrivateKeyDer::Pkcs8(key.serialize_der().into())).unwrap();
    // Not `with_single_cert`: it checks the certificate with webpki, which refuses the critical acmeIdentifier.
    let certified = CertifiedKey::new(vec![CertificateDer::from(certificate)], signing_key);
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    let config = Arc::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (config, record) = (Arc::clone(&config), Arc::clone(&record));
            tokio::spawn(async move {
                let acceptor = rustls::server::Acceptor::default();
                let Ok(start) = tokio_rustls::LazyConfigAcceptor::new(acceptor, stream).await else { return };
                let hello = start.client_hello();
                let offered = hello.alpn().map(|protocols| protocols.map(<[u8]>::to_vec).collect()).unwrap_or_default();
                record.lock().unwrap().push((hello.server_name().map(str::to_owned), offered));
                // The handshake's outcome is the client's to judge; keep the connection until it hangs up.
                if let Ok(mut tls) = start.into_stream(config).await {
                    let _ = tokio::io::AsyncReadExt::read(&mut tls, &mut [0_u8; 1]).await;
                }
            });
        }
    });
    (port, seen)
}

const BOTH: &[&rustls::SupportedProtocolVersion] = rustls::DEFAULT_VERSIONS;

/// Serves `presented` (choosing among `alpn`, TLS 1.2 or 1.3) and validates `proof` for `name` against it.
async fn validate_against(
    bind: &Bind,
    name: &str,
    proof: &Proof,
    presented: Presented,
    alpn: &[&[u8]],
) -> Result<(), ValidationFailure> {
    let (port, _) = serve(presented, alpn, BOTH).await;
    bind.validator(9, port, Duration::from_secs(5)).validate(&proof.challenge(ChallengeKind::TlsAlpn01, name)).await
}

#[tokio::test]
async fn the_rfc_8737_certificate_validates_over_tls_1_3_and_1_2() {
    let bind = bind();
    for versions in [&[&rustls::version::TLS13][..], &[&rustls::version::TLS12][..]] {
        let name = bind.fresh_name();
        let proof = Proof::new();
        let (port, seen) = serve(certificate(&name, &proof.key_authorization, |_| {}), &[ACME_TLS_1], versions).await;
        let validator = bind.validator(9, port, Duration::from_secs(5));
        assert_eq!(validator.validate(&proof.challenge(ChallengeKind::TlsAlpn01, &name)).await, Ok(()), "{versions:?}");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, [(Some(name.clone()), vec![ACME_TLS_1.to_vec()])], "SNI the name, ALPN acme-tls/1 only");
    }
}

#[tokio::test]
async fn a_server_without_the_acme_tls_protocol_is_a_tls_problem() {
    let bind = bind();
    let name = bind.fresh_name();
    let proof = Proof::new();
    // One that ignores ALPN and completes the handshake with its certificate (a plain web server).
    let presented = certificate(&name, &proof.key_authorization, |_| {});
    let detail = failure(validate_against(&bind, &name, &proof, presented, &[]).await, "tls");
    assert!(detail.contains("did not choose the acme-tls/1 protocol"), "{detail}");
    // One that knows ALPN but only http/1.1: it ends the handshake with no_application_protocol.
    let presented = certificate(&name, &proof.key_authorization, |_| {});
    let detail = failure(validate_against(&bind, &name, &proof, presented, &[b"http/1.1"]).await, "tls");
    assert!(detail.contains("no_application_protocol"), "{detail}");
}

#[tokio::test]
async fn a_wrong_digest_a_non_critical_extension_or_two_names_are_refused() {
    let bind = bind();
    let name = bind.fresh_name();
    let proof = Proof::new();
    let other = Proof::new();
    let non_critical = |params: &mut CertificateParams| params.custom_extensions[0].set_criticality(false);
    let two_names = |params: &mut CertificateParams| {
        params.subject_alt_names.push(rcgen::SanType::DnsName("other.example.test".try_into().unwrap()))
    };
    let cases: [(&str, Presented, &str); 4] = [
        ("wrong digest", certificate(&name, &other.key_authorization, |_| {}), "expected the acmeIdentifier SHA-256"),
        ("non-critical", certificate(&name, &proof.key_authorization, non_critical), "not marked critical"),
        ("two names", certificate(&name, &proof.key_authorization, two_names), "exactly one subjectAltName"),
        (
            "another name",
            certificate("other.example.test", &proof.key_authorization, |_| {}),
            "exactly one subjectAltName",
        ),
    ];
    for (case, presented, expected) in cases {
        let detail =
            failure(validate_against(&bind, &name, &proof, presented, &[ACME_TLS_1]).await, "incorrectResponse");
        assert!(detail.contains(expected), "{case}: {detail}");
    }
    let without = certificate(&name, &proof.key_authorization, |params| params.custom_extensions.clear());
    let detail = failure(validate_against(&bind, &name, &proof, without, &[ACME_TLS_1]).await, "unauthorized");
    assert!(detail.contains("no acmeIdentifier extension"), "{detail}");
}

#[tokio::test]
async fn nothing_listening_or_a_silent_server_is_a_connection_problem_within_the_timeout() {
    let bind = bind();
    let name = bind.fresh_name();
    let proof = Proof::new();
    let validator = bind.validator(9, free_port(), Duration::from_secs(2));
    let (result, took) = timed(&validator, &proof.challenge(ChallengeKind::TlsAlpn01, &name)).await;
    assert!(failure(result, "connection").ends_with("Connection refused"));
    assert!(took < Duration::from_secs(1), "{took:?}");
    let (port, holder) = silent_listener().await;
    let validator = bind.validator(9, port, Duration::from_secs(2));
    let (result, took) = timed(&validator, &proof.challenge(ChallengeKind::TlsAlpn01, &name)).await;
    let detail = failure(result, "connection");
    assert!(detail.contains("Timeout during the TLS handshake"), "{detail}");
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(3), "{took:?}");
    holder.abort();
}
