//! A person's ACME account keys: the External Account Binding credentials they give cert-manager, certbot or lego
//! so that the ACME accounts those create are theirs. Created with a recent second factor (like API tokens); the
//! HMAC key is returned once and kept only sealed; listing shows the owner's keys (admins: everyone's); revoking
//! (owner or admin) also deactivates the accounts bound to the key. Every change writes its audit row in the same
//! transaction.

use app::AppError;
use app::model::{AcmeAccountKeyView, CreatedAcmeAccountKey, NewAcmeAccountKey, Role};
use app::ssr::RequestMeta;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit::{self, Action, Actor, Object};
use crate::auth::tokens::format_time;
use crate::db;
use crate::db::acme_server::{AccountKeyRow, AccountsOf};
use crate::error::ServerError;
use crate::state::AppState;

/// 256 bits, as RFC 8555 §7.3.4's HS256 wants at least.
const HMAC_KEY_BYTES: usize = 32;
/// Recognisable in configuration and logs; the rest is random.
const KEY_ID_PREFIX: &str = "cdk-eab-";

pub async fn create(
    state: &AppState,
    request: &RequestMeta,
    input: &NewAcmeAccountKey,
    now: OffsetDateTime,
) -> Result<CreatedAcmeAccountKey, ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    input.validate().map_err(ServerError::Client)?;
    crate::auth::step_up::require_recent_mfa(caller, now, state.config.auth.step_up_max_age)
        .map_err(ServerError::Client)?;
    let sealer = state.config.encryption.as_ref().ok_or_else(|| {
        ServerError::Client(AppError::invalid(
            "acme_server",
            "certdesk's ACME server is not configured here (no issuer enables it)",
        ))
    })?;
    let id = Uuid::new_v4();
    let mut secret = Zeroizing::new([0_u8; HMAC_KEY_BYTES]);
    rand::thread_rng().fill_bytes(secret.as_mut());
    let mut key_id_bytes = [0_u8; 15];
    rand::thread_rng().fill_bytes(&mut key_id_bytes);
    let key_id = format!("{KEY_ID_PREFIX}{}", URL_SAFE_NO_PAD.encode(key_id_bytes));
    let sealed = sealer.seal(secret.as_ref(), &crate::sealing::acme_account_key_context(id))?;
    let name = input.name.trim();
    let expires_at = now + time::Duration::days(i64::from(input.expires_in_days));
    let mut tx = state.pool.begin().await?;
    db::acme_server::insert_account_key(
        &mut tx,
        &db::acme_server::NewAccountKey {
            id,
            owner_id: caller.user_id,
            name,
            key_id: &key_id,
            hmac_key: &sealed,
            allowed_names: &input.allowed_names,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    let details = json!({ "name": name, "key_id": key_id, "allowed_names": input.allowed_names,
                          "expires_at": format_time(expires_at) });
    let entry =
        Actor::caller(request, caller).did(Action::AcmeAccountKeyCreated).on(Object::AcmeAccountKey(id)).with(details);
    audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    tx.commit().await?;
    let key = AcmeAccountKeyView {
        id,
        name: name.to_owned(),
        key_id,
        owner_id: caller.user_id,
        owner_name: caller.display_name.clone(),
        allowed_names: input.allowed_names.clone(),
        created_at: format_time(now),
        expires_at: format_time(expires_at),
        last_used_at: None,
        revoked: false,
        accounts: 0,
    };
    Ok(CreatedAcmeAccountKey { key, hmac_key: URL_SAFE_NO_PAD.encode(secret.as_ref()) })
}

/// The caller's own keys.
pub async fn list(state: &AppState, request: &RequestMeta) -> Result<Vec<AcmeAccountKeyView>, ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    let rows = db::acme_server::list_account_keys(&state.pool, Some(caller.user_id)).await?;
    Ok(rows.into_iter().map(view).collect())
}

/// Admins: everyone's keys.
pub async fn list_everyones(state: &AppState, request: &RequestMeta) -> Result<Vec<AcmeAccountKeyView>, ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    if caller.role != Role::Admin {
        return Err(ServerError::Client(AppError::Forbidden));
    }
    let rows = db::acme_server::list_account_keys(&state.pool, None).await?;
    Ok(rows.into_iter().map(view).collect())
}

/// Revokes the key (its owner, or an admin: taking access away needs no step-up) and deactivates its accounts.
pub async fn revoke(state: &AppState, request: &RequestMeta, id: Uuid, now: OffsetDateTime) -> Result<(), ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    let not_found = || ServerError::Client(AppError::not_found("ACME account key"));
    let owner_id = match db::acme_server::account_key_owner(&state.pool, id).await? {
        Some(owner_id) if owner_id == caller.user_id || caller.role == Role::Admin => owner_id,
        _ => return Err(not_found()),
    };
    let actor = Actor::caller(request, caller);
    let mut tx = state.pool.begin().await?;
    if !db::acme_server::revoke_account_key(&mut tx, owner_id, id, now).await? {
        return Err(ServerError::Client(AppError::invalid("id", "this ACME account key is already revoked")));
    }
    // Rows first, the audit chain's head last (see `audit::append`).
    let accounts = db::acme_server::deactivate_accounts(&mut tx, AccountsOf::Key(id), now).await?;
    let entry =
        actor.did(Action::AcmeAccountKeyRevoked).on(Object::AcmeAccountKey(id)).with(json!({ "owner": owner_id }));
    audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    for account in accounts {
        let details = json!({ "by": "account_key_revoked", "account_key": id });
        let entry = actor.did(Action::AcmeAccountDeactivated).on(Object::AcmeAccount(account)).with(details);
        audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn view(row: AccountKeyRow) -> AcmeAccountKeyView {
    AcmeAccountKeyView {
        id: row.id,
        name: row.name,
        key_id: row.key_id,
        owner_id: row.owner_id,
        owner_name: row.owner_name,
        allowed_names: row.allowed_names,
        created_at: format_time(row.created_at),
        expires_at: format_time(row.expires_at),
        last_used_at: row.last_used_at.map(format_time),
        revoked: row.revoked_at.is_some(),
        accounts: u32::try_from(row.accounts).unwrap_or(u32::MAX),
    }
}
