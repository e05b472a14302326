//! Rate limits through the real router and database: a burst from one address on the sign-in routes gets 429
//! with `Retry-After`; behind a trusted proxy `X-Forwarded-For` tells clients apart, from anyone else it is
//! ignored; each person has their own bucket on `/api/v1`.

use std::net::SocketAddr;

use app::model::{Role, TokenScope};
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::support::{config_toml, database_url_of, state_for};

const TIGHT: &str =
    "[limits]\nanonymous_burst = 5\nanonymous_per_second = 1\ncaller_burst = 3\ncaller_per_second = 1\n";

/// `path` as if it came over TCP from `peer`, with an `X-Forwarded-For` when given.
fn from(peer: &str, forwarded_for: Option<&str>, path: &str) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    let mut request = request.body(Body::empty()).unwrap();
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

async fn status_of(router: &axum::Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// A router whose `[server]` trusts the proxies in `trusted` (TOML array items), with the tight limits.
fn router_trusting(pool: &PgPool, trusted: &str) -> axum::Router {
    let toml = config_toml(&database_url_of(pool), "127.0.0.1:3999", TIGHT)
        .replace("secure_cookies = false\n", &format!("secure_cookies = false\ntrusted_proxies = [{trusted}]\n"));
    let config = certdesk::config::Config::from_toml_str(&toml).unwrap();
    let state = certdesk::serve::build_state(config).unwrap().with(|shared| shared.pool = pool.clone());
    state.migrations.mark_applied();
    certdesk::http::router(state)
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_burst_on_the_sign_in_routes_gets_429_with_retry_after(pool: PgPool) {
    let router = certdesk::http::router(state_for(&pool, TIGHT));
    for attempt in 1..=5 {
        let (status, _, _) = status_of(&router, from("192.0.2.10", None, "/signin/second-factor")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "attempt {attempt} is within the burst");
    }
    let (status, headers, body) = status_of(&router, from("192.0.2.10", None, "/signin/second-factor")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "one request a second refills: {retry_after}");
    assert!(body.contains("Too many requests"), "{body}");
    let (status, _, _) = status_of(&router, from("192.0.2.11", None, "/auth/login")).await;
    assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "another address has its own bucket");
    // Pages that need no limit are not limited.
    let (status, _, _) = status_of(&router, from("192.0.2.10", None, "/healthz")).await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn forwarded_for_counts_only_from_a_trusted_proxy(pool: PgPool) {
    let router = router_trusting(&pool, "\"10.0.0.0/8\"");
    let signin = "/signin/second-factor";
    // Through the proxy: each client has its own bucket, whatever it prepends itself.
    for _ in 0..5 {
        let (status, _, _) = status_of(&router, from("10.0.0.5", Some("6.6.6.6, 198.51.100.1"), signin)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (status, _, _) = status_of(&router, from("10.0.0.5", Some("7.7.7.7, 198.51.100.1"), signin)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the same client behind the proxy");
    let (status, _, _) = status_of(&router, from("10.0.0.5", Some("198.51.100.2"), signin)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "another client behind the same proxy");

    // Straight from an untrusted peer, the header is ignored: rotating it does not help.
    for n in 0..5 {
        let forwarded = format!("198.51.100.{}", 10 + n);
        let (status, _, _) = status_of(&router, from("203.0.113.5", Some(&forwarded), signin)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (status, _, _) = status_of(&router, from("203.0.113.5", Some("198.51.100.99"), signin)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // The address the audit log records is the same one.
    let forged = {
        let mut request = from("10.0.0.5", Some("198.51.100.3"), "/auth/logout");
        *request.method_mut() = http::Method::POST;
        request.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
        request
    };
    assert_eq!(status_of(&router, forged).await.0, StatusCode::FORBIDDEN);
    let recorded: String =
        sqlx::query_scalar("SELECT client_addr FROM audit_events WHERE action = 'request.cross_site_denied'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(recorded, "198.51.100.3");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn each_person_has_their_own_bucket_on_the_api(pool: PgPool) {
    let state = state_for(&pool, TIGHT);
    let first = crate::issuance::api_as(&pool, state.clone(), &[], Role::User, TokenScope::Read).await;
    let second = crate::issuance::api_as(&pool, state, &[], Role::User, TokenScope::Read).await;
    for _ in 0..3 {
        assert_eq!(first.send(Request::get("/api/v1/me"), Body::empty()).await.0, StatusCode::OK);
    }
    let request = Request::get("/api/v1/me").header("authorization", format!("Bearer {}", first.token));
    let (status, headers, body) = status_of(&first.router, request.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.contains_key("retry-after"));
    let error: app::AppError = serde_json::from_str(&body).unwrap();
    assert!(matches!(error, app::AppError::TooManyRequests { retry_after_secs: 1.. }), "{body}");
    assert_eq!(second.send(Request::get("/api/v1/me"), Body::empty()).await.0, StatusCode::OK, "another person");
}
