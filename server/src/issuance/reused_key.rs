//! A key issued again: the predecessor's CSR signed anew and certdesk's sealed copy re-sealed for the new
//! certificate (a renewal that keeps its key).

use uuid::Uuid;

use crate::error::ServerError;
use crate::sealing::{Sealed, Sealer, private_key_context};

/// The predecessor's key, for a renewal that keeps it.
pub struct ReusedKey {
    pub csr_pem: String,
    /// certdesk's sealed copy and the certificate it is bound to; `None` for a requester's CSR.
    pub sealed: Option<(Uuid, Sealed)>,
}

impl ReusedKey {
    /// `server` when certdesk holds the key, `csr` when the requester does.
    pub fn key_source(&self) -> &'static str {
        if self.sealed.is_some() { "server" } else { "csr" }
    }

    /// The sealed key re-sealed for certificate `id` (a sealed key opens only as its own certificate's key).
    pub fn reseal_for(&self, sealer: Option<&Sealer>, id: Uuid) -> Result<Option<Sealed>, ServerError> {
        let Some((previous, sealed)) = &self.sealed else { return Ok(None) };
        let Some(sealer) = sealer else {
            return Err(ServerError::Client(app::AppError::Unavailable {
                service: "key storage ([encryption] is not configured)".into(),
            }));
        };
        let key = sealer.open(sealed, &private_key_context(*previous))?;
        Ok(Some(sealer.seal(&key, &private_key_context(id))?))
    }
}
