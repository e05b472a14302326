//! Personal API tokens against the real database and router: created tokens work on `/api/v1` with their
//! owner's rights, never on the UI; revoked, expired, unknown and malformed tokens get 401; a read-only token
//! cannot change anything; nobody but an admin revokes another's token; bad input names the field.

use app::AppError;
use app::model::{NewApiToken, Role, TokenScope};
use app::ssr::{Caller, RequestMeta};
use axum::body::Body;
use certdesk::auth::tokens;
use http::{Request, StatusCode};
use sqlx::PgPool;
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

use crate::support::state_for;

/// The groups that make each role under `ROLES`.
fn groups_of(role: Role) -> Vec<String> {
    match role {
        Role::Admin => vec!["certdesk-admins".into()],
        Role::Auditor => vec!["certdesk-auditors".into()],
        Role::User => vec!["platform-team".into()],
    }
}

/// The role configuration the tests' portal runs with: a token's role follows its owner's groups.
const ROLES: &str = "admin_groups = [\"certdesk-admins\"]\nauditor_groups = [\"certdesk-auditors\"]\n";

async fn person(pool: &PgPool, role: Role) -> RequestMeta {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, issuer, subject, display_name, role, groups) VALUES ($1, 'https://idp', $2, 'Pat', $3, $4)",
    )
    .bind(id)
    .bind(id.to_string())
    .bind(role.as_str())
    .bind(groups_of(role))
    .execute(pool)
    .await
    .unwrap();
    let mfa_at = OffsetDateTime::now_utc().unix_timestamp();
    let caller = Caller {
        user_id: id,
        display_name: "Pat".into(),
        role,
        csrf_token: String::new(),
        mfa_at,
        credential: app::ssr::Credential::Session,
    };
    RequestMeta { request_id: "test".into(), client_addr: "127.0.0.1".into(), caller: Some(caller) }
}

/// The step-up window the tests run with.
const STEP_UP: std::time::Duration = std::time::Duration::from_secs(600);

/// The same person, as if their second factor had been proven at `time`.
fn proven_at(meta: &RequestMeta, time: OffsetDateTime) -> RequestMeta {
    let mut meta = meta.clone();
    if let Some(caller) = meta.caller.as_mut() {
        caller.mfa_at = time.unix_timestamp();
    }
    meta
}

fn new_token(scope: TokenScope, days: u32) -> NewApiToken {
    NewApiToken { name: "ci-job".into(), scope, expires_in_days: days, private_keys: false }
}

