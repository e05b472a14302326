//! Sign-in and request authentication: OpenID Connect login with enforced MFA, sessions with idle and absolute
//! timeouts, roles from groups, the gate that every non-public request passes, and CSRF protection.

pub mod bearer;
pub mod csrf;
pub mod gate;
pub mod local_totp;
pub mod mfa;
pub mod oidc;
pub(crate) mod page;
pub mod roles;
pub mod routes;
pub mod session;
pub mod step_up;
pub mod tokens;

pub use oidc::OidcClient;

use app::ssr::RequestMeta;
use time::OffsetDateTime;

use crate::audit::{self, AuditEntry, Outcome};
use crate::state::AppState;

/// Audits a refused request in its own transaction. The refusal stands even if the audit write fails (that is
/// logged): refusing is the safe side.
pub async fn audit_refusal(
    state: &AppState,
    meta: RequestMeta,
    actor: &str,
    action: &str,
    object: String,
    details: serde_json::Value,
) {
    let entry = AuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object,
        outcome: Outcome::Denied,
        request_id: meta.request_id,
        client_addr: meta.client_addr,
        details,
    };
    if let Err(error) = audit::record(&state.pool, &state.chain_key, &entry, OffsetDateTime::now_utc()).await {
        tracing::warn!(error = %error, action, "could not audit a refused request");
    }
}
