//! PostgreSQL restarted in the middle of an order, as certdesk sees it: its database behind a `Gate` that cuts
//! every connection and refuses new ones, then lets them through again. Requests while it is away are answered
//! 503 with `Retry-After` (never a 500, nothing half-written), the client's retries then succeed; a validation whose
//! outcome could not be written is done again once its lease runs out; the order ends with one certificate.

use std::sync::Arc;
use std::time::Duration;

use instant_acme::{ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use time::OffsetDateTime;

use super::challenges::{Answers, answer, responder, served};
use super::orders::account_of;
use crate::support::Gate;
use certdesk::jobs::Job;

/// A pool reaching the test's database through a gate, failing fast while the gate is closed.
async fn through_gate(pool: &PgPool) -> (Gate, PgPool) {
    let options = pool.connect_options().as_ref().clone();
    let upstream = format!("{}:{}", options.get_host(), options.get_port()).parse().unwrap();
    let gate = Gate::start(upstream).await;
    let gated = PgPoolOptions::new().acquire_timeout(Duration::from_secs(2)).connect_lazy_with(options.port(gate.port));
    (gate, gated)
}

fn unavailable(error: instant_acme::Error) -> instant_acme::Problem {
    let instant_acme::Error::Api(problem) = error else { panic!("expected a problem document, got {error}") };
    assert_eq!(problem.status, Some(503), "{problem:?}");
    assert_eq!(problem.r#type.as_deref(), Some("urn:ietf:params:acme:error:serverInternal"), "{problem:?}");
    problem
}

async fn challenge_status(pool: &PgPool, name: &str) -> String {
    sqlx::query_scalar(
        "SELECT c.status FROM acme_server_challenges c JOIN acme_server_authorizations a ON a.id = c.authorization_id
         WHERE a.identifier = $1 AND c.kind = 'http-01'",
    )
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn requests_while_the_database_restarts_are_told_to_come_back_and_the_order_completes(pool: PgPool) {
    let (gate, gated) = through_gate(&pool).await;
    let answers = Answers::default();
    let served = served(&gated, responder(answers.clone()).await).await;
    let (account, _) = account_of(&served, "Restart", &[], &[]).await;
    let name = "restart.priv.example.test";
    let mut order = account.new_order(&NewOrder::new(&[Identifier::Dns(name.into())])).await.unwrap();

    gate.close();
    // A nonce is made without the database, so newNonce still answers; using one needs the database: 503.
    let nonce = reqwest::Client::new().head(served.url("new-nonce")).send().await.unwrap();
    assert_eq!(nonce.status(), 200);
    assert!(nonce.headers().contains_key("replay-nonce"));
    let other = [Identifier::Dns("other.priv.example.test".into())];
    match account.new_order(&NewOrder::new(&other)).await {
        Err(error) => {
            let problem = unavailable(error);
            assert!(problem.detail.as_deref().unwrap_or_default().contains("database"), "{problem:?}");
        }
        Ok(_) => panic!("a newOrder while the database is away was accepted"),
    }
    // The order's authorization, read while it is away.
    {
        let mut authorizations = order.authorizations();
        let Some(Err(error)) = authorizations.next().await else { panic!("the database is away: no authorization") };
        let problem = unavailable(error);
        assert!(problem.detail.as_deref().unwrap_or_default().contains("database"), "{problem:?}");
    }
    gate.open();

    assert_eq!(challenge_status(&pool, name).await, "pending", "nothing changed while it was away");
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM acme_server_orders").fetch_one(&pool).await.unwrap();
    assert_eq!(orders, 1, "the refused newOrder stored nothing");
    answer(&mut order, &answers, None).await;
    assert_eq!(order.poll_ready(&RetryPolicy::default()).await.unwrap(), OrderStatus::Ready);
    order.finalize().await.unwrap();
    order.poll_certificate(&RetryPolicy::default()).await.unwrap();
    let issued: i64 =
        sqlx::query_scalar("SELECT count(*) FROM certificates WHERE status = 'issued'").fetch_one(&pool).await.unwrap();
    assert_eq!(issued, 1);
    certdesk::audit::verify_chain(&pool, &served.state.chain_key).await.unwrap().expect("the audit chain verifies");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_validation_whose_outcome_the_restart_lost_is_done_again_after_its_lease(pool: PgPool) {
    let (gate, gated) = through_gate(&pool).await;
    // The answer comes only once the test let it: by then PostgreSQL has gone away.
    let release = Arc::new(tokio::sync::Notify::new());
    let slow_answers = Answers::default();
    let port = slow_responder(slow_answers.clone(), release.clone()).await;
    let served = served(&gated, port).await;
    let (account, _) = account_of(&served, "Lost", &[], &[]).await;
    let name = "lost.priv.example.test";
    let mut order = account.new_order(&NewOrder::new(&[Identifier::Dns(name.into())])).await.unwrap();
    {
        let mut authorizations = order.authorizations();
        let mut authorization = authorizations.next().await.unwrap().unwrap();
        let mut challenge = authorization.challenge(ChallengeType::Http01).unwrap();
        let key_authorization = challenge.key_authorization().as_str().to_owned();
        slow_answers.lock().unwrap().insert(challenge.token.clone(), key_authorization);
        challenge.set_ready().await.unwrap();
    }
    assert_eq!(challenge_status(&pool, name).await, "processing");
    gate.close();
    release.notify_waiters();
    // The validator got its answer and could not write the outcome: the challenge stays under its lease.
    tokio::time::sleep(Duration::from_secs(4)).await;
    gate.open();
    assert_eq!(challenge_status(&pool, name).await, "processing", "the outcome was lost with the connection");

    let job = certdesk::acme_server::backstop::AcmeServerBackstop;
    job.run(&served.state, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(challenge_status(&pool, name).await, "processing", "the lease still holds");
    release.notify_waiters();
    let answered = release.clone();
    // From now on the responder answers at once.
    tokio::spawn(async move {
        loop {
            answered.notify_waiters();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    job.run(&served.state, OffsetDateTime::now_utc() + time::Duration::minutes(2)).await.unwrap();
    assert_eq!(challenge_status(&pool, name).await, "valid");
    assert_eq!(order.refresh().await.unwrap().status, OrderStatus::Ready);
    order.finalize().await.unwrap();
    order.poll_certificate(&RetryPolicy::default()).await.unwrap();
    let outcomes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action IN ('acme_order.challenge_validated', 'acme_order.challenge_failed')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(outcomes, 1, "one outcome recorded, not the lost one as well");
}

/// An HTTP-01 responder that holds each answer until `release` is notified.
async fn slow_responder(answers: Answers, release: Arc<tokio::sync::Notify>) -> u16 {
    use axum::extract::{Path, State};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app =
        axum::Router::new()
            .route(
                "/.well-known/acme-challenge/{token}",
                axum::routing::get(
                    |State((answers, release)): State<(Answers, Arc<tokio::sync::Notify>)>,
                     Path(token): Path<String>| async move {
                        release.notified().await;
                        answers.lock().unwrap().get(&token).cloned().ok_or(http::StatusCode::NOT_FOUND)
                    },
                ),
            )
            .with_state((answers, release));
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}
