//! Checking a CRL before certdesk serves it: it parses, its signer is a CA that may sign CRLs (and chains to the
//! pinned root when there is one), its issuer is that CA, its signature verifies, and it carries a CRL number.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::bundle::serial_colon_of;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlCheckError {
    #[error("the CRL does not parse: {0}")]
    Unparsable(String),
    #[error("the CRL's signing CA certificate does not parse: {0}")]
    SignerUnparsable(String),
    #[error("the CRL's signing certificate is not a CA allowed to sign CRLs")]
    SignerNotCa,
    #[error("the CRL's signing CA does not chain to the pinned root")]
    SignerNotTrusted,
    #[error("the CRL names issuer {crl_issuer}, but it was fetched as the CRL of {signer}")]
    IssuerMismatch { crl_issuer: String, signer: String },
    #[error("the CRL's signature does not verify with its CA's key")]
    BadSignature,
    #[error("the CRL carries no CRL number (RFC 5280 §5.2.3 requires one)")]
    NoNumber,
}

/// One revoked certificate listed on a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlEntry {
    /// "3a:0f:01", as certdesk stores serials.
    pub serial: String,
    pub revoked_at: OffsetDateTime,
    /// The RFC 5280 name of the entry's reason code, for the reasons certdesk records.
    pub reason: Option<&'static str>,
}

/// A CRL that passed `check`.
#[derive(Debug, Clone)]
pub struct CheckedCrl {
    pub der: Vec<u8>,
    pub signer_der: Vec<u8>,
    pub number: BigUint,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub entries: Vec<CrlEntry>,
    /// Lower-case hex SHA-256 of `der`.
    pub sha256: String,
}

/// Checks `crl_der` against the CA certificate `signer_der`; with `root_der`, the CA must be that root or be
/// signed by it.
pub fn check(crl_der: &[u8], signer_der: &[u8], root_der: Option<&[u8]>) -> Result<CheckedCrl, CrlCheckError> {
    let (_, crl) =
        CertificateRevocationList::from_der(crl_der).map_err(|error| CrlCheckError::Unparsable(error.to_string()))?;
    let (_, signer) =
        X509Certificate::from_der(signer_der).map_err(|error| CrlCheckError::SignerUnparsable(error.to_string()))?;
    let may_sign_crls =
        signer.key_usage().ok().flatten().map(|usage| usage.value.crl_sign()).unwrap_or(true) && signer.is_ca();
    if !may_sign_crls {
        return Err(CrlCheckError::SignerNotCa);
    }
    if let Some(root_der) = root_der {
        let (_, root) = X509Certificate::from_der(root_der).map_err(|_| CrlCheckError::SignerNotTrusted)?;
        let trusted = if signer_der == root_der {
            root.verify_signature(None).is_ok()
        } else {
            signer.issuer().as_raw() == root.subject().as_raw()
                && signer.verify_signature(Some(root.public_key())).is_ok()
        };
        if !trusted {
            return Err(CrlCheckError::SignerNotTrusted);
        }
    }
    if crl.issuer().as_raw() != signer.subject().as_raw() {
        return Err(CrlCheckError::IssuerMismatch {
            crl_issuer: crl.issuer().to_string(),
            signer: signer.subject().to_string(),
        });
    }
    crl.verify_signature(signer.public_key()).map_err(|_| CrlCheckError::BadSignature)?;
    let number = crl.crl_number().cloned().ok_or(CrlCheckError::NoNumber)?;
    let entries = crl
        .iter_revoked_certificates()
        .map(|entry| CrlEntry {
            serial: serial_colon_of(entry.raw_serial()),
            revoked_at: entry.revocation_date.to_datetime(),
            reason: entry.reason_code().and_then(|(_, code)| reason_name(code.0)),
        })
        .collect();
    Ok(CheckedCrl {
        der: crl_der.to_vec(),
        signer_der: signer_der.to_vec(),
        number,
        this_update: crl.last_update().to_datetime(),
        next_update: crl.next_update().map(|time| time.to_datetime()),
        entries,
        sha256: hex::encode(Sha256::digest(crl_der)),
    })
}

/// RFC 5280 §5.3.1 codes certdesk records; others (hold, removeFromCRL, CA compromise…) are left without a name.
fn reason_name(code: u8) -> Option<&'static str> {
    match code {
        0 => Some("unspecified"),
        1 => Some("keyCompromise"),
        3 => Some("affiliationChanged"),
        4 => Some("superseded"),
        5 => Some("cessationOfOperation"),
        _ => None,
    }
}

/// Is `candidate` a newer CRL number than the stored decimal `stored`? (An unreadable stored number loses.)
pub fn is_newer(candidate: &BigUint, stored: &str) -> bool {
    stored.parse::<BigUint>().map(|stored| candidate > &stored).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crl_numbers_compare_as_numbers_not_text() {
        assert!(is_newer(&BigUint::from(10_u32), "9"));
        assert!(!is_newer(&BigUint::from(9_u32), "10"));
        assert!(!is_newer(&BigUint::from(10_u32), "10"));
        let huge: BigUint = "1461501637330902918203684832716283019655932542975".parse().unwrap();
        assert!(is_newer(&huge, "18446744073709551616"));
    }

    #[test]
    fn garbage_is_refused_as_unparsable() {
        assert!(matches!(check(b"not a crl", b"", None), Err(CrlCheckError::Unparsable(_))));
    }
}
