//! The download formats, their names in URLs and forms, content types and file names.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub enum DownloadFormat {
    #[serde(rename = "leaf-pem")]
    LeafPem,
    #[serde(rename = "chain-pem")]
    ChainPem,
    #[serde(rename = "fullchain-pem")]
    FullChainPem,
    #[serde(rename = "ca-bundle-pem")]
    CaBundlePem,
    #[serde(rename = "key-pem")]
    PrivateKeyPem,
    #[serde(rename = "pkcs12")]
    Pkcs12,
    #[serde(rename = "kubernetes-secret")]
    KubernetesSecret,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a download format; use one of: leaf-pem, chain-pem, fullchain-pem, ca-bundle-pem, key-pem, pkcs12, \
     kubernetes-secret"
)]
pub struct UnknownFormat(pub String);

impl DownloadFormat {
    pub const ALL: [DownloadFormat; 7] = [
        DownloadFormat::LeafPem,
        DownloadFormat::ChainPem,
        DownloadFormat::FullChainPem,
        DownloadFormat::CaBundlePem,
        DownloadFormat::PrivateKeyPem,
        DownloadFormat::Pkcs12,
        DownloadFormat::KubernetesSecret,
    ];

    /// The name used in URLs and forms (same as serde).
    pub fn as_str(self) -> &'static str {
        match self {
            DownloadFormat::LeafPem => "leaf-pem",
            DownloadFormat::ChainPem => "chain-pem",
            DownloadFormat::FullChainPem => "fullchain-pem",
            DownloadFormat::CaBundlePem => "ca-bundle-pem",
            DownloadFormat::PrivateKeyPem => "key-pem",
            DownloadFormat::Pkcs12 => "pkcs12",
            DownloadFormat::KubernetesSecret => "kubernetes-secret",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            DownloadFormat::LeafPem
            | DownloadFormat::ChainPem
            | DownloadFormat::FullChainPem
            | DownloadFormat::CaBundlePem
            | DownloadFormat::PrivateKeyPem => "application/x-pem-file",
            DownloadFormat::Pkcs12 => "application/x-pkcs12",
            DownloadFormat::KubernetesSecret => "application/yaml",
        }
    }

    /// Whether the format contains the private key (and so is unavailable for CSR-based certificates).
    pub fn needs_private_key(self) -> bool {
        matches!(self, DownloadFormat::PrivateKeyPem | DownloadFormat::Pkcs12 | DownloadFormat::KubernetesSecret)
    }

    /// A file name safe in a Content-Disposition header and on every file system, derived from `base` (usually
    /// the common name): `*.example.com` → `wildcard.example.com.fullchain.pem`.
    pub fn file_name(self, base: &str) -> String {
        let stem = safe_stem(base);
        let suffix = match self {
            DownloadFormat::LeafPem => "cert.pem",
            DownloadFormat::ChainPem => "chain.pem",
            DownloadFormat::FullChainPem => "fullchain.pem",
            DownloadFormat::CaBundlePem => "ca-bundle.pem",
            DownloadFormat::PrivateKeyPem => "key.pem",
            DownloadFormat::Pkcs12 => "p12",
            DownloadFormat::KubernetesSecret => "secret.yaml",
        };
        format!("{stem}.{suffix}")
    }
}

/// Lowercase letters, digits, '.', '-' and '_' only; no leading dot (hidden files), at most 100 characters.
fn safe_stem(base: &str) -> String {
    let replaced = base.trim().to_lowercase().replace('*', "wildcard");
    let mapped: String = replaced
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .take(100)
        .collect();
    let stem = mapped.trim_matches(|c| c == '.' || c == '_');
    if stem.is_empty() { "certificate".to_owned() } else { stem.to_owned() }
}

impl fmt::Display for DownloadFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DownloadFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        DownloadFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFormat(wanted.to_owned()))
    }
}
