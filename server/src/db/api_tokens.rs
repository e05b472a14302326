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
    pub private_keys: bool,
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
    pub private_keys: bool,
    pub token_hash: &'a [u8],
    pub prefix: &'a str,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn insert(tx: &mut PgConnection, token: &NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO api_tokens (id, owner_id, name, scope, token_hash, prefix, created_at, expires_at, private_keys)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        token.id,
        token.owner_id,
        token.name,
        token.scope,
        token.token_hash,
        token.prefix,
        token.created_at,
        token.expires_at,
        token.private_keys,
    )
    .execute(tx)
    .await
    .map(|_| ())
}

pub async fn list_for_owner(pool: &PgPool, owner_id: Uuid) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        "SELECT id, name, scope, private_keys, prefix, created_at, expires_at, last_used_at, revoked_at
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

/// A token presented on the API, with its owner as they are now (groups, off-boarded or not).
#[derive(Debug, Clone)]
pub struct PresentedToken {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub scope: String,
    pub private_keys: bool,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub owner_name: String,
    pub owner_groups: Vec<String>,
    pub owner_disabled_at: Option<OffsetDateTime>,
}

pub async fn find_by_hash(pool: &PgPool, token_hash: &[u8]) -> Result<Option<PresentedToken>, sqlx::Error> {
    sqlx::query_as!(
        PresentedToken,
        "SELECT t.id, t.owner_id, t.scope, t.private_keys, t.expires_at, t.revoked_at, t.last_used_at,
                u.display_name AS owner_name, u.groups AS owner_groups, u.disabled_at AS owner_disabled_at
         FROM api_tokens t JOIN users u ON u.id = t.owner_id WHERE t.token_hash = $1",
        token_hash,
    )
    .fetch_optional(pool)
    .await
}

pub async fn touch(pool: &PgPool, id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", id, now).execute(pool).await.map(|_| ())
}

/// A token as an administrator lists it: with its owner.
#[derive(Debug, Clone)]
pub struct OwnedTokenRow {
    pub id: Uuid,
    pub name: String,
    pub scope: String,
    pub private_keys: bool,
    pub prefix: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub owner_email: Option<String>,
}

/// Everyone's tokens that still work (not revoked, not expired) at `now`, newest first, optionally one owner's.
pub async fn list_live(
    pool: &PgPool,
    owner_id: Option<Uuid>,
    now: OffsetDateTime,
) -> Result<Vec<OwnedTokenRow>, sqlx::Error> {
    sqlx::query_as!(
        OwnedTokenRow,
        "SELECT t.id, t.name, t.scope, t.private_keys, t.prefix, t.created_at, t.expires_at, t.last_used_at,
                t.revoked_at, t.owner_id, u.display_name AS owner_name, u.email AS owner_email
         FROM api_tokens t JOIN users u ON u.id = t.owner_id
         WHERE t.revoked_at IS NULL AND t.expires_at > $2 AND ($1::uuid IS NULL OR t.owner_id = $1)
         ORDER BY t.created_at DESC LIMIT 500",
        owner_id,
        now,
    )
    .fetch_all(pool)
    .await
}

/// The owner of a token, whoever they are (for an administrator revoking it).
pub async fn owner_of(pool: &PgPool, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT owner_id FROM api_tokens WHERE id = $1", id).fetch_optional(pool).await
}

/// Revokes every live token of the person; the ids revoked, so each gets its audit row.
pub async fn revoke_all_of(
    tx: &mut PgConnection,
    owner_id: Uuid,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE api_tokens SET revoked_at = $2 WHERE owner_id = $1 AND revoked_at IS NULL RETURNING id",
        owner_id,
        now,
    )
    .fetch_all(tx)
    .await
}
