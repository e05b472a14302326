//! CRL publication: a fetched or published CRL is checked (signature, signer, pinned root) and never replaced by
//! an older number; the offline root's CRL made by `certdesk pki root-crl` is published by `certdesk crl publish`
//! and served at /crl/root.crl; and when OpenBao goes away the last good CRL keeps being served, `/readyz`
//! reports it stale, and the refresh recovers by itself when OpenBao returns.

use std::time::Duration;

use axum::body::Body;
use certdesk::ceremony::{RevokedEntry, RootCrlOptions, RootOptions, RootSigner, init_root, root_crl};
use certdesk::crl::CrlError;
use certdesk::crl::checked::{CrlCheckError, check};
use certdesk::crl::store::{Stored, store};
use http::{Request, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;
use tower::ServiceExt;

use crate::ceremony::{openssl, path, stderr, stdout, temp_dir};
use crate::issuance::extra;
use crate::support::{Gate, config_toml, database_url_of, eventually, state_for};

pub struct TestRoot {
    pub der: Vec<u8>,
    signer: RootSigner,
}

pub fn test_root(name: &str) -> TestRoot {
    let root = init_root(&RootOptions { common_name: name.into(), organization: None, days: 30 }).unwrap();
    let signer = RootSigner::from_pem(&root.cert_pem, &root.key_pem).unwrap();
    let der = pem::parse(&root.cert_pem).unwrap().into_contents();
    TestRoot { der, signer }
}

pub fn crl_of(root: &TestRoot, number: u64, revoked: &[(u8, rcgen::RevocationReason)]) -> Vec<u8> {
    let revoked = revoked
        .iter()
        .map(|(serial, reason)| RevokedEntry {
            serial: vec![*serial],
            reason: *reason,
            revoked_at: OffsetDateTime::now_utc(),
        })
        .collect();
    root_crl(&root.signer, &RootCrlOptions { crl_number: number, next_update_days: 7, revoked }).unwrap().der
}

#[test]
fn a_crl_is_served_only_when_its_signature_and_signer_check_out() {
    let (root, other) = (test_root("CRL Test Root"), test_root("Another Root"));
    let crl = crl_of(&root, 7, &[(0x2a, rcgen::RevocationReason::KeyCompromise)]);
    let checked = check(&crl, &root.der, Some(&root.der)).unwrap();
    assert_eq!(checked.number.to_string(), "7");
    assert_eq!(checked.entries[0].serial, "2a");
    assert_eq!(checked.entries[0].reason, Some("keyCompromise"));

    let mut tampered = crl.clone();
    let at = tampered.len() - 5;
    tampered[at] ^= 0x01;
    assert_eq!(check(&tampered, &root.der, None).unwrap_err(), CrlCheckError::BadSignature);
    assert!(matches!(check(&crl, &other.der, None), Err(CrlCheckError::IssuerMismatch { .. })));
    assert_eq!(check(&crl, &root.der, Some(&other.der)).unwrap_err(), CrlCheckError::SignerNotTrusted);
    assert!(matches!(check(b"garbage", &root.der, None), Err(CrlCheckError::Unparsable(_))));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_stored_crl_number_never_goes_backwards(pool: PgPool) {
    let root = test_root("Monotonic Root");
    let key = certdesk::audit::ChainKey::new(secrecy::SecretString::from(crate::support::CHAIN_KEY.to_owned()));
    let now = OffsetDateTime::now_utc();
    let newer = check(&crl_of(&root, 5, &[]), &root.der, None).unwrap();
    let older = check(&crl_of(&root, 4, &[]), &root.der, None).unwrap();
    assert_eq!(store(&pool, &key, "root", None, &newer, now).await.unwrap(), Stored::Replaced { adopted: 0 });
    assert_eq!(store(&pool, &key, "root", None, &newer, now).await.unwrap(), Stored::Unchanged);
    let refused = store(&pool, &key, "root", None, &older, now).await.unwrap_err();
    assert!(matches!(refused, CrlError::NumberNotIncreasing { ref stored, .. } if stored == "5"), "{refused}");
    let served: String =
        sqlx::query_scalar("SELECT crl_number FROM crls WHERE name = 'root'").fetch_one(&pool).await.unwrap();
    assert_eq!(served, "5");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_root_crl_from_the_ceremony_is_published_by_the_cli_and_served(pool: PgPool) {
    let dir = temp_dir("root-crl-publish");
    let (root_cert, root_key) = crate::ceremony::init_root(&dir);
    // An intermediate signed at the ceremony, then retired: the root's CRL lists it with its reason.
    let csr = crate::ceremony::openssl_csr(
        &dir,
        "retired",
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "/O=certdesk/CN=Retired Intermediate",
        None,
    );
    let intermediate = dir.join("retired.pem");
    let root_args = ["--root-cert", path(&root_cert), "--root-key", path(&root_key)];
    let signed = crate::ceremony::certdesk(
        &[&["pki", "sign-intermediate"][..], &root_args, &["--csr", path(&csr), "--out", path(&intermediate)]].concat(),
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    let serial = stdout(&openssl(&["x509", "-in", path(&intermediate), "-noout", "-serial"]));
    let serial = serial.trim().trim_start_matches("serial=").to_owned();
    let out = dir.join("root.crl");
    let revoke = format!("{serial}:keyCompromise");
    let made = crate::ceremony::certdesk(
        &[&["pki", "root-crl"][..], &root_args, &["--out", path(&out), "--crl-number", "2", "--revoke", &revoke]]
            .concat(),
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let config = dir.join("certdesk.toml");
    let issuer = format!(
        "[[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"http://127.0.0.1:9\"\nmount = \"pki\"\n\
         role = \"r\"\nroot_ca = \"{}\"\n",
        path(&root_cert)
    );
    std::fs::write(&config, config_toml(&database_url_of(&pool), "127.0.0.1:3999", &issuer)).unwrap();
    let publish = |file: &std::path::Path| crate::cli::certdesk(&config, &["crl", "publish", "--file", path(file)]);
    let published = publish(&out);
    assert!(published.status.success(), "{}", stderr(&published));
    assert!(stdout(&published).contains("number 2, 1 revoked"), "{}", stdout(&published));

    let state = state_for(&pool, &issuer);
    let router = certdesk::http::router(state);
    let response = router.clone().oneshot(Request::get("/crl/root.crl").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let served = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert_eq!(served.as_ref(), std::fs::read(&out).unwrap().as_slice());
    let served_file = dir.join("served-root.crl");
    std::fs::write(&served_file, &served).unwrap();
    let text =
        openssl(&["crl", "-inform", "DER", "-in", path(&served_file), "-CAfile", path(&root_cert), "-noout", "-text"]);
    assert!(stderr(&text).contains("verify OK") || stdout(&text).contains("verify OK"), "{}", stderr(&text));
    let listed = stdout(&text);
    assert!(listed.contains("Key Compromise") && listed.contains(serial.trim_start_matches('0')), "{listed}");
    let response = router.oneshot(Request::get("/ca/root.der").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the intermediate's AIA URL serves the root");

    // The same CRL again is fine; an older or foreign one is refused with a clear message.
    assert!(publish(&out).status.success());
    let other = temp_dir("root-crl-foreign");
    let (other_cert, other_key) = crate::ceremony::init_root(&other);
    let foreign = other.join("foreign.crl");
    let made = crate::ceremony::certdesk(&[
        "pki",
        "root-crl",
        "--root-cert",
        path(&other_cert),
        "--root-key",
        path(&other_key),
        "--out",
        path(&foreign),
        "--crl-number",
        "9",
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    let refused = publish(&foreign);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("CRL"), "{}", stderr(&refused));
    let older = dir.join("older.crl");
    let made = crate::ceremony::certdesk(&[
        "pki",
        "root-crl",
        "--root-cert",
        path(&root_cert),
        "--root-key",
        path(&root_key),
        "--out",
        path(&older),
        "--crl-number",
        "1",
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    let refused = publish(&older);
    assert!(!refused.status.success() && stderr(&refused).contains("went backwards"), "{}", stderr(&refused));
}

async fn readiness(router: &axum::Router) -> Value {
    let response = router.clone().oneshot(Request::get("/readyz").body(Body::empty()).unwrap()).await.unwrap();
    serde_json::from_slice(&axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap()).unwrap()
}

async fn served_crl(router: &axum::Router) -> (StatusCode, Vec<u8>) {
    let response = router.clone().oneshot(Request::get("/crl/private.crl").body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    (status, axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap().to_vec())
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_openbao_outage_keeps_the_last_good_crl_served_and_recovers(pool: PgPool) {
    let stack = crate::support::stack();
    let upstream = stack.openbao_address();
    let gate = Gate::start(format!("127.0.0.1:{}", upstream.port().unwrap()).parse().unwrap()).await;
    let state = state_for(&pool, &extra(&stack, Some(&format!("http://127.0.0.1:{}", gate.port))));
    let router = certdesk::http::router(state.clone());
    certdesk::crl::refresher::spawn_all(&state);
    let stale = |ready: &Value| ready["crls"]["private"]["stale"].as_bool();
    let good = eventually("a first CRL", Duration::from_secs(30), || async {
        let (status, body) = served_crl(&router).await;
        (status == StatusCode::OK && stale(&readiness(&router).await) == Some(false)).then_some(body)
    })
    .await;

    gate.close();
    state.crls.request_rebuild("private");
    let ready = eventually("readiness to report the CRL stale", Duration::from_secs(30), || async {
        let ready = readiness(&router).await;
        (stale(&ready) == Some(true)).then_some(ready)
    })
    .await;
    assert!(ready["crls"]["private"]["problem"].as_str().unwrap().contains("refresh failing"), "{ready}");
    assert!(ready["degraded"].as_array().unwrap().iter().any(|entry| entry == "crl:private"), "{ready}");
    assert_eq!(served_crl(&router).await, (StatusCode::OK, good), "the last good CRL is still served");

    gate.open();
    eventually("the refresh to recover", Duration::from_secs(45), || async {
        let ready = readiness(&router).await;
        (stale(&ready) == Some(false) && ready["crls"]["private"]["consecutive_failures"] == 0).then_some(())
    })
    .await;
}
