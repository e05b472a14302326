//! revokeCert (RFC 8555 §7.6): signed by an account of the certificate's owner (any of their accounts: the
//! certificate is the person's, not the machine's), or by the certificate's own key (whoever holds it may report
//! it compromised). The revocation is certdesk's own (intent and audit first, then OpenBao, then the CRL), so an
//! ACME revocation shows in the inventory, the audit log and the served CRL like any other.

use app::AppError;
use app::model::RevocationReason;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use time::OffsetDateTime;

use super::Directory;
use super::orders::owner_of;
use super::problem::AcmeError;
use super::request::{Expect, Posted, VerifiedSigner, usable};
use crate::audit::Actor;
use crate::bundle::certificate_facts;
use crate::db;
use crate::error::ServerError;
use crate::http::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct RevokePayload {
    certificate: String,
    reason: Option<u8>,
}

pub async fn revoke_cert(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    context: RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let started = std::time::Instant::now();
    let directory = Directory::of(&state, &issuer)?;
    let verified = posted.verify(&state, &directory, Expect::AccountOrKey, now).await?;
    let payload = verified.jws.json_payload()?.ok_or_else(|| AcmeError::malformed("revokeCert needs a payload"))?;
    let payload: RevokePayload = serde_json::from_value(payload).map_err(|error| {
        AcmeError::malformed(format!(
            "the revokeCert payload is {{\"certificate\": <base64url DER>, \"reason\": <code>}}: {error}"
        ))
    })?;
    let reason = match payload.reason {
        None => RevocationReason::Unspecified,
        Some(code) => RevocationReason::from_code(code).ok_or_else(|| {
            AcmeError::BadRevocationReason(format!(
                "reason {code} is not one certdesk takes: 0 (unspecified), 1 (keyCompromise), 3 (affiliationChanged), \
                 4 (superseded) or 5 (cessationOfOperation)"
            ))
        })?,
    };
    let der = URL_SAFE_NO_PAD
        .decode(payload.certificate.trim_end_matches('='))
        .map_err(|_| AcmeError::malformed("`certificate` is not base64url DER"))?;
    let facts = certificate_facts(&der).map_err(|error| AcmeError::malformed(format!("`certificate`: {error}")))?;
    let unknown = || AcmeError::NotFound("certdesk issued no such certificate through this directory's issuer".into());
    let id = db::acme_server_orders::certificate_with_serial(&state.pool, &directory.issuer_id, &facts.serial_colon())
        .await?
        .ok_or_else(unknown)?;
    let record = db::certificates::find_visible(&state.pool, id, None).await?.ok_or_else(unknown)?;
    // The serial alone could name another CA's certificate: the stored one must be exactly the one sent.
    let stored_der = record.leaf_pem.as_deref().and_then(|pem| pem::parse(pem).ok()).map(|pem| pem.into_contents());
    if stored_der.as_deref() != Some(der.as_slice()) {
        return Err(unknown());
    }
    let actor = match &verified.signer {
        VerifiedSigner::Account { account, .. } => {
            usable(&state, account)?;
            if owner_of(account)? != record.owner_id {
                return Err(AcmeError::unauthorized(
                    "this account's owner does not own the certificate; sign with an account of its owner or with \
                     the certificate's key",
                ));
            }
            Actor::person(&context.meta, record.owner_id)
        }
        VerifiedSigner::Key { key, .. } => {
            if !key.is_key_of_certificate(&der) {
                return Err(AcmeError::unauthorized("the request is signed with a key that is not the certificate's"));
            }
            // Whoever holds the key: nobody certdesk knows, revoking on the owner's behalf.
            Actor::anonymous(&context.meta)
        }
    };
    if record.status == "revoked" {
        return Err(AcmeError::AlreadyRevoked("the certificate is revoked already".into()));
    }
    match crate::revocation::revoke_authorized(&state, &actor, record.owner_id, record, reason, now, started).await {
        Ok(result) if result.already_revoked => {
            Err(AcmeError::AlreadyRevoked("the certificate is revoked already".into()))
        }
        Ok(_) => Ok(http::StatusCode::OK.into_response()),
        Err(ServerError::Client(AppError::Unavailable { service })) => {
            Err(AcmeError::Unavailable(format!("{service} is unavailable right now; try again shortly")))
        }
        Err(ServerError::Client(error)) => Err(AcmeError::malformed(error.to_string())),
        Err(error) => Err(AcmeError::Internal(error.to_string())),
    }
}
