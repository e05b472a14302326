//! SQL of certdesk's ACME server: people's ACME account keys (EAB credentials, HMAC key sealed), the ACME accounts
//! bound to them, and the used nonces (a unique row each, so two replicas can never both accept the same one).
//! Every statement about a person's key names its owner, so another person's key is "not found".

use sqlx::{FromRow, PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::sealing::Sealed;

// Every ACME request uses up one nonce: one write per request, so it commits without waiting for its WAL to reach the
// disk (`set_config('synchronous_commit', 'off', true)` inside the statement itself: one round trip, and the setting
// ends with the statement's own transaction). What a crash can lose is harmless: a used nonce can come back only
// together with everything its request did, because whatever the request then commits (waiting for the flush, as
// every other statement does) flushes the WAL past the nonce's row. Other replicas see the row at once: only
// durability is relaxed, never the single use.

/// Records `nonce` as used (kept until it `expires_at`): false when a request used it before.
pub async fn use_nonce(pool: &PgPool, nonce: &str, expires_at: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO acme_server_nonces (nonce, expires_at)
         SELECT $1, $2 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait
         ON CONFLICT (nonce) DO NOTHING",
    )
    .bind(nonce)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Deletes the used nonces expired at `now`: how many.
pub async fn sweep_nonces(pool: &PgPool, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM acme_server_nonces WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected())
}

pub struct NewAccountKey<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: &'a str,
    pub key_id: &'a str,
    pub hmac_key: &'a Sealed,
    pub allowed_names: &'a [String],
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn insert_account_key(tx: &mut PgConnection, key: &NewAccountKey<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO acme_account_keys (id, owner_id, name, key_id, hmac_key_ciphertext, hmac_key_key_id,
                                        hmac_key_nonce, allowed_names, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(key.id)
    .bind(key.owner_id)
    .bind(key.name)
    .bind(key.key_id)
    .bind(&key.hmac_key.ciphertext)
    .bind(&key.hmac_key.key_id)
    .bind(&key.hmac_key.nonce)
    .bind(key.allowed_names)
    .bind(key.created_at)
    .bind(key.expires_at)
    .execute(tx)
    .await
    .map(|_| ())
}

/// An ACME account key as listed (never its HMAC key), with its owner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountKeyRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub name: String,
    pub key_id: String,
    pub allowed_names: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    /// Accounts bound to the key that are still valid.
    pub accounts: i64,
}

const KEY_COLUMNS: &str = "k.id, k.owner_id, u.display_name AS owner_name, k.name, k.key_id, k.allowed_names,
     k.created_at, k.expires_at, k.last_used_at, k.revoked_at,
     (SELECT count(*) FROM acme_server_accounts a WHERE a.account_key_id = k.id AND a.status = 'valid') AS accounts";

/// One owner's keys, or everyone's (`None`), newest first.
pub async fn list_account_keys(pool: &PgPool, owner_id: Option<Uuid>) -> Result<Vec<AccountKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {KEY_COLUMNS} FROM acme_account_keys k JOIN users u ON u.id = k.owner_id
         WHERE $1::uuid IS NULL OR k.owner_id = $1 ORDER BY k.created_at DESC LIMIT 1000"
    ))
    .bind(owner_id)
    .fetch_all(pool)
    .await
}

pub async fn account_key_owner(pool: &PgPool, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT owner_id FROM acme_account_keys WHERE id = $1").bind(id).fetch_optional(pool).await
}

/// Revokes the owner's key; `false` when there is no such key of theirs or it was revoked already.
pub async fn revoke_account_key(
    tx: &mut PgConnection,
    owner_id: Uuid,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE acme_account_keys SET revoked_at = $3 WHERE id = $1 AND owner_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(owner_id)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// An ACME account key as presented in an External Account Binding, with its owner as they are now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BindingKeyRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub hmac_key_ciphertext: Vec<u8>,
    pub hmac_key_key_id: String,
    pub hmac_key_nonce: Vec<u8>,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub owner_disabled_at: Option<OffsetDateTime>,
    pub owner_groups: Vec<String>,
}

