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

/// The most recent certificates, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<CertificateRow>, sqlx::Error> {
    sqlx::query_as!(
        CertificateRow,
        "SELECT id, common_name, issuer_id, status, serial, not_after
         FROM certificates ORDER BY created_at DESC, id DESC LIMIT $1",
        limit,
    )
    .fetch_all(pool)
    .await
}
