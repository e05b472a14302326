//! Public certificates over ACME against a real Pebble (one per test, see `pebble`): HTTP-01 answered by
//! certdesk's responder, the chain verified against Pebble's root, revocation seen in Pebble's own records, a
//! failing challenge, an unreachable CA retried, an order resumed by a restarted certdesk, and Pebble's random
//! badNonce rejections and validation sleeps.

mod pebble;

use std::time::Duration;

use app::model::{Role, TokenScope};
use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::issuance::{Api, api_as, audit_actions, openssl, temp_file};
use crate::support::{Gate, Stack, stack, state_for};
use pebble::{Behaviour, Pebble};

const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// An ACME issuer `public` on `directory_url` (Pebble's, or a gate in front of it), names under pub.example.test
/// for platform-team.
fn acme_extra(stack: &Stack, pebble: &Pebble, directory_url: &str) -> String {
    format!(
        "[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{KEK}\"\n\
         [[issuers]]\nid = \"public\"\nkind = \"acme\"\ndirectory_url = \"{directory_url}\"\n\
         ca_bundle = \"{stack}/pebble/listener-ca.pem\"\nroot_ca = \"{root}\"\ncontact_email = \"it@example.test\"\n\
         [[issuers.policy]]\nname = \"public\"\ngroups = [\"platform-team\"]\ndomains = [\"pub.example.test\"]\n\
         max_validity_days = 90\n",
        root = pebble.root.display(),
    )
}

fn public_request(names: &[&str]) -> Value {
    json!({ "issuer_id": "public", "dns_names": names, "validity_days": 90,
            "key": { "source": "generate", "key_type": "ec-p256" } })
}

/// certdesk's HTTP-01 responder where this Pebble's validator connects.
fn responder(state: &certdesk::state::AppState, port: u16) -> tokio::task::JoinHandle<std::io::Result<()>> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    tokio::spawn(certdesk::orders::responder::serve_dedicated(state.clone(), addr))
}

