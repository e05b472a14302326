//! revokeCert against certdesk's ACME server, revoking through the stack's real OpenBao: by an account of the
//! certificate's owner (instant-acme) and by the certificate's own key (a raw JWS signed with it); refused for
//! another person's account, a reason certdesk does not take, and a certificate revoked already.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use instant_acme::{Identifier, NewOrder, RetryPolicy, RevocationReason, RevocationRequest};
use rustls_pki_types::CertificateDer;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::Served;
use super::orders::account_of;
use super::refusals::{AccountKey, jws, post_jws};
use crate::support::stack;

/// A certificate issued through `account` for `name` (no challenge needed): its DER and its key's PKCS#8 DER.
async fn issued(account: &instant_acme::Account, name: &str) -> (Vec<u8>, Vec<u8>) {
    let mut order = account.new_order(&NewOrder::new(&[Identifier::Dns(name.into())])).await.unwrap();
    let key_pem = order.finalize().await.unwrap();
    let chain = order.poll_certificate(&RetryPolicy::default()).await.unwrap();
    let leaf = pem::parse_many(&chain).unwrap().remove(0).into_contents();
    (leaf, pem::parse(key_pem).unwrap().into_contents())
}

async fn revocation(pool: &PgPool, leaf: &[u8]) -> (String, Option<String>, Vec<String>) {
    let serial = certdesk::bundle::certificate_facts(leaf).unwrap().serial_colon();
    let (id, status, reason): (Uuid, String, Option<String>) =
        sqlx::query_as("SELECT id, status, revocation_reason FROM certificates WHERE serial = $1")
            .bind(serial)
            .fetch_one(pool)
            .await
            .unwrap();
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT actor FROM audit_events WHERE object = $1 AND action = 'certificate.revoke_requested' ORDER BY seq",
    )
    .bind(format!("certificate:{id}"))
    .fetch_all(pool)
    .await
    .unwrap();
    (status, reason, actors)
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_owners_account_or_the_certificates_key_revokes_and_nobody_else_does(pool: PgPool) {
    let served = Served::issuing(&pool, &stack().read("openbao/addr")).await;
    let (account, owner) = account_of(&served, "Ro", &["platform"], &[]).await;
    let (stranger, _) = account_of(&served, "Xi", &["platform"], &[]).await;

    // By an account of the owner, with a reason.
    let (leaf, _) = issued(&account, "one.ns.svc.cluster.local").await;
    let der = CertificateDer::from(leaf.clone());
    let refused = stranger.revoke(&RevocationRequest { certificate: &der, reason: None }).await.unwrap_err();
    assert!(refused.to_string().contains("does not own"), "{refused}");
    let request = RevocationRequest { certificate: &der, reason: Some(RevocationReason::CaCompromise) };
    let refused = account.revoke(&request).await.unwrap_err();
    assert!(refused.to_string().contains("reason 2"), "{refused}");
    assert_eq!(revocation(&pool, &leaf).await, ("issued".into(), None, vec![]), "nothing revoked by a refusal");
    let request = RevocationRequest { certificate: &der, reason: Some(RevocationReason::Superseded) };
    account.revoke(&request).await.unwrap();
    let owner_actor = format!("user:{owner}");
    assert_eq!(revocation(&pool, &leaf).await, ("revoked".into(), Some("superseded".into()), vec![owner_actor]));
    let again = account.revoke(&request).await.unwrap_err();
    assert!(again.to_string().contains("alreadyRevoked"), "{again}");

    // By the certificate's own key, without a reason: whoever holds it, on the owner's behalf.
    let (leaf, key) = issued(&account, "two.ns.svc.cluster.local").await;
    let certificate_key = AccountKey::from_pkcs8(&key);
    let url = served.url("revoke-cert");
    let payload = json!({ "certificate": URL_SAFE_NO_PAD.encode(&leaf) }).to_string();
    let header = json!({ "alg": "ES256", "jwk": certificate_key.jwk, "nonce": served.nonce().await, "url": url });
    let answer = post_jws(&url, &jws(&certificate_key, &header, &payload, &payload)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        revocation(&pool, &leaf).await,
        ("revoked".into(), Some("unspecified".into()), vec!["anonymous".into()])
    );

    // Another key than the certificate's is refused.
    let (leaf, _) = issued(&account, "three.ns.svc.cluster.local").await;
    let payload = json!({ "certificate": URL_SAFE_NO_PAD.encode(&leaf), "reason": 1 }).to_string();
    let header = json!({ "alg": "ES256", "jwk": certificate_key.jwk, "nonce": served.nonce().await, "url": url });
    let answer = post_jws(&url, &jws(&certificate_key, &header, &payload, &payload)).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(revocation(&pool, &leaf).await.0, "issued");
}
