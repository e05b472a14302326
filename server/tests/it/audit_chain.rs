//! The audit chain against real PostgreSQL: append, verify, atomicity with the caller's transaction, the
//! append-only trigger, and detection of altered, inserted and deleted events (tampering done with SQL as the
//! table owner, who can switch the trigger off — as an attacker with database access could).

use certdesk::audit::{self, AuditEntry, ChainBreak, ChainKey, Outcome, RawEntry, VerifyReport, verify_chain};
use secrecy::SecretString;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::support::{CHAIN_KEY, tamper};

fn key() -> ChainKey {
    ChainKey::new(SecretString::from(CHAIN_KEY.to_owned()))
}

fn entry(n: usize) -> AuditEntry {
    AuditEntry::from(RawEntry {
        actor: format!("user:{n}"),
        action: "certificate.issue".into(),
        object: format!("certificate:{n}"),
        outcome: Outcome::Success,
        request_id: format!("req-{n}"),
        client_addr: "127.0.0.1".into(),
        details: json!({ "names": [format!("n{n}.cluster.local")], "ttl": "720h", "z": { "b": 1, "a": 2.5 } }),
    })
}

async fn append_events(pool: &PgPool, count: usize) {
    for n in 1..=count {
        let mut tx = pool.begin().await.unwrap();
        audit::append(&mut tx, &key(), &entry(n), OffsetDateTime::now_utc()).await.unwrap();
        tx.commit().await.unwrap();
    }
}

async fn verify(pool: &PgPool) -> Result<VerifyReport, ChainBreak> {
    verify_chain(pool, &key()).await.unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn empty_log_verifies(pool: PgPool) {
    assert_eq!(verify(&pool).await, Ok(VerifyReport { events: 0, verified_through: 0 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn appended_events_verify_in_order(pool: PgPool) {
    append_events(&pool, 5).await;
    assert_eq!(verify(&pool).await, Ok(VerifyReport { events: 5, verified_through: 5 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_rolled_back_action_leaves_no_audit_row(pool: PgPool) {
    let mut tx = pool.begin().await.unwrap();
    audit::append(&mut tx, &key(), &entry(1), OffsetDateTime::now_utc()).await.unwrap();
    tx.rollback().await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&pool).await.unwrap();
    assert_eq!(rows, 0);
    append_events(&pool, 1).await;
    assert_eq!(verify(&pool).await, Ok(VerifyReport { events: 1, verified_through: 1 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn concurrent_writers_never_fork_the_chain(pool: PgPool) {
    let writers = (1..=16).map(|n| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            audit::append(&mut tx, &key(), &entry(n), OffsetDateTime::now_utc()).await.unwrap();
            tx.commit().await.unwrap();
        })
    });
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(verify(&pool).await, Ok(VerifyReport { events: 16, verified_through: 16 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_database_refuses_update_delete_and_truncate(pool: PgPool) {
    append_events(&pool, 2).await;
    for statement in [
        "UPDATE audit_events SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
        "TRUNCATE audit_events",
    ] {
        let error = sqlx::query(statement).execute(&pool).await.expect_err(statement);
        let code = error.as_database_error().and_then(|db| db.code()).map(|code| code.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{statement}: {error}");
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    assert_eq!(verify(&pool).await, Ok(VerifyReport { events: 2, verified_through: 2 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_edited_event_is_reported_as_altered(pool: PgPool) {
    append_events(&pool, 5).await;
    tamper(&pool, &["UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 3"]).await;
    assert_eq!(verify(&pool).await, Err(ChainBreak::Altered { seq: 3 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn edited_details_are_reported_as_altered(pool: PgPool) {
    append_events(&pool, 3).await;
    tamper(&pool, &[r#"UPDATE audit_events SET details = details || '{"ttl":"1h"}' WHERE seq = 2"#]).await;
    assert_eq!(verify(&pool).await, Err(ChainBreak::Altered { seq: 2 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_deleted_event_is_reported(pool: PgPool) {
    append_events(&pool, 5).await;
    tamper(&pool, &["DELETE FROM audit_events WHERE seq = 3"]).await;
    assert_eq!(verify(&pool).await, Err(ChainBreak::Deleted { seq: 4 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_deletion_hidden_by_renumbering_is_reported(pool: PgPool) {
    append_events(&pool, 5).await;
    tamper(
        &pool,
        &[
            "DELETE FROM audit_events WHERE seq = 3",
            "UPDATE audit_events SET seq = seq + 1000 WHERE seq > 3",
            "UPDATE audit_events SET seq = seq - 1001 WHERE seq > 1000",
            "UPDATE audit_chain_head SET seq = 4",
        ],
    )
    .await;
    assert_eq!(verify(&pool).await, Err(ChainBreak::Deleted { seq: 3 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn deleting_the_newest_events_is_reported(pool: PgPool) {
    append_events(&pool, 5).await;
    tamper(&pool, &["DELETE FROM audit_events WHERE seq >= 4"]).await;
    assert_eq!(verify(&pool).await, Err(ChainBreak::TruncatedTail { head_seq: 5, last_seq: 3 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_inserted_event_is_reported(pool: PgPool) {
    append_events(&pool, 5).await;
    // Make room at seq 3 and forge an event that links to event 2, as someone without the key would.
    tamper(
        &pool,
        &[
            "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3",
            "UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000",
            "INSERT INTO audit_events (seq, occurred_at, actor, action, object, outcome, prev_hash, hash)
             SELECT 3, now(), 'user:mallory', 'certificate.issue', '', 'success', hash, sha256(hash)
             FROM audit_events WHERE seq = 2",
            "UPDATE audit_chain_head SET seq = 6",
        ],
    )
    .await;
    assert_eq!(verify(&pool).await, Err(ChainBreak::Inserted { seq: 3 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_event_appended_behind_the_writer_is_reported(pool: PgPool) {
    append_events(&pool, 2).await;
    tamper(
        &pool,
        &[
            "INSERT INTO audit_events (seq, occurred_at, actor, action, object, outcome, prev_hash, hash)
           SELECT 3, now(), 'user:mallory', 'login', '', 'success', hash, sha256(hash) FROM audit_events WHERE seq = 2",
        ],
    )
    .await;
    assert_eq!(verify(&pool).await, Err(ChainBreak::Inserted { seq: 3 }));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn verifying_with_another_key_fails_at_the_first_event(pool: PgPool) {
    append_events(&pool, 2).await;
    let other = ChainKey::new(SecretString::from("another-key-another-key-another-key!".to_owned()));
    assert_eq!(verify_chain(&pool, &other).await.unwrap(), Err(ChainBreak::Altered { seq: 1 }));
}
