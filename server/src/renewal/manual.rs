//! "Renew now" (the certificate's page and `POST /api/v1/certificates/{id}/renew`): the owner or an admin renews
//! the current, issued certificate at once. Someone else's answers 404 as everywhere; a certificate that cannot be
//! renewed answers 409 saying why. The same idempotency key answers with the first renewal. It counts against the
//! owner's daily quota, and is not held back by the renewal floor (see `issuance::quota`).

use app::AppError;
use app::model::{CertStatus, RequestedCertificate};
use app::ssr::{Caller, RequestMeta};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::Actor;
use crate::auth::roles::owner_scope;
use crate::auth::roles::{Authority, authority_over};
use crate::auth::step_up::require_recent_mfa;
use crate::db;
use crate::db::certificates::stored_status;
use crate::error::ServerError;
use crate::issuance::quota::QuotaUse;
use crate::state::AppState;

fn conflict(message: impl Into<String>) -> ServerError {
    ServerError::Client(AppError::Conflict { message: message.into() })
}

pub async fn renew_now(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    id: Uuid,
    idempotency_key: Option<String>,
) -> Result<RequestedCertificate, ServerError> {
    let now = OffsetDateTime::now_utc();
    let Some(record) = db::certificates::find_visible(&state.pool, id, owner_scope(caller)).await? else {
        return Err(ServerError::Client(AppError::not_found("certificate")));
    };
    match authority_over(caller, record.owner_id) {
        // An auditor sees everyone's certificates but renews only their own.
        None => return Err(ServerError::Client(AppError::Forbidden)),
        // Renewing someone else's certificate makes a new one in their name: a step-up action.
        Some(Authority::Admin) => {
            require_recent_mfa(caller, now, state.config.auth.step_up_max_age).map_err(ServerError::Client)?;
        }
        Some(Authority::Owner) => {}
    }
    let replay = match &idempotency_key {
        Some(key) => db::certificates::find_by_idempotency_key(&state.pool, record.owner_id, key).await?.is_some(),
        None => false,
    };
    // A repeated key goes straight to the pipeline, which answers with the first renewal (or refuses a key used for
    // something else); otherwise the certificate must be the current, issued one.
    if let Some(key) = &record.acme_account {
        return Err(conflict(format!(
            "a machine ordered this certificate through certdesk's ACME server (ACME account key “{key}”) and \
             holds its key: that machine renews it, when certdesk's renewal information suggests"
        )));
    }
    if !replay {
        match stored_status(&record.status) {
            CertStatus::Issued => {}
            CertStatus::Superseded => {
                let by = db::renewal::successor(&state.pool, id).await?.map(|(successor, _)| successor);
                return Err(conflict(match by {
                    Some(successor) => {
                        format!("this certificate was already renewed: certificate {successor} replaces it")
                    }
                    None => "this certificate is superseded: renew the current one".to_owned(),
                }));
            }
            CertStatus::Revoked => {
                return Err(conflict("a revoked certificate is not renewed: request a new certificate instead"));
            }
            CertStatus::Failed => {
                return Err(conflict("this request failed, so there is no certificate to renew: request it again"));
            }
            CertStatus::Pending => return Err(conflict("this certificate is still being issued")),
        }
        if let Some((successor, _)) = db::renewal::successor(&state.pool, id).await? {
            return Err(conflict(format!("this certificate is already being renewed (certificate {successor})")));
        }
    }
    if state.issuers.get(&record.issuer_id).is_none() {
        return Err(conflict(format!("its issuer `{}` is no longer configured in certdesk", record.issuer_id)));
    }
    super::renew(state, Actor::caller(meta, caller), QuotaUse::ManualRenewal, &record, idempotency_key, now).await
}
