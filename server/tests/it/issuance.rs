//! Private certificates through `POST /api/v1/certificates` and the downloads, against the test stack's real
//! OpenBao and PostgreSQL: server keys and CSRs, every download format read back by openssl / a YAML parser,
//! policy refusals before any issuer call, bad inputs naming their field, exactly-once under a repeated
//! idempotency key, other people's certificates invisible, and an unreachable issuer leaving a failed request.

use app::model::{NewApiToken, Role, TokenScope};
use app::ssr::{Caller, RequestMeta};
use axum::body::Body;
use base64::Engine;
use certdesk::auth::tokens;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

use crate::support::{Stack, free_port, stack, state_for};

const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Configuration: encryption plus the stack's OpenBao as issuer `private` (or `address` instead of it).
pub fn extra(stack: &Stack, address: Option<&str>) -> String {
    let bao = format!("{stack}/openbao");
    let address = address.map(str::to_owned).unwrap_or_else(|| stack.read("openbao/addr"));
    // The [auth] keys come first (the configuration continues the [auth] table): tokens take their owner's role
    // from their groups.
    format!(
        "admin_groups = [\"certdesk-admins\"]\nauditor_groups = [\"certdesk-auditors\"]\n\
         [encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{KEK}\"\n\
         [[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"{address}\"\nmount = \"pki_private_issuer\"\n\
         role = \"certdesk-demo\"\nrole_id_file = \"{bao}/role_id\"\nsecret_id_file = \"{bao}/secret_id\"\n\
         root_ca = \"{bao}/root_ca.pem\"\n\
         [[issuers.policy]]\nname = \"platform\"\ngroups = [\"platform-team\"]\ndomains = [\"cluster.local\"]\n\
         max_validity_days = 90\n"
    )
}

pub struct Api {
    pub router: axum::Router,
    pub token: String,
    pub user_id: Uuid,
}

async fn api(pool: &PgPool, stack: &Stack, address: Option<&str>, groups: &[&str]) -> Api {
    api_with(pool, &extra(stack, address), groups).await
}

/// The REST API over a state configured with `extra`, as a fresh person in `groups` with a read-write token.
pub async fn api_with(pool: &PgPool, extra: &str, groups: &[&str]) -> Api {
    api_as(pool, state_for(pool, extra), groups, Role::User, TokenScope::ReadWrite).await
}

/// A fresh person with `role` in `groups` and a token of `scope`, over the REST API of `state`.
pub async fn api_as(
    pool: &PgPool,
    state: certdesk::state::AppState,
    groups: &[&str],
    role: Role,
    scope: TokenScope,
) -> Api {
    let user_id = Uuid::new_v4();
    let groups: Vec<String> = groups.iter().map(|group| group.to_string()).collect();
    sqlx::query("INSERT INTO users (id, issuer, subject, display_name, email, role, groups) VALUES ($1, 'https://idp', $2, $4, $5, $6, $3)")
        .bind(user_id)
        .bind(user_id.to_string())
        .bind(&groups)
        .bind(format!("Pat {}", &user_id.to_string()[..8]))
        .bind(format!("{user_id}@example.test"))
        .bind(role.as_str())
        .execute(pool)
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let caller = Caller {
        user_id,
        display_name: "Pat".into(),
        role,
        csrf_token: String::new(),
        mfa_at: now.unix_timestamp(),
        credential: app::ssr::Credential::Session,
    };
    let meta = RequestMeta { request_id: "test".into(), client_addr: "127.0.0.1".into(), caller: Some(caller) };
    let new = NewApiToken { name: "it".into(), scope, expires_in_days: 30, private_keys: true };
    let created =
        tokens::create(pool, &state.chain_key, &meta, &new, std::time::Duration::from_secs(600), now).await.unwrap();
    Api { router: certdesk::http::router(state), token: created.secret, user_id }
}

