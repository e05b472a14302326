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
async fn readyz_names_each_unreachable_issuer(pool: PgPool) {
    let dead = free_port();
    let issuers = format!(
        "[[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"http://127.0.0.1:{dead}\"\nmount = \"pki\"\nrole = \"r\"\n\
         [[issuers]]\nid = \"public\"\nkind = \"acme\"\ndirectory_url = \"http://127.0.0.1:{dead}/dir\"\n"
    );
    let (status, _, body) = get(&pool, &issuers, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let readiness: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(readiness["down"], serde_json::json!(["issuer:private", "issuer:public"]), "{body}");
    assert_eq!(readiness["issuers"]["private"]["detail"], "unreachable", "{body}");
    assert!(!body.contains(&dead.to_string()), "addresses are not published: {body}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn readyz_reports_the_real_stack_issuers_when_configured(pool: PgPool) {
    // Only meaningful under end2end/stack.sh test, which starts OpenBao and Pebble and says where.
    let Ok(stack) = std::env::var("CERTDESK_TEST_STACK_DIR") else { return };
    let read = |path: &str| std::fs::read_to_string(format!("{stack}/{path}")).unwrap().trim().to_owned();
    let issuers = format!(
        "[[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"{}\"\nmount = \"pki_private_issuer\"\nrole = \"certdesk-demo\"\n\
         [[issuers]]\nid = \"public\"\nkind = \"acme\"\ndirectory_url = \"{}\"\nca_bundle = \"{stack}/pebble/listener-ca.pem\"\n",
        read("openbao/addr"),
        read("pebble/directory_url"),
    );
    let (status, _, body) = get(&pool, &issuers, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn readyz_is_unavailable_until_migrations_are_applied(pool: PgPool) {
    let state = state_for(&pool, "");
    let state = certdesk::state::AppState { migrations: Default::default(), ..state };
    let response =
        certdesk::http::router(state).oneshot(Request::get("/readyz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("migrations pending"));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn pages_carry_security_headers_and_a_nonce_csp_matching_the_hydration_script(pool: PgPool) {
    let (status, headers, body) = get(&pool, "", "/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<h1>Dashboard</h1>"), "{body}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("strict-transport-security").is_none(), "no HSTS on plain http");
    let csp = headers["content-security-policy"].to_str().unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the CSP");
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the CSP nonce");
    assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn every_response_gets_a_fresh_request_id_even_if_the_client_sends_one(pool: PgPool) {
    let request = Request::get("/healthz").header("x-request-id", "spoofed-id").body(Body::empty()).unwrap();
    let (_, headers, _) = send(&pool, "", request).await;
    let id = headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok() && id != "spoofed-id", "{id}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn unknown_paths_render_the_not_found_page_with_404(pool: PgPool) {
    let (status, headers, body) = get(&pool, "", "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("Page not found"), "{body}");
    assert!(headers.contains_key("x-request-id"));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_dashboard_counts_come_from_the_database(pool: PgPool) {
    let owner = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, issuer, subject) VALUES ($1, 'https://idp', 'alice')")
        .bind(owner)
        .execute(&pool)
        .await
        .unwrap();
    for (status, days_left) in [("issued", 10), ("issued", 200), ("revoked", 50), ("failed", 0)] {
        sqlx::query(
            "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, not_after)
             VALUES ($1, $2, 'private', $3, 'a.cluster.local', 'ec-p256', now() + make_interval(days => $4))",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(owner)
        .bind(status)
        .bind(days_left)
        .execute(&pool)
        .await
        .unwrap();
    }
    let request = Request::post("/rpc/dashboard_summary")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&pool, "", request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let summary: app::model::DashboardSummary = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (summary.certificates_total, summary.issued, summary.expiring_within_30_days, summary.revoked, summary.failed),
        (4, 2, 1, 1, 1)
    );
    assert_eq!(summary.users, 1);

    let (status, _, page) = get(&pool, "", "/certificates").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches(r#"<th scope="row">a.cluster.local</th>"#).count(), 4, "{page}");
}
