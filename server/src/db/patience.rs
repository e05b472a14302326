//! Writes that must land because something outside the database already acted (the CA revoked, a receiver took a
//! notice): tried again while PostgreSQL is away for a restart or a failover, never given up at the first cut.

use std::future::Future;
use std::time::Duration;

use crate::error::ServerError;

/// How long such a write is tried again while the database is unavailable, and how often.
pub const PATIENCE: Duration = Duration::from_secs(60);
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// An error that may only mean "the database is away for now".
pub trait MaybeUnavailable {
    fn is_unavailable(&self) -> bool;
}

impl MaybeUnavailable for sqlx::Error {
    fn is_unavailable(&self) -> bool {
        crate::error::is_unavailable(self)
    }
}

impl MaybeUnavailable for ServerError {
    fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(error) | Self::Audit(crate::audit::AuditError::Database(error)) => {
                crate::error::is_unavailable(error)
            }
            _ => false,
        }
    }
}

/// Runs `write` (a whole transaction, safe to run again after an unacknowledged commit) until it succeeds, fails
/// for another reason, or `PATIENCE` has passed. `what` names it in the log.
pub async fn until_recorded<T, E, F, Fut>(what: &str, mut write: F) -> Result<T, E>
where
    E: MaybeUnavailable + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = tokio::time::Instant::now();
    loop {
        match write().await {
            Err(error) if error.is_unavailable() && started.elapsed() < PATIENCE => {
                tracing::warn!(error = %error, "{what}: recording it once the database is back");
                tokio::time::sleep(RETRY_EVERY).await;
            }
            outcome => return outcome,
        }
    }
}
