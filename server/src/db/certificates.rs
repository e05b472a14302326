//! SQL for the certificate inventory.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct CertificateRow {
    pub id: Uuid,
    pub common_name: String,
    pub issuer_id: String,
    pub status: String,
    pub serial: Option<String>,
    pub not_after: Option<OffsetDateTime>,
}

/// The most recent certificates of one owner (or everyone's, for `None`), newest first.
pub async fn recent(pool: &PgPool, owner: Option<Uuid>, limit: i64) -> Result<Vec<CertificateRow>, sqlx::Error> {
    sqlx::query_as!(
        CertificateRow,
        "SELECT id, common_name, issuer_id, status, serial, not_after
         FROM certificates WHERE ($1::uuid IS NULL OR owner_id = $1)
         ORDER BY created_at DESC, id DESC LIMIT $2",
        owner,
        limit,
    )
    .fetch_all(pool)
    .await
}
