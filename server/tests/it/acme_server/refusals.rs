//! Raw JWS requests to certdesk's ACME server, each bad in one way: refused with the right problem type and status,
//! a fresh `Replay-Nonce` on the refusal, and nothing stored. Also the directory and newNonce.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::{OTHER_ISSUER, Served, hmac_key};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An ES256 account key.
pub(super) struct AccountKey {
    pair: EcdsaKeyPair,
    pub(super) jwk: Value,
}

impl AccountKey {
    fn generate() -> Self {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// A P-256 key from its PKCS#8 DER (a certificate's key, to sign revokeCert with).
    pub(super) fn from_pkcs8(pkcs8: &[u8]) -> Self {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({ "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]) });
        Self { pair, jwk }
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        self.pair.sign(&SystemRandom::new(), input).unwrap().as_ref().to_vec()
    }
}

/// A flattened JWS of `header` and `payload`, signed over `signed_payload` (normally the same).
pub(super) fn jws(key: &AccountKey, header: &Value, payload: &str, signed_payload: &str) -> Value {
    let protected = b64(header.to_string().as_bytes());
    let signature = key.sign(format!("{protected}.{}", b64(signed_payload.as_bytes())).as_bytes());
    json!({ "protected": protected, "payload": b64(payload.as_bytes()), "signature": b64(&signature) })
}

/// The External Account Binding of `key` under (`kid`, `mac_key`), for `url`.
fn binding(key: &AccountKey, kid: &str, mac_key: &[u8], url: &str) -> Value {
    let protected = b64(json!({ "alg": "HS256", "kid": kid, "url": url }).to_string().as_bytes());
    let payload = b64(key.jwk.to_string().as_bytes());
    let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, mac_key), format!("{protected}.{payload}").as_bytes());
    json!({ "protected": protected, "payload": payload, "signature": b64(mac.as_ref()) })
}

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: Value,
    nonce: Option<String>,
    location: Option<String>,
}

async fn post(url: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let response =
        reqwest::Client::new().post(url).header("content-type", content_type).body(body).send().await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    let (status, nonce, location) = (response.status().as_u16(), header("replay-nonce"), header("location"));
    if status != 200 && status != 201 {
        assert_eq!(header("content-type").as_deref(), Some("application/problem+json"), "status {status}");
    }
    let bytes = response.bytes().await.unwrap();
    Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), nonce, location }
}

pub(super) async fn post_jws(url: &str, body: &Value) -> Answer {
    post(url, "application/jose+json", body.to_string().into_bytes()).await
}

/// A refusal: its status, its problem type (after the ACME prefix), and a fresh nonce to retry with.
fn refused(answer: &Answer, status: u16, kind: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["type"], format!("urn:ietf:params:acme:error:{kind}"), "{}", answer.body);
    assert!(answer.body["detail"].as_str().is_some_and(|detail| !detail.is_empty()), "{}", answer.body);
    assert!(answer.nonce.is_some(), "a refusal carries a Replay-Nonce");
}

/// A newAccount request by `key` with `binding`, under `header` changes.
async fn new_account(served: &Served, key: &AccountKey, binding: Option<Value>, nonce: &str) -> Answer {
    let url = served.url("new-account");
    let header = json!({ "alg": "ES256", "jwk": key.jwk, "nonce": nonce, "url": url });
    let mut payload = json!({ "termsOfServiceAgreed": true, "contact": ["mailto:ops@example.test"] });
    if let Some(binding) = binding {
        payload["externalAccountBinding"] = binding;
    }
    let payload = payload.to_string();
    post_jws(&url, &jws(key, &header, &payload, &payload)).await
}

