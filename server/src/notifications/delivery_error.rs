//! Why one notice was not delivered: the word every channel (e-mail, webhook) answers with.

/// Why one delivery did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Worth trying again later (server down, 5xx, timeout).
    #[error("{0}")]
    Retry(String),
    /// Nothing to send any more (the channel was switched off, the certificate was renewed or revoked).
    #[error("{0}")]
    Skip(String),
}
