//! The REST API's OpenAPI document against what the router serves: `/api/v1/openapi.json` is public and 3.1;
//! every `/api/v1` route registered in the code is documented with exactly the methods the router answers, and
//! every request below gets one of the statuses its operation documents (a bad UUID 404, a bad
//! `Idempotency-Key` 400, a JSON body that cannot be read 400), with the `ApiError` shape.

use std::collections::{BTreeMap, BTreeSet};

use app::model::{Role, TokenScope};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::issuance::{Api, api_as};
use crate::support::state_for;

/// Every `/api/v1` path and its methods as the code registers them: the `#[utoipa::path(method, path = …)]`
/// attributes of the server's sources (the only way a route reaches the REST router: `routes!` takes annotated
/// handlers). A plain `.route("/api/v1…")` anywhere would bypass the document, so there must be none.
fn routes_in_code() -> BTreeMap<String, BTreeSet<String>> {
    let mut routes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for bypass in [".route(\"/api/v1", ".nest(\"/api/v1", ".route_service(\"/api/v1"] {
            assert!(
                !source.contains(bypass),
                "{}: an /api/v1 route outside `routes!` is missing from the document",
                path.display()
            );
        }
        for (start, _) in source.match_indices("#[utoipa::path(") {
            let attribute = &source[start..start + source[start..].find(")]\n").unwrap()];
            let method = attribute["#[utoipa::path(".len()..].trim_start().split(',').next().unwrap().trim().to_owned();
            let path_start = attribute.find("path = \"").unwrap() + "path = \"".len();
            let route = &attribute[path_start..path_start + attribute[path_start..].find('"').unwrap()];
            assert!(route.starts_with("/api/v1/"), "{route}");
            routes.entry(route.to_owned()).or_default().insert(method);
        }
    }
    routes
}

/// The document's paths and their methods.
fn routes_in_document(document: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let item = item.as_object().unwrap();
            (path.clone(), item.keys().filter(|key| methods.contains(&key.as_str())).cloned().collect())
        })
        .collect()
}

async fn send(api: &Api, request: http::request::Builder, body: &str) -> (StatusCode, http::HeaderMap, Value) {
    let request = request.header("authorization", format!("Bearer {}", api.token));
    let response = api.router.clone().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The statuses an operation documents.
fn documented_statuses(document: &Value, path: &str, method: &str) -> BTreeSet<u16> {
    document["paths"][path][method]["responses"].as_object().unwrap().keys().map(|code| code.parse().unwrap()).collect()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_document_matches_what_the_router_serves(pool: PgPool) {
    let api = api_as(&pool, state_for(&pool, ""), &["platform-team"], Role::User, TokenScope::ReadWrite).await;

    // Public: no token needed to read the contract.
    let request = Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
    let document: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"), "{}", document["openapi"]);
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(document["components"]["schemas"]["ApiError"].is_object());

    // The same routes and methods in the code and in the document.
    let documented = routes_in_document(&document);
    assert_eq!(routes_in_code(), documented);

    // The router answers each documented method (never 405 or the HTML fallback) with a documented status, and
    // refuses the others with 405.
    let all = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    for (path, methods) in &documented {
        let concrete = path.replace("{id}", &Uuid::new_v4().to_string());
        for method in &all {
            let name = method.as_str().to_ascii_lowercase();
            let request =
                Request::builder().method(method.clone()).uri(&concrete).header("content-type", "application/json");
            let (status, headers, _) = send(&api, request, "{}").await;
            if methods.contains(&name) {
                let statuses = documented_statuses(&document, path, &name);
                assert!(statuses.contains(&status.as_u16()), "{method} {path}: {status} is not among {statuses:?}");
                let html = headers.get("content-type").is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
                assert!(!html, "{method} {path} reached the page fallback");
            } else {
                assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is served but not documented");
            }
        }
    }

    // Malformed inputs: documented statuses, the ApiError shape, the field named.
    let cases = [
        (Request::get("/api/v1/certificates/not-a-uuid"), "", StatusCode::NOT_FOUND, None),
        (Request::post("/api/v1/certificates/not-a-uuid/renew"), "", StatusCode::NOT_FOUND, None),
        (Request::get("/api/v1/revocations/not-a-uuid"), "", StatusCode::NOT_FOUND, None),
        (
            Request::post("/api/v1/certificates")
                .header("content-type", "application/json")
                .header("idempotency-key", "   "),
            "{}",
            StatusCode::BAD_REQUEST,
            Some("idempotency_key"),
        ),
        (
            Request::post(format!("/api/v1/certificates/{}/renew", Uuid::new_v4()))
                .header("idempotency-key", "k".repeat(129)),
            "",
            StatusCode::BAD_REQUEST,
            Some("idempotency_key"),
        ),
        (
            Request::post("/api/v1/certificates").header("content-type", "application/json"),
            "{\"issuer_id\": ",
            StatusCode::BAD_REQUEST,
            Some("body"),
        ),
        (
            Request::post(format!("/api/v1/certificates/{}/revoke", Uuid::new_v4())),
            "{\"reason\": \"keyCompromise\"}",
            StatusCode::BAD_REQUEST,
            Some("body"),
        ),
        (Request::get("/api/v1/certificates?status=sideways"), "", StatusCode::BAD_REQUEST, Some("query")),
    ];
    for (request, body, expected, field) in cases {
        let described = format!("{:?} {:?}", request.method_ref(), request.uri_ref());
        let (status, _, answer) = send(&api, request, body).await;
        assert_eq!(status, expected, "{described}: {answer}");
        assert!(answer["kind"].is_string() && answer["message"].is_string(), "{described}: {answer}");
        assert_eq!(answer["field"].as_str(), field, "{described}: {answer}");
    }
}
