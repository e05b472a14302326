//! `ServerError`: everything that can fail on the server, and the one place it is redacted into `AppError`.

use app::AppError;
use app::ssr::RequestMeta;

use crate::audit::AuditError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
    #[error("sealed secret: {0}")]
    Sealing(#[from] crate::sealing::SealError),
    /// A broken invariant of certdesk itself (logged in full, shown as an incident number).
    #[error("internal: {0}")]
    Internal(String),
    /// Already safe to show: a caller's mistake or a refusal.
    #[error("{0}")]
    Client(AppError),
}

impl ServerError {
    /// The redaction point: the full error goes to the log under the request id; the caller gets a clear message
    /// and, for our own failures, the request id as incident number — never a database or issuer string.
    pub fn into_app_error(self, request: &RequestMeta) -> AppError {
        match self {
            Self::Client(error) => error,
            Self::Database(error) if is_unavailable(&error) => {
                tracing::warn!(request_id = %request.request_id, error = %error, "database unavailable");
                AppError::Unavailable { service: "the database".into() }
            }
            Self::Audit(AuditError::Database(error)) if is_unavailable(&error) => {
                tracing::warn!(request_id = %request.request_id, error = %error, "database unavailable");
                AppError::Unavailable { service: "the database".into() }
            }
            other => {
                tracing::error!(request_id = %request.request_id, error = %other, "request failed");
                AppError::Internal { incident: request.request_id.clone() }
            }
        }
    }
}

/// Failures a retry can get past: the database is down or restarting (a connection cut during its handshake, by a
/// proxy or load balancer in front of PostgreSQL that accepts it while the server restarts, surfaces as a protocol
/// error), or it broke a deadlock or a serialization conflict by cancelling this transaction (40P01, 40001), which
/// rolled back whole. Not a bug in the query: the caller is told to try again (503), with its idempotency key.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::Io(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
    ) || matches!(error, sqlx::Error::Database(db) if db.code().is_some_and(|code| code.starts_with("57P") || code.starts_with("08") || code == "40P01" || code == "40001"))
}
