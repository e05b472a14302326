//! Sign-in and request authentication: OpenID Connect login with enforced MFA, sessions with idle and absolute
//! timeouts, roles from groups, the gate that every non-public request passes, and CSRF protection.

pub mod bearer;
pub mod csrf;
pub mod gate;
pub mod local_totp;
pub mod mfa;
pub mod oidc;
pub(crate) mod page;
pub mod refusals;
pub mod roles;
pub mod routes;
pub mod session;
pub mod step_up;
pub mod tokens;

pub use oidc::OidcClient;

use app::ssr::RequestMeta;
use time::OffsetDateTime;

use crate::audit::{self, Action, Actor, Object};

/// Counts and logs an anonymous refusal; `Some(n)` when it should also be audited, noting the `n` refusals of
/// the same kind from the same source that were not audited since the last row.
pub fn anonymous_refusal(state: &AppState, meta: &RequestMeta, action: Action, reason: &str) -> Option<u64> {
    let action = action.name();
    crate::metrics::refusal(action);
    tracing::info!(request_id = %meta.request_id, client_addr = %meta.client_addr, action, reason, "anonymous request refused");
    state.refusals.admit(&meta.client_addr, action, reason)
}
use crate::state::AppState;

/// Audits a refused request in its own transaction. The refusal stands even if the audit write fails (that is
/// logged): refusing is the safe side. Anonymous refusals are throttled (see `refusals`).
pub async fn audit_refusal(
    state: &AppState,
    meta: &RequestMeta,
    actor: &Actor,
    action: Action,
    object: Object,
    mut details: serde_json::Value,
) {
    if actor.is_anonymous() {
        let reason = details.get("reason").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let Some(unaudited) = anonymous_refusal(state, meta, action, &reason) else { return };
        if let Some(fields) = details.as_object_mut() {
            fields.insert("unaudited_before".into(), unaudited.into());
        }
    }
    let entry = actor.did(action).on(object).with(details);
    if let Err(error) = audit::record(&state.pool, &state.chain_key, &entry, OffsetDateTime::now_utc()).await {
        tracing::warn!(error = %error, action = action.name(), "could not audit a refused request");
    }
}
