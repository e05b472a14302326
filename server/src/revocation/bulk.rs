//! Revoking many certificates at once (the admin screen, the API). Each certificate is revoked on its own, so one
//! failure names itself and stops nothing else.

use app::AppError;
use app::model::{RevocationReason, RevocationResult};
use app::ssr::{Caller, RequestMeta};
use serde::Serialize;
use uuid::Uuid;

use crate::error::ServerError;
use crate::state::AppState;

/// A single request may name at most this many certificates.
pub const MAX_BATCH: usize = 500;

/// The outcome for one certificate of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BatchItem {
    Revoked { id: Uuid, revocation: RevocationResult },
    AlreadyRevoked { id: Uuid, revocation: RevocationResult },
    Failed { id: Uuid, error: AppError },
}

/// Revokes each certificate in turn (duplicates once), reporting each outcome. Step-up, the database being down
/// and an empty or oversized batch fail the whole request instead; everything else is per certificate.
pub async fn revoke_many(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    ids: &[Uuid],
    reason: RevocationReason,
) -> Result<Vec<BatchItem>, ServerError> {
    if ids.is_empty() {
        return Err(ServerError::Client(AppError::invalid("ids", "name at least one certificate")));
    }
    if ids.len() > MAX_BATCH {
        return Err(ServerError::Client(AppError::invalid("ids", format!("at most {MAX_BATCH} certificates at once"))));
    }
    let mut seen = std::collections::HashSet::new();
    let mut results = Vec::new();
    for &id in ids.iter().filter(|id| seen.insert(**id)) {
        let item = match super::revoke(state, meta, caller, id, reason).await {
            Ok(revocation) if revocation.already_revoked => BatchItem::AlreadyRevoked { id, revocation },
            Ok(revocation) => BatchItem::Revoked { id, revocation },
            Err(ServerError::Client(AppError::StepUpRequired)) => {
                return Err(ServerError::Client(AppError::StepUpRequired));
            }
            Err(ServerError::Client(error)) => BatchItem::Failed { id, error },
            Err(other) => return Err(other),
        };
        results.push(item);
    }
    Ok(results)
}
