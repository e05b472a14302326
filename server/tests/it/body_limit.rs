//! The request-body limit on the real router: server functions (which read their body themselves), the REST API
//! and forms refuse a body over `server.max_body_kib` with 413 in their own style, declared or chunked; bodies
//! under it still reach their handler and are read in full.

use app::model::{Role, TokenScope};
use axum::body::Body;
use http::{Request, StatusCode};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::support::{config_toml, database_url_of, state_for};

const ORIGIN: &str = "http://127.0.0.1:3999";

async fn send(router: axum::Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = router.oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// `{}` followed by spaces up to `size` bytes: valid JSON of any length.
fn padded_json(size: usize) -> String {
    format!("{{}}{}", " ".repeat(size.saturating_sub(2)))
}

fn rpc_session(body: Body, length: Option<usize>) -> Request<Body> {
    let mut request = Request::post("/rpc/session").header("content-type", "application/json").header("origin", ORIGIN);
    if let Some(length) = length {
        request = request.header("content-length", length);
    }
    request.body(body).unwrap()
}

/// A body without `Content-Length`, arriving in 16 KiB chunks as a chunked upload would.
fn chunked(text: String) -> Body {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        text.into_bytes().chunks(16 * 1024).map(|chunk| Ok(bytes::Bytes::copy_from_slice(chunk))).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_server_function_body_over_the_limit_is_refused_with_413_json(pool: PgPool) {
    let router = certdesk::http::router(state_for(&pool, ""));
    let big = padded_json(300 * 1024);
    let (status, headers, body) = send(router.clone(), rpc_session(Body::from(big.clone()), Some(big.len()))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let error: app::AppError = serde_json::from_str(&body).expect("the UI can read it as an AppError");
    assert!(error.to_string().contains("larger than the 256 KiB"), "{body}");

    let (status, _, body) = send(router.clone(), rpc_session(chunked(big), None)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "a chunked body is counted too: {body}");

    // Under the limit the server function reads the whole body and answers, declared or chunked.
    let fits = padded_json(200 * 1024);
    let (status, _, body) = send(router.clone(), rpc_session(Body::from(fits.clone()), Some(fits.len()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(router, rpc_session(chunked(fits), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_api_body_over_the_limit_is_refused_before_authentication(pool: PgPool) {
    let api = crate::issuance::api_as(&pool, state_for(&pool, ""), &[], Role::User, TokenScope::ReadWrite).await;
    let big = padded_json(300 * 1024);
    for token in [Some(api.token.as_str()), None] {
        let mut request = Request::post("/api/v1/certificates")
            .header("content-type", "application/json")
            .header("content-length", big.len());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let (status, _, body) = send(api.router.clone(), request.body(Body::from(big.clone())).unwrap()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!((error["kind"].as_str(), error["field"].as_str()), (Some("invalid"), Some("body")), "{body}");
    }
    // A normal request reaches the handler, which reads it and names what is wrong with it.
    let request = serde_json::json!({ "issuer_id": "nowhere", "dns_names": ["a.cluster.local"], "validity_days": 30,
                                      "key": { "source": "generate", "key_type": "ec-p256" } });
    let (status, body) = api.request(request, None).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("issuer_id")), "{body}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_form_body_over_the_limit_gets_the_html_problem_page(pool: PgPool) {
    let router = certdesk::http::router(state_for(&pool, ""));
    let form = format!("csrf_token={}", "x".repeat(300 * 1024));
    let request = Request::post("/auth/logout")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", ORIGIN)
        .header("content-length", form.len())
        .body(Body::from(form))
        .unwrap();
    let (status, headers, body) = send(router, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("Request too large") && body.contains("256 KiB"), "{body}");
    assert!(headers.contains_key("x-request-id"), "the refusal passes the usual middleware");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_limit_follows_the_configuration(pool: PgPool) {
    let toml = config_toml(&database_url_of(&pool), "127.0.0.1:3999", "")
        .replace("secure_cookies = false\n", "secure_cookies = false\nmax_body_kib = 1\n");
    let config = certdesk::config::Config::from_toml_str(&toml).unwrap();
    assert_eq!(config.server.max_body_bytes, 1024);
    let state = certdesk::serve::build_state(config).unwrap().with(|shared| shared.pool = pool.clone());
    state.migrations.mark_applied();
    let router = certdesk::http::router(state);
    let over = padded_json(2048);
    let (status, _, body) = send(router.clone(), rpc_session(Body::from(over.clone()), Some(over.len()))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("1 KiB"), "{body}");
    let (status, _, body) = send(router, rpc_session(Body::from("{}"), Some(2))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let refused = config_toml(&database_url_of(&pool), "127.0.0.1:3999", "")
        .replace("secure_cookies = false\n", "secure_cookies = false\nmax_body_kib = 0\n");
    let error = certdesk::config::Config::from_toml_str(&refused).unwrap_err().to_string();
    assert!(error.contains("server.max_body_kib"), "{error}");
}
