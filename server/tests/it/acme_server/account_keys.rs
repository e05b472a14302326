//! People's ACME account keys through the service the server functions call: creation needs a recent second factor
//! and returns the HMAC key once (sealed at rest, never in the audit log); people list their own keys and admins
//! everyone's; another person's key is "not found"; revoking deactivates the accounts bound to the key; every change
//! has its audit row. The server functions themselves are mounted behind the session gate.

use app::AppError;
use app::model::{NewAcmeAccountKey, Role};
use axum::body::Body;
use certdesk::acme_server::account_keys;
use http::{Request, StatusCode};
use sqlx::PgPool;
use time::OffsetDateTime;
use tower::ServiceExt;

use super::{Served, fresh, hmac_key};
use crate::support::person;

fn input() -> NewAcmeAccountKey {
    NewAcmeAccountKey {
        name: "prod cluster".into(),
        expires_in_days: 90,
        allowed_names: vec!["*.svc.example.test".into()],
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn creating_needs_step_up_and_shows_the_hmac_key_once(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let now = OffsetDateTime::now_utc();
    let pat = person(&pool, "Pat", Role::User).await;
    let mut stale = fresh(pat.clone());
    stale.caller.as_mut().unwrap().mfa_at = (now - time::Duration::hours(1)).unix_timestamp();
    let refused = account_keys::create(&served.state, &stale, &input(), now).await.unwrap_err();
    assert_eq!(refused.into_app_error(&stale), AppError::StepUpRequired);
    assert_eq!(served.count("acme_account_keys").await, 0);

    let meta = fresh(pat);
    let created = account_keys::create(&served.state, &meta, &input(), now).await.unwrap();
    assert!(created.key.key_id.starts_with("cdk-eab-"), "{}", created.key.key_id);
    assert_eq!(hmac_key(&created).len(), 32, "256 bits");
    assert_eq!(created.key.allowed_names, vec!["*.svc.example.test".to_owned()]);
    let (ciphertext, details): (Vec<u8>, serde_json::Value) = sqlx::query_as(
        "SELECT k.hmac_key_ciphertext, a.details FROM acme_account_keys k
         JOIN audit_events a ON a.object = 'acme_account_key:' || k.id AND a.action = 'acme_account_key.created'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!ciphertext.windows(32).any(|window| window == hmac_key(&created).as_slice()), "sealed at rest");
    assert!(!details.to_string().contains(&created.hmac_key), "never in the audit log");
    assert_eq!(details["key_id"], created.key.key_id);

    let listed = account_keys::list(&served.state, &meta).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key_id, created.key.key_id);
    let serialized = serde_json::to_string(&listed).unwrap();
    assert!(!serialized.contains(&created.hmac_key), "a listed key never carries its HMAC key");

    let bad = NewAcmeAccountKey { name: " ".into(), ..input() };
    let error = account_keys::create(&served.state, &meta, &bad, now).await.unwrap_err().into_app_error(&meta);
    assert!(matches!(error, AppError::Invalid { ref field, .. } if field.as_deref() == Some("name")), "{error:?}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn people_see_and_revoke_their_own_keys_and_admins_everyones(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let now = OffsetDateTime::now_utc();
    let (pat, created) = served.person_with_key("Pat").await;
    let sam = fresh(person(&pool, "Sam", Role::User).await);
    let ada = fresh(person(&pool, "Ada", Role::Admin).await);

    assert!(account_keys::list(&served.state, &sam).await.unwrap().is_empty(), "not Sam's");
    let forbidden = account_keys::list_everyones(&served.state, &sam).await.unwrap_err().into_app_error(&sam);
    assert_eq!(forbidden, AppError::Forbidden);
    let everyone = account_keys::list_everyones(&served.state, &ada).await.unwrap();
    assert_eq!(everyone.iter().map(|key| key.owner_name.as_str()).collect::<Vec<_>>(), ["Pat"]);

    let not_found = account_keys::revoke(&served.state, &sam, created.key.id, now).await.unwrap_err();
    assert!(matches!(not_found.into_app_error(&sam), AppError::NotFound { .. }), "another person's key");
    account_keys::revoke(&served.state, &pat, created.key.id, now).await.unwrap();
    assert!(account_keys::list(&served.state, &pat).await.unwrap()[0].revoked);
    let again = account_keys::revoke(&served.state, &pat, created.key.id, now).await.unwrap_err().into_app_error(&pat);
    assert!(matches!(again, AppError::Invalid { .. }), "{again:?}");

    // An admin revokes anyone's key.
    let (_, second) = served.person_with_key("Kim").await;
    account_keys::revoke(&served.state, &ada, second.key.id, now).await.unwrap();
    let audit = served.acme_audit().await;
    let actions: Vec<&str> = audit.iter().map(|(action, ..)| action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "acme_account_key.created",
            "acme_account_key.revoked",
            "acme_account_key.created",
            "acme_account_key.revoked"
        ]
    );
    let ada_id = ada.caller.as_ref().unwrap().user_id;
    assert_eq!(
        audit[3],
        ("acme_account_key.revoked".into(), format!("user:{ada_id}"), format!("acme_account_key:{}", second.key.id))
    );
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_server_functions_are_behind_the_session_gate(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    for endpoint in ["create_acme_account_key", "list_acme_account_keys", "revoke_acme_account_key"] {
        let request = Request::post(format!("/rpc/{endpoint}"))
            .header("content-type", "application/json")
            .header("origin", served.base.as_str())
            .body(Body::from("{}"))
            .unwrap();
        let response = certdesk::http::router(served.state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{endpoint} without a session");
    }
}
