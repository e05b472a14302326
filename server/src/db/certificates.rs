//! SQL for the certificate inventory.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::renewal::IntentRenewal;
use crate::sealing::Sealed;

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

/// The intent of a certificate request, written before the issuer is called: if certdesk dies while the issuer
/// signs, this row (status `pending`) is the trace the reconciler finds.
pub struct NewIntent<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub issuer_id: &'a str,
    pub common_name: &'a str,
    pub dns_names: &'a [String],
    pub ip_addresses: &'a [String],
    pub key_algorithm: &'a str,
    pub key_source: &'a str,
    pub sealed_key: Option<&'a Sealed>,
    pub csr_pem: &'a str,
    pub client_auth: bool,
    pub validity_days: i32,
    pub policy_rule: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: &'a [u8],
    pub search_text: &'a str,
    /// Requested by the renewal job, not by a person: not counted against the owner's daily quota.
    pub automatic_renewal: bool,
    pub renewal: IntentRenewal,
    /// The account of certdesk's ACME server that ordered it, if one did.
    pub acme_server_account_id: Option<Uuid>,
    pub now: OffsetDateTime,
}

/// Inserts the intent; `false` when the owner already used this idempotency key (nothing written).
pub async fn insert_intent(tx: &mut PgConnection, intent: &NewIntent<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, dns_names, ip_addresses,
                                   key_algorithm, key_source, encrypted_private_key, key_encryption_key_id,
                                   private_key_nonce, csr_pem, client_auth, validity_days, policy_rule,
                                   idempotency_key, request_hash, search_text, automatic_renewal, created_at,
                                   updated_at, auto_renew, renew_remaining_percent, renew_before_days, reuse_key,
                                   renewed_from, acme_server_account_id)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $20, $19,
                 $19, $21, $22, $23, $24, $25, $26)
         ON CONFLICT (owner_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
        intent.id,
        intent.owner_id,
        intent.issuer_id,
        intent.common_name,
        intent.dns_names,
        intent.ip_addresses,
        intent.key_algorithm,
        intent.key_source,
        intent.sealed_key.map(|sealed| sealed.ciphertext.as_slice()),
        intent.sealed_key.map(|sealed| sealed.key_id.as_str()),
        intent.sealed_key.map(|sealed| sealed.nonce.as_slice()),
        intent.csr_pem,
        intent.client_auth,
        intent.validity_days,
        intent.policy_rule,
        intent.idempotency_key,
        intent.request_hash,
        intent.search_text,
        intent.now,
        intent.automatic_renewal,
        intent.renewal.auto_renew,
        intent.renewal.remaining_percent,
        intent.renewal.renew_before_days,
        intent.renewal.reuse_key,
        intent.renewal.renewed_from,
        intent.acme_server_account_id,
    )
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// An earlier request of the same owner under the same idempotency key.
#[derive(Debug, Clone)]
pub struct PriorRequest {
    pub id: Uuid,
    pub status: String,
    pub request_hash: Option<Vec<u8>>,
}

pub async fn find_by_idempotency_key(
    pool: &PgPool,
    owner_id: Uuid,
    key: &str,
) -> Result<Option<PriorRequest>, sqlx::Error> {
    sqlx::query_as!(
        PriorRequest,
        "SELECT id, status, request_hash FROM certificates WHERE owner_id = $1 AND idempotency_key = $2",
        owner_id,
        key,
    )
    .fetch_optional(pool)
    .await
}

pub struct Issued<'a> {
    pub serial: &'a str,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub fingerprint_sha256: &'a str,
    pub leaf_pem: &'a str,
    pub chain_pem: &'a str,
    pub root_pem: &'a str,
    pub facts: serde_json::Value,
    pub search_text: &'a str,
    /// When it is due for renewal (automatic renewal only).
    pub renew_at: Option<OffsetDateTime>,
}

