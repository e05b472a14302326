//! Wire types of the certificate inventory: statuses, the list with its filters and order, and the detail page.

use serde::{Deserialize, Serialize};

use super::{IssuerSummary, OrderProgress, RenewalView, RevocationView};

/// Lifecycle of a certificate in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    Pending,
    Issued,
    Failed,
    Revoked,
    Superseded,
}

impl CertStatus {
    pub const ALL: [CertStatus; 5] =
        [CertStatus::Issued, CertStatus::Pending, CertStatus::Failed, CertStatus::Revoked, CertStatus::Superseded];

    /// The stored and wire name (`issued`, `pending`…), as in the database and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Issued => "issued",
            Self::Failed => "failed",
            Self::Revoked => "revoked",
            Self::Superseded => "superseded",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Issued => "Issued",
            Self::Failed => "Failed",
            Self::Revoked => "Revoked",
            Self::Superseded => "Superseded",
        }
    }
}

/// One row of the certificate list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CertSummary {
    pub id: uuid::Uuid,
    pub common_name: String,
    pub issuer_id: String,
    pub status: CertStatus,
    pub serial: Option<String>,
    /// RFC 3339, so the wire form stays readable and time-zone explicit.
    pub not_after: Option<String>,
    pub owner_name: String,
    /// The ACME account key (by name) whose account ordered it through certdesk's ACME server; `None`: a person
    /// requested it (form or API).
    #[serde(default)]
    pub acme_account: Option<String>,
}

/// What the caller may do with a certificate's private key: its owner downloads it; an admin may export it on the
/// owner's behalf (a reason and a fresh second factor); everyone else, auditors included, never.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyAccess {
    Owner,
    OnBehalf,
    #[default]
    Denied,
}

/// Orders of the certificate list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CertSort {
    #[default]
    Newest,
    /// Soonest expiry first (certificates without an expiry yet are left out).
    Expiry,
    Name,
}

impl CertSort {
    pub const ALL: [CertSort; 3] = [CertSort::Newest, CertSort::Expiry, CertSort::Name];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Expiry => "expiry",
            Self::Name => "name",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Newest => "Newest first",
            Self::Expiry => "Expiring soonest",
            Self::Name => "Name (A–Z)",
        }
    }
}

/// Filters and position in the certificate list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct CertificateQuery {
    /// Part of a name, a serial or a fingerprint.
    #[serde(default)]
    pub search: String,
    #[serde(default)]
    pub issuer_id: Option<String>,
    #[serde(default)]
    pub status: Option<CertStatus>,
    #[serde(default)]
    pub expiring_within_days: Option<u32>,
    /// With `expiring_within_days`: only those expiring at least this many days from now (a window, such as one
    /// bar of the dashboard's timeline).
    #[serde(default)]
    pub expiring_after_days: Option<u32>,
    /// Part of the owner's name or e-mail (admins and auditors; ignored for others, who only see their own).
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub sort: CertSort,
    /// Opaque cursor from the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CertificatePage {
    pub rows: Vec<CertSummary>,
    pub next: Option<String>,
    /// Whether the list spans several owners (admins and auditors): the owner column is shown.
    pub all_owners: bool,
    /// The configured issuers, for the issuer filter.
    pub issuers: Vec<IssuerSummary>,
}

/// Everything the detail page shows about one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CertificateDetail {
    pub id: uuid::Uuid,
    pub common_name: String,
    /// The ACME account key (by name) whose account ordered it through certdesk's ACME server.
    #[serde(default)]
    pub acme_account: Option<String>,
    pub status: CertStatus,
    pub issuer_id: String,
    pub issuer_name: String,
    pub owner_name: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub key_algorithm: String,
    /// The private key is held (encrypted) by certdesk and can be downloaded.
    pub key_held: bool,
    /// What the caller may do with that key.
    #[serde(default)]
    pub key_access: KeyAccess,
    pub client_auth: bool,
    pub serial: Option<String>,
    pub subject: Option<String>,
    /// Set when the issued certificate's subject common name is not its first DNS name (none at all when that
    /// name is longer than the 64 characters a common name may have): a sentence saying so.
    pub common_name_note: Option<String>,
    pub issuer_dn: Option<String>,
    /// RFC 3339.
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// Share of the lifetime already used, 0–100.
    pub lifetime_used_percent: Option<u8>,
    pub days_left: Option<i64>,
    pub fingerprint_sha256: Option<String>,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
    pub crl_distribution_points: Vec<String>,
    /// The chain above the certificate: subject names, nearest first, the root last.
    pub chain: Vec<String>,
    pub policy_rule: Option<String>,
    pub failure: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub history: Vec<HistoryEntry>,
    /// Set once revoked.
    pub revocation: Option<RevocationView>,
    pub renewal: RenewalView,
    /// The caller may revoke it (its owner, or an admin) and it is still revocable.
    pub can_revoke: bool,
    /// Public (ACME) certificates: the order's progress.
    pub order: Option<OrderProgress>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// RFC 3339.
    pub at: String,
    pub action: String,
    pub actor: String,
    pub outcome: String,
}
