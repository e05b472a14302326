//! Revoking many certificates at once (the admin screen, the API, off-boarding): checked and queued as a batch in
//! one transaction — one intent per certificate, each with its audit event — then carried out one certificate at
//! a time in the background (`worker`), so 500 certificates never wait on one HTTP request. Each certificate's
//! outcome is read back with `progress`; one failure names itself and stops nothing else.

use app::AppError;
use app::model::{BatchItemState, RevocationBatchItem, RevocationBatchView, RevocationReason, Role};
use app::ssr::{Caller, RequestMeta};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::intent::{self, Precheck};
use crate::audit::{self, Action, Actor, Object};
use crate::auth::roles::owner_scope;
use crate::db;
use crate::db::certificates::CertificateRecord;
use crate::db::revocation_intents::NewIntent;
use crate::error::ServerError;
use crate::state::AppState;

/// A single request may name at most this many certificates.
pub const MAX_BATCH: usize = 500;

/// How one certificate enters a batch: queued for the worker, or settled when it was submitted.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Queue,
    AlreadyRevoked,
    Refused(String),
}

impl Entry {
    /// What a certificate that passed the caller's authority check comes to now.
    pub(crate) fn of(state: &AppState, record: &CertificateRecord) -> Result<Self, ServerError> {
        match intent::precheck(state, record) {
            Ok(Precheck::Revocable { .. }) => Ok(Self::Queue),
            Ok(Precheck::AlreadyRevoked) => Ok(Self::AlreadyRevoked),
            Err(ServerError::Client(error)) => Ok(Self::Refused(error.to_string())),
            Err(other) => Err(other),
        }
    }
}

/// A batch about to be queued: who asks, why, and whether it off-boards someone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewBatch {
    pub id: Uuid,
    pub requested_by: Uuid,
    pub reason: RevocationReason,
    pub offboarded: Option<Uuid>,
    pub now: OffsetDateTime,
}

/// Checks each certificate (duplicates once) and queues the revocable ones. Step-up, the database being down and
/// an empty or oversized batch fail the whole request instead; everything else is per certificate.
pub async fn submit(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    ids: &[Uuid],
    reason: RevocationReason,
) -> Result<RevocationBatchView, ServerError> {
    if ids.is_empty() {
        return Err(ServerError::Client(AppError::invalid("ids", "name at least one certificate")));
    }
    if ids.len() > MAX_BATCH {
        return Err(ServerError::Client(AppError::invalid("ids", format!("at most {MAX_BATCH} certificates at once"))));
    }
    let now = OffsetDateTime::now_utc();
    let started = std::time::Instant::now();
    let mut seen = std::collections::HashSet::new();
    let (mut entries, mut unknown) = (Vec::new(), Vec::new());
    for &id in ids.iter().filter(|id| seen.insert(**id)) {
        let Some(record) = db::certificates::find_visible(&state.pool, id, owner_scope(caller)).await? else {
            unknown.push(id);
            continue;
        };
        let entry = match super::authorize(state, meta, caller, &record, now, started).await {
            Ok(()) => Entry::of(state, &record)?,
            Err(ServerError::Client(AppError::StepUpRequired)) => {
                return Err(ServerError::Client(AppError::StepUpRequired));
            }
            Err(ServerError::Client(error)) => Entry::Refused(error.to_string()),
            Err(other) => return Err(other),
        };
        entries.push((record, entry));
    }
    let actor = Actor::caller(meta, caller);
    let batch = NewBatch { id: Uuid::new_v4(), requested_by: caller.user_id, reason, offboarded: None, now };
    let mut tx = state.pool.begin().await?;
    let queued = queue(&mut tx, state, &actor, &batch, &entries).await?;
    tx.commit().await?;
    if queued > 0 {
        super::worker::spawn(state, actor, batch.id);
    }
    let mut view = view_of(state, batch.id, reason.as_str()).await?;
    view.unknown = unknown;
    Ok(view)
}

/// Queues `entries` as one batch: their intents, then their audit events (rows first, the audit chain's head last).
pub(crate) async fn queue(
    tx: &mut PgConnection,
    state: &AppState,
    actor: &Actor,
    new_batch: &NewBatch,
    entries: &[(CertificateRecord, Entry)],
) -> Result<usize, ServerError> {
    let opened = queue_rows(tx, new_batch, entries).await?;
    audit_queued(tx, state, actor, new_batch, entries, &opened).await
}

