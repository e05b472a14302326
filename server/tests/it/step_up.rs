//! Step-up means a fresh second factor: the session's MFA time is the provider's `auth_time`, never the moment of
//! the callback, so a silent single-sign-on round trip after an old provider login cannot perform a step-up action,
//! while a `prompt=login` re-authentication can. Also every step-up action refuses a stale factor: API token
//! creation, audit export, an admin revoking, renewing or exporting the key of someone else's certificate, and a
//! change of webhook URL. (The same flow against the stack's real provider is in end2end/tests/stepup.test.mjs.)

use app::AppError;
use app::model::{NotificationSettingsInput, RevocationReason, Role, TokenScope};
use app::ssr::{Caller, RequestMeta};
use certdesk::bundle::{DownloadFormat, RenderOptions};
use http::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::issuance::{api_as, extra, server_key};
use crate::oidc_tokens::{Portal, start_stand_in};
use crate::support::{person, stack, state_for};

fn new_token() -> serde_json::Value {
    json!({ "input": { "name": "deploy", "scope": "read", "expires_in_days": 30 } })
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_second_factor_is_as_fresh_as_the_providers_authentication(pool: PgPool) {
    let stand_in = start_stand_in().await;
    let portal = Portal::new(&pool, &stand_in.issuer).await;
    let two_hours_ago = chrono::Utc::now() - chrono::TimeDelta::hours(2);

    // A silent re-login after a provider login two hours ago (or one without auth_time): signed in, but no
    // step-up action.
    for provider_login in [Some(two_hours_ago), None] {
        let cookie = portal.sign_in(&stand_in, "/auth/login", provider_login).await;
        let (status, body) = portal.rpc("create_api_token", &cookie, new_token()).await;
        assert_eq!((status, body["kind"].as_str()), (StatusCode::FORBIDDEN, Some("step_up_required")), "{body}");
        let (status, _) = portal.rpc("list_api_tokens", &cookie, json!({})).await;
        assert_eq!(status, StatusCode::OK, "the session itself works");
    }

    // Confirming with prompt=login brings a fresh auth_time: the action goes through.
    let cookie = portal.sign_in(&stand_in, "/auth/login?step_up=1", Some(chrono::Utc::now())).await;
    let (status, body) = portal.rpc("create_api_token", &cookie, new_token()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["secret"].as_str().unwrap().starts_with("cdk_"));
}

fn meta_of(caller: &Caller) -> RequestMeta {
    RequestMeta { request_id: "test".into(), client_addr: "127.0.0.1".into(), caller: Some(caller.clone()) }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn every_step_up_action_refuses_a_stale_second_factor(pool: PgPool) {
    let stack = stack();
    let config = format!("{}[notifications]\nwebhook_allow_private = true\n", extra(&stack, None));
    let state = state_for(&pool, &config);
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let issue = |name: &'static str| {
        let owner = &owner;
        async move {
            let (status, created) = owner.request(server_key(&[name], "ec-p256", 30), None).await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            created["id"].as_str().unwrap().parse::<Uuid>().unwrap()
        }
    };
    let (first, second) = (issue("one.cluster.local").await, issue("two.cluster.local").await);
    let mut admin = person(&pool, "Ada", Role::Admin).await;
    let now = OffsetDateTime::now_utc();

    for (fresh, mfa_at) in [(false, now - time::Duration::hours(1)), (true, now)] {
        admin.mfa_at = mfa_at.unix_timestamp();
        let meta = meta_of(&admin);
        let expect = |what: &str, outcome: Result<(), AppError>| {
            if fresh {
                assert_eq!(outcome, Ok(()), "{what} with a fresh second factor");
            } else {
                assert_eq!(outcome, Err(AppError::StepUpRequired), "{what} with a stale second factor");
            }
        };
        let token = app::model::NewApiToken {
            name: format!("t{fresh}"),
            scope: TokenScope::Read,
            expires_in_days: 1,
            private_keys: false,
        };
        let outcome = certdesk::auth::tokens::create(
            &pool,
            &state.chain_key,
            &meta,
            &token,
            state.config.auth.step_up_max_age,
            now,
        )
        .await;
        expect("creating an API token", outcome.map(drop).map_err(|error| error.into_app_error(&meta)));

        let query = app::model::AuditQuery::default();
        let format = certdesk::audit_viewer::export::ExportFormat::JsonLines;
        let outcome = certdesk::audit_viewer::export::export(&state, &meta, &query, format, now).await;
        expect("exporting the audit log", outcome.map(drop).map_err(|error| error.into_app_error(&meta)));

        let outcome =
            certdesk::renewal::manual::renew_now(&state, &meta, &admin, first, Some(format!("renew-{fresh}"))).await;
        expect("renewing someone else's certificate", outcome.map(drop).map_err(|error| error.into_app_error(&meta)));

        let format: DownloadFormat = "key-pem".parse().unwrap();
        let outcome = certdesk::downloads::download(
            &state,
            &meta,
            &admin,
            second,
            format,
            &RenderOptions::default(),
            Some("ticket OPS-7"),
        )
        .await;
        expect("exporting someone else's key", outcome.map(drop).map_err(|error| error.into_app_error(&meta)));

        let hook = NotificationSettingsInput {
            email_enabled: true,
            webhook_url: format!("http://127.0.0.1:9/{fresh}"),
            new_secret: false,
        };
        let outcome = certdesk::notifications::settings::save(&state, &meta, &admin, hook, now).await;
        expect("pointing the webhook somewhere new", outcome.map(drop).map_err(|error| error.into_app_error(&meta)));

        // Last: revoking takes the certificate away.
        let outcome = certdesk::revocation::revoke(&state, &meta, &admin, second, RevocationReason::Superseded).await;
        expect("revoking someone else's certificate", outcome.map(drop).map_err(|error| error.into_app_error(&meta)));
    }

    // Turning a webhook off is no step-up action.
    admin.mfa_at = 0;
    let off = NotificationSettingsInput { email_enabled: true, webhook_url: String::new(), new_secret: false };
    certdesk::notifications::settings::save(&state, &meta_of(&admin), &admin, off, now).await.unwrap();
}
