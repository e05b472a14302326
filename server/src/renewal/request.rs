//! A renewal as a certificate request: the same issuer, names, key type, validity and usages as the certificate
//! it renews, with a fresh key (made by the issuance pipeline) or, when asked, the same key (its CSR signed again,
//! certdesk's sealed copy re-sealed for the new certificate).

use sha2::{Digest, Sha256};

use super::RenewalSettings;
use crate::db::certificates::CertificateRecord;
use crate::error::ServerError;
use crate::issuance::request::{CheckedKey, CheckedRequest};
use crate::issuance::reused_key::ReusedKey;
use crate::keys::KeyType;
use crate::names::{normalize_dns_name, parse_ip_san};
use crate::sealing::Sealed;

/// The request that renews `record`. Its fingerprint names the renewed certificate, so an idempotency key reused
/// for the renewal of another certificate is refused.
pub fn for_renewal(
    record: &CertificateRecord,
    csr_pem: Option<String>,
    settings: RenewalSettings,
    idempotency_key: Option<String>,
) -> Result<CheckedRequest, ServerError> {
    let unusable = |what: String| ServerError::Internal(format!("certificate {} cannot be renewed: {what}", record.id));
    let dns_names = record
        .dns_names
        .iter()
        .map(|name| normalize_dns_name(name).map_err(|error| unusable(error.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let common_name = dns_names.first().cloned().ok_or_else(|| unusable("it has no DNS name".into()))?;
    let ip_sans = record
        .ip_addresses
        .iter()
        .map(|ip| parse_ip_san(ip).map_err(|error| unusable(error.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let key_type = KeyType::ALL
        .into_iter()
        .find(|key_type| key_type.label() == record.key_algorithm)
        .ok_or_else(|| unusable(format!("unknown key type `{}`", record.key_algorithm)))?;
    let key = if settings.reuse_key || record.key_source == "csr" {
        let csr_pem = csr_pem.ok_or_else(|| unusable("its CSR was not kept".into()))?;
        let sealed = match (&record.encrypted_private_key, &record.key_encryption_key_id, &record.private_key_nonce) {
            (Some(ciphertext), Some(key_id), Some(nonce)) => Some((
                record.id,
                Sealed { key_id: key_id.clone(), nonce: nonce.clone(), ciphertext: ciphertext.clone() },
            )),
            _ => None,
        };
        CheckedKey::Reuse(Box::new(ReusedKey { csr_pem, sealed }))
    } else {
        CheckedKey::Generate(key_type)
    };
    let fingerprint = Sha256::digest(format!("renewal\0{}\0{}", record.id, settings.fingerprint())).to_vec();
    Ok(CheckedRequest {
        issuer_id: record.issuer_id.clone(),
        common_name,
        dns_names,
        ip_sans,
        validity_days: u32::try_from(record.validity_days).map_err(|_| unusable("its validity is negative".into()))?,
        key,
        key_type,
        client_auth: record.client_auth,
        idempotency_key,
        fingerprint,
        renewal: settings,
    })
}
