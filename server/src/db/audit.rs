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

/// Inserts `event` and moves the chain head to it, in one round trip (the caller holds the head's lock).
pub async fn insert_at_head(tx: &mut PgConnection, event: &StoredEvent) -> Result<(), sqlx::Error> {
    // Not the query! macro: its offline data cannot describe an UPDATE fed by a data-modifying CTE any better than
    // the affected-row count checked below.
    let moved = sqlx::query(
        "WITH inserted AS (
             INSERT INTO audit_events
                 (seq, occurred_at, actor, action, object, outcome, request_id, client_addr, details, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             RETURNING seq, hash)
         UPDATE audit_chain_head SET seq = inserted.seq, hash = inserted.hash FROM inserted WHERE singleton",
    )
    .bind(event.seq)
    .bind(event.occurred_at)
    .bind(&event.actor)
    .bind(&event.action)
    .bind(&event.object)
    .bind(&event.outcome)
    .bind(&event.request_id)
    .bind(&event.client_addr)
    .bind(&event.details)
    .bind(&event.prev_hash)
    .bind(&event.hash)
    .execute(tx)
    .await?;
    if moved.rows_affected() == 1 { Ok(()) } else { Err(sqlx::Error::RowNotFound) }
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

/// Filters of the audit viewer and its export; `None` means "any". Built (and validated) by `crate::audit_viewer`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// An exact stored actor (`user:<uuid>`, `system`…).
    pub actor: Option<String>,
    /// A `LIKE` pattern (lower case) matched against people's names and e-mail addresses.
    pub actor_like: Option<String>,
    /// One action, as every form it is stored in: names, or `name/outcome` for a former name that covered two
    /// actions (see `audit::Action::stored_forms`).
    pub actions: Option<Vec<String>>,
    /// A `LIKE` pattern anchored at the start (`certificate.%`).
    pub action_like: Option<String>,
    pub object: Option<String>,
    pub outcome: Option<String>,
    /// Inclusive.
    pub from: Option<time::OffsetDateTime>,
    /// Exclusive.
    pub until: Option<time::OffsetDateTime>,
    /// Only events up to this one (an export's fixed upper end).
    pub through_seq: Option<i64>,
}

/// An event as the viewer shows it: every stored field, and the person behind a `user:` actor.
#[derive(Debug, Clone)]
pub struct ListedEvent {
    pub seq: i64,
    pub occurred_at: time::OffsetDateTime,
    pub actor: String,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub object: String,
    pub outcome: String,
    pub request_id: String,
    pub client_addr: String,
    pub details: serde_json::Value,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// A `LIKE` pattern matching `text` literally anywhere.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

/// A `LIKE` pattern matching `text` literally at the start.
pub fn prefix_pattern(text: &str) -> String {
    format!("{}%", escape_like(text))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// One page of matching events, newest first, strictly before `before_seq` (keyset on the primary key: page N
/// costs what page 1 does). A name or e-mail filter is resolved to actor ids first, so the actor index serves it.
pub async fn list_events(
    pool: &PgPool,
    filter: &EventFilter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<ListedEvent>, sqlx::Error> {
    sqlx::query_as!(
        ListedEvent,
        r#"SELECT e.seq, e.occurred_at, e.actor, u.display_name AS "actor_name?", u.email AS "actor_email?",
                  e.action, e.object, e.outcome, e.request_id, e.client_addr, e.details, e.prev_hash, e.hash
           FROM audit_events e LEFT JOIN users u ON e.actor = 'user:' || u.id::text
           WHERE ($1::text IS NULL OR e.actor = $1)
             AND ($2::text IS NULL OR e.actor IN (
                    SELECT 'user:' || p.id::text FROM users p
                    WHERE lower(p.display_name) LIKE $2 OR lower(coalesce(p.email, '')) LIKE $2))
             AND ($3::text[] IS NULL OR e.action = ANY($3) OR e.action || '/' || e.outcome = ANY($3))
             AND ($4::text IS NULL OR e.action LIKE $4)
             AND ($5::text IS NULL OR e.object = $5)
             AND ($6::text IS NULL OR e.outcome = $6)
             AND ($7::timestamptz IS NULL OR e.occurred_at >= $7)
             AND ($8::timestamptz IS NULL OR e.occurred_at < $8)
             AND ($9::bigint IS NULL OR e.seq <= $9)
             AND ($10::bigint IS NULL OR e.seq < $10)
           ORDER BY e.seq DESC
           LIMIT $11"#,
        filter.actor,
        filter.actor_like,
        filter.actions.as_deref(),
        filter.action_like,
        filter.object,
        filter.outcome,
        filter.from,
        filter.until,
        filter.through_seq,
        before_seq,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// How many events match (an export records it before the file is sent). The conditions repeat `list_events`'s:
/// `query!` checks only literal SQL, so they cannot be shared as a fragment.
pub async fn count_events(pool: &PgPool, filter: &EventFilter) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM audit_events e
           WHERE ($1::text IS NULL OR e.actor = $1)
             AND ($2::text IS NULL OR e.actor IN (
                    SELECT 'user:' || p.id::text FROM users p
                    WHERE lower(p.display_name) LIKE $2 OR lower(coalesce(p.email, '')) LIKE $2))
             AND ($3::text[] IS NULL OR e.action = ANY($3) OR e.action || '/' || e.outcome = ANY($3))
             AND ($4::text IS NULL OR e.action LIKE $4)
             AND ($5::text IS NULL OR e.object = $5)
             AND ($6::text IS NULL OR e.outcome = $6)
             AND ($7::timestamptz IS NULL OR e.occurred_at >= $7)
             AND ($8::timestamptz IS NULL OR e.occurred_at < $8)
             AND ($9::bigint IS NULL OR e.seq <= $9)"#,
        filter.actor,
        filter.actor_like,
        filter.actions.as_deref(),
        filter.action_like,
        filter.object,
        filter.outcome,
        filter.from,
        filter.until,
        filter.through_seq,
    )
    .fetch_one(pool)
    .await
}

pub async fn event_by_seq(pool: &PgPool, seq: i64) -> Result<Option<ListedEvent>, sqlx::Error> {
    sqlx::query_as!(
        ListedEvent,
        r#"SELECT e.seq, e.occurred_at, e.actor, u.display_name AS "actor_name?", u.email AS "actor_email?",
                  e.action, e.object, e.outcome, e.request_id, e.client_addr, e.details, e.prev_hash, e.hash
           FROM audit_events e LEFT JOIN users u ON e.actor = 'user:' || u.id::text
           WHERE e.seq = $1"#,
        seq,
    )
    .fetch_optional(pool)
    .await
}

/// The seal stored for event `seq`, if the event exists (the chain monitor re-checks its checkpoint with it).
pub async fn hash_of(pool: &PgPool, seq: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT hash FROM audit_events WHERE seq = $1", seq).fetch_optional(pool).await
}
