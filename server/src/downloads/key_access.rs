//! Who may take a certificate's private key out of certdesk: its owner (in the browser, or with a token created
//! for private keys); an admin only by an explicit export on the owner's behalf, with a reason and a fresh second
//! factor; auditors and every other credential never. Refusals are audited like the downloads they stop.

use app::AppError;
use app::model::{KeyAccess, Role};
use app::ssr::{Caller, Credential, RequestMeta};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, Action, Actor, Object};
use crate::auth::step_up::require_recent_mfa;
use crate::bundle::DownloadFormat;
use crate::db::certificates::CertificateRecord;
use crate::error::ServerError;
use crate::state::AppState;

/// A reason is a sentence for the audit log, not a document.
pub const MAX_REASON_CHARS: usize = 500;

/// How a granted key download is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyExport {
    Owner,
    OnBehalf { reason: String },
}

/// What the caller may do with the private key of a certificate owned by `owner_id` that they can see.
pub fn key_access(caller: &Caller, owner_id: uuid::Uuid) -> KeyAccess {
    match caller.credential {
        Credential::Token { private_keys: true, .. } if caller.user_id == owner_id => KeyAccess::Owner,
        // A token never passes step-up, so it never exports on someone's behalf.
        Credential::Token { .. } => KeyAccess::Denied,
        Credential::Session if caller.user_id == owner_id => KeyAccess::Owner,
        Credential::Session if caller.role == Role::Admin => KeyAccess::OnBehalf,
        Credential::Session => KeyAccess::Denied,
    }
}

/// Why `key_access` said no, in words the caller can act on.
fn denial(caller: &Caller, owner_id: uuid::Uuid) -> &'static str {
    match caller.credential {
        Credential::Token { private_keys: false, .. } => {
            "this API token was not created for private keys: create a token with private-key access to download keys"
        }
        Credential::Token { .. } => "a private key is only downloaded by its owner; tokens never export on behalf",
        Credential::Session if caller.role == Role::Auditor => {
            "auditors see certificates, never private keys: only the owner can download this key"
        }
        Credential::Session if caller.user_id != owner_id => "only the owner can download this private key",
        Credential::Session => "you cannot download this private key",
    }
}

/// Allows a key-bearing download or refuses it (403 with the reason, or `StepUpRequired`), auditing a refusal.
pub async fn authorize(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    record: &CertificateRecord,
    format: DownloadFormat,
    on_behalf_reason: Option<&str>,
    now: OffsetDateTime,
) -> Result<KeyExport, ServerError> {
    let reason = on_behalf_reason.map(str::trim).filter(|reason| !reason.is_empty());
    let refusal = match key_access(caller, record.owner_id) {
        KeyAccess::Owner => return Ok(KeyExport::Owner),
        KeyAccess::Denied => AppError::NotPermitted { message: denial(caller, record.owner_id).to_owned() },
        KeyAccess::OnBehalf => match reason {
            None => AppError::NotPermitted {
                message: format!(
                    "this private key belongs to {}: an admin exports it only on their behalf, giving a reason",
                    record.owner_name
                ),
            },
            Some(reason) if reason.chars().count() > MAX_REASON_CHARS => {
                return Err(ServerError::Client(AppError::invalid(
                    "reason",
                    format!("the reason is longer than {MAX_REASON_CHARS} characters"),
                )));
            }
            Some(reason) => match require_recent_mfa(caller, now, state.config.auth.step_up_max_age) {
                Ok(()) => return Ok(KeyExport::OnBehalf { reason: reason.to_owned() }),
                Err(error) => error,
            },
        },
    };
    let entry = Actor::caller(meta, caller)
        .did(Action::CertificateKeyDownloadDenied)
        .on(Object::Certificate(record.id))
        .with(json!({ "format": format.as_str(), "owner": record.owner_id, "reason": refusal.to_string() }));
    audit::record(&state.pool, &state.chain_key, &entry, now).await?;
    Err(ServerError::Client(refusal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::TokenScope;

    fn caller(role: Role, credential: Credential) -> Caller {
        Caller {
            user_id: uuid::Uuid::from_u128(1),
            display_name: String::new(),
            role,
            csrf_token: String::new(),
            mfa_at: 0,
            credential,
        }
    }

    const MINE: uuid::Uuid = uuid::Uuid::from_u128(1);
    const THEIRS: uuid::Uuid = uuid::Uuid::from_u128(2);

    #[test]
    fn owners_get_their_keys_in_the_browser_and_with_a_key_token_only() {
        let read = Credential::Token { id: uuid::Uuid::nil(), scope: TokenScope::Read, private_keys: false };
        let read_write = Credential::Token { id: uuid::Uuid::nil(), scope: TokenScope::ReadWrite, private_keys: false };
        let keys = Credential::Token { id: uuid::Uuid::nil(), scope: TokenScope::Read, private_keys: true };
        assert_eq!(key_access(&caller(Role::User, Credential::Session), MINE), KeyAccess::Owner);
        assert_eq!(key_access(&caller(Role::User, keys), MINE), KeyAccess::Owner);
        assert_eq!(key_access(&caller(Role::User, read), MINE), KeyAccess::Denied);
        assert_eq!(key_access(&caller(Role::User, read_write), MINE), KeyAccess::Denied);
    }

    #[test]
    fn only_an_admin_in_the_browser_may_export_someone_elses_key_on_their_behalf() {
        let keys = Credential::Token { id: uuid::Uuid::nil(), scope: TokenScope::ReadWrite, private_keys: true };
        assert_eq!(key_access(&caller(Role::Admin, Credential::Session), THEIRS), KeyAccess::OnBehalf);
        assert_eq!(key_access(&caller(Role::Admin, keys), THEIRS), KeyAccess::Denied);
        assert_eq!(key_access(&caller(Role::Auditor, Credential::Session), THEIRS), KeyAccess::Denied);
        assert_eq!(key_access(&caller(Role::User, Credential::Session), THEIRS), KeyAccess::Denied);
        assert!(denial(&caller(Role::Auditor, Credential::Session), THEIRS).contains("auditors"));
    }
}
