//! What the certificate page shows of a public (ACME) certificate's order while the CA works on it.

use serde::{Deserialize, Serialize};

/// One name's proof of control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuthorizationProgress {
    /// As the CA spells it: `www.example.com`, `*.example.com`, an IP address.
    pub identifier: String,
    /// `http-01` or `dns-01`.
    pub challenge: String,
    /// pending | processing | valid | invalid | expired | revoked | deactivated
    pub status: String,
    /// What the CA saw when it failed (connection refused, wrong TXT record…).
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrderProgress {
    /// new | pending | ready | processing | valid | invalid | failed
    pub state: String,
    /// Whether the CA accepted the order (its URL is known).
    pub placed: bool,
    pub authorizations: Vec<AuthorizationProgress>,
    /// Set while certdesk waits to try again (the CA unreachable, rate limiting): why.
    pub retrying: Option<String>,
    /// RFC 3339: when the next attempt is due, while retrying.
    pub next_attempt_at: Option<String>,
}

impl OrderProgress {
    /// The order is still running: the page keeps polling.
    pub fn is_running(&self) -> bool {
        !matches!(self.state.as_str(), "valid" | "invalid" | "failed")
    }
}
