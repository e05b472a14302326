//! The audit log: append-only, HMAC hash-chained events written inside the caller's transaction, and the
//! verifier that walks the chain and names the first altered, inserted or deleted event, and the monitor that keeps
//! the viewer's banner current.

mod chain;
mod monitor;
mod verify;

use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;

pub use chain::ChainKey;
pub use monitor::{ChainMonitor, ChainStatus};
pub use verify::{ChainBreak, Checkpoint, VerifyReport, verify_chain, verify_from};

use crate::db;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("audit chain head is missing; were the migrations applied?")]
    MissingHead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

/// One thing that happened, as the caller describes it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// `user:<uuid>`, `token:<uuid>`, `system` or `anonymous`.
    pub actor: String,
    /// Dotted verb such as `certificate.issue`.
    pub action: String,
    /// `certificate:<uuid>` and the like; empty when there is none.
    pub object: String,
    pub outcome: Outcome,
    pub request_id: String,
    pub client_addr: String,
    pub details: Value,
}

/// A stored event, as read back for verification and display.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub occurred_at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub outcome: String,
    pub request_id: String,
    pub client_addr: String,
    pub details: Value,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Records an event that belongs to no other change (a refused sign-in, a sign-out) in its own transaction.
pub async fn record(
    pool: &sqlx::PgPool,
    key: &ChainKey,
    entry: &AuditEntry,
    now: OffsetDateTime,
) -> Result<i64, AuditError> {
    let mut tx = pool.begin().await?;
    let seq = append(&mut tx, key, entry, now).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Appends `entry` inside the caller's transaction: the event commits with the action it records, or neither does.
/// Holding the chain head's row lock until commit serialises writers, so the chain never forks.
pub async fn append(
    tx: &mut PgConnection,
    key: &ChainKey,
    entry: &AuditEntry,
    now: OffsetDateTime,
) -> Result<i64, AuditError> {
    let head = db::audit::lock_head(tx).await?.ok_or(AuditError::MissingHead)?;
    let mut event = StoredEvent {
        seq: head.seq + 1,
        occurred_at: chain::truncate_to_micros(now),
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        object: entry.object.clone(),
        outcome: entry.outcome.as_str().to_owned(),
        request_id: entry.request_id.clone(),
        client_addr: entry.client_addr.clone(),
        details: entry.details.clone(),
        prev_hash: head.hash,
        hash: Vec::new(),
    };
    event.hash = key.seal(&event);
    db::audit::insert_event(tx, &event).await?;
    db::audit::advance_head(tx, event.seq, &event.hash).await?;
    Ok(event.seq)
}
