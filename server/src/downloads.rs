//! Downloading an issued certificate in a chosen format: visible only to its owner (and admins and auditors), the
//! private key unsealed only for formats that carry it and only for whom it is allowed (`key_access`), and every
//! download audited — key downloads under their own action, so they stand out in the log.

pub mod key_access;
pub mod routes;

use app::AppError;
use app::ssr::{Caller, RequestMeta};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use self::key_access::KeyExport;
use crate::audit::{self, Action, Actor, Object};
use crate::auth::roles::owner_scope;
use crate::bundle::{self, BundleError, DownloadFormat, Material, RenderOptions, Rendered};
use crate::db;
use crate::error::ServerError;
use crate::sealing::{Sealed, private_key_context};
use crate::state::AppState;

/// `on_behalf_reason`: an admin's stated reason for exporting someone else's private key (see `key_access`).
pub async fn download(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    id: Uuid,
    format: DownloadFormat,
    options: &RenderOptions,
    on_behalf_reason: Option<&str>,
) -> Result<Rendered, ServerError> {
    let now = OffsetDateTime::now_utc();
    let Some(record) = db::certificates::find_visible(&state.pool, id, owner_scope(caller)).await? else {
        return Err(ServerError::Client(AppError::not_found("certificate")));
    };
    let key_export = if format.needs_private_key() {
        Some(key_access::authorize(state, meta, caller, &record, format, on_behalf_reason, now).await?)
    } else {
        None
    };
    let (Some(leaf_pem), Some(root_pem)) = (&record.leaf_pem, &record.root_pem) else {
        return Err(ServerError::Client(AppError::Conflict {
            message: format!("this certificate is {}: there is nothing to download yet", record.status),
        }));
    };
    let private_key_pkcs8 = if format.needs_private_key() {
        match (&record.encrypted_private_key, &record.key_encryption_key_id, &record.private_key_nonce) {
            (Some(ciphertext), Some(key_id), Some(nonce)) => {
                let Some(sealer) = state.config.encryption.as_ref() else {
                    return Err(ServerError::Client(AppError::Unavailable { service: "key storage".into() }));
                };
                let sealed = Sealed { key_id: key_id.clone(), nonce: nonce.clone(), ciphertext: ciphertext.clone() };
                Some(sealer.open(&sealed, &private_key_context(id))?)
            }
            _ => None,
        }
    } else {
        None
    };
    let material = Material {
        leaf_der: first_der(leaf_pem)?,
        intermediates_der: der_of(record.chain_pem.as_deref().unwrap_or_default())?,
        root_der: first_der(root_pem)?,
        private_key_pkcs8,
        common_name: record.common_name.clone(),
    };
    let rendered = bundle::render(format, &material, options).map_err(|error| match error {
        BundleError::BadCertificate { .. } | BundleError::BadPrivateKey | BundleError::KeyMismatch => {
            ServerError::Internal(error.to_string())
        }
        BundleError::KeyNotHeld | BundleError::KeyNotHeldForSecret | BundleError::NoIntermediates => {
            ServerError::Client(AppError::Conflict { message: error.to_string() })
        }
        other => ServerError::Client(AppError::invalid("format", other.to_string())),
    })?;
    let mut details = json!({ "format": format.as_str(), "owner": record.owner_id, "serial": record.serial });
    let action = match key_export {
        None => Action::CertificateDownloaded,
        Some(KeyExport::Owner) => Action::CertificateKeyDownloaded,
        Some(KeyExport::OnBehalf { reason }) => {
            details["reason"] = reason.into();
            Action::CertificateKeyExportedOnBehalf
        }
    };
    let entry = Actor::caller(meta, caller).did(action).on(Object::Certificate(id)).with(details);
    // No audit row, no download: the key must never leave without its trace.
    audit::record(&state.pool, &state.chain_key, &entry, now).await?;
    Ok(rendered)
}

fn der_of(text: &str) -> Result<Vec<Vec<u8>>, ServerError> {
    let blocks = pem::parse_many(text).map_err(|error| ServerError::Internal(format!("stored PEM: {error}")))?;
    let ders: Vec<Vec<u8>> = blocks.into_iter().map(|block| block.contents().to_vec()).collect();
    Ok(ders)
}

fn first_der(text: &str) -> Result<Vec<u8>, ServerError> {
    der_of(text)?.into_iter().next().ok_or_else(|| ServerError::Internal("stored PEM holds no certificate".into()))
}
