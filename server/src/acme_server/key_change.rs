//! keyChange (RFC 8555 §7.3.5): an account rolls over to a new key. The outer JWS is signed by the account's key
//! (checked like every request); the inner one, signed by the new key with it as `jwk`, names the account and the
//! old key, so both keys agree to the change. A new key another account of the directory already has is refused
//! with that account's URL. The change and its audit row are one transaction.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::Directory;
use super::jwk::PublicJwk;
use super::jws::{Flattened, Signer};
use super::problem::AcmeError;
use super::request::{Posted, stored_key};
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::http::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyChange {
    account: String,
    old_key: Value,
}

pub async fn key_change(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    context: RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let (account, outer) = posted.verify_account(&state, &directory, now).await?;
    let inner =
        outer.json_payload()?.ok_or_else(|| AcmeError::malformed("keyChange needs the inner JWS as payload"))?;
    let inner = Flattened::from_value(&inner)?;
    inner.algorithm()?;
    let Signer::Jwk { key: new_key, jwk: new_jwk } = inner.signer()? else {
        return Err(AcmeError::malformed("the inner JWS of keyChange carries the new key as `jwk`, not a `kid`"));
    };
    inner.verify(&new_key)?;
    if inner.header.url != outer.header.url {
        return Err(AcmeError::unauthorized("the inner JWS of keyChange must have the outer JWS's `url`"));
    }
    if inner.header.nonce.is_some() {
        return Err(AcmeError::malformed("the inner JWS of keyChange must not carry a `nonce`"));
    }
    let change: KeyChange = inner
        .json_payload()?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|error| {
            AcmeError::malformed(format!("the keyChange payload is {{\"account\", \"oldKey\"}}: {error}"))
        })?
        .ok_or_else(|| AcmeError::malformed("the inner JWS of keyChange has no payload"))?;
    if change.account != directory.account_url(account.id) {
        return Err(AcmeError::unauthorized("the keyChange payload names another account than the one signing"));
    }
    let old_key = PublicJwk::parse(&change.old_key)
        .map_err(|error| AcmeError::malformed(format!("`oldKey` is not a JWK: {error}")))?;
    let current = stored_key(&account)?;
    if old_key.thumbprint() != current.thumbprint() {
        return Err(AcmeError::unauthorized("`oldKey` is not the account's current key"));
    }
    let thumbprint = new_key.thumbprint();
    if let Some(other) = db::acme_server::account_by_thumbprint(&state.pool, &issuer, &thumbprint).await? {
        return Err(conflict(&directory, other.id));
    }
    let mut tx = state.pool.begin().await?;
    if !db::acme_server::change_account_key(&mut tx, account.id, &thumbprint, &new_jwk, now).await? {
        // Another account took the key meanwhile (the unique thumbprint), or this one was deactivated.
        tx.rollback().await?;
        return match db::acme_server::account_by_thumbprint(&state.pool, &issuer, &thumbprint).await? {
            Some(other) => Err(conflict(&directory, other.id)),
            None => Err(AcmeError::unauthorized("the account is no longer valid")),
        };
    }
    let actor = match account.owner_id {
        Some(owner) => Actor::person(&context.meta, owner),
        None => Actor::anonymous(&context.meta),
    };
    let details = json!({ "issuer": issuer, "old_thumbprint": current.thumbprint(), "new_thumbprint": thumbprint });
    let entry = actor.did(Action::AcmeAccountKeyChanged).on(Object::AcmeAccount(account.id)).with(details);
    audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    tx.commit().await?;
    // Not needed for safety (the stored key decides on every request), but the old key is of no more use here.
    state.acme_account_keys.forget(account.id);
    let body = json!({ "status": account.status, "contact": account.contact,
                       "orders": format!("{}/orders", directory.account_url(account.id)) });
    Ok(axum::Json(body).into_response())
}

/// The new key is another account's: 409 with that account's URL (RFC 8555 §7.3.5).
fn conflict(directory: &Directory, other: uuid::Uuid) -> AcmeError {
    AcmeError::KeyInUse {
        detail: "another account of this directory has the new key".into(),
        account: directory.account_url(other),
    }
}
