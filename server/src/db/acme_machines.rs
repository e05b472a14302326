//! SQL of the Machines page: the ACME accounts of one owner (or everyone's) with their keys, owners and counts, their
//! recent orders, and who owns an account (so another person's account is "not found"). Plain `sqlx::query_as`.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// How many accounts and orders per account a listing shows at most.
const MAX_ACCOUNTS: i64 = 500;
const ORDERS_PER_ACCOUNT: i64 = 5;

/// An ACME account as the Machines page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountListRow {
    pub id: Uuid,
    pub issuer_id: String,
    pub status: String,
    pub contact: Vec<String>,
    pub created_at: OffsetDateTime,
    pub key_name: Option<String>,
    pub key_key_id: Option<String>,
    pub owner_name: Option<String>,
    /// Certificates ordered through the account, issued and not expired at `now`.
    pub certificates: i64,
    pub orders: i64,
}

/// The accounts of `owner_id`, or everyone's (`None`), newest first.
pub async fn accounts(
    pool: &PgPool,
    owner_id: Option<Uuid>,
    now: OffsetDateTime,
) -> Result<Vec<AccountListRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.issuer_id, a.status, a.contact, a.created_at,
                k.name AS key_name, k.key_id AS key_key_id, u.display_name AS owner_name,
                (SELECT count(*) FROM certificates c
                 WHERE c.acme_server_account_id = a.id AND c.status = 'issued'
                   AND (c.not_after IS NULL OR c.not_after > $2)) AS certificates,
                (SELECT count(*) FROM acme_server_orders o WHERE o.account_id = a.id) AS orders
         FROM acme_server_accounts a
         LEFT JOIN acme_account_keys k ON k.id = a.account_key_id
         LEFT JOIN users u ON u.id = a.owner_id
         WHERE $1::uuid IS NULL OR a.owner_id = $1
         ORDER BY a.created_at DESC, a.id
         LIMIT $3",
    )
    .bind(owner_id)
    .bind(now)
    .bind(MAX_ACCOUNTS)
    .fetch_all(pool)
    .await
}

/// One recent order of a listed account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderListRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub identifiers: Vec<String>,
    pub status: String,
    pub created_at: OffsetDateTime,
    pub certificate_id: Option<Uuid>,
}

/// The newest few orders of each account of `owner_id` (everyone's: `None`), newest first.
pub async fn recent_orders(pool: &PgPool, owner_id: Option<Uuid>) -> Result<Vec<OrderListRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.account_id, o.identifiers, o.status, o.created_at, o.certificate_id
         FROM (SELECT id FROM acme_server_accounts
               WHERE $1::uuid IS NULL OR owner_id = $1
               ORDER BY created_at DESC, id LIMIT $2) a
         CROSS JOIN LATERAL (SELECT * FROM acme_server_orders o WHERE o.account_id = a.id
                             ORDER BY o.created_at DESC, o.id LIMIT $3) o
         ORDER BY o.created_at DESC, o.id",
    )
    .bind(owner_id)
    .bind(MAX_ACCOUNTS)
    .bind(ORDERS_PER_ACCOUNT)
    .fetch_all(pool)
    .await
}

/// Who an account belongs to: `None` when there is no such account, `Some(None)` for an account bound to nobody
/// (a directory without External Account Binding).
pub async fn account_owner(pool: &PgPool, id: Uuid) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    sqlx::query_scalar("SELECT owner_id FROM acme_server_accounts WHERE id = $1").bind(id).fetch_optional(pool).await
}
