//! The router in-process (`oneshot`) over a real test database: health and readiness, pages with their status
//! and security headers, request ids, and the dashboard server function reading real counts.

use axum::body::Body;
use http::{Request, StatusCode};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::support::{free_port, state_for};

async fn get(pool: &PgPool, extra: &str, path: &str) -> (StatusCode, http::HeaderMap, String) {
    send(pool, extra, Request::get(path).body(Body::empty()).unwrap()).await
}

async fn send(pool: &PgPool, extra: &str, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = certdesk::http::router(state_for(pool, extra)).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 4 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn healthz_and_readyz_answer_when_everything_is_up(pool: PgPool) {
    let (status, _, body) = get(&pool, "", "/healthz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, headers, body) = get(&pool, "", "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let readiness: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(readiness["status"], "ready");
    assert_eq!(readiness["database"]["ok"], true);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn readyz_names_each_unreachable_issuer_and_stays_ready(pool: PgPool) {
    let dead = free_port();
    let issuers = format!(
        "[[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"http://127.0.0.1:{dead}\"\nmount = \"pki\"\nrole = \"r\"\n\
         [[issuers]]\nid = \"public\"\nkind = \"acme\"\ndirectory_url = \"http://127.0.0.1:{dead}/dir\"\n"
    );
    let (status, _, body) = get(&pool, &issuers, "/readyz").await;
    // Every replica sees the same issuer outage: the load balancer must keep them, for everything else they do.
    assert_eq!(status, StatusCode::OK, "{body}");
    let readiness: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(readiness["status"], "degraded", "{body}");
    assert_eq!(readiness["down"], serde_json::json!(["issuer:private", "issuer:public"]), "{body}");
    assert_eq!(readiness["degraded"], serde_json::json!(["issuer:private", "issuer:public"]), "{body}");
    assert_eq!(readiness["issuers"]["private"]["detail"], "unreachable", "{body}");
    assert!(!body.contains(&dead.to_string()), "addresses are not published: {body}");
}

/// A slow stand-in ACME CA whose directory counts how often it is asked.
async fn counting_directory() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let directory = axum::Router::new().route(
        "/dir",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                // Slow enough that the whole burst arrives while the first probe is still waiting.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                axum::Json(serde_json::json!({ "newNonce": "http://127.0.0.1:9/nonce", "newAccount": "http://127.0.0.1:9/acct" }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, directory).await });
    (port, hits)
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_burst_of_readiness_requests_shares_one_probe_for_five_seconds(pool: PgPool) {
    use std::sync::atomic::Ordering;
    let (port, hits) = counting_directory().await;
    let issuers =
        format!("[[issuers]]\nid = \"public\"\nkind = \"acme\"\ndirectory_url = \"http://127.0.0.1:{port}/dir\"\n");
    let router = certdesk::http::router(state_for(&pool, &issuers));
    let readyz = || router.clone().oneshot(Request::get("/readyz").body(Body::empty()).unwrap());

    let burst = futures_util::future::join_all((0..20).map(|_| readyz())).await;
    for response in burst {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let readiness: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(readiness["issuers"]["public"]["ok"], true, "{readiness}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "twenty concurrent requests, one probe of the CA");
    assert_eq!(readyz().await.unwrap().status(), StatusCode::OK);
    assert_eq!(hits.load(Ordering::SeqCst), 1, "answered from the last probe");

    tokio::time::sleep(certdesk::http::READINESS_FRESH_FOR + std::time::Duration::from_millis(100)).await;
    assert_eq!(readyz().await.unwrap().status(), StatusCode::OK);
    assert_eq!(hits.load(Ordering::SeqCst), 2, "a probe older than five seconds is repeated");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn readyz_reports_the_real_stack_issuers_when_configured(pool: PgPool) {
    let stack = crate::support::stack();
    let issuers = format!(
        "[[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"{}\"\nmount = \"pki_private_issuer\"\nrole = \"certdesk-demo\"\n\
         [[issuers]]\nid = \"public\"\nkind = \"acme\"\ndirectory_url = \"{}\"\nca_bundle = \"{stack}/pebble/listener-ca.pem\"\n",
        stack.read("openbao/addr"),
        stack.read("pebble/directory_url"),
    );
    let (status, _, body) = get(&pool, &issuers, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn readyz_is_unavailable_until_migrations_are_applied(pool: PgPool) {
    let state = state_for(&pool, "");
    let state = state.with(|shared| shared.migrations = Default::default());
    let response =
        certdesk::http::router(state).oneshot(Request::get("/readyz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("migrations pending"));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn pages_carry_security_headers_and_a_nonce_csp_matching_the_hydration_script(pool: PgPool) {
    let (status, headers, body) = get(&pool, "", "/signin/mfa-required").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("Multi-factor authentication required"), "{body}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("strict-transport-security").is_none(), "no HSTS on plain http");
    let csp = headers["content-security-policy"].to_str().unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the CSP");
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the CSP nonce");
    assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let issuer = reqwest::Url::parse(&crate::support::test_issuer_url()).unwrap().origin().ascii_serialization();
    assert!(csp.contains(&format!("form-action 'self' {issuer}")), "sign-out may end at the provider: {csp}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn every_response_gets_a_fresh_request_id_even_if_the_client_sends_one(pool: PgPool) {
    let request = Request::get("/healthz").header("x-request-id", "spoofed-id").body(Body::empty()).unwrap();
    let (_, headers, _) = send(&pool, "", request).await;
    let id = headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok() && id != "spoofed-id", "{id}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn anonymous_page_requests_are_sent_to_sign_in_and_back(pool: PgPool) {
    for (path, next) in [
        ("/", "%2F"),
        ("/certificates?status=issued", "%2Fcertificates%3Fstatus%3Dissued"),
        ("/no/such", "%2Fno%2Fsuch"),
    ] {
        let (status, headers, _) = get(&pool, "", path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(headers["location"], format!("/auth/login?next={next}"), "{path}");
    }
}

fn rpc(origin: Option<&str>, content_type: &str) -> Request<Body> {
    let mut request = Request::post("/rpc/dashboard_summary").header("content-type", content_type);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.body(Body::from("{}")).unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn anonymous_server_function_calls_get_401(pool: PgPool) {
    let (status, _, body) = send(&pool, "", rpc(Some("http://127.0.0.1:3999"), "application/json")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("unauthenticated"), "{body}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn cross_site_server_function_calls_are_refused_and_audited(pool: PgPool) {
    let cases = [
        (None, "application/json", "no Origin or Referer"),
        (Some("https://evil.example"), "application/json", "foreign Origin"),
        (Some("null"), "application/json", "Origin: null"),
        (Some("http://127.0.0.1:3999"), "application/x-www-form-urlencoded", "application/json"),
    ];
    for (origin, content_type, reason) in cases {
        let (status, _, body) = send(&pool, "", rpc(origin, content_type)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?}: {body}");
        assert!(body.contains(reason), "{body}");
    }
    let refusals: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'request.cross_site_denied' AND outcome = 'denied'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(refusals, 4);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_callback_without_a_pre_login_session_is_refused_and_audited(pool: PgPool) {
    let (status, headers, body) = get(&pool, "", "/auth/callback?code=stolen&state=guessed").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("Sign-in refused") && body.contains("expired or was already completed"), "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let reason: String =
        sqlx::query_scalar("SELECT details->>'reason' FROM audit_events WHERE action = 'auth.sign_in_denied'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(reason, "no pre-login session");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn sign_in_with_the_provider_down_is_a_clear_503(pool: PgPool) {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let toml = crate::support::config_toml(&crate::support::database_url_of(&pool), "127.0.0.1:3999", "")
        .replace(&crate::support::test_issuer_url(), &dead);
    let config = certdesk::config::Config::from_toml_str(&toml).unwrap();
    let state = certdesk::serve::build_state(config).unwrap();
    let state = state.with(|shared| shared.pool = pool.clone());
    let response =
        certdesk::http::router(state).oneshot(Request::get("/auth/login").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("Sign-in is unavailable"));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn sign_in_redirects_to_the_provider_with_pkce_state_nonce_and_acr(pool: PgPool) {
    // Needs the stack's provider for discovery: without the stack this fails, saying how to start it.
    crate::support::stack();
    let (status, headers, _) = get(&pool, "", "/auth/login?next=/certificates").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = reqwest::Url::parse(headers["location"].to_str().unwrap()).unwrap();
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["response_type"], "code");
    assert!(query["state"].len() >= 16 && query["nonce"].len() >= 16 && query["code_challenge"].len() >= 43);
    assert!(headers["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    assert!(headers["set-cookie"].to_str().unwrap().contains("SameSite=Lax"));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_dashboard_counts_come_from_the_database_scoped_to_the_caller(pool: PgPool) {
    let (alice, bob) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    for (id, subject) in [(alice, "alice"), (bob, "bob")] {
        sqlx::query("INSERT INTO users (id, issuer, subject) VALUES ($1, 'https://idp', $2)")
            .bind(id)
            .bind(subject)
            .execute(&pool)
            .await
            .unwrap();
    }
    for (owner, status, days_left) in
        [(alice, "issued", 10), (alice, "issued", 200), (alice, "revoked", 50), (bob, "failed", 0)]
    {
        sqlx::query(
            "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, not_after, revoked_at)
             VALUES ($1, $2, 'private', $3, 'a.cluster.local', 'ec-p256', now() + make_interval(days => $4),
                     CASE WHEN $3 = 'revoked' THEN now() END)",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(owner)
        .bind(status)
        .bind(days_left)
        .execute(&pool)
        .await
        .unwrap();
    }
    let state = state_for(&pool, "");
    let caller = |user_id, role| app::ssr::Caller {
        user_id,
        display_name: "x".into(),
        role,
        csrf_token: String::new(),
        mfa_at: 0,
        credential: app::ssr::Credential::Session,
    };
    let now = time::OffsetDateTime::now_utc();
    let all = app::model::DashboardScope::All;
    let everyone = certdesk::dashboard::summary(&state, &caller(bob, app::model::Role::Admin), all, now).await.unwrap();
    assert_eq!(
        (
            everyone.certificates_total,
            everyone.issued,
            everyone.expiring_within_30_days,
            everyone.revoked,
            everyone.failed
        ),
        (4, 2, 1, 1, 1)
    );
    assert_eq!(everyone.users, 2);
    // Someone who is not an admin or auditor asking for everything gets their own.
    let own = certdesk::dashboard::summary(&state, &caller(alice, app::model::Role::User), all, now).await.unwrap();
    assert_eq!(own.scope, app::model::DashboardScope::Mine);
    assert_eq!((own.certificates_total, own.issued, own.failed), (3, 2, 0));
}
