//! Carrying out one revocation intent: whoever claimed it (the request, the batch worker, the job) tells the CA and
//! records the outcome — revoked with its audit event and the intent closed in one transaction, or the intent
//! closed as failed (nothing changed) with `certificate.revoke_failed`. The same code runs for a request and for
//! the intents a crash left open, so both end the same way.

use app::AppError;
use app::model::{CertStatus, RevocationReason, RevocationResult};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::db::certificates::CertificateRecord;
use crate::db::certificates::stored_status;
use crate::db::revocation_intents::ClaimedIntent;
use crate::error::ServerError;
use crate::issuers::{Issuer, IssuerError};
use crate::state::AppState;

/// How long a claimant holds an intent: longer than an issuer call may take (OpenBao's client times out after 20 s),
/// so in practice only a claimant that died loses it, and short enough that its revocation is recorded, audited and
/// notified within about a minute and a quarter (the `revocations` job runs every 15 s). Were a slow CA to outlast
/// it, the second claimant telling the CA again is harmless, and only one of them records it.
pub const CLAIM: time::Duration = time::Duration::minutes(1);

/// After this many claims an intent is rolled back instead of tried again: something kills whoever works on it.
const MAX_ATTEMPTS: i32 = 5;

/// Whether a certificate can be revoked now.
pub(crate) enum Precheck<'a> {
    /// Revoked with a reason by someone already: nothing to do.
    AlreadyRevoked,
    Revocable {
        serial: &'a str,
        issuer: &'a Issuer,
    },
}

/// Only issued (or superseded) certificates of an issuer certdesk still has can be revoked; one found revoked on
/// the CRL without a reason can be revoked again to record one.
pub(crate) fn precheck<'a>(state: &'a AppState, record: &'a CertificateRecord) -> Result<Precheck<'a>, ServerError> {
    let status = stored_status(&record.status);
    if status == CertStatus::Revoked && record.revoked_by.is_some() {
        return Ok(Precheck::AlreadyRevoked);
    }
    if !super::is_revocable(status) && status != CertStatus::Revoked {
        return Err(ServerError::Client(AppError::Conflict {
            message: format!(
                "only an issued certificate can be revoked; this one is {}",
                status.label().to_lowercase()
            ),
        }));
    }
    let Some(serial) = record.serial.as_deref() else {
        return Err(ServerError::Internal(format!("issued certificate {} has no serial", record.id)));
    };
    let Some(issuer) = state.issuers.get(&record.issuer_id) else {
        return Err(ServerError::Client(AppError::Conflict {
            message: format!(
                "its issuer `{}` is no longer configured in certdesk; revoke it at that CA directly",
                record.issuer_id
            ),
        }));
    };
    Ok(Precheck::Revocable { serial, issuer })
}

/// What carrying out an intent came to.
#[derive(Debug)]
pub(crate) enum Carried {
    Revoked(RevocationResult),
    AlreadyRevoked(RevocationResult),
    /// Nothing changed; the error is what the requester is told.
    Failed(AppError),
}

