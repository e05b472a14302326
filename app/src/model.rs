//! Wire types shared by the server and the browser: what pages display and server functions return.

use serde::{Deserialize, Serialize};

mod acme;
mod dashboard;
mod notifications;
mod renewal;
mod revocation;

pub use acme::{AuthorizationProgress, OrderProgress};
pub use dashboard::{DashboardScope, DashboardSummary, ExpiringCertificate, ExpiryWeek, IssuerCounts, StatusCount};
pub use notifications::{
    MAX_WEBHOOK_URL, NotificationSettingsInput, NotificationSettingsView, SavedNotificationSettings,
};
pub use renewal::{CertificateVersion, RenewalRequest, RenewalView};
pub use revocation::{
    BatchItemState, OffboardingReport, OwnerRevocationPlan, RevocableCertificate, RevocationBatchItem,
    RevocationBatchView, RevocationReason, RevocationResult, RevocationView, reason_label,
};

/// An issuer as configured (private PKI in OpenBao/Vault, or an ACME CA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerSummary {
    pub id: String,
    pub display_name: String,
    pub kind: IssuerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerKind {
    Vault,
    Acme,
}

impl IssuerKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Vault => "Private PKI (OpenBao/Vault)",
            Self::Acme => "Public CA (ACME)",
        }
    }
}

/// Lifecycle of a certificate in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct CertSummary {
    pub id: uuid::Uuid,
    pub common_name: String,
    pub issuer_id: String,
    pub status: CertStatus,
    pub serial: Option<String>,
    /// RFC 3339, so the wire form stays readable and time-zone explicit.
    pub not_after: Option<String>,
    pub owner_name: String,
}

/// What a signed-in person may do beyond their own certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Auditor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "user" => Some(Self::User),
            "auditor" => Some(Self::Auditor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Auditor => "Auditor",
            Self::Admin => "Administrator",
        }
    }
}

/// The signed-in person as the UI shows them, plus the token their HTML forms must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub display_name: String,
    pub role: Role,
    pub csrf_token: String,
}

/// What a personal API token may do. Never more than its owner may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// List and download.
    Read,
    /// Also request, renew and revoke.
    ReadWrite,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Read => "Read only",
            Self::ReadWrite => "Read, request and revoke",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "read" => Some(Self::Read),
            "read_write" => Some(Self::ReadWrite),
            _ => None,
        }
    }
}

/// What the caller may do with a certificate's private key: its owner downloads it; an admin may export it on the
/// owner's behalf (a reason and a fresh second factor); everyone else, auditors included, never.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAccess {
    Owner,
    OnBehalf,
    #[default]
    Denied,
}

/// A personal API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: uuid::Uuid,
    pub name: String,
    pub scope: TokenScope,
    /// Created to download private keys (never implied by the scope).
    #[serde(default)]
    pub private_keys: bool,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// A token as an administrator sees it: with its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedApiTokenView {
    pub token: ApiTokenView,
    pub owner_id: uuid::Uuid,
    pub owner_name: String,
    pub owner_email: Option<String>,
}

/// The request to create a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub name: String,
    pub scope: TokenScope,
    pub expires_in_days: u32,
    /// The token may download private keys of its owner's certificates (PEM key, PKCS#12, Kubernetes Secret).
    #[serde(default)]
    pub private_keys: bool,
}

impl NewApiToken {
    pub const MAX_NAME_CHARS: usize = 64;
    pub const MAX_DAYS: u32 = 365;

    /// The rules the form checks as you type and the server enforces.
    pub fn validate(&self) -> Result<(), crate::error::AppError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(crate::error::AppError::invalid(
                "name",
                "Give the token a name, such as the job that uses it.",
            ));
        }
        if name.chars().count() > Self::MAX_NAME_CHARS {
            return Err(crate::error::AppError::invalid("name", "The name is longer than 64 characters."));
        }
        if name.chars().any(char::is_control) {
            return Err(crate::error::AppError::invalid("name", "The name contains control characters."));
        }
        if !(1..=Self::MAX_DAYS).contains(&self.expires_in_days) {
            return Err(crate::error::AppError::invalid("expires_in_days", "A token lives between 1 and 365 days."));
        }
        Ok(())
    }
}

