//! External Account Binding (RFC 8555 §7.3.4): the newAccount payload carries a JWS MACed with the HMAC key of one
//! of a person's ACME account keys, over the new account's public key, naming the key id as `kid` and the
//! newAccount URL as `url`. The MAC is checked before anything about the key is revealed (revoked, expired).

use aws_lc_rs::hmac;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Directory;
use super::jwk::PublicJwk;
use super::jws::Flattened;
use super::problem::AcmeError;
use crate::db;
use crate::state::AppState;

/// The person's key an account is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub account_key_id: Uuid,
    pub owner_id: Uuid,
}

pub async fn verify(
    state: &AppState,
    directory: &Directory,
    binding: &Value,
    account_key: &PublicJwk,
    now: OffsetDateTime,
) -> Result<Binding, AcmeError> {
    let jws = Flattened::from_value(binding)?;
    if jws.header.alg != "HS256" {
        return Err(AcmeError::malformed(format!(
            "the externalAccountBinding is MACed with `{}`; certdesk's ACME account keys use HS256",
            jws.header.alg
        )));
    }
    if jws.header.nonce.is_some() || jws.header.jwk.is_some() {
        return Err(AcmeError::malformed("the externalAccountBinding header must have neither `nonce` nor `jwk`"));
    }
    let new_account_url = directory.resource("new-account");
    if jws.header.url.as_deref() != Some(new_account_url.as_str()) {
        return Err(AcmeError::unauthorized(format!(
            "the externalAccountBinding `url` must be the newAccount URL {new_account_url}"
        )));
    }
    let Some(key_id) = jws.header.kid.as_deref() else {
        return Err(AcmeError::malformed("the externalAccountBinding header has no `kid` (the EAB key id)"));
    };
    let unknown = || AcmeError::unauthorized(format!("no ACME account key has the EAB key id `{key_id}`"));
    if key_id.len() > 128 {
        return Err(unknown());
    }
    let row = db::acme_server::binding_key(&state.pool, key_id).await?.ok_or_else(unknown)?;
    let sealer = state
        .config
        .encryption
        .as_ref()
        .ok_or_else(|| AcmeError::Internal("ACME server enabled without [encryption]".into()))?;
    let secret = sealer.open(&row.sealed_hmac_key(), &crate::sealing::acme_account_key_context(row.id))?;
    let (signed, mac) = jws.mac_parts();
    if hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &secret), signed, mac).is_err() {
        return Err(AcmeError::unauthorized(format!(
            "the externalAccountBinding MAC does not verify with the HMAC key of EAB key id `{key_id}`"
        )));
    }
    if row.revoked_at.is_some() {
        return Err(AcmeError::unauthorized(format!("the ACME account key `{key_id}` was revoked")));
    }
    if row.expires_at <= now {
        return Err(AcmeError::unauthorized(format!("the ACME account key `{key_id}` has expired")));
    }
    if row.owner_disabled_at.is_some() || !crate::auth::roles::grants_access(&row.owner_groups, &state.config.auth) {
        return Err(AcmeError::unauthorized(format!(
            "the owner of the ACME account key `{key_id}` was off-boarded or no longer has access to certdesk"
        )));
    }
    let bound = jws.json_payload()?.ok_or_else(|| AcmeError::malformed("the externalAccountBinding has no payload"))?;
    let bound = PublicJwk::parse(&bound)
        .map_err(|error| AcmeError::malformed(format!("the externalAccountBinding payload is not a JWK: {error}")))?;
    if bound.thumbprint() != account_key.thumbprint() {
        return Err(AcmeError::malformed(
            "the externalAccountBinding payload is not the key the newAccount request is signed with",
        ));
    }
    Ok(Binding { account_key_id: row.id, owner_id: row.owner_id })
}
