//! The offline root as a signer: its certificate and private key, loaded together and checked to belong
//! together before anything is signed with them.

use rcgen::{Issuer, KeyIdMethod, KeyPair, PublicKeyData};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum RootSignerError {
    #[error("root certificate: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)")]
    CertNotPem,
    #[error("root certificate: expected a PEM CERTIFICATE, found {0}")]
    CertWrongPem(String),
    #[error("root certificate: cannot parse it: {0}")]
    CertParse(String),
    #[error("root certificate: it is not a CA certificate (basicConstraints CA:TRUE is missing)")]
    NotCa,
    #[error(
        "root key: not a PKCS#8 PEM private key (expected -----BEGIN PRIVATE KEY-----; convert with `openssl pkcs8 -topk8 -nocrypt`)"
    )]
    KeyParse,
    #[error("the root key does not match the root certificate (its public key differs)")]
    KeyMismatch,
    #[error("root certificate: {0}")]
    Issuer(String),
}

/// A root CA certificate with its private key.
pub struct RootSigner {
    pub(crate) issuer: Issuer<'static, KeyPair>,
    /// The root certificate, PEM, as read (it goes into chains).
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub not_after: OffsetDateTime,
    /// The key identifier the root's SubjectKeyIdentifier states (the AKI of everything it signs).
    pub key_id: KeyIdMethod,
}

impl std::fmt::Debug for RootSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootSigner").field("not_after", &self.not_after).finish_non_exhaustive()
    }
}

impl RootSigner {
    /// Loads and cross-checks a root certificate (PEM) and its PKCS#8 private key (PEM).
    pub fn from_pem(cert_pem: &str, key_pem: &Zeroizing<String>) -> Result<Self, RootSignerError> {
        let block = pem::parse(cert_pem).map_err(|_| RootSignerError::CertNotPem)?;
        if block.tag() != "CERTIFICATE" {
            return Err(RootSignerError::CertWrongPem(block.tag().to_owned()));
        }
        let cert_der = block.contents().to_vec();
        let (_, cert) =
            X509Certificate::from_der(&cert_der).map_err(|error| RootSignerError::CertParse(error.to_string()))?;
        if !cert.is_ca() {
            return Err(RootSignerError::NotCa);
        }
        let key = KeyPair::from_pem(key_pem).map_err(|_| RootSignerError::KeyParse)?;
        if key.der_bytes() != cert.public_key().subject_public_key.data.as_ref() {
            return Err(RootSignerError::KeyMismatch);
        }
        let key_id = subject_key_id(&cert).unwrap_or(KeyIdMethod::Sha256);
        let not_after = cert.validity().not_after.to_datetime();
        let issuer = Issuer::from_ca_cert_der(&cert_der.clone().into(), key)
            .map_err(|error| RootSignerError::Issuer(error.to_string()))?;
        let cert_pem = pem::encode(&pem::Pem::new("CERTIFICATE", cert_der.clone()));
        Ok(Self { issuer, cert_pem, cert_der, not_after, key_id })
    }

    /// The parsed root certificate (for chain checks).
    pub fn certificate(&self) -> Result<X509Certificate<'_>, RootSignerError> {
        X509Certificate::from_der(&self.cert_der)
            .map(|(_, cert)| cert)
            .map_err(|error| RootSignerError::CertParse(error.to_string()))
    }
}

fn subject_key_id(cert: &X509Certificate<'_>) -> Option<KeyIdMethod> {
    cert.iter_extensions().find_map(|extension| match extension.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(id) => Some(KeyIdMethod::PreSpecified(id.0.to_vec())),
        _ => None,
    })
}
