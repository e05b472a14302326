//! SQL behind the scrape-time gauges of `/metrics`.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct StatusCount {
    pub issuer_id: String,
    pub status: String,
    pub count: i64,
}

pub async fn counts_by_status(pool: &PgPool) -> Result<Vec<StatusCount>, sqlx::Error> {
    sqlx::query_as!(
        StatusCount,
        r#"SELECT issuer_id, status, count(*) AS "count!" FROM certificates GROUP BY issuer_id, status
           ORDER BY issuer_id, status"#
    )
    .fetch_all(pool)
    .await
}

/// An issued certificate and when it expires, with the labels the expiry gauge carries.
#[derive(Debug, Clone)]
pub struct Expiring {
    pub id: Uuid,
    pub common_name: String,
    pub issuer_id: String,
    pub serial: Option<String>,
    pub owner: String,
    pub not_after: OffsetDateTime,
}

pub async fn issued_expiries(pool: &PgPool) -> Result<Vec<Expiring>, sqlx::Error> {
    sqlx::query_as!(
        Expiring,
        r#"SELECT c.id, c.common_name, c.issuer_id, c.serial, coalesce(u.email, u.display_name) AS "owner!",
                  c.not_after AS "not_after!"
           FROM certificates c JOIN users u ON u.id = c.owner_id
           WHERE c.status = 'issued' AND c.not_after IS NOT NULL
           ORDER BY c.not_after, c.id"#
    )
    .fetch_all(pool)
    .await
}
