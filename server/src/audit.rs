//! The audit log: append-only, HMAC hash-chained events written inside the caller's transaction, and the
//! verifier that walks the chain and names the first altered, inserted or deleted event, and the monitor that keeps
//! the viewer's banner current.

mod action;
mod actor;
mod chain;
mod monitor;
mod object;
mod verify;

use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;

pub use action::Action;
pub use actor::Actor;
pub use chain::ChainKey;
pub use monitor::{ChainMonitor, ChainStatus};
pub use object::Object;
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

/// One thing that happened, built by [`Actor::did`] from the audit vocabulary ([`Action`], [`Object`]).
#[derive(Debug, Clone)]
pub struct AuditEntry {
    actor: String,
    /// The API token the person acted through, added to the stored details.
    token: Option<uuid::Uuid>,
    action: String,
    object: String,
    outcome: Outcome,
    request_id: String,
    client_addr: String,
    details: Value,
}

impl AuditEntry {
    /// What the event is about.
    pub fn on(mut self, object: Object) -> Self {
        self.object = object.reference();
        self
    }

    /// What else the event records (a JSON object).
    pub fn with(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// The details as stored: the caller's, plus the API token the person acted through.
    fn stored_details(&self) -> Value {
        let mut details = self.details.clone();
        if let (Some(token), Some(fields)) = (self.token, details.as_object_mut()) {
            fields.insert("api_token".into(), token.to_string().into());
        }
        details
    }
}

/// An event in any shape, as earlier versions stored them: for tests and tools that must write what certdesk itself
/// no longer would. certdesk's own events are built with [`Actor::did`].
#[derive(Debug, Clone)]
pub struct RawEntry {
    pub actor: String,
    pub action: String,
    pub object: String,
    pub outcome: Outcome,
    pub request_id: String,
    pub client_addr: String,
    pub details: Value,
}

impl From<RawEntry> for AuditEntry {
    fn from(raw: RawEntry) -> Self {
        Self {
            actor: raw.actor,
            token: None,
            action: raw.action,
            object: raw.object,
            outcome: raw.outcome,
            request_id: raw.request_id,
            client_addr: raw.client_addr,
            details: raw.details,
        }
    }
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
/// Holding the chain head's row lock until commit serialises writers, so the chain never forks. Nearly every
/// writing transaction takes it, so it is taken last: change (and lock) every row first, then append. A
/// transaction that held the head and then waited for a row another one holds while waiting for the head would
/// deadlock.
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
        details: entry.stored_details(),
        prev_hash: head.hash,
        hash: Vec::new(),
    };
    event.hash = key.seal(&event);
    db::audit::insert_at_head(tx, &event).await?;
    Ok(event.seq)
}
