//! Off-boarding ends everything a person holds, against the real OpenBao: their certificates revoked, every API
//! token refused from then on, their browser session ended at its next request, the account disabled until the
//! provider signs them in again with groups that still grant access — one audit event per effect. A token's and a
//! session's authority follow the person's current groups on every use.

use std::time::Duration;

use app::model::{Role, TokenScope};
use axum::body::Body;
use http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::issuance::{api_as, extra, server_key};
use crate::oidc_tokens::{Portal, start_stand_in};
use crate::support::{eventually, stack};

async fn offboard(admin: &crate::issuance::Api, person: Uuid, body: Value) -> (StatusCode, Value) {
    let request =
        http::Request::post(format!("/api/v1/people/{person}/offboard")).header("content-type", "application/json");
    let (status, bytes) = admin.send(request, axum::body::Body::from(body.to_string())).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn me(api: &crate::issuance::Api) -> String {
    let (status, body) = api.send(http::Request::get("/api/v1/me"), axum::body::Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice::<Value>(&body).unwrap()["role"].as_str().unwrap().to_owned()
}

async fn count(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn offboarding_ends_certificates_tokens_sessions_and_the_account(pool: PgPool) {
    let stack = stack();
    let stand_in = start_stand_in().await;
    let portal = Portal::with_config(&pool, &stand_in.issuer, &extra(&stack, None)).await;
    // The person signs in in the browser (their second factor fresh), and works with a token too.
    let cookie = portal.sign_in(&stand_in, "/auth/login", Some(chrono::Utc::now())).await;
    let (status, token) = portal
        .rpc(
            "create_api_token",
            &cookie,
            json!({ "input": { "name": "ci", "scope": "read_write", "expires_in_days": 30 } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let person: Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE subject = 'crafted-subject'").fetch_one(&pool).await.unwrap();
    // Their groups now allow issuance in the test policy (as the provider would say at their next sign-in).
    sqlx::query("UPDATE users SET groups = '{platform-team}' WHERE id = $1").bind(person).execute(&pool).await.unwrap();
    let state = crate::support::state_for(&pool, &extra(&stack, None));
    let theirs = crate::issuance::Api {
        router: certdesk::http::router(state.clone()),
        token: token["secret"].as_str().unwrap().to_owned(),
        user_id: person,
    };
    let mut ids = Vec::new();
    for name in ["a.cluster.local", "b.cluster.local"] {
        let (status, created) = theirs.request(server_key(&[name], "ec-p256", 30), None).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }

    // Bad input first: only admins, a real reason, a real person.
    let admin = api_as(&pool, state.clone(), &["certdesk-admins"], Role::Admin, TokenScope::ReadWrite).await;
    let user = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let reason = json!({ "reason": "affiliationChanged" });
    assert_eq!(offboard(&user, person, reason.clone()).await.0, StatusCode::FORBIDDEN);
    let (status, body) = offboard(&admin, person, json!({ "reason": "fired" })).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")), "{body}");
    assert_eq!(offboard(&admin, Uuid::new_v4(), reason.clone()).await.0, StatusCode::NOT_FOUND);
    let (status, body) = offboard(&admin, admin.user_id, reason.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not oneself: {body}");

    let (status, report) = offboard(&admin, person, reason.clone()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["newly_disabled"], true);
    assert_eq!(report["tokens_revoked"], 1);
    // The certificates are queued with everything else and revoked in the background; the batch says how far.
    let batch = report["revocations"]["id"].as_str().unwrap().to_owned();
    let progress = eventually("the off-boarding's revocations", Duration::from_secs(30), || async {
        let (status, body) =
            admin.send(http::Request::get(format!("/api/v1/revocations/{batch}")), Body::empty()).await;
        assert_eq!(status, StatusCode::OK);
        let body: Value = serde_json::from_slice(&body).unwrap();
        body["done"].as_bool().unwrap().then_some(body)
    })
    .await;
    let states: Vec<&str> =
        progress["items"].as_array().unwrap().iter().map(|item| item["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["revoked", "revoked"], "{progress}");
    for id in &ids {
        let status: String = sqlx::query_scalar("SELECT status FROM certificates WHERE id = $1::uuid")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(status, "revoked");
    }

    // The token is refused, the session is over.
    let (status, _) = theirs.send(http::Request::get("/api/v1/me"), axum::body::Body::empty()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = portal.get("/certificates", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()["location"].to_str().unwrap().starts_with("/auth/login"), "back to sign-in");
    let (status, _) = portal.rpc("list_api_tokens", &cookie, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (action, expected) in
        [("user.disabled", 1), ("user.sessions_ended", 1), ("api_token.revoked", 1), ("certificate.revoked", 2)]
    {
        assert_eq!(count(&pool, action).await, expected, "{action}");
    }

    // Off-boarding again changes nothing more and says so.
    let (status, again) = offboard(&admin, person, reason).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((again["newly_disabled"].as_bool(), again["tokens_revoked"].as_u64()), (Some(false), Some(0)));
    assert_eq!(count(&pool, "user.disabled").await, 1);

    // A portal where only some groups may use certdesk: the provider signs them in without such a group, and they
    // stay out (and disabled).
    let strict = Portal::with_config(
        &pool,
        &stand_in.issuer,
        &format!("user_groups = [\"platform-team\"]\n{}", extra(&stack, None)),
    )
    .await;
    let (login_cookie, state_param, nonce) = strict.begin().await;
    let claims = crate::oidc_tokens::Claims {
        issuer: stand_in.issuer.clone(),
        audience: "certdesk".into(),
        nonce,
        expires_in: 300,
        amr: vec!["pwd", "otp"],
        auth_time: Some(chrono::Utc::now()),
    };
    *stand_in.token.lock().unwrap() = crate::oidc_tokens::sign(&claims, &stand_in.key);
    let response = strict.get(&format!("/auth/callback?code=c&state={state_param}"), Some(&login_cookie)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let disabled: bool = sqlx::query_scalar("SELECT disabled_at IS NOT NULL FROM users WHERE id = $1")
        .bind(person)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(disabled, "still off-boarded");

    // Where anyone the provider signs in may use certdesk, signing in again enables the account; the old
    // session stays over.
    let fresh = portal.sign_in(&stand_in, "/auth/login", Some(chrono::Utc::now())).await;
    assert_eq!(portal.rpc("list_api_tokens", &fresh, json!({})).await.0, StatusCode::OK);
    assert_eq!(portal.rpc("list_api_tokens", &cookie, json!({})).await.0, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_token_acts_with_its_owners_current_groups(pool: PgPool) {
    let stack = stack();
    let state = crate::support::state_for(&pool, &extra(&stack, None));
    let admin = api_as(&pool, state.clone(), &["certdesk-admins"], Role::Admin, TokenScope::ReadWrite).await;
    assert_eq!(me(&admin).await, "admin");
    // The provider dropped them from the admin group at their last sign-in: the token is a user's from now on.
    sqlx::query("UPDATE users SET groups = '{platform-team}' WHERE id = $1")
        .bind(admin.user_id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(me(&admin).await, "user");
}
