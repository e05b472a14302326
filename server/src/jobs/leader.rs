//! The leader election: a session-level advisory lock taken on a dedicated connection (never a pooled one, which
//! the pool could close or hand to someone else). PostgreSQL holds it exactly as long as that session lives, so a
//! killed leader releases it with its connection and another replica takes it at its next try.

use std::time::Duration;

use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::db;

/// The one advisory lock key certdesk uses: "certdesk" in ASCII, as a big-endian 64-bit integer. Advisory locks
/// are per database, so replicas of different certdesk databases on one server never contend.
pub const LEADER_LOCK_KEY: i64 = 0x6365_7274_6465_736b;

/// A lock check or connect that takes longer than this counts as lost: better to step down than to keep running
/// jobs on a lock that PostgreSQL may already have released.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Held leadership. Dropping it closes the connection and so releases the lock.
pub struct LeaderLock {
    conn: PgConnection,
}

#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("no answer from the database within {CHECK_TIMEOUT:?}")]
    Timeout,
}

/// Opens a connection like the pool's and tries to take the lock; `None` when another replica holds it.
pub async fn try_acquire(pool: &PgPool) -> Result<Option<LeaderLock>, ElectionError> {
    let options = (*pool.connect_options()).clone().application_name("certdesk-jobs-leader");
    let attempt = async {
        let mut conn = options.connect().await?;
        db::jobs::set_keepalives(&mut conn, 10, 5, 3).await?;
        if db::jobs::try_lock(&mut conn, LEADER_LOCK_KEY).await? {
            Ok(Some(LeaderLock { conn }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    };
    tokio::time::timeout(CHECK_TIMEOUT, attempt).await.map_err(|_| ElectionError::Timeout)?
}

impl LeaderLock {
    /// Whether the lock's session is alive and still holds it; any error or a slow answer counts as lost.
    pub async fn still_held(&mut self) -> bool {
        matches!(
            tokio::time::timeout(CHECK_TIMEOUT, db::jobs::holds_lock(&mut self.conn, LEADER_LOCK_KEY)).await,
            Ok(Ok(true))
        )
    }

    /// Gives the lock up now: ends the session (PostgreSQL frees its advisory locks with it), waiting at most
    /// `CHECK_TIMEOUT` for the goodbye; a dropped connection frees it too, only later.
    pub async fn release(self) {
        let _ = tokio::time::timeout(CHECK_TIMEOUT, self.conn.close()).await;
    }
}
