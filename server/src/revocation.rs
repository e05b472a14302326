//! Revoking certificates: an owner their own, an admin anyone's (with a recent second factor). The issuer revokes
//! first; only once it confirmed is the certificate recorded as revoked, with reason, actor and time, in one
//! transaction with its audit row. Revoking twice is harmless. Then the issuer's CRL is rebuilt and republished.

pub mod bulk;
pub mod offboarding;

use app::AppError;
use app::model::{CertStatus, RevocationReason, RevocationResult, Role};
use app::ssr::{Caller, RequestMeta};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::audit::{self, AuditEntry, Outcome};
use crate::auth::roles::owner_scope;
use crate::auth::step_up::require_recent_mfa;
use crate::db;
use crate::db::certificates::CertificateRecord;
use crate::error::ServerError;
use crate::inventory::stored_status;
use crate::issuers::IssuerError;
use crate::state::AppState;

/// On what grounds the caller may revoke a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    Owner,
    /// An admin revoking someone else's certificate: needs step-up.
    Admin,
}

/// Owners revoke their own; admins anyone's; auditors (who see everything) only their own.
pub fn authority_over(caller: &Caller, owner_id: Uuid) -> Option<Authority> {
    if caller.user_id == owner_id {
        Some(Authority::Owner)
    } else if caller.role == Role::Admin {
        Some(Authority::Admin)
    } else {
        None
    }
}

/// Only certificates the issuer issued can be revoked; revoked ones answer as already revoked.
pub fn is_revocable(status: CertStatus) -> bool {
    matches!(status, CertStatus::Issued | CertStatus::Superseded)
}

pub async fn revoke(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    id: Uuid,
    reason: RevocationReason,
) -> Result<RevocationResult, ServerError> {
    let now = OffsetDateTime::now_utc();
    let started = std::time::Instant::now();
    let Some(record) = db::certificates::find_visible(&state.pool, id, owner_scope(caller)).await? else {
        return Err(ServerError::Client(AppError::not_found("certificate")));
    };
    let actor = format!("user:{}", caller.user_id);
    let denied = |why: &str| AuditEntry {
        actor: actor.clone(),
        action: "certificate.revoke_denied".into(),
        object: object(id),
        outcome: Outcome::Denied,
        request_id: meta.request_id.clone(),
        client_addr: meta.client_addr.clone(),
        details: json!({ "reason": why }),
    };
    match authority_over(caller, record.owner_id) {
        // An auditor looking at someone else's certificate.
        None => {
            audit::record(&state.pool, &state.chain_key, &denied("not the owner or an admin"), now).await?;
            crate::metrics::revocation(&record.issuer_id, "denied", started.elapsed());
            return Err(ServerError::Client(AppError::Forbidden));
        }
        Some(Authority::Admin) => {
            if let Err(error) = require_recent_mfa(caller, now, state.config.auth.step_up_max_age) {
                audit::record(&state.pool, &state.chain_key, &denied("step-up required"), now).await?;
                crate::metrics::revocation(&record.issuer_id, "denied", started.elapsed());
                return Err(ServerError::Client(error));
            }
        }
        Some(Authority::Owner) => {}
    }
    revoke_authorized(state, meta, caller, record, reason, now, started).await
}

