//! What issuance tells the modules above it, which it must not import: a request became an order its CA finishes
//! later (the order driver takes it at once), and a renewal was issued (its owner is told). Heard after the
//! commit, by the listener `serve::build_state` puts in `AppState` (`listeners`). A module of its own, below both
//! issuance and `state`, and generic over the state it is handed, so that neither imports the other for it.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuanceEvent {
    /// The intent of `certificate_id` was committed with an order its CA finishes later.
    Ordered { certificate_id: Uuid },
    /// `successor` was issued and replaced `previous`.
    Renewed { previous: Uuid, successor: Uuid, at: OffsetDateTime },
}

#[async_trait]
pub trait IssuanceListener<State: Sync>: Send + Sync {
    /// What is done on hearing `event`. The issuance stands whatever happens here: a listener logs its own
    /// failures, and a crash loses at most this reaction (an order is then picked up by the `acme_orders` job).
    async fn heard(&self, state: &State, event: IssuanceEvent);
}