/// A freshly created token: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    pub token: ApiTokenView,
    pub secret: String,
}

/// Where the private key of a requested certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct RequestOptions {
    pub issuers: Vec<IssuerOption>,
    /// Every key type certdesk can generate: (id such as `ec-p256`, label such as "EC P-256").
    pub key_types: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Orders of the certificate list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
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
pub struct CertificateDetail {
    pub id: uuid::Uuid,
    pub common_name: String,
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
pub struct HistoryEntry {
    /// RFC 3339.
    pub at: String,
    pub action: String,
    pub actor: String,
    pub outcome: String,
}

/// What an audit event records as its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Failure,
    Denied,
}

impl AuditOutcome {
    pub const ALL: [AuditOutcome; 3] = [AuditOutcome::Success, AuditOutcome::Failure, AuditOutcome::Denied];

    /// The stored and wire name, as in the database and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|outcome| outcome.as_str() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::Failure => "Failure",
            Self::Denied => "Denied",
        }
    }
}

/// Filters and position in the audit log, as typed: the server validates every field and names the one that is
/// wrong, so a hand-edited URL gets a clear 400 instead of a silently ignored filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuditQuery {
    /// `user:<uuid>`, `system`, `token:<uuid>`…, a user id, or part of a person's name or e-mail.
    #[serde(default)]
    pub actor: String,
    /// An exact action (`auth.login`), or a prefix ending in `.` or `*` (`certificate.`).
    #[serde(default)]
    pub action: String,
    /// An exact object such as `certificate:<uuid>`.
    #[serde(default)]
    pub object: String,
    /// `success`, `failure` or `denied`; empty for any.
    #[serde(default)]
    pub outcome: String,
    /// Inclusive lower bound: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` (UTC) or RFC 3339.
    #[serde(default)]
    pub from: String,
    /// Inclusive upper bound at the precision given (a day, a minute, a second).
    #[serde(default)]
    pub to: String,
    /// Opaque cursor from the previous page.
    #[serde(default)]
    pub before: Option<String>,
}

impl AuditQuery {
    /// Whether any filter is set (the position alone is not a filter).
    pub fn is_filtered(&self) -> bool {
        [&self.actor, &self.action, &self.object, &self.outcome, &self.from, &self.to]
            .iter()
            .any(|value| !value.trim().is_empty())
    }

    /// The filters as URL query pairs (empty ones left out), for links and the export form.
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("object", &self.object),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name, value.clone()))
        .collect()
    }
}

/// One row of the audit log list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventSummary {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The stored actor (`user:<uuid>`, `system`…).
    pub actor: String,
    /// The person's name when the actor is a known user.
    pub actor_name: Option<String>,
    pub action: String,
    pub object: String,
    pub outcome: String,
}

/// Whether the audit hash chain verified, as the banner shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainState {
    /// Every event up to this one verified (0 for an empty log).
    pub verified_through: i64,
    /// Where the chain breaks, in words; `None` when it verified.
    pub broken: Option<String>,
    /// RFC 3339 time of the check.
    pub checked_at: String,
}

/// One page of the audit log, with the chain's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditListing {
    pub rows: Vec<AuditEventSummary>,
    pub next: Option<String>,
    pub chain: ChainState,
}

/// Everything stored about one audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub seq: i64,
    /// RFC 3339, UTC, microseconds.
    pub at: String,
    pub actor: String,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub object: String,
    pub outcome: String,
    pub request_id: String,
    pub client_addr: String,
    /// The details JSON, pretty-printed.
    pub details: String,
    /// Hex of the predecessor's seal and of this event's seal.
    pub prev_hash: String,
    pub hash: String,
}
