//! SQL for the audit log and its chain head.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::audit::StoredEvent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: Vec<u8>,
}

/// Locks the chain head until the caller's transaction ends.
pub async fn lock_head(tx: &mut PgConnection) -> Result<Option<ChainHead>, sqlx::Error> {
    sqlx::query_as!(ChainHead, "SELECT seq, hash FROM audit_chain_head WHERE singleton FOR UPDATE")
        .fetch_optional(tx)
        .await
}

pub async fn head(conn: &mut PgConnection) -> Result<Option<ChainHead>, sqlx::Error> {
    sqlx::query_as!(ChainHead, "SELECT seq, hash FROM audit_chain_head WHERE singleton").fetch_optional(conn).await
}

pub async fn insert_event(tx: &mut PgConnection, event: &StoredEvent) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO audit_events
             (seq, occurred_at, actor, action, object, outcome, request_id, client_addr, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        event.seq,
        event.occurred_at,
        event.actor,
        event.action,
        event.object,
        event.outcome,
        event.request_id,
        event.client_addr,
        event.details,
        event.prev_hash,
        event.hash,
    )
    .execute(tx)
    .await
    .map(|_| ())
}

pub async fn advance_head(tx: &mut PgConnection, seq: i64, hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE singleton", seq, hash)
        .execute(tx)
        .await
        .map(|_| ())
}

/// A read-only repeatable-read transaction: the head and every page of events come from one snapshot.
pub async fn begin_snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    Ok(tx)
}

pub async fn events_after(
    conn: &mut PgConnection,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as!(
        StoredEvent,
        "SELECT seq, occurred_at, actor, action, object, outcome, request_id, client_addr, details, prev_hash, hash
         FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
        after_seq,
        limit,
    )
    .fetch_all(conn)
    .await
}

pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("SELECT seq FROM audit_chain_head WHERE singleton")
        .fetch_optional(pool)
        .await
        .map(|seq| seq.unwrap_or(0))
}

/// The history of one object (e.g. `certificate:{id}`), newest first, with people's names for their ids.
#[derive(Debug, Clone)]
pub struct ObjectEvent {
    pub occurred_at: time::OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub outcome: String,
}

pub async fn events_for_object(pool: &PgPool, object: &str, limit: i64) -> Result<Vec<ObjectEvent>, sqlx::Error> {
    sqlx::query_as!(
        ObjectEvent,
        "SELECT e.occurred_at, COALESCE(u.display_name, e.actor) AS \"actor!\", e.action, e.outcome
         FROM audit_events e LEFT JOIN users u ON e.actor = 'user:' || u.id::text
         WHERE e.object = $1 ORDER BY e.seq DESC LIMIT $2",
        object,
        limit,
    )
    .fetch_all(pool)
    .await
}