async fn call(pool: &PgPool, method: &str, path: &str, token: Option<&str>) -> (StatusCode, http::HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response =
        certdesk::http::router(state_for(pool, ROLES)).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

async fn key(pool: &PgPool) -> certdesk::audit::ChainKey {
    state_for(pool, "").chain_key.clone()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_token_acts_as_its_owner_on_the_api_only(pool: PgPool) {
    let admin = person(&pool, Role::Admin).await;
    let created = tokens::create(
        &pool,
        &key(&pool).await,
        &admin,
        &new_token(TokenScope::Read, 30),
        STEP_UP,
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    assert!(created.secret.starts_with("cdk_") && created.secret.len() > 40);
    let (status, _, body) = call(&pool, "GET", "/api/v1/me", Some(&created.secret)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((me["role"].as_str(), me["token_scope"].as_str()), (Some("admin"), Some("read")));
    let (status, _, _) = call(&pool, "GET", "/api/v1/certificates", Some(&created.secret)).await;
    assert_eq!(status, StatusCode::OK);
    let last_used: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens").fetch_one(&pool).await.unwrap();
    assert!(last_used.is_some(), "use is recorded (at most once a minute)");
    // Never accepted for the browser UI.
    let (status, headers, _) = call(&pool, "GET", "/", Some(&created.secret)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers["location"].to_str().unwrap().starts_with("/auth/login"));
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_one(&pool).await.unwrap();
    assert_ne!(stored, created.secret.as_bytes(), "only a hash is stored");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn missing_malformed_unknown_revoked_and_expired_tokens_get_401(pool: PgPool) {
    let user = person(&pool, Role::User).await;
    let key = key(&pool).await;
    let now = OffsetDateTime::now_utc();
    let revoked = tokens::create(&pool, &key, &user, &new_token(TokenScope::Read, 30), STEP_UP, now).await.unwrap();
    tokens::revoke(&pool, &key, &user, revoked.token.id, now).await.unwrap();
    tokens::revoke(&pool, &key, &user, revoked.token.id, now).await.expect("revoking twice is harmless");
    let long_ago = now - time::Duration::days(31);
    let expired =
        tokens::create(&pool, &key, &proven_at(&user, long_ago), &new_token(TokenScope::Read, 30), STEP_UP, long_ago)
            .await
            .unwrap();
    let cases = [
        (None, "missing"),
        (Some("not-a-token"), "malformed"),
        (Some("cdk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "unknown"),
        (Some(revoked.secret.as_str()), "revoked"),
        (Some(expired.secret.as_str()), "expired"),
    ];
    for (token, case) in cases {
        let (status, headers, body) = call(&pool, "GET", "/api/v1/me", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert!(headers.contains_key("www-authenticate"), "{case}");
    }
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT details->>'reason' FROM audit_events WHERE action = 'api.access_denied' AND outcome = 'denied' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(reasons, ["malformed token", "unknown token", "revoked token", "expired token"]);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_read_only_token_cannot_change_anything(pool: PgPool) {
    let user = person(&pool, Role::User).await;
    let read = tokens::create(
        &pool,
        &key(&pool).await,
        &user,
        &new_token(TokenScope::Read, 30),
        STEP_UP,
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let path = format!("/api/v1/certificates/{}/revoke", Uuid::new_v4());
    let (status, _, body) = call(&pool, "POST", &path, Some(&read.secret)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("read-only"), "{body}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn nobody_but_an_admin_can_revoke_someone_elses_token(pool: PgPool) {
    let (owner, other) = (person(&pool, Role::User).await, person(&pool, Role::Auditor).await);
    let key = key(&pool).await;
    let now = OffsetDateTime::now_utc();
    let token = tokens::create(&pool, &key, &owner, &new_token(TokenScope::ReadWrite, 30), STEP_UP, now).await.unwrap();
    let refused = tokens::revoke(&pool, &key, &other, token.token.id, now).await.unwrap_err();
    assert_eq!(refused.into_app_error(&other), AppError::not_found("API token"));
    assert!(tokens::list(&pool, &other).await.unwrap().is_empty(), "lists show only your own tokens");
    let (status, _, _) = call(&pool, "GET", "/api/v1/me", Some(&token.secret)).await;
    assert_eq!(status, StatusCode::OK, "the token still works");

    // An admin sees it among everyone's tokens and revokes it; it stops working at once.
    let admin = person(&pool, Role::Admin).await;
    let everyones = tokens::list_everyones(&pool, &admin, now).await.unwrap();
    assert_eq!(everyones.iter().map(|owned| owned.token.id).collect::<Vec<_>>(), [token.token.id]);
    assert_eq!(everyones[0].owner_id, owner.caller.as_ref().unwrap().user_id);
    let refused = tokens::list_everyones(&pool, &other, now).await.unwrap_err();
    assert_eq!(refused.into_app_error(&other), AppError::Forbidden, "auditors do not list everyone's tokens");
    tokens::revoke(&pool, &key, &admin, token.token.id, now).await.unwrap();
    let (status, _, _) = call(&pool, "GET", "/api/v1/me", Some(&token.secret)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked by an admin");
    let owner_recorded: Option<String> = sqlx::query_scalar(
        "SELECT details->>'owner' FROM audit_events WHERE action = 'api_token.revoked' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owner_recorded, Some(owner.caller.as_ref().unwrap().user_id.to_string()));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn bad_input_names_the_field_and_creates_nothing(pool: PgPool) {
    let user = person(&pool, Role::User).await;
    let key = key(&pool).await;
    let now = OffsetDateTime::now_utc();
    for (input, field) in [
        (NewApiToken { name: "  ".into(), ..new_token(TokenScope::Read, 30) }, "name"),
        (NewApiToken { name: "x".repeat(65), ..new_token(TokenScope::Read, 30) }, "name"),
        (NewApiToken { name: "a\u{7}b".into(), ..new_token(TokenScope::Read, 30) }, "name"),
        (new_token(TokenScope::Read, 0), "expires_in_days"),
        (new_token(TokenScope::Read, 366), "expires_in_days"),
    ] {
        let error = tokens::create(&pool, &key, &user, &input, STEP_UP, now).await.unwrap_err().into_app_error(&user);
        assert!(matches!(&error, AppError::Invalid { field: Some(f), .. } if f == field), "{error:?}");
        assert_eq!(error.status(), 400);
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn creating_and_revoking_are_audited(pool: PgPool) {
    let user = person(&pool, Role::User).await;
    let key = key(&pool).await;
    let now = OffsetDateTime::now_utc();
    let token = tokens::create(&pool, &key, &user, &new_token(TokenScope::Read, 30), STEP_UP, now).await.unwrap();
    tokens::revoke(&pool, &key, &user, token.token.id, now).await.unwrap();
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_events ORDER BY seq").fetch_all(&pool).await.unwrap();
    assert_eq!(actions, ["api_token.created", "api_token.revoked"]);
    let details: String =
        sqlx::query_scalar("SELECT details::text FROM audit_events WHERE seq = 1").fetch_one(&pool).await.unwrap();
    assert!(!details.contains(&token.secret), "the secret never reaches the audit log");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn creating_a_token_needs_a_recent_second_factor(pool: PgPool) {
    let user = person(&pool, Role::User).await;
    let now = OffsetDateTime::now_utc();
    let stale = proven_at(&user, now - time::Duration::minutes(11));
    let error = tokens::create(&pool, &key(&pool).await, &stale, &new_token(TokenScope::Read, 30), STEP_UP, now)
        .await
        .unwrap_err()
        .into_app_error(&stale);
    assert_eq!(error, AppError::StepUpRequired);
    assert_eq!(error.status(), 403);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 0);
    let fresh = proven_at(&user, now - time::Duration::minutes(9));
    tokens::create(&pool, &key(&pool).await, &fresh, &new_token(TokenScope::Read, 30), STEP_UP, now).await.unwrap();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_cookie_riding_along_on_the_api_needs_same_origin_proof(pool: PgPool) {
    let user = person(&pool, Role::User).await;
    let token = tokens::create(
        &pool,
        &key(&pool).await,
        &user,
        &new_token(TokenScope::ReadWrite, 30),
        STEP_UP,
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    // A browser sends its cookies on a cross-site POST; with a cookie present the API demands our Origin.
    for (origin, expected) in [
        (None, StatusCode::FORBIDDEN),
        (Some("https://evil.example"), StatusCode::FORBIDDEN),
        (Some("null"), StatusCode::FORBIDDEN),
        (Some("http://127.0.0.1:3999"), StatusCode::NOT_FOUND),
    ] {
        let mut request = Request::post("/api/v1/certificates/x/revoke")
            .header("authorization", format!("Bearer {}", token.secret))
            .header("cookie", "certdesk_session=whatever");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response =
            certdesk::http::router(state_for(&pool, "")).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), expected, "{origin:?}");
    }
}
