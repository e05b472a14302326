//! `ServerBackend`: the service layer. It implements the UI's `Backend` trait (what server functions call) and
//! is what the REST API (`rest`) calls too; what only plain HTTP needs (file downloads, renewal under an
//! idempotency key) is an inherent method here, so no handler reaches around it into domain modules.

use app::AppError;
use app::model::{
    AcmeAccountKeyView, ApiTokenView, AuditEventView, AuditListing, AuditQuery, CertificateDetail, CertificatePage,
    CertificateQuery, CertificateRequest, CreatedAcmeAccountKey, CreatedApiToken, DashboardScope, DashboardSummary,
    NewAcmeAccountKey, NewApiToken, OffboardingReport, OwnedApiTokenView, OwnerRevocationPlan, RequestOptions,
    RequestedCertificate, RevocationBatchView, RevocationReason, RevocationResult,
};
use app::ssr::{Backend, RequestMeta};
use async_trait::async_trait;
use time::OffsetDateTime;

use crate::acme_server::{account_keys, machines};
use crate::auth::tokens;
use crate::bundle::{DownloadFormat, RenderOptions, Rendered};
use crate::state::AppState;
use crate::{audit_viewer, dashboard, downloads, inventory, issuance, notifications, renewal, revocation};

pub struct ServerBackend {
    state: AppState,
}

impl ServerBackend {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// The certificate in `format` (owner, admins, auditors; the private key only for whom `key_access` allows).
    /// `on_behalf_reason`: an admin's reason for exporting someone else's key (never taken from API tokens).
    pub async fn download_certificate(
        &self,
        request: &RequestMeta,
        id: uuid::Uuid,
        format: DownloadFormat,
        options: &RenderOptions,
        on_behalf_reason: Option<&str>,
    ) -> Result<Rendered, AppError> {
        let caller = request.caller()?;
        downloads::download(&self.state, request, caller, id, format, options, on_behalf_reason)
            .await
            .map_err(|error| error.into_app_error(request))
    }

    /// Renews the certificate now; the same `idempotency_key` from the same person answers the first renewal.
    pub async fn renew_certificate_once(
        &self,
        request: &RequestMeta,
        id: uuid::Uuid,
        idempotency_key: Option<String>,
    ) -> Result<RequestedCertificate, AppError> {
        let caller = request.caller()?;
        renewal::manual::renew_now(&self.state, request, caller, id, idempotency_key)
            .await
            .map_err(|error| error.into_app_error(request))
    }
}

