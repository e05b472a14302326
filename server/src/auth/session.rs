//! What certdesk keeps in a browser session, and when a signed-in session has expired. Time is a parameter so
//! timeouts are tested without sleeping.

use std::time::Duration;

use app::model::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Session key of the login in progress (between `/auth/login` and `/auth/callback`).
pub const PENDING_LOGIN: &str = "certdesk.pending_login";
/// Session key of the signed-in user.
pub const SIGNED_IN: &str = "certdesk.signed_in";
/// Name of the session cookie.
pub const COOKIE_NAME: &str = "certdesk_session";
/// `last_seen` is written back at most this often, so a busy page does not rewrite the session on every request.
const TOUCH_EVERY_SECS: i64 = 60;

/// Bound to the pre-login session: the callback must come back with this state, and the ID token with this nonce.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Same-site path to return to after sign-in.
    pub next: String,
    pub started_at: i64,
    /// Re-authentication for a sensitive action: the provider was asked to authenticate again.
    #[serde(default)]
    pub step_up: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: Role,
    /// Unix seconds of the sign-in; the absolute timeout counts from here.
    pub login_at: i64,
    /// The sign-in to the millisecond, to tell a session begun just before an off-boarding from one begun just after
    /// (0 for sessions from before it was kept: they end at any off-boarding).
    #[serde(default)]
    pub login_at_ms: i64,
    /// Unix seconds of the last request; the idle timeout counts from here.
    pub last_seen: i64,
    /// Unix seconds of the last multi-factor proof (for step-up).
    pub mfa_at: i64,
    /// Sent back to the provider as `id_token_hint` at sign-out.
    pub id_token: String,
    /// Synchronizer token for HTML forms (sign-out).
    pub csrf_token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active { touch: bool },
    IdleExpired,
    AbsoluteExpired,
}

impl SignedIn {
    pub fn state_at(&self, now: i64, idle: Duration, absolute: Duration) -> SessionState {
        if now - self.login_at >= absolute.as_secs() as i64 {
            SessionState::AbsoluteExpired
        } else if now - self.last_seen >= idle.as_secs() as i64 {
            SessionState::IdleExpired
        } else {
            SessionState::Active { touch: now - self.last_seen >= TOUCH_EVERY_SECS }
        }
    }
}

/// A random URL-safe token of 256 bits.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in(login_at: i64, last_seen: i64) -> SignedIn {
        SignedIn {
            user_id: Uuid::nil(),
            display_name: "Bob".into(),
            role: Role::User,
            login_at,
            login_at_ms: login_at * 1000,
            last_seen,
            mfa_at: login_at,
            id_token: String::new(),
            csrf_token: String::new(),
        }
    }

    const IDLE: Duration = Duration::from_secs(30 * 60);
    const ABSOLUTE: Duration = Duration::from_secs(12 * 3600);

    #[test]
    fn idle_timeout_counts_from_the_last_request() {
        let session = signed_in(0, 1_000);
        assert_eq!(session.state_at(1_000 + 29 * 60, IDLE, ABSOLUTE), SessionState::Active { touch: true });
        assert_eq!(session.state_at(1_000 + 30 * 60, IDLE, ABSOLUTE), SessionState::IdleExpired);
    }

    #[test]
    fn absolute_timeout_wins_even_for_an_active_user() {
        let session = signed_in(0, 12 * 3600 - 5);
        assert_eq!(session.state_at(12 * 3600, IDLE, ABSOLUTE), SessionState::AbsoluteExpired);
    }

    #[test]
    fn recent_activity_is_not_rewritten_every_request() {
        let session = signed_in(0, 100);
        assert_eq!(session.state_at(130, IDLE, ABSOLUTE), SessionState::Active { touch: false });
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
    }
}