/// Tells the CA and records the outcome of a claimed intent.
pub(crate) async fn carry_out(
    state: &AppState,
    actor: &Actor,
    intent: &ClaimedIntent,
    started: std::time::Instant,
) -> Result<Carried, ServerError> {
    let id = intent.certificate_id;
    let now = OffsetDateTime::now_utc();
    let Some(record) = db::certificates::find_visible(&state.pool, id, None).await? else {
        return Err(ServerError::Internal(format!("revocation intent {} names no certificate", intent.id)));
    };
    let Some(reason) = RevocationReason::parse(&intent.reason) else {
        let error = AppError::Conflict { message: format!("`{}` is not a revocation reason", intent.reason) };
        return roll_back(state, actor, intent, &record, error, started).await;
    };
    if intent.attempts > MAX_ATTEMPTS {
        let error = AppError::Conflict {
            message: format!("revoking it was interrupted {MAX_ATTEMPTS} times; nothing changed, revoke it again"),
        };
        return roll_back(state, actor, intent, &record, error, started).await;
    }
    let (serial, issuer) = match precheck(state, &record) {
        Ok(Precheck::Revocable { serial, issuer }) => (serial, issuer),
        Ok(Precheck::AlreadyRevoked) => {
            let mut tx = state.pool.begin().await?;
            db::revocation_intents::finish(&mut tx, intent.id, "already_revoked", None, now).await?;
            tx.commit().await?;
            crate::metrics::revocation(&record.issuer_id, "already_revoked", started.elapsed());
            return Ok(Carried::AlreadyRevoked(result_of(&record, true)));
        }
        Err(ServerError::Client(error)) => return roll_back(state, actor, intent, &record, error, started).await,
        Err(other) => return Err(other),
    };
    // ACME's revokeCert sends the certificate itself; other issuers only need the serial.
    let leaf_der = record
        .leaf_pem
        .as_deref()
        .and_then(|leaf| pem::parse(leaf).ok())
        .map(pem::Pem::into_contents)
        .unwrap_or_default();
    let answered = issuer.authority().revoke(serial, &leaf_der, reason).await;
    let issuer_time = match answered {
        Ok(time) => time,
        Err(error) => {
            tracing::warn!(request_id = %actor.request_id(), certificate = %id, error = %error, "revocation failed at the issuer");
            crate::metrics::issuer_error(&record.issuer_id, &error);
            let refusal = issuer_refusal(&issuer.config.display_name, error);
            return roll_back(state, actor, intent, &record, refusal, started).await;
        }
    };
    let revoked_at = issuer_time.unwrap_or(now);
    // The CA has revoked: from here only the record may be repeated. It runs as a task of its own, retried while
    // the database is away, so neither a dropped request, a PostgreSQL restart nor a SIGTERM leaves the intent to
    // wait out its claim (and the revocation's audit event and notice with it).
    let recording = {
        let (task_state, actor, intent, record) = (state.clone(), actor.clone(), intent.clone(), record.clone());
        state.unfinished.spawn(async move {
            let what = format!("revocation of certificate {}", record.id);
            db::patience::until_recorded(&what, || {
                record_revoked(&task_state, &actor, &intent, &record, reason, revoked_at, now)
            })
            .await
        })
    };
    let changed = recording.await.map_err(|_| ServerError::Internal("recording a revocation panicked".into()))??;
    let outcome = if changed { "revoked" } else { "already_revoked" };
    state.crls.request_rebuild(&record.issuer_id);
    crate::metrics::revocation(&record.issuer_id, outcome, started.elapsed());
    if changed {
        let revoked = CertificateRecord {
            revoked_at: Some(revoked_at),
            revocation_reason: Some(reason.as_str().to_owned()),
            ..record
        };
        return Ok(Carried::Revoked(result_of(&revoked, false)));
    }
    // Someone recorded it first: answer with what they stored.
    let stored = db::certificates::find_visible(&state.pool, id, None).await?.unwrap_or(record);
    Ok(Carried::AlreadyRevoked(result_of(&stored, true)))
}

/// The CA's revocation, recorded in one transaction: the certificate marked revoked, the intent closed, and (when
/// this intent is the one that revoked it) its audit event and its owner's notice. Safe to run again after a commit
/// whose answer was lost: the second run finds it recorded and changes nothing. Whether it changed anything.
async fn record_revoked(
    state: &AppState,
    actor: &Actor,
    intent: &ClaimedIntent,
    record: &CertificateRecord,
    reason: RevocationReason,
    revoked_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<bool, ServerError> {
    let id = record.id;
    let mut tx = state.pool.begin().await?;
    let changed = db::revocations::mark_revoked(&mut tx, id, revoked_at, reason.as_str(), intent.requested_by).await?;
    let outcome = if changed { "revoked" } else { "already_revoked" };
    db::revocation_intents::finish(&mut tx, intent.id, outcome, None, now).await?;
    if changed {
        let details = json!({ "issuer": record.issuer_id, "serial": record.serial, "reason": reason.as_str(),
                               "owner": record.owner_id, "requested_by": intent.requested_by,
                               "revoked_at": revoked_at.format(&Rfc3339).unwrap_or_default() });
        let entry = actor.did(Action::CertificateRevoked).on(Object::Certificate(id)).with(details);
        audit::append(&mut tx, &state.chain_key, &entry, now).await?;
        crate::notifications::revoked(&mut tx, state, id, now).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Closes the intent as failed — the certificate stays as it was — with `certificate.revoke_failed`, once.
async fn roll_back(
    state: &AppState,
    actor: &Actor,
    intent: &ClaimedIntent,
    record: &CertificateRecord,
    error: AppError,
    started: std::time::Instant,
) -> Result<Carried, ServerError> {
    let now = OffsetDateTime::now_utc();
    let message = error.to_string();
    let mut tx = state.pool.begin().await?;
    if db::revocation_intents::finish(&mut tx, intent.id, "failed", Some(&message), now).await? {
        let details = json!({ "issuer": record.issuer_id, "serial": record.serial, "reason": intent.reason,
                               "requested_by": intent.requested_by, "error": message });
        let entry = actor.did(Action::CertificateRevokeFailed).on(Object::Certificate(record.id)).with(details);
        audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    }
    tx.commit().await?;
    crate::metrics::revocation(&record.issuer_id, "failed", started.elapsed());
    Ok(Carried::Failed(error))
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

pub(crate) fn result_of(record: &CertificateRecord, already_revoked: bool) -> RevocationResult {
    RevocationResult {
        id: record.id,
        common_name: record.common_name.clone(),
        serial: record.serial.clone(),
        reason: record.revocation_reason.clone(),
        revoked_at: record.revoked_at.and_then(|time| time.format(&Rfc3339).ok()).unwrap_or_default(),
        already_revoked,
    }
}
