//! SQL of automatic renewal: each certificate's renewal settings and bookkeeping, the certificates due, the link
//! from a renewal to the certificate it supersedes, and the line of versions.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// The unique index that allows one renewal per certificate (in flight or done).
pub const ONE_RENEWAL_INDEX: &str = "certificates_one_renewal";

/// Renewal settings and state of one certificate.
#[derive(Debug, Clone)]
pub struct RenewalRow {
    pub id: Uuid,
    pub status: String,
    pub auto_renew: bool,
    pub renew_remaining_percent: Option<i16>,
    pub renew_before_days: Option<i32>,
    pub reuse_key: bool,
    pub renew_at: Option<OffsetDateTime>,
    pub renewal_attempts: i32,
    pub renewal_retry_at: Option<OffsetDateTime>,
    pub renewal_last_error: Option<String>,
    pub renewed_from: Option<Uuid>,
    pub csr_pem: Option<String>,
    pub ari_window_start: Option<OffsetDateTime>,
    pub ari_window_end: Option<OffsetDateTime>,
    pub ari_explanation_url: Option<String>,
}

pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<RenewalRow>, sqlx::Error> {
    sqlx::query_as!(
        RenewalRow,
        "SELECT id, status, auto_renew, renew_remaining_percent, renew_before_days, reuse_key, renew_at,
                renewal_attempts, renewal_retry_at, renewal_last_error, renewed_from, csr_pem,
                ari_window_start, ari_window_end, ari_explanation_url
         FROM certificates WHERE id = $1",
        id,
    )
    .fetch_optional(pool)
    .await
}

/// A new request's renewal settings and the certificate it renews, inserted with its intent
/// (`db::certificates::insert_intent`). A second renewal of the same certificate violates `ONE_RENEWAL_INDEX` (the
/// caller turns that into a conflict).
#[derive(Debug, Clone, Copy, Default)]
pub struct IntentRenewal {
    pub auto_renew: bool,
    pub remaining_percent: Option<i16>,
    pub renew_before_days: Option<i32>,
    pub reuse_key: bool,
    pub renewed_from: Option<Uuid>,
}

impl IntentRenewal {
    /// What completing the issuance needs of them (stored once with the intent, never changed after).
    pub fn at_issue(&self) -> IssuedSettings {
        IssuedSettings {
            auto_renew: self.auto_renew,
            renew_remaining_percent: self.remaining_percent,
            renew_before_days: self.renew_before_days,
            renewed_from: self.renewed_from,
        }
    }
}

/// What completing an issuance needs: the settings to place the renewal point, and the certificate it renews.
#[derive(Debug, Clone, Copy)]
pub struct IssuedSettings {
    pub auto_renew: bool,
    pub renew_remaining_percent: Option<i16>,
    pub renew_before_days: Option<i32>,
    pub renewed_from: Option<Uuid>,
}

pub async fn settings_for_update(tx: &mut PgConnection, id: Uuid) -> Result<Option<IssuedSettings>, sqlx::Error> {
    sqlx::query_as!(
        IssuedSettings,
        "SELECT auto_renew, renew_remaining_percent, renew_before_days, renewed_from FROM certificates
         WHERE id = $1 FOR UPDATE",
        id,
    )
    .fetch_optional(tx)
    .await
}

/// issued → superseded; `false` when it was no longer issued (revoked meanwhile: it stays revoked).
pub async fn mark_superseded(tx: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "UPDATE certificates SET status = 'superseded', updated_at = $2 WHERE id = $1 AND status = 'issued'",
        id,
        now,
    )
    .execute(tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// A failed attempt: counted, the next one not before `retry_at`, the error kept. Answers the attempts so far.
pub async fn record_failure(
    tx: &mut PgConnection,
    id: Uuid,
    error: &str,
    backoff: impl FnOnce(i32) -> OffsetDateTime,
) -> Result<(i32, OffsetDateTime), sqlx::Error> {
    let attempts = sqlx::query_scalar!(
        "UPDATE certificates SET renewal_attempts = renewal_attempts + 1, renewal_last_error = $2 WHERE id = $1
         RETURNING renewal_attempts",
        id,
        error,
    )
    .fetch_one(&mut *tx)
    .await?;
    let retry_at = backoff(attempts);
    sqlx::query!("UPDATE certificates SET renewal_retry_at = $2 WHERE id = $1", id, retry_at).execute(tx).await?;
    Ok((attempts, retry_at))
}

/// A certificate whose renewal point has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueRow {
    pub id: Uuid,
    pub issuer_id: String,
    pub renew_at: OffsetDateTime,
    pub renewal_attempts: i32,
}