/// Revokes a certificate the caller was found allowed to revoke (by `revoke`, or by off-boarding, which checks its
/// own authority once for everything a person holds).
pub(crate) async fn revoke_authorized(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    record: CertificateRecord,
    reason: RevocationReason,
    now: OffsetDateTime,
    started: std::time::Instant,
) -> Result<RevocationResult, ServerError> {
    let id = record.id;
    let actor = format!("user:{}", caller.user_id);
    let status = stored_status(&record.status);
    if status == CertStatus::Revoked && record.revoked_by.is_some() {
        crate::metrics::revocation(&record.issuer_id, "already_revoked", started.elapsed());
        return Ok(result_of(&record, true));
    }
    if !is_revocable(status) && status != CertStatus::Revoked {
        return Err(ServerError::Client(AppError::Conflict {
            message: format!(
                "only an issued certificate can be revoked; this one is {}",
                status.label().to_lowercase()
            ),
        }));
    }
    let Some(serial) = record.serial.as_deref() else {
        return Err(ServerError::Internal(format!("issued certificate {id} has no serial")));
    };
    let Some(issuer) = state.issuers.get(&record.issuer_id) else {
        return Err(ServerError::Client(AppError::Conflict {
            message: format!(
                "its issuer `{}` is no longer configured in certdesk; revoke it at that CA directly",
                record.issuer_id
            ),
        }));
    };
    // ACME's revokeCert sends the certificate itself; other issuers only need the serial.
    let leaf_der = record
        .leaf_pem
        .as_deref()
        .and_then(|leaf| pem::parse(leaf).ok())
        .map(pem::Pem::into_contents)
        .unwrap_or_default();
    let answered = match issuer.authority() {
        Ok(authority) => authority.revoke(serial, &leaf_der, reason).await,
        Err(error) => Err(error),
    };
    let issuer_time = match answered {
        Ok(time) => time,
        Err(error) => {
            let entry = AuditEntry {
                actor: actor.clone(),
                action: "certificate.revoke_failed".into(),
                object: object(id),
                outcome: Outcome::Failure,
                request_id: meta.request_id.clone(),
                client_addr: meta.client_addr.clone(),
                details: json!({ "issuer": record.issuer_id, "serial": serial, "reason": reason.as_str(),
                                 "error": error.to_string() }),
            };
            audit::record(&state.pool, &state.chain_key, &entry, now).await?;
            tracing::warn!(request_id = %meta.request_id, certificate = %id, error = %error, "revocation failed at the issuer");
            crate::metrics::issuer_error(&record.issuer_id, &error);
            crate::metrics::revocation(&record.issuer_id, "failed", started.elapsed());
            return Err(ServerError::Client(issuer_refusal(&issuer.config.display_name, error)));
        }
    };
    let revoked_at = issuer_time.unwrap_or(now);
    let mut tx = state.pool.begin().await?;
    let changed = db::revocations::mark_revoked(&mut tx, id, revoked_at, reason.as_str(), caller.user_id).await?;
    if changed {
        let entry = AuditEntry {
            actor,
            action: "certificate.revoked".into(),
            object: object(id),
            outcome: Outcome::Success,
            request_id: meta.request_id.clone(),
            client_addr: meta.client_addr.clone(),
            details: json!({ "issuer": record.issuer_id, "serial": serial, "reason": reason.as_str(),
                             "owner": record.owner_id,
                             "revoked_at": revoked_at.format(&Rfc3339).unwrap_or_default() }),
        };
        audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    }
    tx.commit().await?;
    state.crls.request_rebuild(&record.issuer_id);
    if changed && let Err(error) = crate::notifications::revoked(state, id, now).await {
        // The revocation stands; only its notice is lost (logged for the operator).
        tracing::warn!(certificate = %id, error = %error, "could not record the revocation notice");
    }
    let outcome = if changed { "revoked" } else { "already_revoked" };
    crate::metrics::revocation(&record.issuer_id, outcome, started.elapsed());
    if changed {
        let revoked = CertificateRecord {
            revoked_at: Some(revoked_at),
            revocation_reason: Some(reason.as_str().to_owned()),
            ..record
        };
        return Ok(result_of(&revoked, false));
    }
    // A concurrent request recorded it first: answer with what it stored.
    let stored = db::certificates::find_visible(&state.pool, id, None).await?.unwrap_or(record);
    Ok(result_of(&stored, true))
}

/// What the requester is told when the issuer did not revoke: nothing changed, and whether retrying can help.
fn issuer_refusal(issuer: &str, error: IssuerError) -> AppError {
    match error {
        IssuerError::Sealed { .. } => AppError::Unavailable { service: format!("{issuer} (sealed)") },
        IssuerError::Unavailable { .. } | IssuerError::BadAnswer { .. } => {
            AppError::Unavailable { service: issuer.to_owned() }
        }
        IssuerError::Refused { message, .. } => {
            AppError::Conflict { message: format!("{issuer} refused to revoke it: {message}") }
        }
        IssuerError::NotConfigured { .. } => AppError::Conflict {
            message: format!("certdesk cannot revoke certificates at {issuer}; revoke it at that CA directly"),
        },
    }
}

fn result_of(record: &CertificateRecord, already_revoked: bool) -> RevocationResult {
    RevocationResult {
        id: record.id,
        common_name: record.common_name.clone(),
        serial: record.serial.clone(),
        reason: record.revocation_reason.clone(),
        revoked_at: record.revoked_at.and_then(|time| time.format(&Rfc3339).ok()).unwrap_or_default(),
        already_revoked,
    }
}

fn object(id: Uuid) -> String {
    format!("certificate:{id}")
}