#[async_trait]
impl Backend for ServerBackend {
    async fn dashboard_summary(
        &self,
        request: &RequestMeta,
        scope: DashboardScope,
    ) -> Result<DashboardSummary, AppError> {
        let caller = request.caller()?;
        dashboard::summary(&self.state, caller, scope, OffsetDateTime::now_utc())
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn list_certificates(
        &self,
        request: &RequestMeta,
        query: CertificateQuery,
    ) -> Result<CertificatePage, AppError> {
        let caller = request.caller()?;
        inventory::list(&self.state, caller, query).await.map_err(|error| error.into_app_error(request))
    }

    async fn certificate_detail(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<CertificateDetail, AppError> {
        let caller = request.caller()?;
        inventory::detail(&self.state, caller, id).await.map_err(|error| error.into_app_error(request))
    }

    async fn request_options(&self, request: &RequestMeta) -> Result<RequestOptions, AppError> {
        let caller = request.caller()?;
        inventory::request_options(&self.state, caller).await.map_err(|error| error.into_app_error(request))
    }

    async fn request_certificate(
        &self,
        request: &RequestMeta,
        input: CertificateRequest,
    ) -> Result<RequestedCertificate, AppError> {
        let caller = request.caller()?;
        let checked = issuance::check(input, self.state.config.limits.renewal_floor)?;
        issuance::issue(&self.state, request, caller, checked).await.map_err(|error| error.into_app_error(request))
    }

    async fn list_api_tokens(&self, request: &RequestMeta) -> Result<Vec<ApiTokenView>, AppError> {
        tokens::list(&self.state.pool, request).await.map_err(|error| error.into_app_error(request))
    }

    async fn create_api_token(&self, request: &RequestMeta, input: NewApiToken) -> Result<CreatedApiToken, AppError> {
        let max_age = self.state.config.auth.step_up_max_age;
        tokens::create(&self.state.pool, &self.state.chain_key, request, &input, max_age, OffsetDateTime::now_utc())
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn revoke_api_token(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<(), AppError> {
        tokens::revoke(&self.state.pool, &self.state.chain_key, request, id, OffsetDateTime::now_utc())
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn list_acme_account_keys(&self, request: &RequestMeta) -> Result<Vec<AcmeAccountKeyView>, AppError> {
        account_keys::list(&self.state, request).await.map_err(|error| error.into_app_error(request))
    }

    async fn list_everyones_acme_account_keys(
        &self,
        request: &RequestMeta,
    ) -> Result<Vec<AcmeAccountKeyView>, AppError> {
        account_keys::list_everyones(&self.state, request).await.map_err(|error| error.into_app_error(request))
    }

    async fn create_acme_account_key(
        &self,
        request: &RequestMeta,
        input: NewAcmeAccountKey,
    ) -> Result<CreatedAcmeAccountKey, AppError> {
        account_keys::create(&self.state, request, &input, OffsetDateTime::now_utc())
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn revoke_acme_account_key(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<(), AppError> {
        account_keys::revoke(&self.state, request, id, OffsetDateTime::now_utc())
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn acme_directories(&self, request: &RequestMeta) -> Result<Vec<app::model::AcmeDirectoryView>, AppError> {
        machines::directories(&self.state, request).map_err(|error| error.into_app_error(request))
    }

    async fn list_acme_accounts(&self, request: &RequestMeta) -> Result<app::model::AcmeAccountsView, AppError> {
        machines::accounts(&self.state, request).await.map_err(|error| error.into_app_error(request))
    }

    async fn deactivate_acme_account(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<(), AppError> {
        machines::deactivate(&self.state, request, id, OffsetDateTime::now_utc())
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn revoke_certificate(
        &self,
        request: &RequestMeta,
        id: uuid::Uuid,
        reason: RevocationReason,
    ) -> Result<RevocationResult, AppError> {
        let caller = request.caller()?;
        revocation::revoke(&self.state, request, caller, id, reason)
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn renew_certificate(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<RequestedCertificate, AppError> {
        self.renew_certificate_once(request, id, None).await
    }

    async fn owner_revocation_plan(
        &self,
        request: &RequestMeta,
        owner: String,
    ) -> Result<OwnerRevocationPlan, AppError> {
        let caller = request.caller()?;
        revocation::offboarding::owner_plan(&self.state, caller, &owner)
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn offboard_person(
        &self,
        request: &RequestMeta,
        owner_id: uuid::Uuid,
        reason: RevocationReason,
    ) -> Result<OffboardingReport, AppError> {
        let caller = request.caller()?;
        revocation::offboarding::offboard(&self.state, request, caller, owner_id, reason)
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn revoke_certificates(
        &self,
        request: &RequestMeta,
        ids: Vec<uuid::Uuid>,
        reason: RevocationReason,
    ) -> Result<RevocationBatchView, AppError> {
        let caller = request.caller()?;
        revocation::bulk::submit(&self.state, request, caller, &ids, reason)
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn revocation_batch(&self, request: &RequestMeta, id: uuid::Uuid) -> Result<RevocationBatchView, AppError> {
        let caller = request.caller()?;
        revocation::bulk::progress(&self.state, caller, id).await.map_err(|error| error.into_app_error(request))
    }

    async fn list_everyones_api_tokens(&self, request: &RequestMeta) -> Result<Vec<OwnedApiTokenView>, AppError> {
        tokens::list_everyones(&self.state.pool, request, OffsetDateTime::now_utc())
            .await
            .map_err(|error| error.into_app_error(request))
    }

    async fn list_audit_events(&self, request: &RequestMeta, query: AuditQuery) -> Result<AuditListing, AppError> {
        audit_viewer::list(&self.state, request, query).await.map_err(|error| error.into_app_error(request))
    }

    async fn audit_event(&self, request: &RequestMeta, seq: i64) -> Result<AuditEventView, AppError> {
        audit_viewer::event(&self.state, request, seq).await.map_err(|error| error.into_app_error(request))
    }

    async fn notification_settings(
        &self,
        request: &RequestMeta,
    ) -> Result<app::model::NotificationSettingsView, AppError> {
        let caller = request.caller()?;
        notifications::settings::view(&self.state, caller).await.map_err(|error| error.into_app_error(request))
    }

    async fn save_notification_settings(
        &self,
        request: &RequestMeta,
        input: app::model::NotificationSettingsInput,
    ) -> Result<app::model::SavedNotificationSettings, AppError> {
        let caller = request.caller()?;
        notifications::settings::save(&self.state, request, caller, input, OffsetDateTime::now_utc())
            .await
            .map_err(|error| error.into_app_error(request))
    }
}
