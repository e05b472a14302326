//! SQL for ACME: the sealed account of each issuer, the persisted orders (leased to one driver at a time) and the
//! challenge answers every replica serves.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::sealing::Sealed;

pub struct StoredAccount {
    pub directory_url: String,
    pub account_url: String,
    pub credentials: Sealed,
}

pub async fn find_account(pool: &PgPool, issuer_id: &str) -> Result<Option<StoredAccount>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT directory_url, account_url, encrypted_credentials, credentials_key_id, credentials_nonce
         FROM acme_accounts WHERE issuer_id = $1",
        issuer_id,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| StoredAccount {
        directory_url: row.directory_url,
        account_url: row.account_url,
        credentials: Sealed {
            key_id: row.credentials_key_id,
            nonce: row.credentials_nonce,
            ciphertext: row.encrypted_credentials,
        },
    }))
}

/// Stores the issuer's account, replacing one made on another directory (or one the CA no longer knows).
pub async fn store_account(
    pool: &PgPool,
    issuer_id: &str,
    account: &StoredAccount,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO acme_accounts (issuer_id, directory_url, account_url, encrypted_credentials, credentials_key_id,
                                    credentials_nonce, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (issuer_id) DO UPDATE SET directory_url = EXCLUDED.directory_url,
             account_url = EXCLUDED.account_url, encrypted_credentials = EXCLUDED.encrypted_credentials,
             credentials_key_id = EXCLUDED.credentials_key_id, credentials_nonce = EXCLUDED.credentials_nonce,
             created_at = EXCLUDED.created_at",
        issuer_id,
        account.directory_url,
        account.account_url,
        account.credentials.ciphertext,
        account.credentials.key_id,
        account.credentials.nonce,
        now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A persisted order, as its driver and the progress view read it.
#[derive(Debug, Clone)]
pub struct OrderRow {
    pub certificate_id: Uuid,
    pub issuer_id: String,
    pub order_url: Option<String>,
    pub state: String,
    pub authorizations: serde_json::Value,
    pub problem: Option<serde_json::Value>,
    pub attempts: i32,
    pub next_attempt_at: OffsetDateTime,
    pub deadline: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The order of a certificate request, written in the request's intent transaction.
pub async fn insert_order(
    tx: &mut PgConnection,
    certificate_id: Uuid,
    issuer_id: &str,
    now: OffsetDateTime,
    deadline: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO acme_orders (certificate_id, issuer_id, state, next_attempt_at, deadline, created_at, updated_at)
         VALUES ($1, $2, 'new', $3, $4, $3, $3)",
        certificate_id,
        issuer_id,
        now,
        deadline,
    )
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn find_order(pool: &PgPool, certificate_id: Uuid) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as!(
        OrderRow,
        "SELECT certificate_id, issuer_id, order_url, state, authorizations, problem, attempts, next_attempt_at,
                deadline, created_at, updated_at
         FROM acme_orders WHERE certificate_id = $1",
        certificate_id,
    )
    .fetch_optional(pool)
    .await
}

/// Takes the lease on one unfinished order if nobody holds it (or its holder's lease ran out).
pub async fn lease(
    pool: &PgPool,
    certificate_id: Uuid,
    replica: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as!(
        OrderRow,
        "UPDATE acme_orders SET leased_by = $2, leased_until = $4
         WHERE certificate_id = $1 AND state NOT IN ('valid', 'invalid', 'failed')
           AND (leased_until IS NULL OR leased_until < $3 OR leased_by = $2)
         RETURNING certificate_id, issuer_id, order_url, state, authorizations, problem, attempts, next_attempt_at,
                   deadline, created_at, updated_at",
        certificate_id,
        replica,
        now,
        until,
    )
    .fetch_optional(pool)
    .await
}

/// Unfinished orders whose next attempt is due and that nobody drives, oldest first.
pub async fn due(pool: &PgPool, now: OffsetDateTime, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT certificate_id FROM acme_orders
         WHERE state NOT IN ('valid', 'invalid', 'failed') AND next_attempt_at <= $1
           AND (leased_until IS NULL OR leased_until < $1)
         ORDER BY next_attempt_at LIMIT $2",
        now,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// What a driver learnt: the new state and progress, when to look again, and a renewed lease.
pub struct Progress<'a> {
    pub order_url: Option<&'a str>,
    pub state: &'a str,
    pub authorizations: &'a serde_json::Value,
    pub problem: Option<&'a serde_json::Value>,
    pub attempts: i32,
    pub next_attempt_at: OffsetDateTime,
    pub leased_until: Option<OffsetDateTime>,
}

/// Saves progress only while `replica` still holds the lease; `false` when another driver took over.
pub async fn save_progress(
    pool: &PgPool,
    certificate_id: Uuid,
    replica: &str,
    progress: &Progress<'_>,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let saved = sqlx::query!(
        "UPDATE acme_orders SET order_url = $3, state = $4, authorizations = $5, problem = $6, attempts = $7,
                next_attempt_at = $8, leased_until = $9, leased_by = CASE WHEN $9::timestamptz IS NULL THEN NULL
                ELSE leased_by END, updated_at = $10
         WHERE certificate_id = $1 AND leased_by = $2",
        certificate_id,
        replica,
        progress.order_url,
        progress.state,
        progress.authorizations,
        progress.problem,
        progress.attempts,
        progress.next_attempt_at,
        progress.leased_until,
        now,
    )
    .execute(pool)
    .await?;
    Ok(saved.rows_affected() == 1)
}

pub struct NewChallenge<'a> {
    pub certificate_id: Uuid,
    pub identifier: &'a str,
    pub kind: &'a str,
    pub token: Option<&'a str>,
    pub response: &'a str,
    pub dns_record: Option<&'a str>,
    pub dns_server: Option<&'a str>,
    pub now: OffsetDateTime,
}

