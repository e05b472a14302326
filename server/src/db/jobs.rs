//! SQL for background jobs: the leader's advisory lock (on its own dedicated connection) and the `job_runs` log.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

/// Tries to take the session-level advisory lock `key` on this connection; it stays held until the session
/// ends (the connection closes, or the process holding it dies) or it is unlocked.
pub async fn try_lock(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!("SELECT pg_try_advisory_lock($1) AS \"locked!\"", key).fetch_one(conn).await
}

/// Whether this session still holds the advisory lock `key` (a 64-bit key is stored as classid:objid, objsubid 1).
pub async fn holds_lock(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM pg_locks
                         WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
                           AND ((classid::bigint << 32) | objid::bigint) = $1) AS \"held!\"",
        key
    )
    .fetch_one(conn)
    .await
}

/// TCP keepalives for this session, so PostgreSQL notices a leader whose host vanished (no FIN, no RST) within
/// about `idle + interval * count` seconds and releases its lock. Ignored on Unix-domain sockets.
pub async fn set_keepalives(conn: &mut PgConnection, idle: i32, interval: i32, count: i32) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT set_config('tcp_keepalives_idle', $1, false) AS idle,
                set_config('tcp_keepalives_interval', $2, false) AS interval,
                set_config('tcp_keepalives_count', $3, false) AS count",
        idle.to_string(),
        interval.to_string(),
        count.to_string(),
    )
    .fetch_one(conn)
    .await
    .map(|_| ())
}

/// Records that `job` started on `replica`; returns the run's id.
pub async fn start(pool: &PgPool, job: &str, replica: &str, started_at: OffsetDateTime) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO job_runs (job, replica, started_at) VALUES ($1, $2, $3) RETURNING id",
        job,
        replica,
        started_at
    )
    .fetch_one(pool)
    .await
}

/// Drops the row of a run that found nothing to do.
pub async fn discard(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM job_runs WHERE id = $1", id).execute(pool).await.map(|_| ())
}

pub async fn finish(
    pool: &PgPool,
    id: i64,
    finished_at: OffsetDateTime,
    success: bool,
    detail: &str,
) -> Result<(), sqlx::Error> {
    let outcome = if success { "success" } else { "failure" };
    sqlx::query!(
        "UPDATE job_runs SET finished_at = $2, outcome = $3, detail = $4 WHERE id = $1",
        id,
        finished_at,
        outcome,
        detail
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// Closes runs that never finished (their replica died or lost the lock mid-run) as failures: every replica's
/// when the caller just became leader (no run can still be going), or only `replica`'s.
pub async fn close_interrupted(
    pool: &PgPool,
    replica: Option<&str>,
    now: OffsetDateTime,
    detail: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query!(
        "UPDATE job_runs SET finished_at = $1, outcome = 'failure', detail = $2
          WHERE finished_at IS NULL AND ($3::text IS NULL OR replica = $3)",
        now,
        detail,
        replica
    )
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
}

/// When `job` last started, on any replica.
pub async fn last_started(pool: &PgPool, job: &str) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    sqlx::query_scalar!("SELECT max(started_at) FROM job_runs WHERE job = $1", job).fetch_one(pool).await
}

#[derive(Debug, Clone)]
pub struct JobRun {
    pub job: String,
    pub replica: String,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub outcome: Option<String>,
    pub detail: String,
}

/// The latest run of every job that ever ran.
pub async fn latest_runs(pool: &PgPool) -> Result<Vec<JobRun>, sqlx::Error> {
    sqlx::query_as!(
        JobRun,
        "SELECT DISTINCT ON (job) job, replica, started_at, finished_at, outcome, detail
           FROM job_runs ORDER BY job, started_at DESC, id DESC"
    )
    .fetch_all(pool)
    .await
}

/// Deletes runs that started before `before`, keeping each job's latest run so it stays visible.
pub async fn prune(pool: &PgPool, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    sqlx::query!(
        "DELETE FROM job_runs WHERE started_at < $1
            AND id NOT IN (SELECT DISTINCT ON (job) id FROM job_runs ORDER BY job, started_at DESC, id DESC)",
        before
    )
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
}
