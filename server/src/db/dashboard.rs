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

#[derive(Debug, Clone)]
pub struct IssuerStatusCount {
    pub issuer_id: String,
    pub status: String,
    pub count: i64,
    /// Of those, issued and expiring before the horizon.
    pub expiring_before: i64,
}

/// Counts per issuer and status, of one owner's certificates or everyone's.
pub async fn counts_by_issuer(
    pool: &PgPool,
    owner: Option<Uuid>,
    horizon: OffsetDateTime,
) -> Result<Vec<IssuerStatusCount>, sqlx::Error> {
    sqlx::query_as!(
        IssuerStatusCount,
        r#"SELECT issuer_id, status, count(*) AS "count!",
                  count(*) FILTER (WHERE status = 'issued' AND not_after < $1) AS "expiring_before!"
           FROM certificates WHERE ($2::uuid IS NULL OR owner_id = $2)
           GROUP BY issuer_id, status ORDER BY issuer_id, status"#,
        horizon,
        owner,
    )
    .fetch_all(pool)
    .await
}

/// Issued certificates expiring in `[from, from + days × bucket)`, counted per bucket (0 = the first); buckets
/// without certificates are absent.
pub async fn expiry_buckets(
    pool: &PgPool,
    owner: Option<Uuid>,
    from: OffsetDateTime,
    until: OffsetDateTime,
    bucket_seconds: i64,
) -> Result<Vec<(i32, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT floor(extract(epoch FROM (not_after - $1)) / $3)::int AS "bucket!", count(*) AS "count!"
           FROM certificates
           WHERE status = 'issued' AND not_after >= $1 AND not_after < $2 AND ($4::uuid IS NULL OR owner_id = $4)
           GROUP BY 1 ORDER BY 1"#,
        from,
        until,
        bucket_seconds as f64,
        owner,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| (row.bucket, row.count)).collect())
}

#[derive(Debug, Clone)]
pub struct ExpiringRow {
    pub id: Uuid,
    pub common_name: String,
    pub issuer_id: String,
    pub owner_name: String,
    pub not_after: OffsetDateTime,
}

/// Issued certificates expiring before `horizon` (expired ones included), soonest first.
pub async fn expiring_soon(
    pool: &PgPool,
    owner: Option<Uuid>,
    horizon: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ExpiringRow>, sqlx::Error> {
    sqlx::query_as!(
        ExpiringRow,
        r#"SELECT c.id, c.common_name, c.issuer_id, u.display_name AS owner_name, c.not_after AS "not_after!"
           FROM certificates c JOIN users u ON u.id = c.owner_id
           WHERE c.status = 'issued' AND c.not_after < $1 AND ($2::uuid IS NULL OR c.owner_id = $2)
           ORDER BY c.not_after, c.id LIMIT $3"#,
        horizon,
        owner,
        limit,
    )
    .fetch_all(pool)
    .await
}
