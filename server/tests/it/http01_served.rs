//! HTTP-01 answers served from each replica's memory: once a replica answered a token, it answers it again without
//! reading the database (shown with `acme_challenges` locked by another connection), an unknown token is always
//! looked up (another replica may have stored it a moment ago), and an order's finish takes its answers down on
//! every replica through PostgreSQL NOTIFY.

use std::time::Duration;

use app::model::Role;
use axum::body::Body;
use certdesk::db::acme::{NewChallenge, finish_challenges, insert_challenge};
use http::{Request, StatusCode};
use sqlx::PgPool;
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

use crate::support::{eventually, person, state_for};

async fn get(router: &axum::Router, token: &str) -> (StatusCode, String) {
    let request = Request::get(format!("/.well-known/acme-challenge/{token}")).body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// `token` asked while another connection holds `acme_challenges` locked: `Some` only when the answer needed no
/// read of it. A plain request first, so a replica whose listener is connected keeps what it reads.
async fn from_memory(pool: &PgPool, router: &axum::Router, token: &str) -> Option<(StatusCode, String)> {
    get(router, token).await;
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE acme_challenges IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_millis(500), get(router, token)).await.ok();
    lock.rollback().await.unwrap();
    answer
}

async fn order_with_challenge(pool: &PgPool, owner: Uuid, token: &str, response: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm)
         VALUES ($1, $2, 'acme', 'pending', 'www.example.test', 'EC P-256')",
    )
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await
    .unwrap();
    let challenge = NewChallenge {
        certificate_id: id,
        identifier: "www.example.test",
        kind: "http-01",
        token: Some(token),
        response,
        dns_record: None,
        dns_server: None,
        now: OffsetDateTime::now_utc(),
    };
    insert_challenge(pool, &challenge).await.unwrap();
    id
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn answers_are_served_from_memory_and_an_order_s_finish_takes_them_down_everywhere(pool: PgPool) {
    let owner = person(&pool, "Olga", Role::User).await.user_id;
    let token = "tok_ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789";
    let response = format!("{token}.thumbprint_of_the_account_key");
    let certificate = order_with_challenge(&pool, owner, token, &response).await;
    let replicas = [certdesk::http::router(state_for(&pool, "")), certdesk::http::router(state_for(&pool, ""))];

    for replica in &replicas {
        assert_eq!(get(replica, token).await, (StatusCode::OK, response.clone()));
        let served = eventually("the answer served from memory", Duration::from_secs(10), || async {
            from_memory(&pool, replica, token).await.filter(|(status, _)| *status == StatusCode::OK)
        })
        .await;
        assert_eq!(served.1, response);
    }

    // A token no order stored is looked up every time: it waits for the lock rather than answering from memory.
    let unknown = "unknown_token_0123456789abcdef";
    for replica in &replicas {
        assert_eq!(get(replica, unknown).await.0, StatusCode::NOT_FOUND);
        assert!(from_memory(&pool, replica, unknown).await.is_none(), "a miss must be read from the database");
    }

    // Stored by another replica after this one missed it: the next request finds it.
    let late_token = "late_token_0123456789abcdefgh";
    let late_response = format!("{late_token}.thumbprint");
    order_with_challenge(&pool, owner, late_token, &late_response).await;
    assert_eq!(get(&replicas[0], late_token).await, (StatusCode::OK, late_response));

    finish_challenges(&pool, certificate).await.unwrap();
    for replica in &replicas {
        eventually("the finished order's answer taken down", Duration::from_secs(10), || async {
            (get(replica, token).await.0 == StatusCode::NOT_FOUND).then_some(())
        })
        .await;
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn malformed_tokens_are_refused_without_a_lookup(pool: PgPool) {
    let replica = certdesk::http::router(state_for(&pool, ""));
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE acme_challenges IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    for token in ["short", "has.a.dot.in.it.0123456789", &"x".repeat(129)] {
        let answer = tokio::time::timeout(Duration::from_millis(500), get(&replica, token)).await;
        assert_eq!(answer.expect("answered without the database").0, StatusCode::NOT_FOUND, "{token}");
    }
    lock.rollback().await.unwrap();
}
