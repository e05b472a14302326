//! Personal API tokens: creation (the secret is shown once), listing, revocation, and checking a presented
//! token. Stored as SHA-256; a token acts with its owner's current role, never more, and within its scope.

use app::AppError;
use app::model::{ApiTokenView, CreatedApiToken, NewApiToken, OwnedApiTokenView, Role, TokenScope};
use app::ssr::{Caller, Credential, RequestMeta};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::roles;
use super::session::random_token;
use crate::audit::{self, Action, Actor, ChainKey, Object};
use crate::config::AuthConfig;
use crate::db;
use crate::db::api_tokens::TokenRow;
use crate::error::ServerError;

/// Recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "cdk_";
const SHOWN_PREFIX_CHARS: usize = 12;

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creating a token hands out a long-lived credential: it needs a second factor younger than `step_up_max_age`.
pub async fn create(
    pool: &PgPool,
    key: &ChainKey,
    request: &RequestMeta,
    input: &NewApiToken,
    step_up_max_age: std::time::Duration,
    now: OffsetDateTime,
) -> Result<CreatedApiToken, ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    input.validate().map_err(ServerError::Client)?;
    super::step_up::require_recent_mfa(caller, now, step_up_max_age).map_err(ServerError::Client)?;
    let secret = format!("{TOKEN_PREFIX}{}", random_token());
    let id = Uuid::new_v4();
    let name = input.name.trim();
    let expires_at = now + time::Duration::days(i64::from(input.expires_in_days));
    let prefix: String = secret.chars().take(SHOWN_PREFIX_CHARS).collect();
    let token_hash = hash(&secret);
    let mut tx = pool.begin().await?;
    db::api_tokens::insert(
        &mut tx,
        &db::api_tokens::NewToken {
            id,
            owner_id: caller.user_id,
            name,
            scope: input.scope.as_str(),
            private_keys: input.private_keys,
            token_hash: &token_hash,
            prefix: &prefix,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    let details = json!({ "name": name, "scope": input.scope.as_str(), "private_keys": input.private_keys,
                          "expires_at": format_time(expires_at) });
    let entry = Actor::caller(request, caller).did(Action::ApiTokenCreated).on(Object::ApiToken(id)).with(details);
    audit::append(&mut tx, key, &entry, now).await?;
    tx.commit().await?;
    let token = ApiTokenView {
        id,
        name: name.to_owned(),
        scope: input.scope,
        private_keys: input.private_keys,
        prefix,
        created_at: format_time(now),
        expires_at: format_time(expires_at),
        last_used_at: None,
        revoked: false,
    };
    Ok(CreatedApiToken { token, secret })
}

pub async fn list(pool: &PgPool, request: &RequestMeta) -> Result<Vec<ApiTokenView>, ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    let rows = db::api_tokens::list_for_owner(pool, caller.user_id).await?;
    Ok(rows.into_iter().filter_map(view).collect())
}

pub async fn revoke(
    pool: &PgPool,
    key: &ChainKey,
    request: &RequestMeta,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<(), ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    // Admins revoke anyone's token (taking access away needs no step-up); everyone else only their own.
    let owner_id = match db::api_tokens::owner_of(pool, id).await? {
        Some(owner_id) if owner_id == caller.user_id || caller.role == Role::Admin => owner_id,
        _ => return Err(ServerError::Client(AppError::not_found("API token"))),
    };
    let mut tx = pool.begin().await?;
    if !db::api_tokens::revoke(&mut tx, owner_id, id, now).await? {
        return Err(ServerError::Client(AppError::not_found("API token")));
    }
    let details = json!({ "owner": owner_id });
    let entry = Actor::caller(request, caller).did(Action::ApiTokenRevoked).on(Object::ApiToken(id)).with(details);
    audit::append(&mut tx, key, &entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Admins: every token that still works, with its owner, newest first.
pub async fn list_everyones(
    pool: &PgPool,
    request: &RequestMeta,
    now: OffsetDateTime,
) -> Result<Vec<OwnedApiTokenView>, ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    if caller.role != Role::Admin {
        return Err(ServerError::Client(AppError::Forbidden));
    }
    let rows = db::api_tokens::list_live(pool, None, now).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let token = view(TokenRow {
                id: row.id,
                name: row.name,
                scope: row.scope,
                private_keys: row.private_keys,
                prefix: row.prefix,
                created_at: row.created_at,
                expires_at: row.expires_at,
                last_used_at: row.last_used_at,
                revoked_at: row.revoked_at,
            })?;
            Some(OwnedApiTokenView {
                token,
                owner_id: row.owner_id,
                owner_name: row.owner_name,
                owner_email: row.owner_email,
            })
        })
        .collect())
}

/// Why a presented token is refused; all of them answer 401 without saying which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Malformed,
    Unknown,
    Revoked,
    Expired,
    /// Its owner was off-boarded, or their groups no longer grant access.
    OwnerWithoutAccess,
}

impl TokenRefusal {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::Unknown => "unknown token",
            Self::Revoked => "revoked token",
            Self::Expired => "expired token",
            Self::OwnerWithoutAccess => "owner off-boarded or without access",
        }
    }
}

/// The caller a presented bearer token stands for, with the token's scope. Its authority is its owner's as they
/// stand now: role from their current groups under the current configuration, nothing once off-boarded.
pub async fn authenticate(
    pool: &PgPool,
    auth: &AuthConfig,
    presented: &str,
    now: OffsetDateTime,
) -> Result<Result<(Caller, TokenScope), TokenRefusal>, sqlx::Error> {
    if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 128 {
        return Ok(Err(TokenRefusal::Malformed));
    }
    let Some(token) = db::api_tokens::find_by_hash(pool, &hash(presented)).await? else {
        return Ok(Err(TokenRefusal::Unknown));
    };
    if token.revoked_at.is_some() {
        return Ok(Err(TokenRefusal::Revoked));
    }
    if token.expires_at <= now {
        return Ok(Err(TokenRefusal::Expired));
    }
    if token.owner_disabled_at.is_some() || !roles::grants_access(&token.owner_groups, auth) {
        return Ok(Err(TokenRefusal::OwnerWithoutAccess));
    }
    let Some(scope) = TokenScope::parse(&token.scope) else {
        return Ok(Err(TokenRefusal::Unknown));
    };
    let role = roles::role_for(&token.owner_groups, auth);
    // "Last used" is for people, to the minute: a busy job must not turn every API read into a write.
    let stale = token.last_used_at.is_none_or(|last| now - last >= time::Duration::minutes(1));
    if stale {
        db::api_tokens::touch(pool, token.id, now).await?;
    }
    let caller = Caller {
        user_id: token.owner_id,
        display_name: token.owner_name,
        role,
        csrf_token: String::new(),
        mfa_at: 0,
        credential: Credential::Token { id: token.id, scope, private_keys: token.private_keys },
    };
    Ok(Ok((caller, scope)))
}

fn view(row: TokenRow) -> Option<ApiTokenView> {
    Some(ApiTokenView {
        id: row.id,
        name: row.name,
        scope: TokenScope::parse(&row.scope)?,
        private_keys: row.private_keys,
        prefix: row.prefix,
        created_at: format_time(row.created_at),
        expires_at: format_time(row.expires_at),
        last_used_at: row.last_used_at.map(format_time),
        revoked: row.revoked_at.is_some(),
    })
}

/// Minutes are enough for people; UTC is said out loud.
pub(crate) fn format_time(time: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}
