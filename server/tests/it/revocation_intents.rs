//! Revocation intents against the test stack's real OpenBao and PostgreSQL: the intent and its audit event are
//! recorded before the issuer is told; the `revocations` job finishes an intent a crash left (telling OpenBao again)
//! or rolls it back when the issuer cannot revoke, and leaves claims that are still held alone; a double submit
//! revokes once; a request failed twice is audited once.

use app::model::{Role, TokenScope};
use certdesk::jobs::Job;
use certdesk::revocation::worker::Revocations;
use http::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::issuance::{Api, api_as, extra, pending_intent};
use crate::revocation::{issue, revoke};
use crate::support::{free_port, stack, state_for};

async fn count(pool: &PgPool, action: &str, object: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1 AND object = $2")
        .bind(action)
        .bind(object)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn status_of(pool: &PgPool, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM certificates WHERE id = $1::uuid").bind(id).fetch_one(pool).await.unwrap()
}

/// The rows of the certificate's intents: (outcome, message), oldest first.
async fn intents_of(pool: &PgPool, id: &str) -> Vec<(Option<String>, Option<String>)> {
    sqlx::query_as("SELECT outcome, message FROM revocation_intents WHERE certificate_id = $1::uuid ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// What a crash between writing the intent and recording the issuer's answer leaves: an open intent whose claim
/// ran out (`claim_left` from now: negative for a claimant that died, positive for one still working).
async fn leave_intent(pool: &PgPool, id: &str, owner: Uuid, claim_left: time::Duration) {
    let now = OffsetDateTime::now_utc();
    sqlx::query(
        "INSERT INTO revocation_intents (certificate_id, reason, requested_by, requested_at, claimed_until, attempts)
         VALUES ($1::uuid, 'keyCompromise', $2, $3, $4, 1)",
    )
    .bind(id)
    .bind(owner)
    .bind(now - time::Duration::minutes(5))
    .bind(now + claim_left)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_intent_is_recorded_before_the_issuer_is_told(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state, &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let id = issue(&owner, "intent.cluster.local").await["id"].as_str().unwrap().to_owned();
    let object = format!("certificate:{id}");

    // OpenBao unreachable: the request was recorded and audited before certdesk tried, then rolled back.
    let down = format!("http://127.0.0.1:{}", free_port());
    let cut_off = state_for(&pool, &extra(&stack, Some(&down)));
    let via_dead_issuer =
        Api { router: certdesk::http::router(cut_off), token: owner.token.clone(), user_id: owner.user_id };
    let (status, body) = revoke(&via_dead_issuer, &id, json!({ "reason": "keyCompromise" })).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(status_of(&pool, &id).await, "issued");
    assert_eq!(count(&pool, "certificate.revoke_requested", &object).await, 1);
    assert_eq!(count(&pool, "certificate.revoke_failed", &object).await, 1);
    let intents = intents_of(&pool, &id).await;
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].0.as_deref(), Some("failed"));
    assert!(intents[0].1.as_deref().unwrap_or_default().contains("unavailable"), "{intents:?}");
    let order: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_events WHERE object = $1 ORDER BY seq")
        .bind(&object)
        .fetch_all(&pool)
        .await
        .unwrap();
    let requested = order.iter().position(|action| action == "certificate.revoke_requested").unwrap();
    let failed = order.iter().position(|action| action == "certificate.revoke_failed").unwrap();
    assert!(requested < failed, "the intent is audited first: {order:?}");

    // With OpenBao back, the rolled-back intent does not stand in the way.
    let (status, body) = revoke(&owner, &id, json!({ "reason": "keyCompromise" })).await;
    assert_eq!((status, body["already_revoked"].as_bool()), (StatusCode::OK, Some(false)), "{body}");
    assert_eq!(count(&pool, "certificate.revoke_requested", &object).await, 2);
    assert_eq!(count(&pool, "certificate.revoked", &object).await, 1);
    let outcomes: Vec<Option<String>> = intents_of(&pool, &id).await.into_iter().map(|(outcome, _)| outcome).collect();
    assert_eq!(outcomes, [Some("failed".to_owned()), Some("revoked".to_owned())]);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_job_finishes_what_a_crash_left_or_rolls_it_back(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let crashed = issue(&owner, "crashed.cluster.local").await["id"].as_str().unwrap().to_owned();
    let held = issue(&owner, "held.cluster.local").await["id"].as_str().unwrap().to_owned();
    let unreachable = issue(&owner, "unreachable.cluster.local").await["id"].as_str().unwrap().to_owned();
    leave_intent(&pool, &crashed, owner.user_id, -time::Duration::minutes(1)).await;
    leave_intent(&pool, &held, owner.user_id, time::Duration::minutes(1)).await;

    // A claimant that died: the job tells OpenBao and records the revocation for whoever asked.
    let report = Revocations.run(&state, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.detail, "revoked 1, already revoked 0, failed 0");
    assert_eq!(status_of(&pool, &crashed).await, "revoked");
    let (reason, by): (Option<String>, Option<Uuid>) =
        sqlx::query_as("SELECT revocation_reason, revoked_by FROM certificates WHERE id = $1::uuid")
            .bind(&crashed)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((reason.as_deref(), by), (Some("keyCompromise"), Some(owner.user_id)));
    let actor: String =
        sqlx::query_scalar("SELECT actor FROM audit_events WHERE action = 'certificate.revoked' AND object = $1")
            .bind(format!("certificate:{crashed}"))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(actor, "system:revocations");
    // A claim still held is someone's work in progress: left alone.
    assert_eq!(status_of(&pool, &held).await, "issued");
    assert_eq!(intents_of(&pool, &held).await[0].0, None);

    // The issuer cannot be reached: rolled back (once), the certificate stays valid.
    leave_intent(&pool, &unreachable, owner.user_id, -time::Duration::minutes(1)).await;
    let down = format!("http://127.0.0.1:{}", free_port());
    let cut_off = state_for(&pool, &extra(&stack, Some(&down)));
    let report = Revocations.run(&cut_off, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.detail, "revoked 0, already revoked 0, failed 1");
    assert_eq!(status_of(&pool, &unreachable).await, "issued");
    assert_eq!(intents_of(&pool, &unreachable).await[0].0.as_deref(), Some("failed"));
    assert_eq!(count(&pool, "certificate.revoke_failed", &format!("certificate:{unreachable}")).await, 1);
    assert!(Revocations.run(&cut_off, OffsetDateTime::now_utc()).await.unwrap().idle, "nothing left to do");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_double_submit_revokes_once(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state, &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let id = issue(&owner, "twice.cluster.local").await["id"].as_str().unwrap().to_owned();
    let body = json!({ "reason": "superseded" });
    let (first, second) = tokio::join!(revoke(&owner, &id, body.clone()), revoke(&owner, &id, body));
    assert_eq!((first.0, second.0), (StatusCode::OK, StatusCode::OK), "{} / {}", first.1, second.1);
    let already: Vec<bool> =
        [&first.1, &second.1].iter().map(|body| body["already_revoked"].as_bool().unwrap()).collect();
    assert_eq!(already.iter().filter(|already| !**already).count(), 1, "one of them revoked it: {already:?}");
    let object = format!("certificate:{id}");
    assert_eq!(count(&pool, "certificate.revoke_requested", &object).await, 1);
    assert_eq!(count(&pool, "certificate.revoked", &object).await, 1);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_request_failed_twice_is_audited_once(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let names = ["raced.cluster.local".to_owned()];
    let id = pending_intent(&pool, owner.user_id, "private", &names, "", OffsetDateTime::now_utc()).await;
    // The request and the reconciler both give up on it.
    let actor = certdesk::audit::Actor::job("reconcile");
    certdesk::issuance::record::fail(&state, &actor, id, "OpenBao did not answer").await.unwrap();
    certdesk::issuance::record::fail(&state, &actor, id, "OpenBao did not answer").await.unwrap();
    assert_eq!(count(&pool, "certificate.failed", &format!("certificate:{id}")).await, 1);
    assert_eq!(status_of(&pool, &id.to_string()).await, "failed");
}

/// OpenBao behind an HTTP proxy that cuts certdesk's database (closes `gate` for `outage`) the moment OpenBao has
/// answered a revocation: PostgreSQL restarting right after the CA acted. Returns the proxy's address.
async fn openbao_cutting_the_database_after_revoke(
    upstream: String,
    gate: std::sync::Arc<crate::support::Gate>,
    outage: std::time::Duration,
) -> String {
    let client = reqwest::Client::new();
    let proxy = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let (client, upstream, gate) = (client.clone(), upstream.clone(), gate.clone());
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let mut forwarded = client.request(parts.method, format!("{upstream}{}", parts.uri)).body(body);
            for (name, value) in parts.headers.iter().filter(|(name, _)| *name != http::header::HOST) {
                forwarded = forwarded.header(name, value);
            }
            let answer = forwarded.send().await.unwrap();
            let status = answer.status();
            let bytes = answer.bytes().await.unwrap();
            if parts.uri.path().ends_with("/revoke") && status.is_success() {
                gate.close();
                tokio::spawn(async move {
                    tokio::time::sleep(outage).await;
                    gate.open();
                });
            }
            (status, [(http::header::CONTENT_TYPE, "application/json")], bytes)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, proxy).await.unwrap() });
    format!("http://{address}")
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_database_restart_right_after_the_ca_revoked_is_waited_out_and_recorded_once(pool: PgPool) {
    use app::ssr::Backend;
    let stack = stack();
    let options = pool.connect_options().as_ref().clone();
    let upstream = format!("{}:{}", options.get_host(), options.get_port()).parse().unwrap();
    let gate = std::sync::Arc::new(crate::support::Gate::start(upstream).await);
    let gated = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(1))
        .connect_lazy_with(options.port(gate.port));
    let openbao = openbao_cutting_the_database_after_revoke(
        stack.read("openbao/addr"),
        gate.clone(),
        std::time::Duration::from_millis(1500),
    )
    .await;
    let config = format!("{}[notifications]\nwebhook_allow_private = true\n", extra(&stack, Some(&openbao)));
    let state = state_for(&gated, &config);
    let owner = api_as(&gated, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let settings = app::model::NotificationSettingsInput {
        email_enabled: false,
        webhook_url: format!("http://127.0.0.1:{}/hook", free_port()),
        new_secret: false,
    };
    let backend = certdesk::backend::ServerBackend::new(state.clone());
    let meta = crate::notifications::meta_for(owner.user_id, Role::User);
    backend.save_notification_settings(&meta, settings).await.unwrap();
    let id = issue(&owner, "cut.cluster.local").await["id"].as_str().unwrap().to_owned();
    let object = format!("certificate:{id}");

    // OpenBao revokes, then PostgreSQL is away for 1.5 s: the request waits for it and answers with the revocation.
    let (status, body) = revoke(&owner, &id, json!({ "reason": "keyCompromise" })).await;
    assert_eq!((status, body["already_revoked"].as_bool()), (StatusCode::OK, Some(false)), "{body}");
    assert_eq!(status_of(&pool, &id).await, "revoked");
    let revoked_by: Option<Uuid> = sqlx::query_scalar("SELECT revoked_by FROM certificates WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(revoked_by, Some(owner.user_id), "recorded as the owner's revocation, not left to the CRL");
    assert_eq!(count(&pool, "certificate.revoked", &object).await, 1);
    let outcomes: Vec<Option<String>> = intents_of(&pool, &id).await.into_iter().map(|(outcome, _)| outcome).collect();
    assert_eq!(outcomes, [Some("revoked".to_owned())], "the intent closed, not left to wait out its claim");
    let notices: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notifications WHERE kind = 'revoked' AND certificate_id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(notices, 1, "the owner's notice was recorded with the revocation");
}