async fn nothing_stored(served: &Served) {
    assert_eq!(served.count("acme_server_accounts").await, 0);
    let audit = served.acme_audit().await;
    assert!(audit.iter().all(|(action, ..)| action != "acme_account.created"), "{audit:?}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_directory_and_new_nonce_follow_rfc_8555(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let response = reqwest::get(served.directory()).await.unwrap();
    // The directory document needs no nonce, and a fetch of it writes none.
    assert!(response.headers().get("replay-nonce").is_none());
    let directory: Value = response.json().await.unwrap();
    for (name, resource) in [
        ("newNonce", "new-nonce"),
        ("newAccount", "new-account"),
        ("newOrder", "new-order"),
        ("revokeCert", "revoke-cert"),
        ("keyChange", "key-change"),
        ("renewalInfo", "renewal-info"),
    ] {
        assert_eq!(directory[name], served.url(resource), "{directory}");
    }
    assert_eq!(directory["meta"]["externalAccountRequired"], true);
    let client = reqwest::Client::new();
    for (method, status) in [(reqwest::Method::HEAD, 200), (reqwest::Method::GET, 204)] {
        let response = client.request(method, served.url("new-nonce")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["link"].to_str().unwrap(), format!("<{}>;rel=\"index\"", served.directory()));
        assert_eq!(response.headers()["replay-nonce"].len(), 44);
    }
    assert_eq!(served.count("acme_server_nonces").await, 0, "handing nonces out writes nothing");
    // An issuer without the ACME server, or none at all: 404, and no nonce.
    for issuer in [OTHER_ISSUER, "nobody"] {
        let response = reqwest::get(format!("{}/acme/{issuer}/directory", served.base)).await.unwrap();
        assert_eq!(response.status(), 404);
        assert!(response.headers().get("replay-nonce").is_none());
    }
    // A nonce used by a signed request is one row, kept until it has expired; then the job sweeps it.
    let nonce = served.nonce().await;
    new_account(&served, &AccountKey::generate(), None, &nonce).await;
    assert_eq!(served.count("acme_server_nonces").await, 1, "the used nonce is recorded, once");
    // Just expired here, it stays: a replica with a clock up to a minute behind would still take the nonce.
    let just_expired =
        time::OffsetDateTime::now_utc() + certdesk::acme_server::nonces::LIFETIME + time::Duration::seconds(30);
    certdesk::jobs::Job::run(&certdesk::acme_server::nonces::SweepNonces, &served.state, just_expired).await.unwrap();
    assert_eq!(served.count("acme_server_nonces").await, 1, "kept while a replica's clock may still take it");
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    let report =
        certdesk::jobs::Job::run(&certdesk::acme_server::nonces::SweepNonces, &served.state, later).await.unwrap();
    assert!(report.detail.contains("used ACME nonces deleted"), "{report:?}");
    assert_eq!(served.count("acme_server_nonces").await, 0);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_forged_or_expired_nonce_is_refused_before_the_database(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let key = AccountKey::generate();
    let good = served.nonce().await;
    let bytes = URL_SAFE_NO_PAD.decode(&good).unwrap();
    // One bit of the time changed: the MAC no longer holds.
    let mut forged = bytes.clone();
    forged[8] ^= 1;
    // Made by another key (as if by another certdesk): same form, wrong MAC.
    let other_key = certdesk::audit::ChainKey::new("another chain key of the right length!!".to_owned().into())
        .derive(certdesk::acme_server::nonces::KEY_PURPOSE);
    let stale = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let expired = certdesk::acme_server::nonces::issue(&served.state.acme_nonce_key, stale);
    let elsewhere = certdesk::acme_server::nonces::issue(&other_key, time::OffsetDateTime::now_utc());
    for nonce in [URL_SAFE_NO_PAD.encode(&forged), expired, elsewhere, format!("{good}A"), "A".repeat(300)] {
        refused(&new_account(&served, &key, None, &nonce).await, 400, "badNonce");
    }
    assert_eq!(served.count("acme_server_nonces").await, 0, "a nonce certdesk did not make costs no write");
    assert_eq!(served.count("acme_server_accounts").await, 0);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn malformed_or_badly_signed_requests_are_refused_and_nothing_is_stored(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (_, created) = served.person_with_key("Pat").await;
    let key = AccountKey::generate();
    let url = served.url("new-account");
    let eab = || Some(binding(&key, &created.key.key_id, &hmac_key(&created), &url));
    let payload = json!({ "externalAccountBinding": eab().unwrap() }).to_string();

    // Not a flattened JWS.
    let compact = b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln".to_vec();
    refused(&post(&url, "application/jose+json", compact).await, 400, "malformed");
    // alg none and HS256: badSignatureAlgorithm, listing the accepted algorithms.
    for alg in ["none", "HS256"] {
        let header = json!({ "alg": alg, "jwk": key.jwk, "nonce": served.nonce().await, "url": url });
        let answer = post_jws(&url, &jws(&key, &header, &payload, &payload)).await;
        refused(&answer, 400, "badSignatureAlgorithm");
        assert!(answer.body["algorithms"].as_array().unwrap().contains(&json!("ES256")), "{}", answer.body);
    }
    // A signature over another payload.
    let header = json!({ "alg": "ES256", "jwk": key.jwk, "nonce": served.nonce().await, "url": url });
    refused(&post_jws(&url, &jws(&key, &header, &payload, "{}")).await, 400, "malformed");
    // A url header that is not the request URL.
    let elsewhere = served.url("new-order");
    let header = json!({ "alg": "ES256", "jwk": key.jwk, "nonce": served.nonce().await, "url": elsewhere });
    refused(&post_jws(&url, &jws(&key, &header, &payload, &payload)).await, 401, "unauthorized");
    // Both jwk and kid.
    let kid = served.url(&format!("account/{}", Uuid::new_v4()));
    let header = json!({ "alg": "ES256", "jwk": key.jwk, "kid": kid, "nonce": served.nonce().await, "url": url });
    refused(&post_jws(&url, &jws(&key, &header, &payload, &payload)).await, 400, "malformed");
    // A nonce certdesk never handed out.
    refused(&new_account(&served, &key, eab(), "bm90LWEtbm9uY2U").await, 400, "badNonce");
    // Wrong content type, and a body over 64 KiB.
    let header = json!({ "alg": "ES256", "jwk": key.jwk, "nonce": served.nonce().await, "url": url });
    let body = jws(&key, &header, &payload, &payload).to_string().into_bytes();
    refused(&post(&url, "application/json", body).await, 415, "malformed");
    let huge = json!({ "protected": "e30", "payload": "A".repeat(70 * 1024), "signature": "c2ln" });
    refused(&post_jws(&url, &huge).await, 413, "malformed");
    nothing_stored(&served).await;

    // An unknown kid (signed as an account that does not exist), on the account URL.
    let header = json!({ "alg": "ES256", "kid": kid, "nonce": served.nonce().await, "url": kid });
    refused(&post_jws(&kid, &jws(&key, &header, "", "")).await, 400, "accountDoesNotExist");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_replayed_nonce_is_refused_and_the_retry_with_the_returned_nonce_succeeds(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (_, created) = served.person_with_key("Pat").await;
    let url = served.url("new-account");
    let first = AccountKey::generate();
    let nonce = served.nonce().await;
    let answer =
        new_account(&served, &first, Some(binding(&first, &created.key.key_id, &hmac_key(&created), &url)), &nonce)
            .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert!(answer.location.unwrap().starts_with(&served.url("account/")));
    assert_eq!(answer.body["status"], "valid");

    let second = AccountKey::generate();
    let eab = binding(&second, &created.key.key_id, &hmac_key(&created), &url);
    let replayed = new_account(&served, &second, Some(eab.clone()), &nonce).await;
    refused(&replayed, 400, "badNonce");
    assert_eq!(served.count("acme_server_accounts").await, 1, "the replay stored nothing");
    let retry = new_account(&served, &second, Some(eab.clone()), &replayed.nonce.unwrap()).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    // The same key again: its account, 200.
    let again = new_account(&served, &second, Some(eab), &retry.nonce.unwrap()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(served.count("acme_server_accounts").await, 2);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn bad_external_account_bindings_are_unauthorized_and_nothing_is_stored(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (meta, created) = served.person_with_key("Pat").await;
    let (_, expired) = served.person_with_key("Sam").await;
    sqlx::query("UPDATE acme_account_keys SET expires_at = now() - interval '1 minute' WHERE id = $1")
        .bind(expired.key.id)
        .execute(&pool)
        .await
        .unwrap();
    let url = served.url("new-account");
    let key = AccountKey::generate();
    let mac_key = hmac_key(&created);

    let mut wrong = mac_key.clone();
    wrong[0] ^= 1;
    let cases = [
        ("wrong MAC", binding(&key, &created.key.key_id, &wrong, &url), 401, "unauthorized"),
        ("unknown key id", binding(&key, "cdk-eab-unknown", &mac_key, &url), 401, "unauthorized"),
        ("expired key", binding(&key, &expired.key.key_id, &hmac_key(&expired), &url), 401, "unauthorized"),
        (
            "MAC over another key",
            binding(&AccountKey::generate(), &created.key.key_id, &mac_key, &url),
            400,
            "malformed",
        ),
        ("another url", binding(&key, &created.key.key_id, &mac_key, &served.url("new-order")), 401, "unauthorized"),
    ];
    for (what, eab, status, kind) in cases {
        let answer = new_account(&served, &key, Some(eab), &served.nonce().await).await;
        refused(&answer, status, kind);
        eprintln!("{what}: {}", answer.body["detail"]);
    }
    refused(&new_account(&served, &key, None, &served.nonce().await).await, 401, "externalAccountRequired");
    certdesk::acme_server::account_keys::revoke(&served.state, &meta, created.key.id, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let revoked = binding(&key, &created.key.key_id, &mac_key, &url);
    let answer = new_account(&served, &key, Some(revoked), &served.nonce().await).await;
    refused(&answer, 401, "unauthorized");
    assert!(answer.body["detail"].as_str().unwrap().contains("revoked"), "{}", answer.body);
    nothing_stored(&served).await;
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_address_guessing_binding_macs_is_rate_limited_with_a_problem_document(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (_, created) = served.person_with_key("Guess").await;
    let url = served.url("new-account");
    let key = AccountKey::generate();
    let mut wrong = hmac_key(&created);
    wrong[0] ^= 1;
    // The address's bucket of refusals ([limits] anonymous_burst, 60 by default) runs out.
    let mut answers = Vec::new();
    for _ in 0..80 {
        let answer =
            new_account(&served, &key, Some(binding(&key, &created.key.key_id, &wrong, &url)), &served.nonce().await)
                .await;
        let limited = answer.status == 429;
        answers.push(answer);
        if limited {
            break;
        }
    }
    let last = answers.last().unwrap();
    assert!(answers.len() > 10, "a client may make mistakes before it is limited: {}", answers.len());
    refused(last, 429, "rateLimited");
    assert!(answers[..answers.len() - 1].iter().all(|answer| answer.status == 401), "refused one by one before");
    nothing_stored(&served).await;
}
