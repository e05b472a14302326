//! SQL for personal API tokens. Every statement about one token names its owner, so one person's token id is
//! "not found" to anyone else.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub scope: String,
    pub prefix: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

pub struct NewToken<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: &'a str,
    pub scope: &'a str,
    pub token_hash: &'a [u8],
    pub prefix: &'a str,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn insert(tx: &mut PgConnection, token: &NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO api_tokens (id, owner_id, name, scope, token_hash, prefix, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        token.id,
        token.owner_id,
        token.name,
        token.scope,
        token.token_hash,
        token.prefix,
        token.created_at,
        token.expires_at,
    )
    .execute(tx)
    .await
    .map(|_| ())
}

pub async fn list_for_owner(pool: &PgPool, owner_id: Uuid) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        "SELECT id, name, scope, prefix, created_at, expires_at, last_used_at, revoked_at
         FROM api_tokens WHERE owner_id = $1 ORDER BY created_at DESC",
        owner_id,
    )
    .fetch_all(pool)
    .await
}

/// Revokes the owner's token; `false` when there is no such token of theirs. Revoking twice is harmless.
pub async fn revoke(tx: &mut PgConnection, owner_id: Uuid, id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND owner_id = $2",
        id,
        owner_id,
        now,
    )
    .execute(tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A token presented on the API, with its owner as they are now.
#[derive(Debug, Clone)]
pub struct PresentedToken {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub scope: String,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub owner_name: String,
    pub owner_role: String,
}

pub async fn find_by_hash(pool: &PgPool, token_hash: &[u8]) -> Result<Option<PresentedToken>, sqlx::Error> {
    sqlx::query_as!(
        PresentedToken,
        "SELECT t.id, t.owner_id, t.scope, t.expires_at, t.revoked_at, t.last_used_at, u.display_name AS owner_name, u.role AS owner_role
         FROM api_tokens t JOIN users u ON u.id = t.owner_id WHERE t.token_hash = $1",
        token_hash,
    )
    .fetch_optional(pool)
    .await
}

pub async fn touch(pool: &PgPool, id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", id, now).execute(pool).await.map(|_| ())
}
