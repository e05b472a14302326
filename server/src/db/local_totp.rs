//! SQL for the certdesk-managed TOTP second factor: sealed secrets, the last accepted time step, failed attempts
//! with lockout, and one-time recovery codes. Acceptance is a single conditional UPDATE, so two concurrent
//! submissions of the same code cannot both succeed.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::sealing::Sealed;

#[derive(Debug, Clone)]
pub struct TotpRow {
    pub secret: Sealed,
    pub created_at: OffsetDateTime,
    pub confirmed_at: Option<OffsetDateTime>,
    pub last_used_step: i64,
    pub failed_attempts: i32,
    pub locked_until: Option<OffsetDateTime>,
}

pub async fn find(pool: &PgPool, user_id: Uuid) -> Result<Option<TotpRow>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT secret_key_id, secret_nonce, secret_ciphertext, created_at, confirmed_at, last_used_step,
                failed_attempts, locked_until
         FROM local_totp WHERE user_id = $1",
        user_id,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| TotpRow {
        secret: Sealed { key_id: row.secret_key_id, nonce: row.secret_nonce, ciphertext: row.secret_ciphertext },
        created_at: row.created_at,
        confirmed_at: row.confirmed_at,
        last_used_step: row.last_used_step,
        failed_attempts: row.failed_attempts,
        locked_until: row.locked_until,
    }))
}

/// Stores a new, unconfirmed secret. A confirmed enrolment is never replaced this way; returns whether the
/// secret was written.
pub async fn start_enrolment(
    pool: &PgPool,
    user_id: Uuid,
    secret: &Sealed,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let written = sqlx::query!(
        "INSERT INTO local_totp (user_id, secret_key_id, secret_nonce, secret_ciphertext, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id) DO UPDATE
             SET secret_key_id = EXCLUDED.secret_key_id, secret_nonce = EXCLUDED.secret_nonce,
                 secret_ciphertext = EXCLUDED.secret_ciphertext, created_at = EXCLUDED.created_at,
                 last_used_step = 0, failed_attempts = 0, locked_until = NULL
             WHERE local_totp.confirmed_at IS NULL",
        user_id,
        secret.key_id,
        secret.nonce,
        secret.ciphertext,
        now,
    )
    .execute(pool)
    .await?;
    Ok(written.rows_affected() == 1)
}

/// Accepts a code for time step `step` if no code of this or a later step was accepted before; confirms an
/// enrolment and clears failed attempts. `false` means the step was already used (a replay).
pub async fn accept_step(
    tx: &mut PgConnection,
    user_id: Uuid,
    step: i64,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let accepted = sqlx::query!(
        "UPDATE local_totp
         SET last_used_step = $2, failed_attempts = 0, locked_until = NULL,
             confirmed_at = COALESCE(confirmed_at, $3)
         WHERE user_id = $1 AND last_used_step < $2",
        user_id,
        step,
        now,
    )
    .execute(tx)
    .await?;
    Ok(accepted.rows_affected() == 1)
}

/// What claiming an attempt found: the factor is locked (nothing may be checked), or this attempt may be
/// checked and is already counted as a failure (a success clears it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// `last_used_step` as of the claim: a code must be for a later step.
    Allowed {
        failures: i32,
        locked_until: Option<OffsetDateTime>,
        last_used_step: i64,
    },
    Locked {
        until: OffsetDateTime,
    },
}

/// Checks the lock and counts the attempt as a failure in one statement, before any code is verified: of many
/// parallel guesses only `lock_after` get past this, the rest find the lock. From the `lock_after`-th failure in
/// a row the factor locks until `lock_until` (a failure after a lock has run out locks it again at once).
pub async fn claim_attempt(
    pool: &PgPool,
    user_id: Uuid,
    lock_after: i32,
    lock_until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Attempt, sqlx::Error> {
    let claimed = sqlx::query!(
        "UPDATE local_totp
         SET failed_attempts = failed_attempts + 1,
             locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END
         WHERE user_id = $1 AND (locked_until IS NULL OR locked_until <= $4)
         RETURNING failed_attempts, locked_until, last_used_step",
        user_id,
        lock_after,
        lock_until,
        now,
    )
    .fetch_optional(pool)
    .await?;
    if let Some(row) = claimed {
        let (failures, locked_until, last_used_step) = (row.failed_attempts, row.locked_until, row.last_used_step);
        return Ok(Attempt::Allowed { failures, locked_until, last_used_step });
    }
    // Refused: locked by a concurrent attempt (or the factor vanished, which must not open the door either).
    let until = sqlx::query_scalar!("SELECT locked_until FROM local_totp WHERE user_id = $1", user_id)
        .fetch_optional(pool)
        .await?
        .flatten()
        .unwrap_or(lock_until);
    Ok(Attempt::Locked { until })
}

/// Replaces the person's recovery codes with new ones (hashes only).
pub async fn replace_recovery_codes(
    tx: &mut PgConnection,
    user_id: Uuid,
    code_hashes: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM local_totp_recovery_codes WHERE user_id = $1", user_id).execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO local_totp_recovery_codes (user_id, code_hash) SELECT $1, hash FROM UNNEST($2::bytea[]) AS hash",
        user_id,
        code_hashes,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Spends a recovery code (once) and clears failed attempts; `false` when no such unused code exists.
pub async fn spend_recovery_code(
    tx: &mut PgConnection,
    user_id: Uuid,
    code_hash: &[u8],
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let spent = sqlx::query!(
        "UPDATE local_totp_recovery_codes SET used_at = $3
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        user_id,
        code_hash,
        now,
    )
    .execute(&mut *tx)
    .await?;
    if spent.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query!("UPDATE local_totp SET failed_attempts = 0, locked_until = NULL WHERE user_id = $1", user_id)
        .execute(&mut *tx)
        .await?;
    Ok(true)
}

pub async fn unused_recovery_codes(pool: &PgPool, user_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT count(*) AS \"count!\" FROM local_totp_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        user_id,
    )
    .fetch_one(pool)
    .await
}
