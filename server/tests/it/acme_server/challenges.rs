//! Challenges on certdesk's ACME server, validated for real: instant-acme answers HTTP-01 from an HTTP server of
//! the test on its own port, certdesk resolving the name through the stack's BIND. A right answer makes the
//! order ready and it is issued; a wrong one makes the authorization and the order invalid with the problem, and
//! finalize is refused; a validation a dead replica left half-way (its lease run out) is finished by another
//! replica's `acme_server` job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use instant_acme::{AuthorizationStatus, ChallengeType, Identifier, NewOrder, Order, OrderStatus, RetryPolicy};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::Served;
use super::orders::account_of;
use crate::support::{audit_details, stack};
use certdesk::jobs::Job;

/// The HTTP-01 answers the test serves: token → body.
pub(super) type Answers = Arc<Mutex<HashMap<String, String>>>;

/// An HTTP server of the test answering `/.well-known/acme-challenge/{token}` from `answers`; its port.
pub(super) async fn responder(answers: Answers) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route(
            "/.well-known/acme-challenge/{token}",
            axum::routing::get(|State(answers): State<Answers>, Path(token): Path<String>| async move {
                answers.lock().unwrap().get(&token).cloned().ok_or(http::StatusCode::NOT_FOUND)
            }),
        )
        .with_state(answers);
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

pub(super) async fn served(pool: &PgPool, http01_port: u16) -> Served {
    let stack = stack();
    let validation = format!(
        "[acme_validation]\nresolver = \"{}\"\nhttp01_port = {http01_port}\ntimeout_seconds = 5\n",
        stack.read("bind/address")
    );
    Served::issuing_with(pool, &stack.read("openbao/addr"), &validation).await
}

/// Answers the order's one HTTP-01 challenge with `body` (the key authorization when `None`) and tells certdesk.
pub(super) async fn answer(order: &mut Order, answers: &Answers, body: Option<&str>) {
    let mut authorizations = order.authorizations();
    let mut authorization = authorizations.next().await.unwrap().unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Pending);
    let mut challenge = authorization.challenge(ChallengeType::Http01).unwrap();
    let key_authorization = challenge.key_authorization().as_str().to_owned();
    answers.lock().unwrap().insert(challenge.token.clone(), body.map(str::to_owned).unwrap_or(key_authorization));
    challenge.set_ready().await.unwrap();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_right_http_01_answer_makes_the_order_ready_and_a_wrong_one_makes_it_invalid(pool: PgPool) {
    let answers = Answers::default();
    let served = served(&pool, responder(answers.clone()).await).await;
    let (account, _) = account_of(&served, "Val", &[], &[]).await;

    let identifiers = [Identifier::Dns("web.priv.example.test".into())];
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await.unwrap();
    answer(&mut order, &answers, None).await;
    assert_eq!(order.poll_ready(&RetryPolicy::default()).await.unwrap(), OrderStatus::Ready);
    order.finalize().await.unwrap();
    order.poll_certificate(&RetryPolicy::default()).await.unwrap();
    let validated = audit_details(&pool, "acme_order.challenge_validated").await;
    assert_eq!(validated.len(), 1);
    assert_eq!(
        (validated[0]["name"].as_str(), validated[0]["challenge"].as_str()),
        (Some("web.priv.example.test"), Some("http-01"))
    );

    let identifiers = [Identifier::Dns("wrong.priv.example.test".into())];
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await.unwrap();
    answer(&mut order, &answers, Some("not the key authorization")).await;
    let instant_acme::Error::Api(error) = order.poll_ready(&RetryPolicy::default()).await.expect_err("invalid") else {
        panic!("an invalid order says why in a problem document")
    };
    assert_eq!(error.r#type.as_deref(), Some("urn:ietf:params:acme:error:unauthorized"), "{error:?}");
    assert_eq!(order.refresh().await.unwrap().status, OrderStatus::Invalid);
    let subproblem = &error.subproblems[0];
    assert_eq!(subproblem.r#type.as_deref(), Some("urn:ietf:params:acme:error:incorrectResponse"), "{error:?}");
    assert_eq!(subproblem.identifier, Some(Identifier::Dns("wrong.priv.example.test".into())));
    {
        let mut authorizations = order.authorizations();
        let authorization = authorizations.next().await.unwrap().unwrap();
        assert_eq!(authorization.status, AuthorizationStatus::Invalid);
    }
    let refused = order.finalize().await.expect_err("an invalid order is not finalized");
    assert!(refused.to_string().contains("orderNotReady"), "{refused}");
    let failed = audit_details(&pool, "acme_order.challenge_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["problem"], "incorrectResponse");
    assert_eq!(served.count("certificates").await, 1, "only the validated order was issued");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_validation_a_dead_replica_left_is_finished_by_the_job_of_another(pool: PgPool) {
    let answers = Answers::default();
    let port = responder(answers.clone()).await;
    let served = served(&pool, port).await;
    let (account, _) = account_of(&served, "Rep", &[], &[]).await;
    let identifiers = [Identifier::Dns("lease.priv.example.test".into())];
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await.unwrap();
    {
        let mut authorizations = order.authorizations();
        let mut authorization = authorizations.next().await.unwrap().unwrap();
        let challenge = authorization.challenge(ChallengeType::Http01).unwrap();
        let key_authorization = challenge.key_authorization().as_str().to_owned();
        answers.lock().unwrap().insert(challenge.token.clone(), key_authorization);
    }
    // What a replica that died right after accepting the answer leaves: the challenge processing, under a lease.
    sqlx::query(
        "UPDATE acme_server_challenges SET status = 'processing', attempts = 1, next_attempt_at = now() + interval '90 seconds'
         WHERE kind = 'http-01'",
    )
    .execute(&pool)
    .await
    .unwrap();

    let other_replica = served_again(&pool, port).await;
    let job = certdesk::acme_server::backstop::AcmeServerBackstop;
    job.run(&other_replica.state, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(order.refresh().await.unwrap().status, OrderStatus::Pending, "the lease still holds");
    job.run(&other_replica.state, OffsetDateTime::now_utc() + time::Duration::minutes(2)).await.unwrap();
    assert_eq!(order.refresh().await.unwrap().status, OrderStatus::Ready, "validated by the other replica");
    order.finalize().await.unwrap();
    order.poll_certificate(&RetryPolicy::default()).await.unwrap();
}

/// A second replica on the same database.
async fn served_again(pool: &PgPool, http01_port: u16) -> Served {
    served(pool, http01_port).await
}
