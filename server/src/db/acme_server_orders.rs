//! SQL of the ACME server's orders, authorizations and challenges. Every state change is one conditional `UPDATE`
//! on the state it leaves (`WHERE status = 'pending'` …), so two replicas racing on the same object cannot both
//! move it; work that runs outside a request (validation, finalization) is claimed with a lease in
//! `next_attempt_at`, which the backstop jobs take over once it has run out.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub issuer_id: String,
    pub status: String,
    pub identifiers: Vec<String>,
    pub expires_at: OffsetDateTime,
    pub replaces_certificate_id: Option<Uuid>,
    pub replaces: Option<String>,
    pub certificate_id: Option<Uuid>,
    pub error: Option<serde_json::Value>,
    pub csr_der: Option<Vec<u8>>,
    pub finalize_attempts: i32,
    pub created_at: OffsetDateTime,
}

/// An order with the ids of its authorizations, in the order its document lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderWithAuthorizations {
    #[sqlx(flatten)]
    pub order: OrderRow,
    pub authorization_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorizationRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub identifier: String,
    pub wildcard: bool,
    pub status: String,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeRow {
    pub id: Uuid,
    pub authorization_id: Uuid,
    pub kind: String,
    pub token: String,
    pub status: String,
    pub validated_at: Option<OffsetDateTime>,
    pub error: Option<serde_json::Value>,
}

/// A new order with its authorizations and their challenges, written together.
pub struct NewOrder<'a> {
    pub id: Uuid,
    pub account_id: Uuid,
    pub issuer_id: &'a str,
    pub identifiers: &'a [String],
    pub expires_at: OffsetDateTime,
    pub replaces_certificate_id: Option<Uuid>,
    pub replaces: Option<&'a str>,
    /// `ready` when every authorization is valid already (names that need no challenge), else `pending`.
    pub status: &'a str,
    pub authorizations: Vec<NewAuthorization>,
    pub now: OffsetDateTime,
}

pub struct NewAuthorization {
    pub id: Uuid,
    pub identifier: String,
    pub wildcard: bool,
    pub status: &'static str,
    /// (id, kind, token) of each challenge offered.
    pub challenges: Vec<(Uuid, &'static str, String)>,
}

/// Locks the account's row (so concurrent newOrders of one account count one after the other) and counts its
/// orders still in flight at `now`.
pub async fn lock_account_counting_open_orders(
    tx: &mut PgConnection,
    account_id: Uuid,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, Uuid>("SELECT id FROM acme_server_accounts WHERE id = $1 FOR UPDATE")
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
    sqlx::query_scalar(
        "SELECT count(*) FROM acme_server_orders
         WHERE account_id = $1 AND status IN ('pending', 'ready', 'processing') AND expires_at > $2",
    )
    .bind(account_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}

/// The index that lets one order at a time replace a certificate; an insert that violates it lost a race.
pub const ONE_REPLACEMENT_INDEX: &str = "acme_server_orders_one_replacement";

pub async fn insert_order(tx: &mut PgConnection, order: &NewOrder<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO acme_server_orders (id, account_id, issuer_id, status, identifiers, expires_at,
                                         replaces_certificate_id, replaces, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8)",
    )
    .bind(order.id)
    .bind(order.account_id)
    .bind(order.issuer_id)
    .bind(order.status)
    .bind(order.identifiers)
    .bind(order.expires_at)
    .bind(order.replaces_certificate_id)
    .bind(order.now)
    .bind(order.replaces)
    .execute(&mut *tx)
    .await?;
    let authorizations = &order.authorizations;
    sqlx::query(
        "INSERT INTO acme_server_authorizations (id, order_id, identifier, wildcard, status, expires_at)
         SELECT id, $2, identifier, wildcard, status, $6
         FROM unnest($1::uuid[], $3::text[], $4::bool[], $5::text[]) AS a (id, identifier, wildcard, status)",
    )
    .bind(authorizations.iter().map(|authz| authz.id).collect::<Vec<_>>())
    .bind(order.id)
    .bind(authorizations.iter().map(|authz| authz.identifier.clone()).collect::<Vec<_>>())
    .bind(authorizations.iter().map(|authz| authz.wildcard).collect::<Vec<_>>())
    .bind(authorizations.iter().map(|authz| authz.status).collect::<Vec<_>>())
    .bind(order.expires_at)
    .execute(&mut *tx)
    .await?;
    let challenges: Vec<(Uuid, Uuid, &str, &str)> = authorizations
        .iter()
        .flat_map(|authz| authz.challenges.iter().map(|(id, kind, token)| (*id, authz.id, *kind, token.as_str())))
        .collect();
    sqlx::query(
        "INSERT INTO acme_server_challenges (id, authorization_id, kind, token, status)
         SELECT id, authorization_id, kind, token, 'pending'
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS c (id, authorization_id, kind, token)",
    )
    .bind(challenges.iter().map(|challenge| challenge.0).collect::<Vec<_>>())
    .bind(challenges.iter().map(|challenge| challenge.1).collect::<Vec<_>>())
    .bind(challenges.iter().map(|challenge| challenge.2).collect::<Vec<_>>())
    .bind(challenges.iter().map(|challenge| challenge.3).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

const ORDER_COLUMNS: &str = "id, account_id, issuer_id, status, identifiers, expires_at, replaces_certificate_id,
     replaces, certificate_id, error, csr_der, finalize_attempts, created_at";

/// One order of `account_id` on `issuer_id`, with its authorizations' ids (what its document needs, in one round
/// trip); another account's order is not found.
pub async fn order(
    pool: &PgPool,
    issuer_id: &str,
    account_id: Uuid,
    id: Uuid,
) -> Result<Option<OrderWithAuthorizations>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ORDER_COLUMNS},
                ARRAY(SELECT a.id FROM acme_server_authorizations a WHERE a.order_id = o.id
                      ORDER BY a.identifier, a.wildcard) AS authorization_ids
         FROM acme_server_orders o WHERE o.id = $1 AND o.issuer_id = $2 AND o.account_id = $3"
    ))
    .bind(id)
    .bind(issuer_id)
    .bind(account_id)
    .fetch_optional(pool)
    .await
}

