//! SQL for the CRLs certdesk serves: one current CRL per name (an issuer id, or `root`).

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

/// Told the name of a CRL whenever one is stored (at the commit), so every replica drops its in-memory copy.
pub const CHANGED_CHANNEL: &str = "certdesk_crl_changed";

#[derive(Debug, Clone)]
pub struct StoredCrl {
    pub name: String,
    pub crl_number: String,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub entry_count: i32,
    pub der: Vec<u8>,
    pub signer_der: Vec<u8>,
    pub sha256: String,
    pub stored_at: OffsetDateTime,
    pub confirmed_at: OffsetDateTime,
}

pub async fn get(pool: &PgPool, name: &str) -> Result<Option<StoredCrl>, sqlx::Error> {
    sqlx::query_as!(StoredCrl, "SELECT * FROM crls WHERE name = $1", name).fetch_optional(pool).await
}

/// The current CRL of `name`, locked until the transaction ends, so two replicas storing at once take turns.
pub async fn lock(tx: &mut PgConnection, name: &str) -> Result<Option<StoredCrl>, sqlx::Error> {
    sqlx::query_as!(StoredCrl, "SELECT * FROM crls WHERE name = $1 FOR UPDATE", name).fetch_optional(tx).await
}

/// Every stored CRL without its bytes, for the index page and readiness.
#[derive(Debug, Clone)]
pub struct CrlSummary {
    pub name: String,
    pub crl_number: String,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub entry_count: i32,
    pub confirmed_at: OffsetDateTime,
}

pub async fn list(pool: &PgPool) -> Result<Vec<CrlSummary>, sqlx::Error> {
    sqlx::query_as!(
        CrlSummary,
        "SELECT name, crl_number, this_update, next_update, entry_count, confirmed_at FROM crls ORDER BY name"
    )
    .fetch_all(pool)
    .await
}

/// Inserts or replaces the CRL of `crl.name` (the caller checked, under `lock`, that its number is newer), and
/// tells the replicas' listeners when the transaction commits.
pub async fn put(tx: &mut PgConnection, crl: &StoredCrl) -> Result<(), sqlx::Error> {
    super::change_notices::announce(tx, CHANGED_CHANNEL, &crl.name).await?;
    sqlx::query!(
        "INSERT INTO crls (name, crl_number, this_update, next_update, entry_count, der, signer_der, sha256,
                           stored_at, confirmed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (name) DO UPDATE
             SET crl_number = EXCLUDED.crl_number, this_update = EXCLUDED.this_update,
                 next_update = EXCLUDED.next_update, entry_count = EXCLUDED.entry_count, der = EXCLUDED.der,
                 signer_der = EXCLUDED.signer_der, sha256 = EXCLUDED.sha256, stored_at = EXCLUDED.stored_at,
                 confirmed_at = EXCLUDED.confirmed_at",
        crl.name,
        crl.crl_number,
        crl.this_update,
        crl.next_update,
        crl.entry_count,
        crl.der,
        crl.signer_der,
        crl.sha256,
        crl.stored_at,
        crl.confirmed_at,
    )
    .execute(tx)
    .await
    .map(|_| ())
}

/// The source still serves the stored CRL: only the confirmation time moves.
pub async fn confirm(tx: &mut PgConnection, name: &str, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE crls SET confirmed_at = $2 WHERE name = $1", name, now).execute(tx).await.map(|_| ())
}
