//! Wire types of certificate requests: what is asked for (names, key, renewal), the answer, and the form's choices.

use serde::{Deserialize, Serialize};

use super::{CertStatus, IssuerKind, RenewalRequest};

/// Where the private key of a requested certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum KeyChoice {
    /// certdesk generates the key (`ec-p256`, `ec-p384`, `rsa-2048`, `rsa-3072`, `rsa-4096`, `ed25519`) and keeps
    /// it encrypted for download.
    Generate { key_type: String },
    /// The requester's own CSR (PEM); certdesk never sees the key.
    Csr { csr_pem: String },
}

/// A certificate request, from the form or `POST /api/v1/certificates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CertificateRequest {
    pub issuer_id: String,
    /// Optional: defaults to the first DNS name.
    #[serde(default)]
    pub common_name: String,
    #[serde(default)]
    pub dns_names: Vec<String>,
    #[serde(default)]
    pub ip_sans: Vec<String>,
    pub validity_days: u32,
    pub key: KeyChoice,
    #[serde(default)]
    pub client_auth: bool,
    /// The same key from the same person means the same request (double submit, retries): one certificate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Automatic renewal; absent: on (fresh key, a third of the lifetime left) for keys certdesk makes, off for CSRs.
    #[serde(default)]
    pub renewal: Option<RenewalRequest>,
}

/// The answer to a certificate request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestedCertificate {
    pub id: uuid::Uuid,
    pub status: CertStatus,
    pub common_name: String,
    pub serial: Option<String>,
    /// RFC 3339.
    pub not_after: Option<String>,
    /// True when this answers an earlier request with the same idempotency key.
    pub replayed: bool,
}

/// What the person may request, per issuer: the request form's choices, hints and inline validation. The
/// server evaluates the policy again on submit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestOptions {
    pub issuers: Vec<IssuerOption>,
    /// Every key type certdesk can generate: (id such as `ec-p256`, label such as "EC P-256").
    pub key_types: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssuerOption {
    pub id: String,
    pub display_name: String,
    pub kind: IssuerKind,
    /// False when no rule of this issuer applies to the person (shown, but not selectable).
    pub can_request: bool,
    pub suffixes: Vec<String>,
    pub wildcard_suffixes: Vec<String>,
    pub ip_sans: bool,
    /// The ranges IP addresses may come from ("10.20.0.0/16"), for the form's hint.
    #[serde(default)]
    pub ip_ranges: Vec<String>,
    pub client_auth: bool,
    pub max_validity_days: Option<u32>,
    pub key_types: Vec<String>,
}
