//! The server-side contract: the `Backend` trait the server implements, and how server functions reach it.
//! Server functions stay two lines long: find the backend and the request, call one method.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::error::AppError;
use crate::model::{
    AcmeAccountKeyView, ApiTokenView, AuditEventView, AuditListing, AuditQuery, CertificateDetail, CertificatePage,
    CertificateQuery, CertificateRequest, CreatedAcmeAccountKey, CreatedApiToken, DashboardScope, DashboardSummary,
    NewAcmeAccountKey, NewApiToken, OffboardingReport, OwnedApiTokenView, OwnerRevocationPlan, RequestOptions,
    RequestedCertificate, RevocationBatchView, RevocationReason, RevocationResult,
};

/// Who is asking and through which request: threaded into every backend call so audit rows and logs carry it.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_addr: String,
    /// The signed-in person; `None` only on the few public routes.
    pub caller: Option<Caller>,
}

/// The signed-in person making the request, put into the request by the server's session gate.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: uuid::Uuid,
    pub display_name: String,
    pub role: crate::model::Role,
    pub csrf_token: String,
    /// Unix seconds of the caller's last multi-factor proof (0 for API tokens: they never satisfy step-up).
    pub mfa_at: i64,
    /// How the caller proved who they are: what a credential may reach beyond the role (private keys).
    pub credential: Credential,
}

/// A browser session, or a personal API token with what it was created for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session,
    /// `private_keys`: the token was created to download private keys (never implied by its scope); `id` names
    /// the token in the audit events of what it did.
    Token {
        id: uuid::Uuid,
        scope: crate::model::TokenScope,
        private_keys: bool,
    },
}

impl RequestMeta {
    /// The caller, or `Unauthenticated`.
    pub fn caller(&self) -> Result<&Caller, AppError> {
        self.caller.as_ref().ok_or(AppError::Unauthenticated)
    }
}