impl BindingKeyRow {
    pub fn sealed_hmac_key(&self) -> Sealed {
        Sealed {
            key_id: self.hmac_key_key_id.clone(),
            nonce: self.hmac_key_nonce.clone(),
            ciphertext: self.hmac_key_ciphertext.clone(),
        }
    }
}

pub async fn binding_key(pool: &PgPool, key_id: &str) -> Result<Option<BindingKeyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.id, k.owner_id, k.hmac_key_ciphertext, k.hmac_key_key_id, k.hmac_key_nonce, k.expires_at,
                k.revoked_at, u.disabled_at AS owner_disabled_at, u.groups AS owner_groups
         FROM acme_account_keys k JOIN users u ON u.id = k.owner_id WHERE k.key_id = $1",
    )
    .bind(key_id)
    .fetch_optional(pool)
    .await
}

/// An ACME account as the protocol needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub issuer_id: String,
    pub jwk: serde_json::Value,
    pub status: String,
    pub contact: Vec<String>,
    pub account_key_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    /// The owner as they are now (off-boarded or not, their groups), when the account has one.
    pub owner_disabled_at: Option<OffsetDateTime>,
    pub owner_groups: Option<Vec<String>>,
}

const ACCOUNT_FROM: &str = "SELECT a.id, a.issuer_id, a.jwk, a.status, a.contact, a.account_key_id, a.owner_id,
            u.disabled_at AS owner_disabled_at, u.groups AS owner_groups
     FROM acme_server_accounts a LEFT JOIN users u ON u.id = a.owner_id";

pub async fn account(pool: &PgPool, issuer_id: &str, id: Uuid) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("{ACCOUNT_FROM} WHERE a.issuer_id = $1 AND a.id = $2"))
        .bind(issuer_id)
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Uses up `nonce` (as `use_nonce` does, not waiting for the flush) and reads the account `id` of `issuer_id`, in one
/// round trip: whether the nonce was fresh, and the account.
pub async fn use_nonce_and_read_account(
    pool: &PgPool,
    nonce: &str,
    expires_at: OffsetDateTime,
    issuer_id: &str,
    id: Uuid,
) -> Result<(bool, Option<AccountRow>), sqlx::Error> {
    let row = sqlx::query(&format!(
        "WITH used AS (
             INSERT INTO acme_server_nonces (nonce, expires_at)
             SELECT $1, $2 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait
             ON CONFLICT (nonce) DO NOTHING
             RETURNING 1
         ),
         account AS ({ACCOUNT_FROM} WHERE a.issuer_id = $3 AND a.id = $4)
         SELECT EXISTS (SELECT 1 FROM used) AS nonce_fresh, account.* FROM (SELECT 1) AS one LEFT JOIN account ON true"
    ))
    .bind(nonce)
    .bind(expires_at)
    .bind(issuer_id)
    .bind(id)
    .fetch_one(pool)
    .await?;
    let fresh: bool = row.try_get("nonce_fresh")?;
    let found: Option<Uuid> = row.try_get("id")?;
    let account = match found {
        Some(_) => Some(AccountRow::from_row(&row)?),
        None => None,
    };
    Ok((fresh, account))
}

/// The account, whichever issuer's: for the jobs, which know it from an order.
pub async fn account_by_id(pool: &PgPool, id: Uuid) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("{ACCOUNT_FROM} WHERE a.id = $1")).bind(id).fetch_optional(pool).await
}

pub async fn account_by_thumbprint(
    pool: &PgPool,
    issuer_id: &str,
    thumbprint: &str,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("{ACCOUNT_FROM} WHERE a.issuer_id = $1 AND a.jwk_thumbprint = $2"))
        .bind(issuer_id)
        .bind(thumbprint)
        .fetch_optional(pool)
        .await
}

