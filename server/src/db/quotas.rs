//! SQL of the per-person certificate quotas: the lock that serialises one owner's requests, and what they use.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// Holds a transaction-scoped lock on the owner's quota until the transaction ends, so that their concurrent
/// requests count and insert one at a time. An advisory lock, not a lock on their `users` row: it conflicts with
/// nothing but itself, so it cannot deadlock with sign-in or off-boarding, which lock that row around audit appends.
pub async fn lock_owner(tx: &mut PgConnection, owner_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended('certdesk.quota:' || $1::uuid::text, 0))", owner_id)
        .execute(tx)
        .await
        .map(|_| ())
}

/// What an owner uses of their quotas at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Certificates they requested since `since` (every request, failed ones too; automatic renewals not).
    pub requested: i64,
    /// The oldest of those: when it is a day old, a request is free again.
    pub oldest_requested: Option<OffsetDateTime>,
    /// Certificates issued or being issued that have not expired (revoked, superseded and failed are not live).
    pub live: i64,
}

/// Reads only the owner's requests of the window (`certificates_owner_recent`) and their live certificates
/// (`certificates_owner_live`, two ranges: expiring after `now`, and pending without an expiry yet), never the rest of
/// their history: its cost follows the quotas, not the years.
pub async fn usage(
    conn: &mut PgConnection,
    owner_id: Uuid,
    since: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Usage, sqlx::Error> {
    sqlx::query_as!(
        Usage,
        r#"SELECT requested.count AS "requested!", requested.oldest AS oldest_requested,
                  (SELECT count(*) FROM certificates
                   WHERE owner_id = $1 AND status IN ('issued', 'pending') AND not_after > $3)
                + (SELECT count(*) FROM certificates
                   WHERE owner_id = $1 AND status IN ('issued', 'pending') AND not_after IS NULL) AS "live!"
           FROM (SELECT count(*) AS count, min(created_at) AS oldest FROM certificates
                 WHERE owner_id = $1 AND created_at > $2 AND NOT automatic_renewal) AS requested"#,
        owner_id,
        since,
        now,
    )
    .fetch_one(conn)
    .await
}