/// Everything the UI can ask of the server. Implemented in the `server` crate; the UI never sees SQL or issuers.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The dashboard of the caller's own certificates, or everyone's (`All`, admins and auditors only).
    async fn dashboard_summary(
        &self,
        request: &RequestMeta,
        scope: DashboardScope,
    ) -> Result<DashboardSummary, AppError>;
    async fn list_certificates(
        &self,
        request: &RequestMeta,
        query: CertificateQuery,
    ) -> Result<CertificatePage, AppError>;
    async fn certificate_detail(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<CertificateDetail, AppError>;
    async fn request_options(&self, request: &RequestMeta) -> Result<RequestOptions, AppError>;
    async fn request_certificate(
        &self,
        request: &RequestMeta,
        input: CertificateRequest,
    ) -> Result<RequestedCertificate, AppError>;
    async fn list_api_tokens(&self, request: &RequestMeta) -> Result<Vec<ApiTokenView>, AppError>;
    async fn create_api_token(&self, request: &RequestMeta, input: NewApiToken) -> Result<CreatedApiToken, AppError>;
    async fn revoke_api_token(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<(), AppError>;
    async fn revoke_certificate(
        &self,
        request: &RequestMeta,
        id: uuid::Uuid,
        reason: RevocationReason,
    ) -> Result<RevocationResult, AppError>;
    /// Renews the certificate now (its owner or an admin): the new certificate.
    async fn renew_certificate(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<RequestedCertificate, AppError>;
    /// Admins: everything one person (e-mail address or name) owns that can still be revoked.
    async fn owner_revocation_plan(
        &self,
        request: &RequestMeta,
        owner: String,
    ) -> Result<OwnerRevocationPlan, AppError>;
    /// Admins: off-boards the person — account disabled, sessions ended, API tokens and certificates revoked.
    async fn offboard_person(
        &self,
        request: &RequestMeta,
        owner_id: uuid::Uuid,
        reason: RevocationReason,
    ) -> Result<OffboardingReport, AppError>;
    /// Queues the certificates for revocation as a batch carried out in the background (owners their own, admins
    /// anyone's with step-up): where each one stands now.
    async fn revoke_certificates(
        &self,
        request: &RequestMeta,
        ids: Vec<uuid::Uuid>,
        reason: RevocationReason,
    ) -> Result<RevocationBatchView, AppError>;
    /// Where a revocation batch stands (whoever asked for it, admins).
    async fn revocation_batch(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<RevocationBatchView, AppError>;
    /// Admins: everyone's API tokens that still work, with their owners.
    async fn list_everyones_api_tokens(&self, request: &RequestMeta) -> Result<Vec<OwnedApiTokenView>, AppError>;
    /// The caller's ACME account keys (EAB credentials for certdesk's ACME server), newest first.
    async fn list_acme_account_keys(&self, request: &RequestMeta) -> Result<Vec<AcmeAccountKeyView>, AppError>;
    /// Admins: everyone's ACME account keys, with their owners.
    async fn list_everyones_acme_account_keys(
        &self,
        request: &RequestMeta,
    ) -> Result<Vec<AcmeAccountKeyView>, AppError>;
    /// A new ACME account key (step-up): the only answer that carries its HMAC key.
    async fn create_acme_account_key(
        &self,
        request: &RequestMeta,
        input: NewAcmeAccountKey,
    ) -> Result<CreatedAcmeAccountKey, AppError>;
    /// Revokes an ACME account key (its owner or an admin) and deactivates the accounts bound to it.
    async fn revoke_acme_account_key(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<(), AppError>;
    /// The issuers that enabled certdesk's ACME server, with their directory URLs.
    async fn acme_directories(&self, request: &RequestMeta) -> Result<Vec<crate::model::AcmeDirectoryView>, AppError>;
    /// The ACME accounts bound to the caller's keys (admins: everyone's), with their recent orders.
    async fn list_acme_accounts(&self, request: &RequestMeta) -> Result<crate::model::AcmeAccountsView, AppError>;
    /// Deactivates an ACME account (its owner or an admin); another person's account is "not found".
    async fn deactivate_acme_account(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<(), AppError>;
    /// One page of the audit log with the chain's verification state (admins and auditors).
    async fn list_audit_events(&self, request: &RequestMeta, query: AuditQuery) -> Result<AuditListing, AppError>;
    async fn audit_event(&self, request: &RequestMeta, seq: i64) -> Result<AuditEventView, AppError>;
    async fn notification_settings(
        &self,
        request: &RequestMeta,
    ) -> Result<crate::model::NotificationSettingsView, AppError>;
    async fn save_notification_settings(
        &self,
        request: &RequestMeta,
        input: crate::model::NotificationSettingsInput,
    ) -> Result<crate::model::SavedNotificationSettings, AppError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The backend provided by the server for this request.
pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or_else(|| AppError::Internal { incident: "backend-not-provided".into() })
}

/// Header the server's request-id middleware sets on every request.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Request id and client address of the request being handled, read from the HTTP parts leptos_axum provides.
pub fn request_meta() -> RequestMeta {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return RequestMeta::default();
    };
    let request_id =
        parts.headers.get(REQUEST_ID_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let client_addr = parts.extensions.get::<ClientAddr>().map(|addr| addr.0.clone()).unwrap_or_default();
    let caller = parts.extensions.get::<Caller>().cloned();
    RequestMeta { request_id, client_addr, caller }
}

/// The peer address, put into request extensions by the server so the app need not know axum's types.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

/// A server function's result, with an error's own HTTP status on the wire (leptos answers every error 500
/// otherwise, and a refused input is the caller's mistake, not the server's). Calls made while rendering a page
/// leave the page's status to its error view.
pub fn answered<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result
        && use_context::<http::request::Parts>().is_some_and(|parts| parts.uri.path().starts_with("/rpc/"))
    {
        set_status(error.status());
    }
    result
}

/// Sets the HTTP status of the page being rendered (error views call this during SSR).
pub fn set_status(status: u16) {
    if let (Some(response), Ok(code)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
    {
        response.set_status(code);
    }
}