/// Issued certificates with automatic renewal whose renewal point has passed and whose backoff (if any) is over,
/// most urgent first. Those with a renewal in flight are left out, and so are those requested after
/// `requested_before` (the renewal floor: whatever moved their renewal point, they are too young to renew).
pub async fn due(
    pool: &PgPool,
    now: OffsetDateTime,
    requested_before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<DueRow>, sqlx::Error> {
    sqlx::query_as!(
        DueRow,
        r#"SELECT c.id, c.issuer_id, c.renew_at AS "renew_at!", c.renewal_attempts
           FROM certificates c
           WHERE c.status = 'issued' AND c.auto_renew AND c.renew_at <= $1 AND c.created_at <= $3
             AND (c.renewal_retry_at IS NULL OR c.renewal_retry_at <= $1)
             AND NOT EXISTS (SELECT 1 FROM certificates r WHERE r.renewed_from = c.id AND r.status = 'pending')
           ORDER BY c.renew_at, c.id LIMIT $2"#,
        now,
        limit,
        requested_before,
    )
    .fetch_all(pool)
    .await
}

/// The renewal of `id` that is in flight or done, with its status.
pub async fn successor(pool: &PgPool, id: Uuid) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    let row =
        sqlx::query!("SELECT id, status FROM certificates WHERE renewed_from = $1 AND status <> 'failed' LIMIT 1", id,)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|row| (row.id, row.status)))
}

#[derive(Debug, Clone)]
pub struct VersionRow {
    pub id: Uuid,
    pub status: String,
    pub serial: Option<String>,
    pub not_after: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// Every certificate of `id`'s line of renewals (its predecessors and successors, failed attempts left out),
/// oldest first; at most 100 either way.
pub async fn versions(pool: &PgPool, id: Uuid) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
        VersionRow,
        r#"WITH RECURSIVE back (id, renewed_from, depth) AS (
               SELECT id, renewed_from, 0 FROM certificates WHERE id = $1
               UNION ALL
               SELECT c.id, c.renewed_from, b.depth - 1 FROM certificates c JOIN back b ON c.id = b.renewed_from
               WHERE b.depth > -100
           ), forward (id, depth) AS (
               SELECT id, 0 FROM certificates WHERE id = $1
               UNION ALL
               SELECT c.id, f.depth + 1 FROM certificates c JOIN forward f ON c.renewed_from = f.id
               WHERE c.status <> 'failed' AND f.depth < 100
           ), line AS (SELECT id, depth FROM back UNION SELECT id, depth FROM forward)
           SELECT c.id, c.status, c.serial, c.not_after, c.created_at
           FROM line JOIN certificates c ON c.id = line.id
           ORDER BY line.depth"#,
        id,
    )
    .fetch_all(pool)
    .await
}

/// An issued ACME certificate with automatic renewal whose renewal information is due to be asked for.
#[derive(Debug, Clone)]
pub struct AriCandidate {
    pub id: Uuid,
    pub issuer_id: String,
    pub leaf_pem: String,
}

/// Certificates of `issuers` (the ACME ones) whose renewal window is unknown or due to be asked again at `now`.
pub async fn ari_due(
    pool: &PgPool,
    issuers: &[String],
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<AriCandidate>, sqlx::Error> {
    sqlx::query_as!(
        AriCandidate,
        r#"SELECT id, issuer_id, leaf_pem AS "leaf_pem!"
           FROM certificates
           WHERE status = 'issued' AND auto_renew AND leaf_pem IS NOT NULL AND issuer_id = ANY($1)
             AND (ari_next_check IS NULL OR ari_next_check <= $2)
           ORDER BY ari_next_check NULLS FIRST, id LIMIT $3"#,
        issuers,
        now,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// The CA's suggested window (when it has one) with the renewal point chosen inside it, and the next time to ask.
pub struct AriAnswer<'a> {
    pub window: Option<(OffsetDateTime, OffsetDateTime)>,
    pub renew_at: Option<OffsetDateTime>,
    pub explanation_url: Option<&'a str>,
    pub next_check: OffsetDateTime,
}

/// Stores what the CA said; a certificate renewed or revoked meanwhile is left alone.
pub async fn record_ari(pool: &PgPool, id: Uuid, answer: &AriAnswer<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE certificates
            SET ari_window_start = COALESCE($2, ari_window_start), ari_window_end = COALESCE($3, ari_window_end),
                ari_explanation_url = COALESCE($4, ari_explanation_url), renew_at = COALESCE($5, renew_at),
                ari_next_check = $6
          WHERE id = $1 AND status = 'issued'",
        id,
        answer.window.map(|window| window.0),
        answer.window.map(|window| window.1),
        answer.explanation_url,
        answer.renew_at,
        answer.next_check,
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// The issuer and certificate of what `id` renews, when it has one: an ACME renewal names it in `replaces`.
pub async fn predecessor_leaf(pool: &PgPool, id: Uuid) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT p.issuer_id, p.leaf_pem AS "leaf_pem!"
           FROM certificates c JOIN certificates p ON p.id = c.renewed_from
           WHERE c.id = $1 AND p.leaf_pem IS NOT NULL"#,
        id,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| (row.issuer_id, row.leaf_pem)))
}

/// The certificate `id` renews, if it is a renewal.
pub async fn renewed_from(pool: &PgPool, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    Ok(sqlx::query_scalar!("SELECT renewed_from FROM certificates WHERE id = $1", id)
        .fetch_optional(pool)
        .await?
        .flatten())
}
