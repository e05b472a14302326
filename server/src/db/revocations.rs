//! SQL for revocation: recording one the issuer confirmed, adopting the ones found on an issuer's CRL, and
//! finding everything a person owns that can still be revoked.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// issued/superseded → revoked. Also completes a revocation first seen on the issuer's CRL (no actor, no
/// reason) with the requester's reason. `false` when the certificate was already revoked by someone.
pub async fn mark_revoked(
    tx: &mut PgConnection,
    id: Uuid,
    revoked_at: OffsetDateTime,
    reason: &str,
    revoked_by: Uuid,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "UPDATE certificates
         SET status = 'revoked', revoked_at = $2, revocation_reason = $3, revoked_by = $4, updated_at = now()
         WHERE id = $1
           AND (status IN ('issued', 'superseded') OR (status = 'revoked' AND revoked_by IS NULL))",
        id,
        revoked_at,
        reason,
        revoked_by,
    )
    .execute(tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// One entry of an issuer's CRL.
#[derive(Debug, Clone)]
pub struct ListedSerial {
    /// "3a:0f:01", as stored in `certificates.serial`.
    pub serial: String,
    pub revoked_at: OffsetDateTime,
    /// RFC 5280 name, when the CRL entry carries a reason code certdesk records.
    pub reason: Option<String>,
}

/// A certificate certdesk still showed as valid although its issuer's CRL lists it.
#[derive(Debug, Clone)]
pub struct AdoptedRevocation {
    pub id: Uuid,
    pub serial: String,
}

/// Marks every issued or superseded certificate of `issuer_id` whose serial is on the CRL as revoked.
pub async fn adopt_listed(
    tx: &mut PgConnection,
    issuer_id: &str,
    listed: &[ListedSerial],
) -> Result<Vec<AdoptedRevocation>, sqlx::Error> {
    let serials: Vec<String> = listed.iter().map(|entry| entry.serial.clone()).collect();
    let times: Vec<OffsetDateTime> = listed.iter().map(|entry| entry.revoked_at).collect();
    let reasons: Vec<Option<String>> = listed.iter().map(|entry| entry.reason.clone()).collect();
    sqlx::query_as!(
        AdoptedRevocation,
        r#"UPDATE certificates c
           SET status = 'revoked', revoked_at = e.revoked_at, revocation_reason = e.reason, updated_at = now()
           FROM unnest($2::text[], $3::timestamptz[], $4::text[]) AS e(serial, revoked_at, reason)
           WHERE c.issuer_id = $1 AND c.serial = e.serial AND c.status IN ('issued', 'superseded')
           RETURNING c.id, c.serial AS "serial!""#,
        issuer_id,
        &serials,
        &times,
        &reasons as &[Option<String>],
    )
    .fetch_all(tx)
    .await
}

#[derive(Debug, Clone)]
pub struct RevocableRow {
    pub id: Uuid,
    pub common_name: String,
    pub serial: Option<String>,
    pub issuer_id: String,
}

/// A person's certificates that are still worth revoking (issued or superseded, not yet expired), oldest first.
pub async fn revocable_of_owner(
    pool: &PgPool,
    owner_id: Uuid,
    now: OffsetDateTime,
) -> Result<Vec<RevocableRow>, sqlx::Error> {
    sqlx::query_as!(
        RevocableRow,
        "SELECT id, common_name, serial, issuer_id FROM certificates
         WHERE owner_id = $1 AND status IN ('issued', 'superseded') AND not_after > $2
         ORDER BY created_at, id",
        owner_id,
        now,
    )
    .fetch_all(pool)
    .await
}
