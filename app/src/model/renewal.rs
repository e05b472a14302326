//! Wire types of renewal: what a request asks for (automatic renewal, when, with which key), and what a
//! certificate's page shows about it (the renewal point, the last failure, the versions it belongs to).

use serde::{Deserialize, Serialize};

use super::CertStatus;

/// Automatic renewal as requested. Everything is optional: by default a certificate whose key certdesk makes
/// renews itself with a fresh key when a third of its lifetime remains; one from a CSR does not renew itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenewalRequest {
    /// Renew automatically; default: on for keys certdesk makes, off for CSRs.
    #[serde(default)]
    pub auto: Option<bool>,
    /// Renew when this share of the lifetime (percent, 1–99) remains; default 33 (one third).
    #[serde(default)]
    pub remaining_percent: Option<u8>,
    /// Or renew this many days before expiry (fewer than the validity).
    #[serde(default)]
    pub renew_before_days: Option<u32>,
    /// Keep the same private key; default: a fresh key at each renewal. A CSR's certificate always keeps its key.
    #[serde(default)]
    pub reuse_key: bool,
}

/// One certificate in a line of renewals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CertificateVersion {
    pub id: uuid::Uuid,
    pub status: CertStatus,
    pub serial: Option<String>,
    /// RFC 3339.
    pub not_after: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// The certificate whose page this is.
    pub this_one: bool,
}

/// Renewal as the certificate's page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenewalView {
    pub auto: bool,
    /// "when a third of its lifetime remains", "10 days before it expires".
    pub when: String,
    pub reuse_key: bool,
    /// RFC 3339: when automatic renewal starts (issued certificates with automatic renewal).
    pub renew_at: Option<String>,
    /// The renewal window an ACME CA suggests (RFC 9773 renewal information), start and end in RFC 3339; the
    /// renewal point lies inside it.
    #[serde(default)]
    pub ca_window: Option<(String, String)>,
    /// The CA's page explaining its suggestion (a shortened window is often a mass revocation ahead).
    #[serde(default)]
    pub ca_window_explanation: Option<String>,
    /// Failed attempts in a row, the next try (RFC 3339) and the last error.
    pub attempts: i32,
    pub retry_at: Option<String>,
    pub last_error: Option<String>,
    pub renewed_from: Option<uuid::Uuid>,
    pub superseded_by: Option<uuid::Uuid>,
    /// Every certificate of this line, oldest first (failed attempts left out).
    pub versions: Vec<CertificateVersion>,
    /// The caller may renew it now (its owner or an admin, and it is the current, issued one).
    pub can_renew: bool,
    /// The ACME account key whose machine ordered it through certdesk's ACME server: that machine renews it.
    #[serde(default)]
    pub by_machine: Option<String>,
}
