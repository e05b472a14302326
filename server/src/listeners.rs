//! Who hears what issuance tells (`events`), so that issuance never imports the modules above it: an
//! order is driven at once by the replica that took the request (`orders`), and a renewal that was issued is
//! told to its owner (`notifications`).

use async_trait::async_trait;

use crate::events::{IssuanceEvent, IssuanceListener};
use crate::state::AppState;

pub struct Listeners;

#[async_trait]
impl IssuanceListener<AppState> for Listeners {
    async fn heard(&self, state: &AppState, event: IssuanceEvent) {
        match event {
            IssuanceEvent::Ordered { certificate_id } => crate::orders::start(state, certificate_id),
            IssuanceEvent::Renewed { previous, successor, at } => {
                if let Err(error) = crate::notifications::renewal_succeeded(state, previous, successor, at).await {
                    tracing::warn!(certificate = %successor, error = %error, "could not record the renewal notice");
                }
            }
        }
    }
}