pub struct NewAccount<'a> {
    pub id: Uuid,
    pub issuer_id: &'a str,
    pub thumbprint: &'a str,
    pub jwk: &'a serde_json::Value,
    pub contact: &'a [String],
    pub account_key_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub now: OffsetDateTime,
}

/// Inserts the account unless its key already has one on this issuer (a concurrent newAccount): whether it did.
pub async fn insert_account(tx: &mut PgConnection, account: &NewAccount<'_>) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO acme_server_accounts (id, issuer_id, jwk_thumbprint, jwk, status, contact, account_key_id,
                                           owner_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'valid', $5, $6, $7, $8, $8)
         ON CONFLICT (issuer_id, jwk_thumbprint) DO NOTHING",
    )
    .bind(account.id)
    .bind(account.issuer_id)
    .bind(account.thumbprint)
    .bind(account.jwk)
    .bind(account.contact)
    .bind(account.account_key_id)
    .bind(account.owner_id)
    .bind(account.now)
    .execute(tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn touch_account_key(tx: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE acme_account_keys SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(tx)
        .await
        .map(|_| ())
}

pub async fn update_contact(
    pool: &PgPool,
    id: Uuid,
    contact: &[String],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE acme_server_accounts SET contact = $2, updated_at = $3 WHERE id = $1 AND status = 'valid'")
        .bind(id)
        .bind(contact)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
}

/// keyChange: the valid account's key is now `jwk`; `false` when another account has that key (nothing changed,
/// also when a concurrent keyChange took it first: the unique thumbprint) or the account is no longer valid.
pub async fn change_account_key(
    tx: &mut PgConnection,
    id: Uuid,
    thumbprint: &str,
    jwk: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE acme_server_accounts SET jwk_thumbprint = $2, jwk = $3, updated_at = $4
         WHERE id = $1 AND status = 'valid'
           AND NOT EXISTS (SELECT 1 FROM acme_server_accounts other
                           WHERE other.issuer_id = acme_server_accounts.issuer_id AND other.jwk_thumbprint = $2)",
    )
    .bind(id)
    .bind(thumbprint)
    .bind(jwk)
    .bind(now)
    .execute(tx)
    .await;
    match result {
        Ok(result) => Ok(result.rows_affected() == 1),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
        Err(error) => Err(error),
    }
}

/// Deactivates the account; `false` when it was not valid (deactivated meanwhile).
pub async fn deactivate_account(tx: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE acme_server_accounts SET status = 'deactivated', updated_at = $2 WHERE id = $1 AND status = 'valid'",
    )
    .bind(id)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Off-boarding: revokes every ACME account key of the person not revoked yet; the ids, for their audit rows.
pub async fn revoke_account_keys_of(
    tx: &mut PgConnection,
    owner_id: Uuid,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE acme_account_keys SET revoked_at = $2 WHERE owner_id = $1 AND revoked_at IS NULL RETURNING id",
    )
    .bind(owner_id)
    .bind(now)
    .fetch_all(tx)
    .await
}

/// Whose accounts `deactivate_accounts` deactivates.
#[derive(Debug, Clone, Copy)]
pub enum AccountsOf {
    /// Those bound to one ACME account key (the key was revoked).
    Key(Uuid),
    /// Those one person owns (off-boarding).
    Owner(Uuid),
}

/// Deactivates every valid account of `of`; the ids, for their audit rows.
pub async fn deactivate_accounts(
    tx: &mut PgConnection,
    of: AccountsOf,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let (column, id) = match of {
        AccountsOf::Key(id) => ("account_key_id", id),
        AccountsOf::Owner(id) => ("owner_id", id),
    };
    sqlx::query_scalar(&format!(
        "UPDATE acme_server_accounts SET status = 'deactivated', updated_at = $2
         WHERE {column} = $1 AND status = 'valid' RETURNING id"
    ))
    .bind(id)
    .bind(now)
    .fetch_all(tx)
    .await
}
