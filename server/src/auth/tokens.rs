//! Personal API tokens: creation (the secret is shown once), listing, revocation, and checking a presented
//! token. Stored as SHA-256; a token acts with its owner's current role, never more, and within its scope.

use app::AppError;
use app::model::{ApiTokenView, CreatedApiToken, NewApiToken, Role, TokenScope};
use app::ssr::{Caller, RequestMeta};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::session::random_token;
use crate::audit::{self, AuditEntry, ChainKey, Outcome};
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
            token_hash: &token_hash,
            prefix: &prefix,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    let details = json!({ "name": name, "scope": input.scope.as_str(), "expires_at": format_time(expires_at) });
    audit::append(&mut tx, key, &event(request, caller, "api_token.create", id, Outcome::Success, details), now)
        .await?;
    tx.commit().await?;
    let token = ApiTokenView {
        id,
        name: name.to_owned(),
        scope: input.scope,
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
    let mut tx = pool.begin().await?;
    if !db::api_tokens::revoke(&mut tx, caller.user_id, id, now).await? {
        return Err(ServerError::Client(AppError::not_found("API token")));
    }
    audit::append(&mut tx, key, &event(request, caller, "api_token.revoke", id, Outcome::Success, json!({})), now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Why a presented token is refused; all of them answer 401 without saying which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Malformed,
    Unknown,
    Revoked,
    Expired,
}

impl TokenRefusal {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::Unknown => "unknown token",
            Self::Revoked => "revoked token",
            Self::Expired => "expired token",
        }
    }
}

/// The caller a presented bearer token stands for, with the token's scope.
pub async fn authenticate(
    pool: &PgPool,
    presented: &str,
    now: OffsetDateTime,
) -> Result<Result<(Caller, TokenScope, Uuid), TokenRefusal>, sqlx::Error> {
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
    let (Some(scope), Some(role)) = (TokenScope::parse(&token.scope), Role::parse(&token.owner_role)) else {
        return Ok(Err(TokenRefusal::Unknown));
    };
    // "Last used" is for people, to the minute: a busy job must not turn every API read into a write.
    let stale = token.last_used_at.is_none_or(|last| now - last >= time::Duration::minutes(1));
    if stale {
        db::api_tokens::touch(pool, token.id, now).await?;
    }
    let caller =
        Caller { user_id: token.owner_id, display_name: token.owner_name, role, csrf_token: String::new(), mfa_at: 0 };
    Ok(Ok((caller, scope, token.id)))
}

fn view(row: TokenRow) -> Option<ApiTokenView> {
    Some(ApiTokenView {
        id: row.id,
        name: row.name,
        scope: TokenScope::parse(&row.scope)?,
        prefix: row.prefix,
        created_at: format_time(row.created_at),
        expires_at: format_time(row.expires_at),
        last_used_at: row.last_used_at.map(format_time),
        revoked: row.revoked_at.is_some(),
    })
}

/// Minutes are enough for people; UTC is said out loud.
fn format_time(time: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

fn event(
    request: &RequestMeta,
    caller: &Caller,
    action: &str,
    id: Uuid,
    outcome: Outcome,
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor: format!("user:{}", caller.user_id),
        action: action.into(),
        object: format!("api_token:{id}"),
        outcome,
        request_id: request.request_id.clone(),
        client_addr: request.client_addr.clone(),
        details,
    }
}