/// The order, whoever's it is: for the jobs.
pub async fn order_by_id(pool: &PgPool, id: Uuid) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM acme_server_orders WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The ids of an account's orders not yet expired, newest first (the account's `orders` list).
pub async fn order_ids_of_account(
    pool: &PgPool,
    account_id: Uuid,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM acme_server_orders WHERE account_id = $1 AND (expires_at > $2 OR status = 'valid')
         ORDER BY created_at DESC LIMIT $3",
    )
    .bind(account_id)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One authorization of an order of `account_id` on `issuer_id`.
pub async fn authorization(
    pool: &PgPool,
    issuer_id: &str,
    account_id: Uuid,
    id: Uuid,
) -> Result<Option<AuthorizationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.order_id, a.identifier, a.wildcard, a.status, a.expires_at
         FROM acme_server_authorizations a JOIN acme_server_orders o ON o.id = a.order_id
         WHERE a.id = $1 AND o.issuer_id = $2 AND o.account_id = $3",
    )
    .bind(id)
    .bind(issuer_id)
    .bind(account_id)
    .fetch_optional(pool)
    .await
}

pub async fn challenges_of(pool: &PgPool, authorization_id: Uuid) -> Result<Vec<ChallengeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, authorization_id, kind, token, status, validated_at, error FROM acme_server_challenges
         WHERE authorization_id = $1 ORDER BY kind",
    )
    .bind(authorization_id)
    .fetch_all(pool)
    .await
}

pub async fn challenge_row(pool: &PgPool, id: Uuid) -> Result<Option<ChallengeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, authorization_id, kind, token, status, validated_at, error FROM acme_server_challenges WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A challenge with what validating it needs: its name, the account key's thumbprint (for the key
/// authorization), and where it belongs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeTarget {
    pub id: Uuid,
    pub authorization_id: Uuid,
    pub order_id: Uuid,
    pub account_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub issuer_id: String,
    pub kind: String,
    pub token: String,
    pub status: String,
    pub identifier: String,
    pub wildcard: bool,
    pub jwk_thumbprint: String,
}

const TARGET_FROM: &str = "SELECT c.id, c.authorization_id, a.order_id, o.account_id, acc.owner_id, o.issuer_id,
            c.kind, c.token, c.status, a.identifier, a.wildcard, acc.jwk_thumbprint
     FROM acme_server_challenges c
     JOIN acme_server_authorizations a ON a.id = c.authorization_id
     JOIN acme_server_orders o ON o.id = a.order_id
     JOIN acme_server_accounts acc ON acc.id = o.account_id";

/// One challenge of an order of `account_id` on `issuer_id`.
pub async fn challenge(
    pool: &PgPool,
    issuer_id: &str,
    account_id: Uuid,
    id: Uuid,
) -> Result<Option<ChallengeTarget>, sqlx::Error> {
    sqlx::query_as(&format!("{TARGET_FROM} WHERE c.id = $1 AND o.issuer_id = $2 AND o.account_id = $3"))
        .bind(id)
        .bind(issuer_id)
        .bind(account_id)
        .fetch_optional(pool)
        .await
}

