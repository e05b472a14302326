//! `ServerBackend`: the server's implementation of the UI's `Backend` trait.

use app::AppError;
use app::model::{ApiTokenView, CertStatus, CertSummary, CreatedApiToken, DashboardSummary, NewApiToken};
use app::ssr::{Backend, Caller, RequestMeta};
use async_trait::async_trait;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::roles::owner_scope;
use crate::auth::tokens;
use crate::db;
use crate::error::ServerError;
use crate::state::AppState;

/// "Expiring soon" on the dashboard.
const EXPIRY_HORIZON: time::Duration = time::Duration::days(30);

pub struct ServerBackend {
    state: AppState,
}

impl ServerBackend {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// Admins and auditors see every certificate; everyone else sees their own.
    pub async fn summary(&self, caller: &Caller, now: OffsetDateTime) -> Result<DashboardSummary, ServerError> {
        let pool = &self.state.pool;
        let counts = db::dashboard::certificate_counts(pool, owner_scope(caller), now + EXPIRY_HORIZON).await?;
        Ok(DashboardSummary {
            certificates_total: counts.total,
            issued: counts.issued,
            expiring_within_30_days: counts.expiring_before,
            revoked: counts.revoked,
            failed: counts.failed,
            users: db::dashboard::user_count(pool).await?,
            audit_events: db::audit::count(pool).await?,
            issuers: self.state.issuers.iter().map(|issuer| issuer.summary()).collect(),
        })
    }
}

#[async_trait]
impl Backend for ServerBackend {
    async fn dashboard_summary(&self, request: &RequestMeta) -> Result<DashboardSummary, AppError> {
        let caller = request.caller()?;
        self.summary(caller, OffsetDateTime::now_utc()).await.map_err(|error| error.into_app_error(request))
    }

    async fn list_certificates(&self, request: &RequestMeta) -> Result<Vec<CertSummary>, AppError> {
        let caller = request.caller()?;
        let rows = db::certificates::recent(&self.state.pool, owner_scope(caller), 100)
            .await
            .map_err(|error| ServerError::from(error).into_app_error(request))?;
        rows.into_iter()
            .map(|row| {
                Ok(CertSummary {
                    id: row.id,
                    status: parse_status(&row.status).map_err(|error| error.into_app_error(request))?,
                    common_name: row.common_name,
                    issuer_id: row.issuer_id,
                    serial: row.serial,
                    not_after: row.not_after.and_then(|time| time.format(&Rfc3339).ok()),
                })
            })
            .collect()
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
}

/// `None` (everything) for roles that oversee all certificates, else the caller's own id.
fn parse_status(status: &str) -> Result<CertStatus, ServerError> {
    Ok(match status {
        "pending" => CertStatus::Pending,
        "issued" => CertStatus::Issued,
        "failed" => CertStatus::Failed,
        "revoked" => CertStatus::Revoked,
        "superseded" => CertStatus::Superseded,
        // The table's CHECK constraint makes this unreachable unless the schema and code disagree.
        other => return Err(ServerError::Database(sqlx::Error::Decode(format!("unknown status {other}").into()))),
    })
}