/// pending → issued; `false` if the row was no longer pending (resolved by someone else).
pub async fn mark_issued(
    tx: &mut PgConnection,
    id: Uuid,
    issued: &Issued<'_>,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "UPDATE certificates
         SET status = 'issued', serial = $2, not_before = $3, not_after = $4, fingerprint_sha256 = $5,
             leaf_pem = $6, chain_pem = $7, root_pem = $8, facts = $9, search_text = $10, updated_at = $11,
             renew_at = COALESCE($12, renew_at)
         WHERE id = $1 AND status = 'pending'",
        id,
        issued.serial,
        issued.not_before,
        issued.not_after,
        issued.fingerprint_sha256,
        issued.leaf_pem,
        issued.chain_pem,
        issued.root_pem,
        issued.facts,
        issued.search_text,
        now,
        issued.renew_at,
    )
    .execute(tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// pending → failed, with the reason shown to the requester; `false` when it was no longer pending (settled by
/// someone else first).
pub async fn mark_failed(
    tx: &mut PgConnection,
    id: Uuid,
    failure: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "UPDATE certificates SET status = 'failed', failure = $2, updated_at = $3 WHERE id = $1 AND status = 'pending'",
        id,
        failure,
        now,
    )
    .execute(tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Everything about one certificate, for its page and its downloads.
#[derive(Debug, Clone)]
pub struct CertificateRecord {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub issuer_id: String,
    pub status: String,
    pub common_name: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub key_algorithm: String,
    pub key_source: String,
    pub serial: Option<String>,
    pub not_before: Option<OffsetDateTime>,
    pub not_after: Option<OffsetDateTime>,
    pub fingerprint_sha256: Option<String>,
    pub leaf_pem: Option<String>,
    pub chain_pem: Option<String>,
    pub root_pem: Option<String>,
    pub encrypted_private_key: Option<Vec<u8>>,
    pub key_encryption_key_id: Option<String>,
    pub private_key_nonce: Option<Vec<u8>>,
    pub client_auth: bool,
    pub validity_days: i32,
    pub policy_rule: Option<String>,
    pub facts: Option<serde_json::Value>,
    pub failure: Option<String>,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub revocation_reason: Option<String>,
    pub revoked_by: Option<Uuid>,
    pub revoked_by_name: Option<String>,
    /// The name of the ACME account key whose account ordered it, when certdesk's ACME server did.
    pub acme_account: Option<String>,
}

/// One certificate, if `owner` (None: anyone's, for admins and auditors) may see it.
pub async fn find_visible(
    pool: &PgPool,
    id: Uuid,
    owner: Option<Uuid>,
) -> Result<Option<CertificateRecord>, sqlx::Error> {
    sqlx::query_as!(
        CertificateRecord,
        r#"SELECT c.id, c.owner_id, u.display_name AS owner_name, c.issuer_id, c.status, c.common_name, c.dns_names,
                c.ip_addresses, c.key_algorithm, c.key_source, c.serial, c.not_before, c.not_after,
                c.fingerprint_sha256, c.leaf_pem, c.chain_pem, c.root_pem, c.encrypted_private_key,
                c.key_encryption_key_id, c.private_key_nonce, c.client_auth, c.validity_days, c.policy_rule,
                c.facts, c.failure, c.created_at, c.revoked_at, c.revocation_reason, c.revoked_by,
                r.display_name AS "revoked_by_name?",
                (SELECT k.name FROM acme_server_accounts a JOIN acme_account_keys k ON k.id = a.account_key_id
                 WHERE a.id = c.acme_server_account_id) AS "acme_account?"
         FROM certificates c JOIN users u ON u.id = c.owner_id LEFT JOIN users r ON r.id = c.revoked_by
         WHERE c.id = $1 AND ($2::uuid IS NULL OR c.owner_id = $2)"#,
        id,
        owner,
    )
    .fetch_optional(pool)
    .await
}

/// A request left `pending`: certdesk stopped between writing the intent and recording the issuer's answer.
#[derive(Debug, Clone)]
pub struct PendingIntent {
    pub id: Uuid,
    pub issuer_id: String,
    pub csr_pem: Option<String>,
    pub dns_names: Vec<String>,
    pub created_at: OffsetDateTime,
}

/// Pending requests older than `cutoff` (younger ones may still be in flight), oldest first; ACME requests are left
/// to their order driver, which resumes them from the stored order.
pub async fn pending_before(
    pool: &PgPool,
    cutoff: OffsetDateTime,
    limit: i64,
) -> Result<Vec<PendingIntent>, sqlx::Error> {
    sqlx::query_as!(
        PendingIntent,
        "SELECT id, issuer_id, csr_pem, dns_names, created_at FROM certificates c
         WHERE status = 'pending' AND created_at < $1
           AND NOT EXISTS (SELECT 1 FROM acme_orders o WHERE o.certificate_id = c.id)
         ORDER BY created_at LIMIT $2",
        cutoff,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// Filters of the inventory list; `None` means "any".
pub struct ListFilter<'a> {
    pub owner: Option<Uuid>,
    /// Lower-case text matched anywhere in names, serial and fingerprint.
    pub search: &'a str,
    /// Lower-case text matched in the owner's name or e-mail (admins and auditors).
    pub owner_search: &'a str,
    pub issuer_id: Option<&'a str>,
    pub status: Option<&'a str>,
    /// Issued certificates expiring before this time.
    pub expiring_before: Option<OffsetDateTime>,
    /// Issued certificates expiring at or after this time.
    pub expiring_from: Option<OffsetDateTime>,
    pub limit: i64,
}

/// Where a page starts, in the order being listed: strictly after this row.
pub enum ListPosition {
    Newest(Option<(OffsetDateTime, Uuid)>),
    SoonestExpiry(Option<(OffsetDateTime, Uuid)>),
    Name(Option<(String, Uuid)>),
}

#[derive(Debug, Clone)]
pub struct ListedCertificate {
    pub id: Uuid,
    pub common_name: String,
    pub issuer_id: String,
    pub status: String,
    pub serial: Option<String>,
    pub not_after: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub owner_name: String,
    /// The name of the ACME account key whose account ordered it, when certdesk's ACME server did.
    pub acme_account: Option<String>,
}

fn like_pattern(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// One page of the inventory by keyset (never OFFSET: page N costs the same as page 1). Each order has its own
/// statement so PostgreSQL can walk the matching index instead of sorting.
pub async fn list(
    pool: &PgPool,
    filter: &ListFilter<'_>,
    position: &ListPosition,
) -> Result<Vec<ListedCertificate>, sqlx::Error> {
    let search = like_pattern(filter.search);
    let owner_search = like_pattern(filter.owner_search);
    match position {
        ListPosition::Newest(after) => {
            let (after_time, after_id) = after.unzip();
            sqlx::query_as!(
                ListedCertificate,
                r#"SELECT c.id, c.common_name, c.issuer_id, c.status, c.serial, c.not_after, c.created_at,
                        u.display_name AS owner_name,
                        (SELECT k.name FROM acme_server_accounts a JOIN acme_account_keys k ON k.id = a.account_key_id
                         WHERE a.id = c.acme_server_account_id) AS "acme_account?"
                 FROM certificates c JOIN users u ON u.id = c.owner_id
                 WHERE ($1::uuid IS NULL OR c.owner_id = $1)
                   AND ($2::text = '%%' OR c.search_text LIKE $2)
                   AND ($3::text = '%%' OR lower(u.display_name) LIKE $3 OR lower(coalesce(u.email, '')) LIKE $3)
                   AND ($4::text IS NULL OR c.issuer_id = $4)
                   AND ($5::text IS NULL OR c.status = $5)
                   AND ($6::timestamptz IS NULL OR (c.status = 'issued' AND c.not_after < $6))
                   AND ($10::timestamptz IS NULL OR (c.status = 'issued' AND c.not_after >= $10))
                   AND ($7::timestamptz IS NULL OR (c.created_at, c.id) < ($7, $8::uuid))
                 ORDER BY c.created_at DESC, c.id DESC
                 LIMIT $9"#,
                filter.owner,
                search,
                owner_search,
                filter.issuer_id,
                filter.status,
                filter.expiring_before,
                after_time,
                after_id,
                filter.limit,
                filter.expiring_from,
            )
            .fetch_all(pool)
            .await
        }
        ListPosition::SoonestExpiry(after) => {
            let (after_time, after_id) = after.unzip();
            sqlx::query_as!(
                ListedCertificate,
                r#"SELECT c.id, c.common_name, c.issuer_id, c.status, c.serial, c.not_after, c.created_at,
                        u.display_name AS owner_name,
                        (SELECT k.name FROM acme_server_accounts a JOIN acme_account_keys k ON k.id = a.account_key_id
                         WHERE a.id = c.acme_server_account_id) AS "acme_account?"
                 FROM certificates c JOIN users u ON u.id = c.owner_id
                 WHERE c.not_after IS NOT NULL
                   AND ($1::uuid IS NULL OR c.owner_id = $1)
                   AND ($2::text = '%%' OR c.search_text LIKE $2)
                   AND ($3::text = '%%' OR lower(u.display_name) LIKE $3 OR lower(coalesce(u.email, '')) LIKE $3)
                   AND ($4::text IS NULL OR c.issuer_id = $4)
                   AND ($5::text IS NULL OR c.status = $5)
                   AND ($6::timestamptz IS NULL OR (c.status = 'issued' AND c.not_after < $6))
                   AND ($10::timestamptz IS NULL OR (c.status = 'issued' AND c.not_after >= $10))
                   AND ($7::timestamptz IS NULL OR (c.not_after, c.id) > ($7, $8::uuid))
                 ORDER BY c.not_after ASC, c.id ASC
                 LIMIT $9"#,
                filter.owner,
                search,
                owner_search,
                filter.issuer_id,
                filter.status,
                filter.expiring_before,
                after_time,
                after_id,
                filter.limit,
                filter.expiring_from,
            )
            .fetch_all(pool)
            .await
        }
        ListPosition::Name(after) => {
            let (after_name, after_id) = after.clone().unzip();
            sqlx::query_as!(
                ListedCertificate,
                r#"SELECT c.id, c.common_name, c.issuer_id, c.status, c.serial, c.not_after, c.created_at,
                        u.display_name AS owner_name,
                        (SELECT k.name FROM acme_server_accounts a JOIN acme_account_keys k ON k.id = a.account_key_id
                         WHERE a.id = c.acme_server_account_id) AS "acme_account?"
                 FROM certificates c JOIN users u ON u.id = c.owner_id
                 WHERE ($1::uuid IS NULL OR c.owner_id = $1)
                   AND ($2::text = '%%' OR c.search_text LIKE $2)
                   AND ($3::text = '%%' OR lower(u.display_name) LIKE $3 OR lower(coalesce(u.email, '')) LIKE $3)
                   AND ($4::text IS NULL OR c.issuer_id = $4)
                   AND ($5::text IS NULL OR c.status = $5)
                   AND ($6::timestamptz IS NULL OR (c.status = 'issued' AND c.not_after < $6))
                   AND ($10::timestamptz IS NULL OR (c.status = 'issued' AND c.not_after >= $10))
                   AND ($7::text IS NULL OR (c.common_name, c.id) > ($7, $8::uuid))
                 ORDER BY c.common_name ASC, c.id ASC
                 LIMIT $9"#,
                filter.owner,
                search,
                owner_search,
                filter.issuer_id,
                filter.status,
                filter.expiring_before,
                after_name,
                after_id,
                filter.limit,
                filter.expiring_from,
            )
            .fetch_all(pool)
            .await
        }
    }
}

/// A status as stored; the table's CHECK constraint admits only known names, so the fallback never shows.
pub fn stored_status(status: &str) -> app::model::CertStatus {
    app::model::CertStatus::parse(status).unwrap_or(app::model::CertStatus::Failed)
}