/// The batch and an intent per entry: open for those to revoke (unless another request is revoking it right now),
/// settled for the others. Whether each entry's intent was opened, in order.
pub(crate) async fn queue_rows(
    tx: &mut PgConnection,
    new_batch: &NewBatch,
    entries: &[(CertificateRecord, Entry)],
) -> Result<Vec<bool>, ServerError> {
    let NewBatch { id: batch, requested_by, reason, offboarded, now } = *new_batch;
    db::revocation_intents::insert_batch(tx, batch, requested_by, reason.as_str(), offboarded, now).await?;
    let mut opened = Vec::with_capacity(entries.len());
    for (record, entry) in entries {
        let new_intent = NewIntent {
            certificate_id: record.id,
            batch_id: Some(batch),
            reason: reason.as_str(),
            requested_by,
            now,
            claimed_until: None,
        };
        let settled = match entry {
            Entry::Queue => match db::revocation_intents::open(tx, &new_intent).await? {
                Some(_) => {
                    opened.push(true);
                    continue;
                }
                None => ("failed", Some("it is being revoked by another request right now".to_owned())),
            },
            Entry::AlreadyRevoked => ("already_revoked", None),
            Entry::Refused(message) => ("failed", Some(message.clone())),
        };
        db::revocation_intents::insert_settled(tx, &new_intent, settled.0, settled.1.as_deref()).await?;
        opened.push(false);
    }
    Ok(opened)
}

/// The audit events of a batch `queue_rows` wrote: one per queued revocation, then the batch's. How many it queued.
pub(crate) async fn audit_queued(
    tx: &mut PgConnection,
    state: &AppState,
    actor: &Actor,
    new_batch: &NewBatch,
    entries: &[(CertificateRecord, Entry)],
    opened: &[bool],
) -> Result<usize, ServerError> {
    let NewBatch { id: batch, reason, offboarded, now, .. } = *new_batch;
    let mut queued = 0;
    for ((record, _), _) in entries.iter().zip(opened).filter(|(_, opened)| **opened) {
        queued += 1;
        let details = json!({ "issuer": record.issuer_id, "serial": record.serial,
                               "reason": reason.as_str(), "owner": record.owner_id, "batch": batch });
        let entry = actor.did(Action::CertificateRevokeRequested).on(Object::Certificate(record.id)).with(details);
        audit::append(tx, &state.chain_key, &entry, now).await?;
    }
    let details = json!({ "reason": reason.as_str(), "certificates": entries.len(), "queued": queued,
                           "offboarded": offboarded });
    let entry = actor.did(Action::RevocationBatchRequested).on(Object::RevocationBatch(batch)).with(details);
    audit::append(tx, &state.chain_key, &entry, now).await?;
    Ok(queued)
}

/// Where a batch stands: for whoever asked for it, and for admins; anyone else is told it does not exist.
pub async fn progress(state: &AppState, caller: &Caller, id: Uuid) -> Result<RevocationBatchView, ServerError> {
    let Some(batch) = db::revocation_intents::batch(&state.pool, id).await? else {
        return Err(ServerError::Client(AppError::not_found("revocation batch")));
    };
    if batch.requested_by != caller.user_id && caller.role != Role::Admin {
        return Err(ServerError::Client(AppError::not_found("revocation batch")));
    }
    view_of(state, batch.id, &batch.reason).await
}

pub(crate) async fn view_of(state: &AppState, batch: Uuid, reason: &str) -> Result<RevocationBatchView, ServerError> {
    let items: Vec<RevocationBatchItem> = db::revocation_intents::batch_items(&state.pool, batch)
        .await?
        .into_iter()
        .map(|item| RevocationBatchItem {
            certificate_id: item.certificate_id,
            common_name: item.common_name,
            state: match item.outcome.as_deref() {
                None => BatchItemState::Queued,
                Some("revoked") => BatchItemState::Revoked,
                Some("already_revoked") => BatchItemState::AlreadyRevoked,
                Some(_) => BatchItemState::Failed,
            },
            message: item.message,
        })
        .collect();
    let done = items.iter().all(|item| item.state != BatchItemState::Queued);
    Ok(RevocationBatchView { id: batch, reason: reason.to_owned(), items, done, unknown: Vec::new() })
}
