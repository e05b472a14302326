//! `pki sign-intermediate`: the root signs an intermediate CA's CSR (made inside Vault/OpenBao, whose key never
//! leaves it). The CSR contributes only its subject and public key; every extension comes from this profile.

use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, IsCa, KeyUsagePurpose,
    SubjectPublicKeyInfo,
};
use time::{Duration, OffsetDateTime};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use super::der;
use super::names::{self, SubjectNameError};
use super::root::BACKDATE;
use super::root_signer::RootSigner;
use super::serial::random_serial;

#[derive(Debug, thiserror::Error)]
pub enum IntermediateError {
    #[error("CSR: not PEM (expected -----BEGIN CERTIFICATE REQUEST-----)")]
    CsrNotPem,
    #[error("CSR: expected a PEM CERTIFICATE REQUEST, found a PEM {0}")]
    CsrWrongPem(String),
    #[error("CSR: cannot parse the certificate request: {0}")]
    CsrParse(String),
    #[error("CSR: its self-signature does not verify (corrupted, or not signed by the key it contains)")]
    CsrSignature,
    #[error("CSR: unsupported public key (EC P-256/P-384, RSA or Ed25519 expected)")]
    CsrKey,
    #[error("CSR subject: {0}")]
    CsrSubject(#[from] SubjectNameError),
    #[error("--days must be between 1 and 36500, got {0}")]
    Days(u32),
    #[error("the root CA expired on {0}; it cannot sign anything")]
    RootExpired(OffsetDateTime),
    #[error("{flag}: {url:?} is not an http(s) URL")]
    Url { flag: &'static str, url: String },
    #[error("cannot sign the intermediate: {0}")]
    Sign(#[from] rcgen::Error),
}

#[derive(Debug, Clone)]
pub struct IntermediateOptions {
    pub days: u32,
    /// Where relying parties fetch the root's CRL (certdesk serves it at `{public_url}/crl/root.crl`).
    pub crl_url: Option<String>,
    /// Where relying parties fetch the root certificate (AIA caIssuers).
    pub aia_url: Option<String>,
}

impl Default for IntermediateOptions {
    fn default() -> Self {
        Self { days: 1825, crl_url: None, aia_url: None }
    }
}

/// A signed intermediate CA certificate.
#[derive(Debug, Clone)]
pub struct SignedIntermediate {
    pub cert_pem: String,
    pub not_after: OffsetDateTime,
    /// True when the requested lifetime ended after the root's and was cut to the root's notAfter.
    pub clamped: bool,
}

/// Signs `csr_pem` as an intermediate CA: CA:TRUE pathlen:0 (critical), keyCertSign + cRLSign +
/// digitalSignature (critical; the last lets it sign OCSP responses itself), SKI, the root's AKI, the CRL
/// distribution point and AIA caIssuers when given, never valid beyond the root.
pub fn sign_intermediate(
    root: &RootSigner,
    csr_pem: &str,
    options: &IntermediateOptions,
) -> Result<SignedIntermediate, IntermediateError> {
    if !(1..=36500).contains(&options.days) {
        return Err(IntermediateError::Days(options.days));
    }
    let crl_url = options.crl_url.as_deref().map(|url| http_url("--crl-url", url)).transpose()?;
    let aia_url = options.aia_url.as_deref().map(|url| http_url("--aia-url", url)).transpose()?;
    let csr_der = csr_der(csr_pem)?;
    let (_, csr) =
        X509CertificationRequest::from_der(&csr_der).map_err(|error| IntermediateError::CsrParse(error.to_string()))?;
    csr.verify_signature().map_err(|_| IntermediateError::CsrSignature)?;
    let info = &csr.certification_request_info;
    let public_key = SubjectPublicKeyInfo::from_der(info.subject_pki.raw).map_err(|_| IntermediateError::CsrKey)?;

    let now = OffsetDateTime::now_utc();
    if root.not_after <= now {
        return Err(IntermediateError::RootExpired(root.not_after));
    }
    let wanted = now + Duration::days(i64::from(options.days));
    let clamped = wanted > root.not_after;
    let mut params = CertificateParams::default();
    params.distinguished_name = names::distinguished_name(&info.subject)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial());
    params.not_before = now - BACKDATE;
    params.not_after = if clamped { root.not_after } else { wanted };
    if let Some(url) = crl_url {
        params.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![url] }];
    }
    if let Some(url) = aia_url {
        params.custom_extensions = vec![CustomExtension::from_oid_content(
            der::OID_AUTHORITY_INFO_ACCESS,
            der::authority_info_access(&[&url]),
        )];
    }
    let cert = params.signed_by(&public_key, &root.issuer)?;
    Ok(SignedIntermediate { cert_pem: cert.pem(), not_after: params.not_after, clamped })
}

/// The DER of a PEM CSR; anything else (a certificate, a key, DER, garbage) is refused by name.
fn csr_der(csr_pem: &str) -> Result<Vec<u8>, IntermediateError> {
    let block = pem::parse(csr_pem).map_err(|_| IntermediateError::CsrNotPem)?;
    match block.tag() {
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => Ok(block.into_contents()),
        other => Err(IntermediateError::CsrWrongPem(other.to_owned())),
    }
}

fn http_url(flag: &'static str, url: &str) -> Result<String, IntermediateError> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => Ok(parsed.into()),
        _ => Err(IntermediateError::Url { flag, url: url.to_owned() }),
    }
}

#[cfg(test)]
mod tests;