impl Api {
    pub async fn send(&self, request: http::request::Builder, body: Body) -> (StatusCode, Vec<u8>) {
        let request = request.header("authorization", format!("Bearer {}", self.token)).body(body).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        (status, axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap().to_vec())
    }

    pub async fn request(&self, body: Value, idempotency_key: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::post("/api/v1/certificates").header("content-type", "application/json");
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let (status, bytes) = self.send(request, Body::from(body.to_string())).await;
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn download(&self, id: &str, format: &str, password: Option<&str>) -> (StatusCode, Vec<u8>) {
        let mut request = Request::get(format!("/api/v1/certificates/{id}/download?format={format}"));
        if let Some(password) = password {
            request = request.header("x-pkcs12-password", password);
        }
        self.send(request, Body::empty()).await
    }
}

pub fn server_key(names: &[&str], key_type: &str, days: u32) -> Value {
    json!({ "issuer_id": "private", "dns_names": names, "validity_days": days,
            "key": { "source": "generate", "key_type": key_type } })
}

pub fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("certdesk-issuance-{}-{name}", Uuid::new_v4()));
    std::fs::write(&path, bytes).unwrap();
    path
}

pub fn openssl(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new("openssl").args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// A request for `names` with the requester's own CSR.
pub fn with_csr(csr: &str, names: &[&str]) -> Value {
    json!({ "issuer_id": "private", "dns_names": names, "validity_days": 30, "key": { "source": "csr", "csr_pem": csr } })
}

/// An openssl CSR with `subject` ("/" for none) and these SANs, signed with `digest` ("-sha256", "-sha1").
pub fn openssl_csr(dir: &std::path::Path, subject: &str, sans: &[&str], digest: &str) -> String {
    let path = dir.join(format!("{}.csr", Uuid::new_v4()));
    let san = format!("subjectAltName={}", sans.iter().map(|name| format!("DNS:{name}")).collect::<Vec<_>>().join(","));
    let (ok, text) = openssl(&[
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "rsa:2048",
        "-keyout",
        dir.join(format!("{}.key", Uuid::new_v4())).to_str().unwrap(),
        digest,
        "-subj",
        subject,
        "-addext",
        &san,
        "-out",
        path.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    std::fs::read_to_string(path).unwrap()
}

/// A request's intent for `names` from a CSR, written at `now` and left `pending`, as a crash right after the intent
/// transaction leaves it; answers its id.
pub async fn pending_intent(
    pool: &PgPool,
    owner: Uuid,
    issuer_id: &str,
    names: &[String],
    csr_pem: &str,
    now: OffsetDateTime,
) -> Uuid {
    let id = Uuid::new_v4();
    let intent = certdesk::db::certificates::NewIntent {
        id,
        owner_id: owner,
        issuer_id,
        common_name: &names[0],
        dns_names: names,
        ip_addresses: &[],
        key_algorithm: "EC P-256",
        key_source: "csr",
        sealed_key: None,
        csr_pem,
        client_auth: false,
        validity_days: 1,
        policy_rule: "platform",
        idempotency_key: None,
        request_hash: &[0; 32],
        search_text: &names[0],
        automatic_renewal: false,
        renewal: Default::default(),
        acme_server_account_id: None,
        now,
    };
    let mut tx = pool.begin().await.unwrap();
    assert!(certdesk::db::certificates::insert_intent(&mut tx, &intent).await.unwrap());
    tx.commit().await.unwrap();
    id
}

pub async fn audit_actions(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT action FROM audit_events WHERE action LIKE 'certificate.%' ORDER BY seq")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_server_key_certificate_downloads_in_every_format(pool: PgPool) {
    let stack = stack();
    let api = api(&pool, &stack, None, &["platform-team"]).await;
    let (status, created) =
        api.request(server_key(&["App.Cluster.Local.", "api.cluster.local"], "ec-p256", 30), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "issued");
    assert_eq!(created["common_name"], "app.cluster.local", "names are normalised");
    let id = created["id"].as_str().unwrap().to_owned();
    let root = format!("{stack}/openbao/root_ca.pem");
    // Done through a token: the person is the actor, the token is named in every event.
    let token_id: Uuid = sqlx::query_scalar("SELECT id FROM api_tokens WHERE owner_id = $1")
        .bind(api.user_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let attributed: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT action, actor, details->>'api_token' FROM audit_events WHERE object = $1 ORDER BY seq")
            .bind(format!("certificate:{id}"))
            .fetch_all(&pool)
            .await
            .unwrap();
    let by_token = |action: &str| (action.to_owned(), format!("user:{}", api.user_id), Some(token_id.to_string()));
    assert_eq!(attributed, [by_token("certificate.requested"), by_token("certificate.issued")]);

    let (status, fullchain) = api.download(&id, "fullchain-pem", None).await;
    assert_eq!(status, StatusCode::OK);
    let fullchain_file = temp_file("fullchain.pem", &fullchain);
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        &root,
        "-untrusted",
        fullchain_file.to_str().unwrap(),
        fullchain_file.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let (_, text) = openssl(&["x509", "-in", fullchain_file.to_str().unwrap(), "-noout", "-text"]);
    assert!(text.contains("DNS:app.cluster.local") && text.contains("DNS:api.cluster.local"), "{text}");
    assert!(text.contains("TLS Web Server Authentication") && !text.contains("Client Authentication"), "{text}");
    assert!(!text.contains("Key Encipherment"), "no keyEncipherment on an EC key: {text}");

    let (status, key) = api.download(&id, "key-pem", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&key).starts_with("-----BEGIN PRIVATE KEY-----"));
    let key_file = temp_file("key.pem", &key);
    let (_, cert_pub) = openssl(&["x509", "-in", fullchain_file.to_str().unwrap(), "-noout", "-pubkey"]);
    let (_, key_pub) = openssl(&["pkey", "-in", key_file.to_str().unwrap(), "-pubout"]);
    assert_eq!(cert_pub, key_pub, "the key belongs to the certificate");

    let (status, p12) = api.download(&id, "pkcs12", Some("correct horse battery")).await;
    assert_eq!(status, StatusCode::OK);
    let p12_file = temp_file("bundle.p12", &p12);
    let (ok, text) = openssl(&[
        "pkcs12",
        "-in",
        p12_file.to_str().unwrap(),
        "-info",
        "-nodes",
        "-passin",
        "pass:correct horse battery",
    ]);
    assert!(ok && text.contains("AES-256-CBC"), "{text}");
    let (status, body) = api.download(&id, "pkcs12", Some("short")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&body));

    let (status, yaml) = api.download(&id, "kubernetes-secret", None).await;
    assert_eq!(status, StatusCode::OK);
    let secret: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&yaml).unwrap();
    assert_eq!(secret["type"].as_str(), Some("kubernetes.io/tls"));
    let decode = |field: &str| {
        base64::engine::general_purpose::STANDARD.decode(secret["data"][field].as_str().unwrap()).unwrap()
    };
    let ca_file = temp_file("ca.crt", &decode("ca.crt"));
    let tls_file = temp_file("tls.crt", &decode("tls.crt"));
    let (ok, text) = openssl(&["verify", "-CAfile", ca_file.to_str().unwrap(), tls_file.to_str().unwrap()]);
    assert!(ok, "ca.crt (the full chain) verifies the leaf: {text}");

    let (status, _) = api.download(&id, "zip", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        audit_actions(&pool).await,
        [
            "certificate.requested",
            "certificate.issued",
            "certificate.downloaded",
            "certificate.key_downloaded",
            "certificate.key_downloaded",
            "certificate.key_downloaded"
        ]
    );
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT encrypted_private_key FROM certificates").fetch_one(&pool).await.unwrap();
    let key_der = pem::parse(&key).unwrap().contents().to_vec();
    assert!(
        !sealed.windows(32).any(|window| key_der.windows(32).any(|part| part == window)),
        "the key is sealed at rest"
    );
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_csr_certificate_has_no_key_to_download_and_bad_csrs_are_refused(pool: PgPool) {
    let stack = stack();
    let api = api(&pool, &stack, None, &["platform-team"]).await;
    let dir = std::env::temp_dir().join(format!("certdesk-csr-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let csr = openssl_csr(&dir, "/CN=db.cluster.local", &["db.cluster.local"], "-sha256");
    let (status, created) = api.request(with_csr(&csr, &["db.cluster.local"]), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, _) = api.download(created["id"].as_str().unwrap(), "key-pem", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "certdesk never held this key");

    let (status, body) = api.request(with_csr(&csr, &["other.cluster.local"]), None).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("csr")), "{body}");
    let mut tampered = csr.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let (status, body) =
        api.request(with_csr(&String::from_utf8(tampered).unwrap(), &["db.cluster.local"]), None).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("csr")), "{body}");
    let (status, body) =
        api.request(with_csr("-----BEGIN CERTIFICATE REQUEST-----\nnope\n", &["db.cluster.local"]), None).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("csr")), "{body}");
    let huge = "A".repeat(200_000);
    let (status, body) = api.request(with_csr(&huge, &["db.cluster.local"]), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn policy_and_input_refusals_name_the_field_and_never_reach_the_issuer(pool: PgPool) {
    let stack = stack();
    let api = api(&pool, &stack, None, &["platform-team"]).await;
    let cases = [
        (server_key(&["www.example.com"], "ec-p256", 30), "dns_names"),
        (server_key(&["evil-cluster.local"], "ec-p256", 30), "dns_names"),
        (server_key(&["*.cluster.local"], "ec-p256", 30), "dns_names"),
        (server_key(&["app.cluster.local"], "ec-p256", 365), "validity_days"),
        (server_key(&["app.cluster.local"], "rsa1024", 30), "key_type"),
        (server_key(&[], "ec-p256", 30), "dns_names"),
        (server_key(&["a..cluster.local"], "ec-p256", 30), "dns_names"),
        (server_key(&["xn--a.cluster.local"], "ec-p256", 30), "dns_names"),
        (server_key(&["app.cluster.local"], "ec-p256", 0), "validity_days"),
        (
            json!({ "issuer_id": "nope", "dns_names": ["a.cluster.local"], "validity_days": 30, "key": { "source": "generate", "key_type": "ec-p256" } }),
            "issuer_id",
        ),
    ];
    for (body, field) in &cases {
        let (status, answer) = api.request(body.clone(), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(answer["field"].as_str(), Some(*field), "{body} → {answer}");
        assert!(!answer["message"].as_str().unwrap_or_default().is_empty());
    }
    let (status, _) = api.request(json!({ "issuer_id": "private" }), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a body missing fields is a 400, not a 500");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates").fetch_one(&pool).await.unwrap();
    assert_eq!(rows, 0, "nothing was stored and no issuer was called");
    let denied: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'certificate.denied'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(denied, 4, "each policy refusal is audited");

    // An internationalised name is issued as its punycode form.
    let (status, created) = api.request(server_key(&["Bücher.cluster.local"], "ec-p256", 30), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["common_name"], "xn--bcher-kva.cluster.local");

    let outsider = self::api(&pool, &stack, None, &["marketing"]).await;
    let (status, answer) = outsider.request(server_key(&["app.cluster.local"], "ec-p256", 30), None).await;
    assert_eq!((status, answer["field"].as_str()), (StatusCode::BAD_REQUEST, Some("issuer")), "{answer}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_double_submit_issues_one_certificate_and_others_cannot_see_it(pool: PgPool) {
    let stack = stack();
    let api = api(&pool, &stack, None, &["platform-team"]).await;
    let body = server_key(&["twice.cluster.local"], "ec-p384", 30);
    let (first, second) =
        tokio::join!(api.request(body.clone(), Some("form-7f3a")), api.request(body.clone(), Some("form-7f3a")));
    let statuses = [first.0, second.0];
    assert!(statuses.contains(&StatusCode::CREATED), "{statuses:?} {first:?} {second:?}");
    let (status, replay) = api.request(body.clone(), Some("form-7f3a")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay["replayed"], true);
    let winner = if first.0 == StatusCode::CREATED { &first.1 } else { &second.1 };
    assert_eq!(replay["id"], winner["id"]);
    let issued: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates").fetch_one(&pool).await.unwrap();
    assert_eq!(issued, 1, "one certificate for one idempotency key");
    let (status, answer) = api.request(server_key(&["other.cluster.local"], "ec-p384", 30), Some("form-7f3a")).await;
    assert_eq!((status, answer["field"].as_str()), (StatusCode::BAD_REQUEST, Some("idempotency_key")));

    let stranger = self::api(&pool, &stack, None, &["platform-team"]).await;
    let id = replay["id"].as_str().unwrap();
    let (status, _) = stranger.download(id, "leaf-pem", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "someone else's certificate does not exist for you");
    let (status, _) = stranger.download("not-a-uuid", "leaf-pem", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ne!(stranger.user_id, api.user_id);
}

/// Rules and requests share one ceiling (`policy::MAX_VALIDITY_DAYS`): a rule granting it lets a request for exactly
/// that many days through to the issuer, and a day more is refused on its field before any issuer is called.
#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_request_for_the_longest_validity_a_rule_may_grant_is_issued(pool: PgPool) {
    use certdesk::policy::MAX_VALIDITY_DAYS;
    let stack = stack();
    let longest =
        extra(&stack, None).replace("max_validity_days = 90", &format!("max_validity_days = {MAX_VALIDITY_DAYS}"));
    assert_ne!(longest, extra(&stack, None));
    let api = api_with(&pool, &longest, &["platform-team"]).await;
    let (status, created) = api.request(server_key(&["long.cluster.local"], "ec-p256", MAX_VALIDITY_DAYS), None).await;
    assert_eq!((status, created["status"].as_str()), (StatusCode::CREATED, Some("issued")), "{created}");
    let (status, answer) =
        api.request(server_key(&["longer.cluster.local"], "ec-p256", MAX_VALIDITY_DAYS + 1), None).await;
    assert_eq!((status, answer["field"].as_str()), (StatusCode::BAD_REQUEST, Some("validity_days")), "{answer}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates").fetch_one(&pool).await.unwrap();
    assert_eq!(rows, 1, "the refused request reached no issuer");
}

/// The stack's CA role allows what its policy grants: a request for the rule's 90 days gets a certificate valid for
/// 90 days. OpenBao silently caps a longer `ttl` at the role's `max_ttl`, so a role shorter than the policy (it was
/// 30 days) hands out certificates shorter than the person asked for and the portal's form promised.
#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_request_for_the_rules_longest_validity_gets_all_of_it_from_the_stack_ca(pool: PgPool) {
    let api = api(&pool, &stack(), None, &["platform-team"]).await;
    let (status, created) = api.request(server_key(&["ninety.cluster.local"], "ec-p256", 90), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let (not_before, not_after): (time::OffsetDateTime, time::OffsetDateTime) =
        sqlx::query_as("SELECT not_before, not_after FROM certificates WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    let granted = not_after - not_before;
    // OpenBao backdates notBefore by 30 s; anything shorter than 90 days minus that slack is a capped certificate.
    assert!(
        granted >= time::Duration::days(90) - time::Duration::minutes(2)
            && granted <= time::Duration::days(90) + time::Duration::minutes(2),
        "asked for 90 days, got {granted}"
    );
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_unreachable_issuer_leaves_a_failed_request_that_can_be_retried(pool: PgPool) {
    let stack = stack();
    let down = format!("http://127.0.0.1:{}", free_port());
    let api = api(&pool, &stack, Some(&down), &["platform-team"]).await;
    let (status, answer) = api.request(server_key(&["retry.cluster.local"], "ec-p256", 30), Some("k1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let (state, failure): (String, Option<String>) =
        sqlx::query_as("SELECT status, failure FROM certificates").fetch_one(&pool).await.unwrap();
    assert_eq!(state, "failed");
    assert!(failure.unwrap().contains("unavailable"));
    assert_eq!(audit_actions(&pool).await, ["certificate.requested", "certificate.failed"]);
    // The same idempotency key reports the failure; a new attempt (new key) against a working issuer succeeds.
    let (status, replay) = api.request(server_key(&["retry.cluster.local"], "ec-p256", 30), Some("k1")).await;
    assert_eq!((status, replay["status"].as_str()), (StatusCode::OK, Some("failed")));
    let working = self::api(&pool, &stack, None, &["platform-team"]).await;
    let (status, _) = working.request(server_key(&["retry.cluster.local"], "ec-p256", 30), Some("k2")).await;
    assert_eq!(status, StatusCode::CREATED);
}

/// certdesk "crashes" after the issuer signed but before the database recorded it: the intent stays pending. The
/// reconciler finds the signed certificate at the issuer and completes the request; a pending request the
/// issuer never signed is marked failed. Nothing is silently lost.
#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_reconciler_completes_a_request_interrupted_after_signing_and_fails_one_never_signed(pool: PgPool) {
    use certdesk::issuers::SigningRequest;
    use certdesk::keys::{self, KeyType};
    use certdesk::names::normalize_dns_name;
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, issuer, subject, display_name, role) VALUES ($1, 'https://idp', $2, 'Pat', 'user')",
    )
    .bind(owner)
    .bind(owner.to_string())
    .execute(&pool)
    .await
    .unwrap();
    let started = OffsetDateTime::now_utc() - time::Duration::minutes(10);
    let pending = |name: &'static str| {
        let key = keys::generate(KeyType::EcP256).unwrap();
        let dns = vec![normalize_dns_name(name).unwrap()];
        (keys::build_csr(&key, Some(name), &dns, &[]).unwrap(), vec![name.to_owned()])
    };
    let mut ids = Vec::new();
    for (csr, names) in [pending("crashed.cluster.local"), pending("never.cluster.local")] {
        let id = pending_intent(&pool, owner, "private", &names, &csr, started).await;
        ids.push((id, csr));
    }
    // The issuer signs the first request; then certdesk "dies" before recording the answer.
    let authority = state.issuers.get("private").unwrap().authority();
    let request = SigningRequest {
        csr_pem: &ids[0].1,
        common_name: None,
        key_family: keys::KeyFamily::Ec,
        client_auth: false,
        validity: std::time::Duration::from_secs(86_400),
    };
    let Ok(certdesk::issuers::Issued::Signed(signed)) = authority.issue(&request).await else {
        panic!("OpenBao signs at once")
    };
    let serial = certdesk::bundle::certificate_facts(&signed.leaf_der).unwrap().serial_colon();

    let report = certdesk::issuance::reconcile::reconcile_pending(&state, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!((report.completed, report.failed, report.still_pending), (1, 1, 0));
    let rows: Vec<(Uuid, String, Option<String>)> =
        sqlx::query_as("SELECT id, status, serial FROM certificates").fetch_all(&pool).await.unwrap();
    let status_of = |id: Uuid| rows.iter().find(|row| row.0 == id).unwrap().clone();
    assert_eq!(status_of(ids[0].0).1, "issued");
    assert_eq!(status_of(ids[0].0).2.as_deref(), Some(serial.as_str()), "the certificate the issuer really signed");
    assert_eq!(status_of(ids[1].0).1, "failed");
    let actors: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, action FROM audit_events ORDER BY seq").fetch_all(&pool).await.unwrap();
    assert!(actors.contains(&("system:reconciler".into(), "certificate.issued".into())), "{actors:?}");
    assert!(actors.contains(&("system:reconciler".into(), "certificate.failed".into())), "{actors:?}");
    let again = certdesk::issuance::reconcile::reconcile_pending(&state, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(again, Default::default(), "nothing left to resolve");
}