/// The client asks for validation: the challenge goes `processing` under a lease until `lease_until`, if it and
/// its authorization and order are still pending and unexpired. `false`: they are not (answered as they are).
pub async fn start_challenge(
    pool: &PgPool,
    id: Uuid,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE acme_server_challenges c SET status = 'processing', next_attempt_at = $3, attempts = attempts + 1
         FROM acme_server_authorizations a, acme_server_orders o
         WHERE c.id = $1 AND c.status = 'pending' AND a.id = c.authorization_id AND a.status = 'pending'
           AND a.expires_at > $2 AND o.id = a.order_id AND o.status = 'pending'
           AND NOT EXISTS (SELECT 1 FROM acme_server_challenges other
                           WHERE other.authorization_id = c.authorization_id AND other.status <> 'pending')",
    )
    .bind(id)
    .bind(now)
    .bind(lease_until)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Challenges whose validation lease ran out (the replica validating them died): each taken again under a new
/// lease, at most `limit`.
pub async fn take_stalled_challenges(
    pool: &PgPool,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ChallengeTarget>, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE acme_server_challenges SET next_attempt_at = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM acme_server_challenges
                      WHERE status = 'processing' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    sqlx::query_as(&format!("{TARGET_FROM} WHERE c.id = ANY($1)")).bind(ids).fetch_all(pool).await
}

/// A challenge answered correctly: it and its authorization are valid, and the order is `ready` once all of its
/// authorizations are. `false` when the challenge was not processing any more (another replica recorded it).
pub async fn challenge_valid(
    tx: &mut PgConnection,
    target: &ChallengeTarget,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE acme_server_challenges SET status = 'valid', validated_at = $2, next_attempt_at = NULL
         WHERE id = $1 AND status = 'processing'",
    )
    .bind(target.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE acme_server_authorizations SET status = 'valid' WHERE id = $1 AND status = 'pending'")
        .bind(target.authorization_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE acme_server_orders o SET status = 'ready', updated_at = $2
         WHERE o.id = $1 AND o.status = 'pending'
           AND NOT EXISTS (SELECT 1 FROM acme_server_authorizations a WHERE a.order_id = o.id AND a.status <> 'valid')",
    )
    .bind(target.order_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(true)
}

/// A challenge answered wrongly: it, its authorization and its order are invalid, each with the problem. `false`
/// when the challenge was not processing any more.
pub async fn challenge_invalid(
    tx: &mut PgConnection,
    target: &ChallengeTarget,
    challenge_error: &serde_json::Value,
    order_error: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE acme_server_challenges SET status = 'invalid', error = $2, next_attempt_at = NULL
         WHERE id = $1 AND status = 'processing'",
    )
    .bind(target.id)
    .bind(challenge_error)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE acme_server_authorizations SET status = 'invalid' WHERE id = $1 AND status = 'pending'")
        .bind(target.authorization_id)
        .execute(&mut *tx)
        .await?;
    invalidate_order(tx, target.order_id, order_error, now).await?;
    Ok(true)
}

/// The order is invalid with `error`, unless it was finished already.
pub async fn invalidate_order(
    tx: &mut PgConnection,
    order_id: Uuid,
    error: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE acme_server_orders SET status = 'invalid', error = $2, next_attempt_at = NULL, updated_at = $3
         WHERE id = $1 AND status IN ('pending', 'ready', 'processing')",
    )
    .bind(order_id)
    .bind(error)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The client deactivates an authorization (RFC 8555 §7.5.2): a pending or valid one becomes `deactivated` and
/// its unfinished order `invalid`. `false` when it was neither.
pub async fn deactivate_authorization(
    tx: &mut PgConnection,
    authorization: &AuthorizationRow,
    order_error: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE acme_server_authorizations SET status = 'deactivated' WHERE id = $1 AND status IN ('pending', 'valid')",
    )
    .bind(authorization.id)
    .execute(&mut *tx)
    .await?;
    if result.rows_affected() == 0 {
        return Ok(false);
    }
    invalidate_order(tx, authorization.order_id, order_error, now).await?;
    Ok(true)
}

/// Orders and authorizations past their expiry that never finished become `invalid` / `expired`; the ids of the
/// orders, at most `limit`.
pub async fn expire(pool: &PgPool, now: OffsetDateTime, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let orders: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE acme_server_orders SET status = 'invalid', updated_at = $1,
                error = jsonb_build_object('type', 'urn:ietf:params:acme:error:malformed',
                                           'detail', 'the order expired before it was finalized')
         WHERE id IN (SELECT id FROM acme_server_orders WHERE status IN ('pending', 'ready') AND expires_at <= $1
                      LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE acme_server_authorizations SET status = 'expired'
         WHERE order_id = ANY($1) AND status IN ('pending', 'valid')",
    )
    .bind(&orders)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(orders)
}