async fn detail(api: &Api, id: &str) -> Value {
    let (status, bytes) = api.send(Request::get(format!("/api/v1/certificates/{id}")), Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice(&bytes).unwrap()
}

/// Polls the certificate (as an API client would after a 202) until its order ended.
async fn until_order_ends(api: &Api, id: &str, within: Duration) -> Value {
    let started = std::time::Instant::now();
    loop {
        let detail = detail(api, id).await;
        if detail["status"] != "pending" {
            return detail;
        }
        assert!(started.elapsed() < within, "the order did not end within {within:?}: {detail}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asserts the full chain in `chain` verifies against Pebble's root; answers its leaf's subjectAltName text.
fn verified_sans(pebble: &Pebble, chain: &std::path::Path) -> String {
    let (root, chain) = (pebble.root.to_str().unwrap(), chain.to_str().unwrap());
    let (verified, output) = openssl(&["verify", "-CAfile", root, "-untrusted", chain, chain]);
    assert!(verified, "{output}");
    openssl(&["x509", "-in", chain, "-noout", "-ext", "subjectAltName"]).1
}

async fn challenge_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM acme_challenges WHERE removed_at IS NULL").fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_http01_order_issues_a_chain_that_verifies_and_revocation_reaches_the_ca(pool: PgPool) {
    let stack = stack();
    let pebble = Pebble::start(&stack, Behaviour::Deterministic).await;
    let state = state_for(&pool, &acme_extra(&stack, &pebble, &pebble.directory_url));
    let responder = responder(&state, pebble.http01_port);
    let api = api_as(&pool, state, &["platform-team"], Role::User, TokenScope::ReadWrite).await;

    let (status, created) = api.request(public_request(&["www.pub.example.test", "api.pub.example.test"]), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    assert_eq!(created["status"], "pending");
    let id = created["id"].as_str().unwrap().to_owned();
    let issued = until_order_ends(&api, &id, Duration::from_secs(60)).await;
    assert_eq!(issued["status"], "issued", "{issued}");
    let order = &issued["order"];
    assert_eq!(order["state"], "valid");
    let names: Vec<(&str, &str, &str)> = order["authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["identifier"].as_str().unwrap(), a["challenge"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(names.len(), 2, "{order}");
    assert!(names.iter().all(|(_, challenge, status)| *challenge == "http-01" && *status == "valid"), "{order}");

    // The full chain verifies against Pebble's own root (from its management API), for the requested names.
    let (status, fullchain) = api.download(&id, "fullchain-pem", None).await;
    assert_eq!(status, StatusCode::OK);
    let chain = temp_file("fullchain.pem", &fullchain);
    let text = verified_sans(&pebble, &chain);
    assert!(text.contains("DNS:www.pub.example.test") && text.contains("DNS:api.pub.example.test"), "{text}");
    // The answers are gone once the order ended.
    assert_eq!(challenge_rows(&pool).await, 0);
    let actions = audit_actions(&pool).await;
    assert!(actions.contains(&"certificate.issued".to_owned()), "{actions:?}");
    let created_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'acme.order_created'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(created_events, 1);

    // Revoked through ACME revokeCert: Pebble records it with the reason.
    let serial = issued["serial"].as_str().unwrap().to_owned();
    assert_eq!(pebble.certificate_status(&serial).await["Status"], "Valid");
    let request = Request::post(format!("/api/v1/certificates/{id}/revoke")).header("content-type", "application/json");
    let (status, body) = api.send(request, Body::from(json!({ "reason": "keyCompromise" }).to_string())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let at_ca = pebble.certificate_status(&serial).await;
    assert_eq!(at_ca["Status"], "Revoked", "{at_ca}");
    assert_eq!(at_ca["Reason"], 1, "keyCompromise is reason 1: {at_ca}");
    assert_eq!(detail(&api, &id).await["status"], "revoked");

    // The requester's own CSR (an RSA key certdesk never sees) is finalized as is.
    let dir = std::env::temp_dir().join(format!("certdesk-acme-csr-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (csr_path, key_path) = (dir.join("req.csr"), dir.join("key.pem"));
    let (ok, text) = openssl(&[
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "rsa:2048",
        "-keyout",
        key_path.to_str().unwrap(),
        "-subj",
        "/CN=csr.pub.example.test",
        "-addext",
        "subjectAltName=DNS:csr.pub.example.test",
        "-out",
        csr_path.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let csr = std::fs::read_to_string(&csr_path).unwrap();
    let body = json!({ "issuer_id": "public", "dns_names": ["csr.pub.example.test"], "validity_days": 90,
                       "key": { "source": "csr", "csr_pem": csr } });
    let (status, created) = api.request(body, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let issued = until_order_ends(&api, &id, Duration::from_secs(60)).await;
    assert_eq!(issued["status"], "issued", "{issued}");
    let (_, leaf) = api.download(&id, "leaf-pem", None).await;
    let leaf = temp_file("leaf.pem", &leaf);
    let (_, leaf_key) = openssl(&["x509", "-in", leaf.to_str().unwrap(), "-noout", "-pubkey"]);
    let (_, csr_key) = openssl(&["req", "-in", csr_path.to_str().unwrap(), "-noout", "-pubkey"]);
    assert_eq!(leaf_key, csr_key, "the certificate carries the CSR's key");
    responder.abort();
}

/// (status, renew_at, renewal attempts, retry at, last error, renewed_from) of a certificate.
type RenewalState = (String, Option<OffsetDateTime>, i32, Option<OffsetDateTime>, Option<String>, Option<uuid::Uuid>);

async fn renewal_state(pool: &PgPool, id: uuid::Uuid) -> RenewalState {
    sqlx::query_as(
        "SELECT status, renew_at, renewal_attempts, renewal_retry_at, renewal_last_error, renewed_from
           FROM certificates WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_acme_certificate_is_renewed_through_the_ca_and_a_failed_order_is_retried_after_backoff(pool: PgPool) {
    let stack = stack();
    let pebble = Pebble::start(&stack, Behaviour::Deterministic).await;
    let state = state_for(&pool, &acme_extra(&stack, &pebble, &pebble.directory_url));
    let responder = responder(&state, pebble.http01_port);
    let api = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = api.request(public_request(&["renew.pub.example.test"]), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let first: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let issued = until_order_ends(&api, &first.to_string(), Duration::from_secs(60)).await;
    assert_eq!(issued["status"], "issued", "{issued}");
    let (_, renew_at, ..) = renewal_state(&pool, first).await;
    let renew_at = renew_at.expect("a server-generated key renews itself by default");
    // RFC 9773's identifier of Pebble's certificate: its serial, base64url, after the authority key identifier.
    let (_, leaf) = api.download(&first.to_string(), "leaf-pem", None).await;
    let identifier = certdesk::issuers::acme::renewal_info::identifier_of(std::str::from_utf8(&leaf).unwrap()).unwrap();
    let serial = issued["serial"].as_str().unwrap().replace(':', "").to_lowercase();
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(identifier.serial.as_bytes()).unwrap();
    assert!(hex::encode(&raw).ends_with(serial.trim_start_matches('0')), "{raw:?} vs {serial}");

    // Not yet due: nothing happens. Past the point: a new order, which the CA completes.
    let early = certdesk::renewal::run_once(&state, renew_at - time::Duration::minutes(1)).await.unwrap();
    assert!(early.renewed.is_empty(), "{early:?}");
    // Debian's Pebble 2.4 offers no renewal information: the lifetime share stands.
    assert_eq!(early.renewal_info.unsupported, 1, "{early:?}");
    let report = certdesk::renewal::run_once(&state, renew_at + time::Duration::minutes(1)).await.unwrap();
    assert_eq!(report.renewed.len(), 1, "{report:?}");
    let (old, second) = report.renewed[0];
    assert_eq!(old, first);
    let renewed = until_order_ends(&api, &second.to_string(), Duration::from_secs(60)).await;
    assert_eq!(renewed["status"], "issued", "{renewed}");
    assert_ne!(renewed["serial"], issued["serial"]);
    assert_eq!(renewal_state(&pool, first).await.0, "superseded");
    assert_eq!(renewal_state(&pool, second).await.5, Some(first));
    assert!(audit_actions(&pool).await.contains(&"certificate.renewed".to_owned()));

    // What a CA with renewal information answers is stored as `acme::ari` stores it, and the page shows it.
    let (window_start, window_end) =
        (OffsetDateTime::now_utc() + time::Duration::days(20), OffsetDateTime::now_utc() + time::Duration::days(22));
    let chosen = certdesk::renewal::ari::point_in_window(window_start, window_end, OffsetDateTime::now_utc(), 0.5);
    let answer = certdesk::db::renewal::AriAnswer {
        window: Some((window_start, window_end)),
        renew_at: Some(chosen),
        explanation_url: Some("https://ca.example/incident"),
        next_check: OffsetDateTime::now_utc() + time::Duration::hours(6),
    };
    certdesk::db::renewal::record_ari(&pool, second, &answer).await.unwrap();
    let caller = app::ssr::Caller {
        user_id: api.user_id,
        display_name: "Pat".into(),
        role: Role::User,
        csrf_token: String::new(),
        mfa_at: 0,
        credential: app::ssr::Credential::Session,
    };
    let shown = certdesk::inventory::detail(&state, &caller, second).await.unwrap().renewal;
    let (start, end) = shown.ca_window.clone().expect("the CA's window on the page");
    assert!(
        start < end && shown.renew_at.as_deref().is_some_and(|at| at > start.as_str() && at < end.as_str()),
        "{shown:?}"
    );
    assert_eq!(shown.ca_window_explanation.as_deref(), Some("https://ca.example/incident"));

    // The CA cannot reach certdesk's HTTP-01 answer: the renewal order fails, which counts as a failed attempt
    // on the current certificate; it stays current and is retried after the backoff.
    // The order ends in the background at the real time, so here the renewal point is made to arrive now (and the
    // certificate to be older than the renewal floor, which the job never renews within).
    responder.abort();
    let _ = responder.await;
    sqlx::query(
        "UPDATE certificates SET renew_at = now() - interval '1 minute', created_at = now() - interval '2 hours'
         WHERE id = $1",
    )
    .bind(second)
    .execute(&pool)
    .await
    .unwrap();
    let report = certdesk::renewal::run_once(&state, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.renewed.len(), 1, "{report:?}");
    let third = report.renewed[0].1;
    let failed = until_order_ends(&api, &third.to_string(), Duration::from_secs(60)).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let (status, _, attempts, retry_at, last_error, _) = renewal_state(&pool, second).await;
    assert_eq!((status.as_str(), attempts), ("issued", 1));
    let error = last_error.unwrap();
    assert!(error.contains("ACME order failed") && error.contains("http-01"), "{error}");
    let retry_at = retry_at.unwrap();
    assert!(retry_at > OffsetDateTime::now_utc(), "a backoff from the failure: {retry_at}");
    assert!(audit_actions(&pool).await.contains(&"certificate.renewal_failed".to_owned()));
    let waiting = certdesk::renewal::run_once(&state, retry_at - time::Duration::minutes(1)).await.unwrap();
    assert!(waiting.renewed.is_empty(), "within the backoff: {waiting:?}");

    // The answer is back: after the backoff the retry renews it.
    let responder = self::responder(&state, pebble.http01_port);
    let retry = certdesk::renewal::run_once(&state, retry_at + time::Duration::minutes(1)).await.unwrap();
    assert_eq!(retry.renewed.len(), 1, "{retry:?}");
    let fourth = retry.renewed[0].1;
    let renewed = until_order_ends(&api, &fourth.to_string(), Duration::from_secs(60)).await;
    assert_eq!(renewed["status"], "issued", "{renewed}");
    assert_eq!(renewal_state(&pool, second).await.0, "superseded");
    responder.abort();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_failing_http01_challenge_fails_the_request_with_what_the_ca_saw(pool: PgPool) {
    let stack = stack();
    let pebble = Pebble::start(&stack, Behaviour::Deterministic).await;
    // Nothing answers on Pebble's HTTP-01 port: its validator's connection is refused.
    let state = state_for(&pool, &acme_extra(&stack, &pebble, &pebble.directory_url));
    let api = api_as(&pool, state, &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = api.request(public_request(&["down.pub.example.test"]), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let failed = until_order_ends(&api, &id, Duration::from_secs(60)).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let reason = failed["failure"].as_str().unwrap();
    assert!(reason.contains("down.pub.example.test") && reason.contains("http-01"), "{reason}");
    assert!(reason.to_lowercase().contains("connection refused") || reason.contains("connect"), "{reason}");
    assert_eq!(failed["order"]["state"], "invalid");
    assert_eq!(failed["order"]["authorizations"][0]["status"], "invalid", "{failed}");
    assert_eq!(challenge_rows(&pool).await, 0, "the HTTP-01 answer is taken down after a failure too");
    assert!(audit_actions(&pool).await.contains(&"certificate.failed".to_owned()));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_unreachable_ca_is_retried_and_the_order_completes_when_it_is_back(pool: PgPool) {
    let stack = stack();
    let pebble = Pebble::start(&stack, Behaviour::Deterministic).await;
    let port: u16 = pebble.directory_url.split(':').nth(2).unwrap().split('/').next().unwrap().parse().unwrap();
    let gate = Gate::start(([127, 0, 0, 1], port).into()).await;
    gate.close();
    let directory = format!("https://127.0.0.1:{}/dir", gate.port);
    let state = state_for(&pool, &acme_extra(&stack, &pebble, &directory));
    let responder = responder(&state, pebble.http01_port);
    let api = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = api.request(public_request(&["later.pub.example.test"]), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    // The page says it waits to try again, and why; nothing failed.
    let waiting = crate::support::eventually("the order to wait for a retry", Duration::from_secs(30), || async {
        let detail = detail(&api, &id).await;
        detail["order"]["retrying"].is_string().then_some(detail)
    })
    .await;
    assert_eq!(waiting["status"], "pending");
    assert!(waiting["order"]["next_attempt_at"].is_string(), "{waiting}");

    gate.open();
    // Time passed in: the retry is due.
    certdesk::orders::resume_due(&state, OffsetDateTime::now_utc() + Duration::from_secs(3600)).await.unwrap();
    let issued = until_order_ends(&api, &id, Duration::from_secs(60)).await;
    assert_eq!(issued["status"], "issued", "{issued}");
    assert!(issued["order"]["retrying"].is_null());
    responder.abort();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_restarted_certdesk_resumes_the_stored_order_under_random_bad_nonces_and_sleeps(pool: PgPool) {
    let stack = stack();
    // Pebble's defaults: random badNonce rejections and validations delayed by up to 15 s.
    let pebble = Pebble::start(&stack, Behaviour::Defaults).await;
    let extra = acme_extra(&stack, &pebble, &pebble.directory_url);
    let survivor = state_for(&pool, &extra);
    let responder = responder(&survivor, pebble.http01_port);

    // The first certdesk runs on a runtime of its own, which the test then stops dead: every task it had (the
    // order's driver among them) vanishes mid-way, as in a crash.
    let first = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    // Its own pool: connections made on that runtime die with it.
    let config = certdesk::config::Config::from_toml_str(&crate::support::config_toml(
        &crate::support::database_url_of(&pool),
        "127.0.0.1:3999",
        &extra,
    ))
    .unwrap();
    let first_state = certdesk::serve::build_state(config).unwrap();
    first_state.migrations.mark_applied();
    let id = first
        .spawn(async move {
            let pool = first_state.pool.clone();
            let api = api_as(&pool, first_state, &["platform-team"], Role::User, TokenScope::ReadWrite).await;
            let (status, created) = api.request(public_request(&["resume.pub.example.test"]), None).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{created}");
            created["id"].as_str().unwrap().to_owned()
        })
        .await
        .unwrap();
    let id = uuid::Uuid::parse_str(&id).unwrap();
    let order_url: String =
        crate::support::eventually("the CA to accept the order", Duration::from_secs(60), || async {
            sqlx::query_scalar::<_, Option<String>>("SELECT order_url FROM acme_orders WHERE certificate_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        })
        .await;
    first.shutdown_background();
    let status: String =
        sqlx::query_scalar("SELECT status FROM certificates WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();
    assert_eq!(status, "pending", "the first certdesk stopped before the order ended");

    // The restarted certdesk finds the order once the dead driver's lease ran out (time passed in) and resumes it.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        certdesk::orders::resume_due(&survivor, OffsetDateTime::now_utc() + Duration::from_secs(60)).await.unwrap();
        let status: String = sqlx::query_scalar("SELECT status FROM certificates WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        if status != "pending" {
            assert_eq!(status, "issued");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the resumed order did not finish");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let resumed_url: String = sqlx::query_scalar("SELECT order_url FROM acme_orders WHERE certificate_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(resumed_url, order_url, "the same order was resumed, not a new one placed");

    // And a fresh request through the same noisy Pebble completes: on its own driver, or (when Pebble's random
    // badNonce outlasts instant-acme's three tries) on the resume job's next pass after the backoff, as in the
    // server, where the job leader runs `resume_due` every two seconds.
    let resume_job = {
        let survivor = survivor.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                certdesk::orders::resume_due(&survivor, OffsetDateTime::now_utc()).await.unwrap();
            }
        })
    };
    let api = api_as(&pool, survivor, &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = api.request(public_request(&["again.pub.example.test"]), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let issued = until_order_ends(&api, created["id"].as_str().unwrap(), Duration::from_secs(120)).await;
    assert_eq!(issued["status"], "issued", "{issued}");
    resume_job.abort();
    responder.abort();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn names_no_challenge_can_prove_are_refused_before_any_order(pool: PgPool) {
    let stack = stack();
    let pebble = Pebble::start(&stack, Behaviour::Deterministic).await;
    let mut extra = acme_extra(&stack, &pebble, &pebble.directory_url);
    extra.push_str("allow_wildcards = true\n");
    let state = state_for(&pool, &extra);
    let api = api_as(&pool, state, &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    for (names, field) in [(vec!["*.pub.example.test"], "dns_names"), (vec!["www.example.com"], "dns_names")] {
        let (status, body) = api.request(public_request(&names), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["field"], field, "{body}");
    }
    let (status, body) = api.request(public_request(&["*.pub.example.test"]), None).await;
    assert!(body.to_string().contains("DNS-01"), "{status} {body}");
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM acme_orders").fetch_one(&pool).await.unwrap();
    assert_eq!(orders, 0);
}

/// DNS-01 through the stack's BIND (RFC 2136 + TSIG): names in its zone, wildcards allowed; `secret` replaces
/// the real TSIG secret to make the updates fail.
fn dns01_extra(stack: &Stack, pebble: &Pebble, secret: Option<&str>) -> String {
    let bind = format!("{stack}/bind");
    let read = |file: &str| std::fs::read_to_string(format!("{bind}/{file}")).unwrap().trim().to_owned();
    let zone = read("zone");
    let secret = match secret {
        Some(secret) => format!("tsig_secret = \"{secret}\""),
        None => format!("tsig_secret_file = \"{bind}/tsig.secret\""),
    };
    format!(
        "{base}[[issuers.challenges]]\ndomains = [\"{zone}\"]\ntype = \"dns-01\"\ndns_server = \"bind\"\n\
         [[issuers.policy]]\nname = \"dns01\"\ngroups = [\"platform-team\"]\ndomains = [\"{zone}\"]\n\
         allow_wildcards = true\nmax_validity_days = 90\n\
         [[dns_servers]]\nid = \"bind\"\naddress = \"{address}\"\nzone = \"{zone}\"\ntsig_key_name = \"{key}\"\n{secret}\n",
        base = acme_extra(stack, pebble, &pebble.directory_url),
        address = read("address"),
        key = read("key_name"),
    )
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn dns01_through_bind_issues_a_wildcard_and_takes_the_records_down(pool: PgPool) {
    let stack = stack();
    let pebble = Pebble::start(&stack, Behaviour::Deterministic).await;
    let state = state_for(&pool, &dns01_extra(&stack, &pebble, None));
    let zone = stack.read("bind/zone");
    let label = format!("w{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (wildcard, base) = (format!("*.{label}.{zone}"), format!("{label}.{zone}"));
    let api = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = api.request(public_request(&[&base, &wildcard]), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let issued = until_order_ends(&api, &id, Duration::from_secs(90)).await;
    assert_eq!(issued["status"], "issued", "{issued}");
    let challenges: Vec<&str> = issued["order"]["authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|authorization| authorization["challenge"].as_str().unwrap())
        .collect();
    assert_eq!(challenges, ["dns-01", "dns-01"], "{issued}");

    let (_, fullchain) = api.download(&id, "fullchain-pem", None).await;
    let chain = temp_file("wildcard.pem", &fullchain);
    let text = verified_sans(&pebble, &chain);
    assert!(text.contains(&format!("DNS:{wildcard}")), "{text}");

    // Both TXT values (base name and wildcard share the record) are gone from BIND once the order ended.
    let record = format!("_acme-challenge.{base}");
    let published: Vec<(String, Option<OffsetDateTime>)> =
        sqlx::query_as("SELECT dns_record, removed_at FROM acme_challenges WHERE kind = 'dns-01'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(published.len(), 2);
    assert!(published.iter().all(|(name, removed)| *name == record && removed.is_some()), "{published:?}");
    let left = state.dns_servers.get("bind").unwrap().txt_values(&record).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_refused_dns01_update_fails_the_order_and_leaves_no_record(pool: PgPool) {
    let stack = stack();
    let pebble = Pebble::start(&stack, Behaviour::Deterministic).await;
    // A TSIG secret BIND does not know: every update is refused.
    let wrong = "c2VjcmV0IHRoYXQgYmluZCBkb2VzIG5vdCBrbm93IGF0IGFsbA==";
    let state = state_for(&pool, &dns01_extra(&stack, &pebble, Some(wrong)));
    let zone = stack.read("bind/zone");
    let name = format!("refused-{}.{zone}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let api = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = api.request(public_request(&[&name]), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let failed = until_order_ends(&api, created["id"].as_str().unwrap(), Duration::from_secs(60)).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let reason = failed["failure"].as_str().unwrap();
    assert!(reason.contains(&format!("_acme-challenge.{name}")) && reason.contains("TSIG key"), "{reason}");
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM acme_challenges WHERE removed_at IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "nothing was published, so nothing is left to take down");
    // And nothing reached BIND (read with the real key).
    let real = state_for(&pool, &dns01_extra(&stack, &pebble, None));
    let values = real.dns_servers.get("bind").unwrap().txt_values(&format!("_acme-challenge.{name}")).await.unwrap();
    assert!(values.is_empty(), "{values:?}");
}
