//! Revoking certificates: an owner their own, an admin anyone's (with a recent second factor). The intent to revoke
//! is recorded (with its audit event) before the issuer is told; only once the issuer confirmed is the certificate
//! recorded as revoked, with reason, actor and time, in one transaction with its audit row (`intent`). Revoking
//! twice is harmless. Then the issuer's CRL is rebuilt and republished. Many at once run as a batch in the
//! background (`bulk`, `worker`).

pub mod bulk;
pub mod intent;
pub mod offboarding;
pub mod worker;

use app::AppError;
use app::model::{CertStatus, RevocationReason, RevocationResult};
use app::ssr::{Caller, RequestMeta};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Action, Actor, Object};
use crate::auth::roles::owner_scope;
use crate::auth::roles::{Authority, authority_over};
use crate::auth::step_up::require_recent_mfa;
use crate::db;
use crate::db::certificates::CertificateRecord;
use crate::db::certificates::stored_status;
use crate::error::ServerError;
use crate::state::AppState;

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
    authorize(state, meta, caller, &record, now, started).await?;
    revoke_authorized(state, &Actor::caller(meta, caller), caller.user_id, record, reason, now, started).await
}

/// Whether the caller may revoke this certificate they can see: a refusal is audited (`certificate.revoke_denied`)
/// and answered 403 (an auditor, someone else's) or step-up required (an admin without a recent second factor).
pub(crate) async fn authorize(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    record: &CertificateRecord,
    now: OffsetDateTime,
    started: std::time::Instant,
) -> Result<(), ServerError> {
    let actor = Actor::caller(meta, caller);
    let denied = |why: &str| {
        actor.did(Action::CertificateRevokeDenied).on(Object::Certificate(record.id)).with(json!({ "reason": why }))
    };
    let refusal = match authority_over(caller, record.owner_id) {
        Some(Authority::Owner) => return Ok(()),
        Some(Authority::Admin) => match require_recent_mfa(caller, now, state.config.auth.step_up_max_age) {
            Ok(()) => return Ok(()),
            Err(error) => (error, "step-up required"),
        },
        // An auditor looking at someone else's certificate.
        None => (AppError::Forbidden, "not the owner or an admin"),
    };
    audit::record(&state.pool, &state.chain_key, &denied(refusal.1), now).await?;
    crate::metrics::revocation(&record.issuer_id, "denied", started.elapsed());
    Err(ServerError::Client(refusal.0))
}

/// Revokes a certificate `actor` was found allowed to revoke (by `revoke`, or by the ACME server's revokeCert),
/// on behalf of the person `requested_by`: the intent and its `certificate.revoke_requested` event commit first,
/// then the CA is told and the outcome recorded (`intent`). A second request while one is under way waits for it
/// and answers its outcome.
pub(crate) async fn revoke_authorized(
    state: &AppState,
    actor: &Actor,
    requested_by: Uuid,
    record: CertificateRecord,
    reason: RevocationReason,
    now: OffsetDateTime,
    started: std::time::Instant,
) -> Result<RevocationResult, ServerError> {
    let id = record.id;
    let serial = match intent::precheck(state, &record)? {
        intent::Precheck::AlreadyRevoked => {
            crate::metrics::revocation(&record.issuer_id, "already_revoked", started.elapsed());
            return Ok(intent::result_of(&record, true));
        }
        intent::Precheck::Revocable { serial, .. } => serial.to_owned(),
    };
    let new_intent = db::revocation_intents::NewIntent {
        certificate_id: id,
        batch_id: None,
        reason: reason.as_str(),
        requested_by,
        now,
        claimed_until: Some(now + intent::CLAIM),
    };
    let mut tx = state.pool.begin().await?;
    let Some(intent_id) = db::revocation_intents::open(&mut tx, &new_intent).await? else {
        drop(tx);
        return answer_of_the_one_under_way(state, id).await;
    };
    let details = json!({ "issuer": record.issuer_id, "serial": serial, "reason": reason.as_str(),
                           "owner": record.owner_id });
    let entry = actor.did(Action::CertificateRevokeRequested).on(Object::Certificate(id)).with(details);
    audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    tx.commit().await?;
    let claimed = db::revocation_intents::ClaimedIntent {
        id: intent_id,
        certificate_id: id,
        batch_id: None,
        reason: reason.as_str().to_owned(),
        requested_by,
        requested_at: now,
        attempts: 1,
    };
    match intent::carry_out(state, actor, &claimed, started).await? {
        intent::Carried::Revoked(result) | intent::Carried::AlreadyRevoked(result) => Ok(result),
        intent::Carried::Failed(error) => Err(ServerError::Client(error)),
    }
}

/// How long a second request waits for a revocation under way before it says so instead.
const WAIT_FOR_THE_OTHER: std::time::Duration = std::time::Duration::from_secs(10);

/// A double submit (or two admins at once): wait for the revocation in flight and answer what it came to.
async fn answer_of_the_one_under_way(state: &AppState, id: Uuid) -> Result<RevocationResult, ServerError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_THE_OTHER;
    while db::revocation_intents::is_open(&state.pool, id).await? {
        if tokio::time::Instant::now() >= deadline {
            return Err(ServerError::Client(AppError::Conflict {
                message: "this certificate is being revoked right now; its page shows the outcome shortly".into(),
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let Some(record) = db::certificates::find_visible(&state.pool, id, None).await? else {
        return Err(ServerError::Client(AppError::not_found("certificate")));
    };
    if stored_status(&record.status) == CertStatus::Revoked {
        return Ok(intent::result_of(&record, true));
    }
    Err(ServerError::Client(AppError::Conflict {
        message: "a revocation of this certificate was just tried and failed; nothing changed, try again".into(),
    }))
}
