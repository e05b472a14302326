//! What users download for an issued certificate: PEM files, PKCS#12 and Kubernetes TLS Secrets, plus the
//! checks and facts behind them (chain verification, certificate details for the detail page).

mod chain;
mod dn;
mod facts;
mod format;
mod kubernetes;
mod parts;
mod pkcs12;
mod render;
#[cfg(test)]
mod tests;

use std::fmt;

use secrecy::SecretString;
use zeroize::Zeroizing;

pub use chain::{ChainError, verify_chain};
pub use facts::{CertificateFacts, authority_key_identifier, certificate_facts, serial_colon_of};
pub use format::{DownloadFormat, UnknownFormat};
pub use render::render;

/// Why a download could not be produced. Never carries key material or passwords.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("the certificate could not be read: {reason}")]
    BadCertificate { reason: String },
    #[error(
        "certdesk does not hold the private key for this certificate (it was issued from your CSR), so it cannot \
         produce this file; download the certificate and combine it with your own key"
    )]
    KeyNotHeld,
    #[error(
        "a Kubernetes TLS Secret must contain the private key (tls.key), which certdesk does not hold for this \
         certificate (it was issued from your CSR); create the Secret with your own key instead: \
         kubectl create secret tls NAME --cert=fullchain.pem --key=your-key.pem"
    )]
    KeyNotHeldForSecret,
    #[error("the stored private key is unreadable")]
    BadPrivateKey,
    #[error("the stored private key does not belong to this certificate")]
    KeyMismatch,
    #[error("this certificate was issued directly by the root, so there is no intermediate chain to download")]
    NoIntermediates,
    #[error("a PKCS#12 file needs a password of at least 8 characters")]
    Pkcs12PasswordMissing,
    #[error("the PKCS#12 password must be at least 8 characters long (this one has {len})")]
    Pkcs12PasswordTooShort { len: usize },
    #[error(
        "the PKCS#12 password may only contain printable ASCII characters, because tools encode others differently"
    )]
    Pkcs12PasswordCharset,
    #[error("could not build the PKCS#12 file: {reason}")]
    Pkcs12 { reason: String },
    #[error("'{name}' is not a valid Kubernetes Secret name: {reason}")]
    InvalidSecretName { name: String, reason: String },
    #[error("'{name}' is not a valid Kubernetes namespace: {reason}")]
    InvalidNamespace { name: String, reason: String },
    #[error("could not write the Kubernetes Secret: {reason}")]
    Yaml { reason: String },
}

/// Everything a download can be made from. `private_key_pkcs8` is `None` for certificates issued from a
/// user's CSR. Debug output never shows the key.
#[derive(Clone)]
pub struct Material {
    pub leaf_der: Vec<u8>,
    pub intermediates_der: Vec<Vec<u8>>,
    pub root_der: Vec<u8>,
    pub private_key_pkcs8: Option<Zeroizing<Vec<u8>>>,
    pub common_name: String,
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Material")
            .field("common_name", &self.common_name)
            .field("intermediates", &self.intermediates_der.len())
            .field("private_key", &self.private_key_pkcs8.as_ref().map(|_| "<held>"))
            .finish_non_exhaustive()
    }
}

/// Choices the user makes for some formats. `SecretString` keeps the password out of Debug output.
#[derive(Debug, Default)]
pub struct RenderOptions {
    pub pkcs12_password: Option<SecretString>,
    pub secret_name: Option<String>,
    pub namespace: Option<String>,
}

/// A finished download. The bytes may contain a private key, so they are zeroized on drop and kept out of Debug.
pub struct Rendered {
    pub bytes: Zeroizing<Vec<u8>>,
    pub content_type: &'static str,
    pub file_name: String,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .finish()
    }
}
