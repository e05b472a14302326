//! Authorizations (RFC 8555 §7.5): read with POST-as-GET, with their challenges, and deactivated by the client
//! (§7.5.2), which makes their unfinished order invalid; the deactivation is audited in the same transaction.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Directory;
use super::orders::{owner_of, rfc3339};
use super::problem::{self, AcmeError};
use super::request::Posted;
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::db::acme_server::AccountRow;
use crate::db::acme_server_orders::{AuthorizationRow, ChallengeRow};
use crate::http::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizationUpdate {
    status: String,
}

pub async fn authorization(
    State(state): State<AppState>,
    Path((issuer, id)): Path<(String, String)>,
    context: RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let (account, jws) = posted.verify_account(&state, &directory, now).await?;
    let mut authorization = find(&state, &directory, &account, &id).await?;
    if let Some(payload) = jws.json_payload()? {
        let update: AuthorizationUpdate = serde_json::from_value(payload).map_err(|error| {
            AcmeError::malformed(format!(
                "an authorization can only be deactivated ({{\"status\":\"deactivated\"}}): {error}"
            ))
        })?;
        if update.status != "deactivated" {
            return Err(AcmeError::malformed(format!(
                "an authorization can only be set to status `deactivated`, not `{}`",
                update.status.chars().take(32).collect::<String>()
            )));
        }
        deactivate(&state, &context, &account, &authorization, now).await?;
        authorization.status = "deactivated".into();
    }
    let challenges = db::acme_server_orders::challenges_of(&state.pool, authorization.id).await?;
    Ok(axum::Json(document(&directory, &authorization, &challenges, now)).into_response())
}

async fn deactivate(
    state: &AppState,
    context: &RequestContext,
    account: &AccountRow,
    authorization: &AuthorizationRow,
    now: OffsetDateTime,
) -> Result<(), AcmeError> {
    if !matches!(authorization.status.as_str(), "pending" | "valid") {
        return Err(AcmeError::malformed(format!(
            "this authorization is {} and can no longer be deactivated",
            authorization.status
        )));
    }
    let owner_id = owner_of(account)?;
    let error = problem::document("unauthorized", "an authorization of this order was deactivated by the client");
    let mut tx = state.pool.begin().await?;
    if db::acme_server_orders::deactivate_authorization(&mut tx, authorization, &error, now).await? {
        let details = json!({ "authorization": authorization.id, "name": authorization.identifier });
        let entry = Actor::person(&context.meta, owner_id)
            .did(Action::AcmeServerAuthorizationDeactivated)
            .on(Object::AcmeOrder(authorization.order_id))
            .with(details);
        audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The account's authorization `id`; another account's is not found.
async fn find(
    state: &AppState,
    directory: &Directory,
    account: &AccountRow,
    id: &str,
) -> Result<AuthorizationRow, AcmeError> {
    let not_found = || AcmeError::NotFound(format!("this account has no authorization {id}"));
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    db::acme_server_orders::authorization(&state.pool, &directory.issuer_id, account.id, id)
        .await?
        .ok_or_else(not_found)
}

/// The authorization document; one past its expiry that never finished reads `expired`.
fn document(
    directory: &Directory,
    authorization: &AuthorizationRow,
    challenges: &[ChallengeRow],
    now: OffsetDateTime,
) -> Value {
    let status = if authorization.status == "pending" && authorization.expires_at <= now {
        "expired"
    } else {
        authorization.status.as_str()
    };
    let mut body = json!({
        "identifier": { "type": "dns", "value": authorization.identifier },
        "status": status,
        "expires": rfc3339(authorization.expires_at),
        "challenges": challenges.iter().map(|challenge| challenge_document(directory, challenge)).collect::<Vec<_>>(),
    });
    if authorization.wildcard {
        body["wildcard"] = true.into();
    }
    body
}

/// A challenge as listed in its authorization and answered to the client's POST to it.
pub fn challenge_document(directory: &Directory, challenge: &ChallengeRow) -> Value {
    let mut body = json!({
        "type": challenge.kind,
        "url": directory.challenge_url(challenge.id),
        "token": challenge.token,
        "status": challenge.status,
    });
    if let Some(validated) = challenge.validated_at {
        body["validated"] = rfc3339(validated).into();
    }
    if let Some(error) = &challenge.error {
        body["error"] = error.clone();
    }
    body
}
