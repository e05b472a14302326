//! newAccount (RFC 8555 §7.3, with `onlyReturnExisting` and External Account Binding) and the account URL (POST-as-
//! GET, contact update, deactivation). An account is created or deactivated together with its audit row.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::problem::AcmeError;
use super::request::{self, Expect, Posted, VerifiedSigner};
use super::{Directory, eab};
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::db::acme_server::{AccountRow, NewAccount};
use crate::http::RequestContext;
use crate::state::AppState;

/// At most this many contacts per account, each at most this long.
const MAX_CONTACTS: usize = 4;
const MAX_CONTACT_CHARS: usize = 254;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewAccountPayload {
    contact: Option<Vec<String>>,
    #[serde(default)]
    only_return_existing: bool,
    external_account_binding: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct AccountUpdate {
    status: Option<String>,
    contact: Option<Vec<String>>,
}

pub async fn new_account(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    context: RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let verified = posted.verify(&state, &directory, Expect::Jwk, now).await?;
    let VerifiedSigner::Key { key, jwk } = &verified.signer else {
        return Err(AcmeError::Internal("newAccount verified without a jwk".into()));
    };
    let payload = verified.jws.json_payload()?.ok_or_else(|| AcmeError::malformed("newAccount needs a payload"))?;
    let payload: NewAccountPayload = serde_json::from_value(payload)
        .map_err(|error| AcmeError::malformed(format!("the newAccount payload is not what RFC 8555 says: {error}")))?;
    let thumbprint = key.thumbprint();
    if let Some(existing) = db::acme_server::account_by_thumbprint(&state.pool, &issuer, &thumbprint).await? {
        return existing_account(&state, &directory, &existing);
    }
    if payload.only_return_existing {
        return Err(AcmeError::AccountDoesNotExist("no account of this directory has this key".into()));
    }
    let contact = valid_contacts(payload.contact.unwrap_or_default())?;
    let binding = match (&payload.external_account_binding, directory.eab_required) {
        (Some(binding), _) => Some(eab::verify(&state, &directory, binding, key, now).await?),
        (None, true) => {
            return Err(AcmeError::ExternalAccountRequired(
                "this directory requires External Account Binding: create an ACME account key in certdesk and give \
                 its key id and HMAC key to your ACME client"
                    .into(),
            ));
        }
        (None, false) => None,
    };
    let id = Uuid::new_v4();
    let mut tx = state.pool.begin().await?;
    let new = NewAccount {
        id,
        issuer_id: &issuer,
        thumbprint: &thumbprint,
        jwk,
        contact: &contact,
        account_key_id: binding.map(|binding| binding.account_key_id),
        owner_id: binding.map(|binding| binding.owner_id),
        now,
    };
    if !db::acme_server::insert_account(&mut tx, &new).await? {
        // The same key registered concurrently: that account is the answer.
        tx.rollback().await?;
        let existing = db::acme_server::account_by_thumbprint(&state.pool, &issuer, &thumbprint)
            .await?
            .ok_or_else(|| AcmeError::Internal("account vanished after a conflicting insert".into()))?;
        return existing_account(&state, &directory, &existing);
    }
    let actor = match binding {
        Some(binding) => {
            db::acme_server::touch_account_key(&mut tx, binding.account_key_id, now).await?;
            Actor::person(&context.meta, binding.owner_id)
        }
        None => Actor::anonymous(&context.meta),
    };
    let details = json!({ "issuer": issuer, "thumbprint": thumbprint, "contact": contact,
                          "account_key": binding.map(|binding| binding.account_key_id) });
    let entry = actor.did(Action::AcmeAccountCreated).on(Object::AcmeAccount(id)).with(details);
    audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    tx.commit().await?;
    let (account_key_id, owner_id) = (new.account_key_id, new.owner_id);
    let account = AccountRow {
        id,
        issuer_id: issuer.clone(),
        jwk: jwk.clone(),
        status: "valid".into(),
        contact: contact.clone(),
        account_key_id,
        owner_id,
        owner_disabled_at: None,
        owner_groups: None,
    };
    Ok(account_response(&directory, &account, StatusCode::CREATED))
}

/// A key that already has an account gets that account (200), unless it can no longer act (`request::usable`).
fn existing_account(state: &AppState, directory: &Directory, account: &AccountRow) -> Result<Response, AcmeError> {
    request::usable(state, account)?;
    Ok(account_response(directory, account, StatusCode::OK))
}

pub async fn account(
    State(state): State<AppState>,
    Path((issuer, id)): Path<(String, String)>,
    context: RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let verified = posted.verify(&state, &directory, Expect::Account, now).await?;
    let VerifiedSigner::Account { account, .. } = verified.signer else {
        return Err(AcmeError::Internal("account request verified without an account".into()));
    };
    if Uuid::parse_str(&id).ok() != Some(account.id) {
        return Err(AcmeError::unauthorized("an account can only read or change itself"));
    }
    let Some(payload) = verified.jws.json_payload()? else {
        return Ok(account_response(&directory, &account, StatusCode::OK));
    };
    let update: AccountUpdate = serde_json::from_value(payload)
        .map_err(|error| AcmeError::malformed(format!("the account update is not what RFC 8555 says: {error}")))?;
    let mut account = account;
    if let Some(contact) = update.contact {
        let contact = valid_contacts(contact)?;
        db::acme_server::update_contact(&state.pool, account.id, &contact, now).await?;
        account.contact = contact;
    }
    match update.status.as_deref() {
        None | Some("valid") => {}
        Some("deactivated") => {
            let mut tx = state.pool.begin().await?;
            if db::acme_server::deactivate_account(&mut tx, account.id, now).await? {
                let actor = match account.owner_id {
                    Some(owner) => Actor::person(&context.meta, owner),
                    None => Actor::anonymous(&context.meta),
                };
                let details = json!({ "issuer": issuer, "by": "account" });
                let entry = actor.did(Action::AcmeAccountDeactivated).on(Object::AcmeAccount(account.id)).with(details);
                audit::append(&mut tx, &state.chain_key, &entry, now).await?;
            }
            tx.commit().await?;
            account.status = "deactivated".into();
        }
        Some(other) => {
            return Err(AcmeError::malformed(format!(
                "an account can only be set to status `deactivated`, not `{other}`"
            )));
        }
    }
    Ok(account_response(&directory, &account, StatusCode::OK))
}

/// `mailto:` addresses only (RFC 8555 §7.3), a few of them, without the header fields a mailto URL could carry.
fn valid_contacts(contact: Vec<String>) -> Result<Vec<String>, AcmeError> {
    if contact.len() > MAX_CONTACTS {
        return Err(AcmeError::InvalidContact(format!("at most {MAX_CONTACTS} contacts per account")));
    }
    for entry in &contact {
        let Some(address) = entry.strip_prefix("mailto:") else {
            return Err(AcmeError::UnsupportedContact(format!(
                "contact `{}` is not a mailto: URL; certdesk takes e-mail addresses only",
                entry.chars().take(64).collect::<String>()
            )));
        };
        let well_formed = address.chars().count() <= MAX_CONTACT_CHARS
            && address.split('@').count() == 2
            && address.split('@').all(|part| !part.is_empty())
            && !address.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '?' | '<' | '>'));
        if !well_formed {
            return Err(AcmeError::InvalidContact(format!(
                "contact `{}` is not one e-mail address",
                entry.chars().take(64).collect::<String>()
            )));
        }
    }
    Ok(contact)
}

fn account_response(directory: &Directory, account: &AccountRow, status: StatusCode) -> Response {
    let url = directory.account_url(account.id);
    let body = json!({
        "status": account.status,
        "contact": account.contact,
        "orders": format!("{url}/orders"),
    });
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_a_few_mailto_addresses() {
        assert!(valid_contacts(vec!["mailto:ops@example.test".into()]).is_ok());
        assert!(matches!(valid_contacts(vec!["tel:+1555".into()]), Err(AcmeError::UnsupportedContact(_))));
        for bad in ["mailto:", "mailto:a@b@c", "mailto:a@b,c@d", "mailto:a@b?subject=x", "mailto:@b"] {
            assert!(matches!(valid_contacts(vec![bad.into()]), Err(AcmeError::InvalidContact(_))), "{bad}");
        }
        assert!(valid_contacts(vec!["mailto:a@b".into(); 5]).is_err());
    }
}
