//! SQL for revocation intents and batches: writing an intent before the CA is told, claiming open ones (a request,
//! a batch worker, or the job taking over what a crash left), finishing them once, and reading a batch's progress.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// An intent to write: the certificate, why, who asked, and who holds it until when (`None`: queued for a worker).
#[derive(Debug, Clone)]
pub struct NewIntent<'a> {
    pub certificate_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub reason: &'a str,
    pub requested_by: Uuid,
    pub now: OffsetDateTime,
    pub claimed_until: Option<OffsetDateTime>,
}

/// Writes an open intent; `None` when the certificate already has one (someone else is revoking it right now).
pub async fn open(tx: &mut PgConnection, intent: &NewIntent<'_>) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO revocation_intents (certificate_id, batch_id, reason, requested_by, requested_at, claimed_until,
                                         attempts)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6::timestamptz IS NULL THEN 0 ELSE 1 END)
         ON CONFLICT (certificate_id) WHERE finished_at IS NULL DO NOTHING
         RETURNING id",
        intent.certificate_id,
        intent.batch_id,
        intent.reason,
        intent.requested_by,
        intent.now,
        intent.claimed_until,
    )
    .fetch_optional(tx)
    .await
}

/// Records a batch item that was settled when it was submitted (already revoked, cannot be revoked).
pub async fn insert_settled(
    tx: &mut PgConnection,
    intent: &NewIntent<'_>,
    outcome: &str,
    message: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO revocation_intents (certificate_id, batch_id, reason, requested_by, requested_at, finished_at,
                                         outcome, message)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
        intent.certificate_id,
        intent.batch_id,
        intent.reason,
        intent.requested_by,
        intent.now,
        outcome,
        message,
    )
    .execute(tx)
    .await
    .map(|_| ())
}

pub async fn insert_batch(
    tx: &mut PgConnection,
    id: Uuid,
    requested_by: Uuid,
    reason: &str,
    offboarded: Option<Uuid>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO revocation_batches (id, requested_by, reason, offboarded, created_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        requested_by,
        reason,
        offboarded,
        now,
    )
    .execute(tx)
    .await
    .map(|_| ())
}

/// An open intent someone now holds.
#[derive(Debug, Clone)]
pub struct ClaimedIntent {
    pub id: i64,
    pub certificate_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub reason: String,
    pub requested_by: Uuid,
    pub requested_at: OffsetDateTime,
    pub attempts: i32,
}

/// Claims the oldest open intent nobody holds (of `batch`, or of any; requested before `requested_before` if
/// given), until `until`. Concurrent claimers skip each other's rows, so every intent is worked on by one at a time.
pub async fn claim_next(
    pool: &PgPool,
    batch: Option<Uuid>,
    requested_before: Option<OffsetDateTime>,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Option<ClaimedIntent>, sqlx::Error> {
    sqlx::query_as!(
        ClaimedIntent,
        "UPDATE revocation_intents SET claimed_until = $3, attempts = attempts + 1
         WHERE id = (SELECT id FROM revocation_intents
                     WHERE finished_at IS NULL AND (claimed_until IS NULL OR claimed_until < $2)
                       AND ($1::uuid IS NULL OR batch_id = $1)
                       AND ($4::timestamptz IS NULL OR requested_at < $4)
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, certificate_id, batch_id, reason, requested_by, requested_at, attempts",
        batch,
        now,
        until,
        requested_before,
    )
    .fetch_optional(pool)
    .await
}

/// Closes an open intent with its outcome; `false` when it was already closed (by another claimant).
pub async fn finish(
    tx: &mut PgConnection,
    id: i64,
    outcome: &str,
    message: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "UPDATE revocation_intents SET finished_at = $2, outcome = $3, message = $4, claimed_until = NULL
         WHERE id = $1 AND finished_at IS NULL",
        id,
        now,
        outcome,
        message,
    )
    .execute(tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub id: Uuid,
    pub requested_by: Uuid,
    pub reason: String,
    pub offboarded: Option<Uuid>,
    pub created_at: OffsetDateTime,
}

pub async fn batch(pool: &PgPool, id: Uuid) -> Result<Option<Batch>, sqlx::Error> {
    sqlx::query_as!(
        Batch,
        "SELECT id, requested_by, reason, offboarded, created_at FROM revocation_batches WHERE id = $1",
        id,
    )
    .fetch_optional(pool)
    .await
}

/// One certificate of a batch and where its revocation stands (`outcome` `None`: not done yet).
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub certificate_id: Uuid,
    pub common_name: String,
    pub outcome: Option<String>,
    pub message: Option<String>,
}

/// Every certificate of a batch, in the order they were submitted.
pub async fn batch_items(pool: &PgPool, batch: Uuid) -> Result<Vec<BatchItem>, sqlx::Error> {
    sqlx::query_as!(
        BatchItem,
        "SELECT i.certificate_id, c.common_name, i.outcome, i.message
         FROM revocation_intents i JOIN certificates c ON c.id = i.certificate_id
         WHERE i.batch_id = $1 ORDER BY i.id",
        batch,
    )
    .fetch_all(pool)
    .await
}

/// Whether a revocation of the certificate is under way.
pub async fn is_open(pool: &PgPool, certificate_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM revocation_intents WHERE certificate_id = $1 AND finished_at IS NULL) AS "open!""#,
        certificate_id,
    )
    .fetch_one(pool)
    .await
}
