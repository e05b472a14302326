//! SQL behind the dashboard counts.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub struct CertificateCounts {
    pub total: i64,
    pub issued: i64,
    pub expiring_before: i64,
    pub revoked: i64,
    pub failed: i64,
}

/// Counts by status, of one owner's certificates or (`owner` = None) everyone's; `expiring_before` counts issued
/// certificates whose `not_after` is before `horizon`.
pub async fn certificate_counts(
    pool: &PgPool,
    owner: Option<Uuid>,
    horizon: OffsetDateTime,
) -> Result<CertificateCounts, sqlx::Error> {
    sqlx::query_as!(
        CertificateCounts,
        r#"SELECT count(*) AS "total!",
                  count(*) FILTER (WHERE status = 'issued') AS "issued!",
                  count(*) FILTER (WHERE status = 'issued' AND not_after < $1) AS "expiring_before!",
                  count(*) FILTER (WHERE status = 'revoked') AS "revoked!",
                  count(*) FILTER (WHERE status = 'failed') AS "failed!"
           FROM certificates WHERE ($2::uuid IS NULL OR owner_id = $2)"#,
        horizon,
        owner,
    )
    .fetch_one(pool)
    .await
}

pub async fn user_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#).fetch_one(pool).await
}