/// Told each HTTP-01 token whose answer is taken down, so every replica drops the answer it keeps in memory.
pub const HTTP01_REMOVED_CHANNEL: &str = "certdesk_http01_removed";

/// Records a challenge answer before the CA is told to look; an HTTP-01 token already stored is kept.
pub async fn insert_challenge(pool: &PgPool, challenge: &NewChallenge<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO acme_challenges (id, certificate_id, identifier, kind, token, response, dns_record, dns_server,
                                      created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (token) WHERE token IS NOT NULL DO NOTHING",
        Uuid::new_v4(),
        challenge.certificate_id,
        challenge.identifier,
        challenge.kind,
        challenge.token,
        challenge.response,
        challenge.dns_record,
        challenge.dns_server,
        challenge.now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The key authorization to answer for an HTTP-01 token, if one of certdesk's orders is waiting for it.
pub async fn http01_response(pool: &PgPool, token: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT response FROM acme_challenges WHERE kind = 'http-01' AND token = $1 AND removed_at IS NULL",
        token,
    )
    .fetch_optional(pool)
    .await
}

/// A published DNS-01 record still to be taken down.
#[derive(Debug, Clone)]
pub struct DnsRecord {
    pub id: Uuid,
    pub dns_record: String,
    pub response: String,
    pub dns_server: String,
}

/// Takes down the HTTP-01 answers of a finished order and lists its DNS records still published.
pub async fn finish_challenges(pool: &PgPool, certificate_id: Uuid) -> Result<Vec<DnsRecord>, sqlx::Error> {
    // Each replica keeps the answers it served in memory: tell them all which tokens are gone. Not the query!
    // macro: pg_notify answers `void`, which the macro cannot describe.
    sqlx::query(
        "WITH gone AS (DELETE FROM acme_challenges WHERE certificate_id = $1 AND kind = 'http-01' RETURNING token)
         SELECT pg_notify($2, token) FROM gone WHERE token IS NOT NULL",
    )
    .bind(certificate_id)
    .bind(HTTP01_REMOVED_CHANNEL)
    .execute(pool)
    .await?;
    sqlx::query_as!(
        DnsRecord,
        r#"SELECT id, dns_record AS "dns_record!", response, dns_server AS "dns_server!" FROM acme_challenges
           WHERE certificate_id = $1 AND kind = 'dns-01' AND removed_at IS NULL
             AND dns_record IS NOT NULL AND dns_server IS NOT NULL"#,
        certificate_id,
    )
    .fetch_all(pool)
    .await
}

/// DNS records of finished orders whose removal failed earlier, to retry.
pub async fn stale_dns_records(pool: &PgPool, limit: i64) -> Result<Vec<DnsRecord>, sqlx::Error> {
    sqlx::query_as!(
        DnsRecord,
        r#"SELECT c.id, c.dns_record AS "dns_record!", c.response, c.dns_server AS "dns_server!"
           FROM acme_challenges c JOIN acme_orders o ON o.certificate_id = c.certificate_id
           WHERE c.kind = 'dns-01' AND c.removed_at IS NULL AND c.dns_record IS NOT NULL
             AND c.dns_server IS NOT NULL AND o.state IN ('valid', 'invalid', 'failed')
           ORDER BY c.created_at LIMIT $1"#,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// A DNS-01 record the server refused to publish needs no take-down.
pub async fn forget_dns_record(
    pool: &PgPool,
    certificate_id: Uuid,
    dns_record: &str,
    value: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE acme_challenges SET removed_at = $4
         WHERE certificate_id = $1 AND kind = 'dns-01' AND dns_record = $2 AND response = $3 AND removed_at IS NULL",
        certificate_id,
        dns_record,
        value,
        now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn mark_dns_removed(pool: &PgPool, id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE acme_challenges SET removed_at = $2 WHERE id = $1", id, now).execute(pool).await?;
    Ok(())
}

/// What an order needs from its certificate request.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    pub status: String,
    pub csr_pem: Option<String>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
}

impl OrderRequest {
    pub fn names(&self) -> Vec<String> {
        self.dns_names.iter().chain(&self.ip_addresses).cloned().collect()
    }
}

pub async fn order_request(pool: &PgPool, certificate_id: Uuid) -> Result<Option<OrderRequest>, sqlx::Error> {
    sqlx::query_as!(
        OrderRequest,
        "SELECT status, csr_pem, dns_names, ip_addresses FROM certificates WHERE id = $1",
        certificate_id,
    )
    .fetch_optional(pool)
    .await
}

pub async fn forget_account(pool: &PgPool, issuer_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM acme_accounts WHERE issuer_id = $1", issuer_id).execute(pool).await?;
    Ok(())
}