/// finalize: a `ready` order goes `processing` with its CSR, leased to this request until `lease_until`. `false`
/// when it was not ready (answered as it is).
pub async fn begin_finalize(
    executor: impl sqlx::PgExecutor<'_>,
    order_id: Uuid,
    csr_der: &[u8],
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE acme_server_orders SET status = 'processing', csr_der = $2, next_attempt_at = $4, updated_at = $3
         WHERE id = $1 AND status = 'ready' AND expires_at > $3",
    )
    .bind(order_id)
    .bind(csr_der)
    .bind(now)
    .bind(lease_until)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Orders whose finalization is due again (a retry after the issuer was down, or a lease that ran out): each
/// taken under a new lease, at most `limit`. The attempt is not counted: a lease that ran out may have issued.
pub async fn take_due_finalizations(
    pool: &PgPool,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE acme_server_orders SET next_attempt_at = $2
         WHERE id IN (SELECT id FROM acme_server_orders WHERE status = 'processing' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING {ORDER_COLUMNS}"
    ))
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The certificate is issued: the order is `valid` and keeps only the certificate (its CSR is dropped).
pub async fn order_valid(
    executor: impl sqlx::PgExecutor<'_>,
    order_id: Uuid,
    certificate_id: Uuid,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE acme_server_orders SET status = 'valid', certificate_id = $2, csr_der = NULL, next_attempt_at = NULL,
                updated_at = $3
         WHERE id = $1 AND status = 'processing'",
    )
    .bind(order_id)
    .bind(certificate_id)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Finalization could not finish now: try again at `next_attempt_at`. `attempt_failed`: the issuance attempt
/// ended as failed (the issuer was down or sealed), so the next one is a new attempt (a new idempotency key);
/// otherwise it repeats this one (which may still be in flight) and is answered by it.
pub async fn postpone_finalize(
    pool: &PgPool,
    order_id: Uuid,
    attempt_failed: bool,
    next_attempt_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE acme_server_orders SET next_attempt_at = $2, finalize_attempts = finalize_attempts + $3::int
         WHERE id = $1 AND status = 'processing'",
    )
    .bind(order_id)
    .bind(next_attempt_at)
    .bind(i32::from(attempt_failed))
    .execute(pool)
    .await
    .map(|_| ())
}

/// The certificate of `issuer_id` with this serial (colon hex, as stored): revokeCert names it by its DER.
pub async fn certificate_with_serial(
    pool: &PgPool,
    issuer_id: &str,
    serial: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM certificates WHERE issuer_id = $1 AND serial = $2")
        .bind(issuer_id)
        .bind(serial)
        .fetch_optional(pool)
        .await
}

/// The names (or `*.suffix` patterns) an ACME account key restricts its accounts to; empty: no restriction.
pub async fn account_key_restriction(pool: &PgPool, account_key_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT allowed_names FROM acme_account_keys WHERE id = $1")
        .bind(account_key_id)
        .fetch_optional(pool)
        .await
        .map(Option::unwrap_or_default)
}

/// A certificate as renewal information and `replaces` need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplaceableCertificate {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub status: String,
    pub dns_names: Vec<String>,
    pub leaf_pem: Option<String>,
    pub not_before: Option<OffsetDateTime>,
    pub not_after: Option<OffsetDateTime>,
    pub renew_remaining_percent: Option<i16>,
    pub renew_before_days: Option<i32>,
    /// Another order or certificate already replaces it (a renewal in flight or done).
    pub replaced: bool,
}

/// The certificate of `issuer_id` with this serial (colon hex), with whether something already replaces it.
pub async fn replaceable_certificate(
    pool: &PgPool,
    issuer_id: &str,
    serial: &str,
) -> Result<Option<ReplaceableCertificate>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.owner_id, c.status, c.dns_names, c.leaf_pem, c.not_before, c.not_after,
                c.renew_remaining_percent, c.renew_before_days,
                (EXISTS (SELECT 1 FROM certificates n WHERE n.renewed_from = c.id AND n.status <> 'failed')
                 OR EXISTS (SELECT 1 FROM acme_server_orders o
                            WHERE o.replaces_certificate_id = c.id AND o.status <> 'invalid')) AS replaced
         FROM certificates c WHERE c.issuer_id = $1 AND c.serial = $2",
    )
    .bind(issuer_id)
    .bind(serial)
    .fetch_optional(pool)
    .await
}
