//! Wire types shared by the server and the browser: what pages display and server functions return.

mod acme;
mod acme_account_keys;
mod audit;
mod certificates;
mod dashboard;
mod issuers;
mod machines;
mod notifications;
mod renewal;
mod requests;
mod revocation;
mod session;
mod tokens;

pub use acme::{AuthorizationProgress, OrderProgress};
pub use acme_account_keys::{AcmeAccountKeyView, CreatedAcmeAccountKey, NewAcmeAccountKey};
pub use audit::{AuditEventSummary, AuditEventView, AuditListing, AuditOutcome, AuditQuery, ChainState};
pub use certificates::{
    CertSort, CertStatus, CertSummary, CertificateDetail, CertificatePage, CertificateQuery, HistoryEntry, KeyAccess,
};
pub use dashboard::{DashboardScope, DashboardSummary, ExpiringCertificate, ExpiryWeek, IssuerCounts, StatusCount};
pub use issuers::{IssuerKind, IssuerSummary};
pub use machines::{AccountKeyRef, AcmeAccountView, AcmeAccountsView, AcmeDirectoryView, AcmeOrderView};
pub use notifications::{
    MAX_WEBHOOK_URL, NotificationSettingsInput, NotificationSettingsView, SavedNotificationSettings,
};
pub use renewal::{CertificateVersion, RenewalRequest, RenewalView};
pub use requests::{CertificateRequest, IssuerOption, KeyChoice, RequestOptions, RequestedCertificate};
pub use revocation::{
    BatchItemState, OffboardingReport, OwnerRevocationPlan, RevocableCertificate, RevocationBatchItem,
    RevocationBatchView, RevocationReason, RevocationResult, RevocationView, reason_label,
};
pub use session::{Role, SessionView};
pub use tokens::{ApiTokenView, CreatedApiToken, NewApiToken, OwnedApiTokenView, TokenScope};
