//! SQL for notifications: each person's channels and the outbox of notices.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::sealing::Sealed;

#[derive(Debug, Clone)]
pub struct Settings {
    pub email_enabled: bool,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<Sealed>,
}

/// Without a row: e-mail on, no webhook.
pub async fn settings_of(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Settings, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT email_enabled, webhook_url, webhook_secret, webhook_secret_nonce, webhook_secret_key_id
           FROM notification_settings WHERE user_id = $1",
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Settings { email_enabled: true, webhook_url: None, webhook_secret: None },
        Some(row) => Settings {
            email_enabled: row.email_enabled,
            webhook_url: row.webhook_url,
            webhook_secret: match (row.webhook_secret_key_id, row.webhook_secret_nonce, row.webhook_secret) {
                (Some(key_id), Some(nonce), Some(ciphertext)) => Some(Sealed { key_id, nonce, ciphertext }),
                _ => None,
            },
        },
    })
}

/// Saves the channels; `secret` replaces the sealed webhook secret when `Some`, and a missing URL drops it.
pub async fn save_settings(
    tx: &mut PgConnection,
    user_id: Uuid,
    email_enabled: bool,
    webhook_url: Option<&str>,
    secret: Option<&Sealed>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO notification_settings (user_id, email_enabled, webhook_url, webhook_secret, webhook_secret_nonce,
                                            webhook_secret_key_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id) DO UPDATE
             SET email_enabled = EXCLUDED.email_enabled, webhook_url = EXCLUDED.webhook_url, updated_at = EXCLUDED.updated_at,
                 webhook_secret = CASE WHEN EXCLUDED.webhook_url IS NULL THEN NULL
                                       ELSE coalesce(EXCLUDED.webhook_secret, notification_settings.webhook_secret) END,
                 webhook_secret_nonce = CASE WHEN EXCLUDED.webhook_url IS NULL THEN NULL
                                       ELSE coalesce(EXCLUDED.webhook_secret_nonce, notification_settings.webhook_secret_nonce) END,
                 webhook_secret_key_id = CASE WHEN EXCLUDED.webhook_url IS NULL THEN NULL
                                       ELSE coalesce(EXCLUDED.webhook_secret_key_id, notification_settings.webhook_secret_key_id) END",
        user_id,
        email_enabled,
        webhook_url,
        secret.map(|sealed| sealed.ciphertext.as_slice()),
        secret.map(|sealed| sealed.nonce.as_slice()),
        secret.map(|sealed| sealed.key_id.as_str()),
        now,
    )
    .execute(tx)
    .await
    .map(|_| ())
}

pub async fn email_of(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT email FROM users WHERE id = $1", user_id).fetch_optional(db).await.map(Option::flatten)
}

/// A notice to record in the outbox.
#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    pub event_key: &'a str,
    pub channel: &'a str,
    pub kind: &'a str,
    pub user_id: Uuid,
    pub certificate_id: Option<Uuid>,
    pub threshold_days: Option<i32>,
    pub payload: &'a serde_json::Value,
    pub now: OffsetDateTime,
}

/// Claims the notice; `false` when this event already has its row on this channel (nothing written).
pub async fn claim(db: impl PgExecutor<'_>, notice: &NewNotice<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO notifications (id, event_key, channel, kind, user_id, certificate_id, threshold_days, payload,
                                    next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (event_key, channel) DO NOTHING",
        Uuid::new_v4(),
        notice.event_key,
        notice.channel,
        notice.kind,
        notice.user_id,
        notice.certificate_id,
        notice.threshold_days,
        notice.payload,
        notice.now,
    )
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// An issued certificate, as notices describe it.
#[derive(Debug, Clone)]
pub struct CertificateBrief {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub common_name: String,
    pub dns_names: Vec<String>,
    pub serial: Option<String>,
    pub issuer_id: String,
    pub not_after: Option<OffsetDateTime>,
    pub revocation_reason: Option<String>,
}

pub async fn certificate_brief(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<CertificateBrief>, sqlx::Error> {
    sqlx::query_as!(
        CertificateBrief,
        "SELECT id, owner_id, common_name, dns_names, serial, issuer_id, not_after, revocation_reason
           FROM certificates WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// An issued certificate that crossed an expiry threshold without a notice for it (or a tighter one) yet.
#[derive(Debug, Clone)]
pub struct Crossed {
    pub certificate: CertificateBrief,
    /// The tightest threshold it crossed: only that one is noticed (a certificate first seen 5 days before its
    /// expiry gets the 7-day notice, not three at once).
    pub threshold_days: i32,
}

pub async fn crossed_thresholds(
    pool: &PgPool,
    now: OffsetDateTime,
    thresholds: &[i32],
    limit: i64,
) -> Result<Vec<Crossed>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT c.id, c.owner_id, c.common_name, c.dns_names, c.serial, c.issuer_id, c.not_after,
                c.revocation_reason, t.days AS \"days!\"
           FROM certificates c
          CROSS JOIN LATERAL (SELECT min(d) AS days FROM unnest($2::int[]) AS d
                               WHERE c.not_after <= $1::timestamptz + make_interval(days => d)) t
          WHERE c.status = 'issued' AND c.not_after > $1 AND t.days IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM notifications n
                             WHERE n.certificate_id = c.id AND n.kind = 'expiry' AND n.threshold_days <= t.days)
          ORDER BY c.not_after
          LIMIT $3",
        now,
        thresholds,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Crossed {
            certificate: CertificateBrief {
                id: row.id,
                owner_id: row.owner_id,
                common_name: row.common_name,
                dns_names: row.dns_names,
                serial: row.serial,
                issuer_id: row.issuer_id,
                not_after: row.not_after,
                revocation_reason: row.revocation_reason,
            },
            threshold_days: row.days,
        })
        .collect())
}

