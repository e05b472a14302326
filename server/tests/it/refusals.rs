//! Anonymous refusals against the real router and database: a flood of unknown API tokens from one address is
//! counted in full (`certdesk_refusals_total`) but audited once per minute, and the next audited refusal says how
//! many went unaudited before it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::support::state_for;

fn unknown_token_from(peer: &str) -> Request<Body> {
    let mut request = Request::get("/api/v1/me")
        .header("authorization", "Bearer cdk_not-a-token-anyone-was-ever-given")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(format!("{peer}:40000").parse::<SocketAddr>().unwrap()));
    request
}

async fn refusals_counted(router: &axum::Router) -> f64 {
    let response = router.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    let body = String::from_utf8(axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap();
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|line| Ok(line.to_owned()))).unwrap();
    scrape
        .samples
        .iter()
        .find(|sample| {
            sample.metric == "certdesk_refusals_total" && sample.labels.get("action") == Some("api.access_denied")
        })
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(value) | prometheus_parse::Value::Untyped(value) => value,
            _ => 0.0,
        })
        .unwrap_or(0.0)
}

async fn audited(pool: &PgPool) -> Vec<(String, serde_json::Value)> {
    sqlx::query_as("SELECT client_addr, details FROM audit_events WHERE action = 'api.access_denied' ORDER BY seq")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_flood_of_unknown_tokens_is_counted_in_full_but_audited_once_a_minute(pool: PgPool) {
    let router = certdesk::http::router(state_for(&pool, "[metrics]\n"));
    let before = refusals_counted(&router).await;
    for _ in 0..50 {
        let response = router.clone().oneshot(unknown_token_from("192.0.2.20")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let rows = audited(&pool).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "192.0.2.20");
    assert_eq!(rows[0].1["unaudited_before"], 0, "{rows:?}");
    // Other tests refuse tokens in parallel in this process, so the counter grew by at least these fifty.
    let counted = refusals_counted(&router).await - before;
    assert!(counted >= 50.0, "every refusal is counted: {counted}");

    // Another address is another source.
    let response = router.clone().oneshot(unknown_token_from("192.0.2.21")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(audited(&pool).await.len(), 2);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_next_audited_refusal_says_how_many_went_unaudited(pool: PgPool) {
    let state = state_for(&pool, "");
    let window = Duration::from_millis(300);
    let state = state.with(|shared| shared.refusals = certdesk::auth::refusals::RefusalThrottle::new(window));
    let router = certdesk::http::router(state);
    for _ in 0..20 {
        router.clone().oneshot(unknown_token_from("192.0.2.30")).await.unwrap();
    }
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    router.clone().oneshot(unknown_token_from("192.0.2.30")).await.unwrap();
    let rows = audited(&pool).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1].1["unaudited_before"], 19, "{rows:?}");
}