/// A notice waiting to be (re)sent.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: Uuid,
    pub channel: String,
    pub kind: String,
    pub user_id: Uuid,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub created_at: OffsetDateTime,
    /// For expiry notices: whether the certificate is still issued (renewed or revoked meanwhile: no notice).
    pub certificate_current: bool,
}

pub async fn due(pool: &PgPool, now: OffsetDateTime, limit: i64) -> Result<Vec<Due>, sqlx::Error> {
    sqlx::query_as!(
        Due,
        "SELECT n.id, n.channel, n.kind, n.user_id, n.payload, n.attempts, n.created_at,
                (n.kind <> 'expiry' OR c.status = 'issued') AS \"certificate_current!\"
           FROM notifications n LEFT JOIN certificates c ON c.id = n.certificate_id
          WHERE n.status = 'pending' AND n.next_attempt_at <= $1
          ORDER BY n.next_attempt_at, n.created_at
          LIMIT $2",
        now,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Claims a due notice for one sending: it is not due again until `until`, so neither another replica nor the next
/// leader sends it meanwhile. False: someone else claimed it or it is no longer pending.
pub async fn claim_for_sending(
    pool: &PgPool,
    id: Uuid,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "UPDATE notifications SET next_attempt_at = $3 WHERE id = $1 AND status = 'pending' AND next_attempt_at <= $2",
    )
    .bind(id)
    .bind(now)
    .bind(until)
    .execute(pool)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

pub async fn mark_sent(pool: &PgPool, id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE notifications SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL
          WHERE id = $1 AND status = 'pending'",
        id,
        now
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// A failed attempt: tried again at `next_attempt_at`, or given up (`failed`) when that is `None`.
pub async fn mark_attempt_failed(
    pool: &PgPool,
    id: Uuid,
    error: &str,
    next_attempt_at: Option<OffsetDateTime>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE notifications
            SET attempts = attempts + 1, last_error = $2,
                status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = coalesce($3, next_attempt_at)
          WHERE id = $1 AND status = 'pending'",
        id,
        error,
        next_attempt_at
    )
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn mark_skipped(pool: &PgPool, id: Uuid, why: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE notifications SET status = 'skipped', last_error = $2 WHERE id = $1 AND status = 'pending'",
        id,
        why
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// Admins with an e-mail address, for the digest.
pub async fn admins_with_email(pool: &PgPool) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, email AS \"email!\" FROM users WHERE role = 'admin' AND email IS NOT NULL ORDER BY id"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.email)).collect())
}

/// One line of the digest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DigestLine {
    pub common_name: String,
    pub owner: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    pub detail: Option<String>,
}

/// Issued certificates expiring before `before`, soonest first.
pub async fn expiring_before(
    pool: &PgPool,
    now: OffsetDateTime,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<DigestLine>, sqlx::Error> {
    sqlx::query_as!(
        DigestLine,
        "SELECT c.common_name, coalesce(u.email, u.display_name) AS \"owner!\", c.not_after AS at, NULL::text AS detail
           FROM certificates c JOIN users u ON u.id = c.owner_id
          WHERE c.status = 'issued' AND c.not_after > $1 AND c.not_after <= $2
          ORDER BY c.not_after LIMIT $3",
        now,
        before,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Certificate requests that failed since `since`, and notices certdesk gave up on.
pub async fn failures_since(pool: &PgPool, since: OffsetDateTime, limit: i64) -> Result<Vec<DigestLine>, sqlx::Error> {
    sqlx::query_as!(
        DigestLine,
        "(SELECT c.common_name AS \"common_name!\", coalesce(u.email, u.display_name) AS \"owner!\", c.updated_at AS at,
                 c.failure AS detail
            FROM certificates c JOIN users u ON u.id = c.owner_id
           WHERE c.status = 'failed' AND c.updated_at >= $1)
         UNION ALL
         (SELECT 'notice ' || n.kind, coalesce(u.email, u.display_name), n.created_at, n.last_error
            FROM notifications n JOIN users u ON u.id = n.user_id
           WHERE n.status = 'failed' AND n.created_at >= $1)
         ORDER BY at LIMIT $2",
        since,
        limit
    )
    .fetch_all(pool)
    .await
}
