//! Revoking many certificates at once (the admin screen, the API) and off-boarding: everything one person owns
//! that can still be revoked. Each certificate is revoked on its own, so one failure names itself and stops
//! nothing else.

use app::AppError;
use app::model::{OwnerRevocationPlan, RevocableCertificate, RevocationReason, RevocationResult, Role};
use app::ssr::{Caller, RequestMeta};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db;
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

/// Admins only: the person named by `who` (e-mail address or display name) and their revocable certificates.
pub async fn owner_plan(state: &AppState, caller: &Caller, who: &str) -> Result<OwnerRevocationPlan, ServerError> {
    if caller.role != Role::Admin {
        return Err(ServerError::Client(AppError::Forbidden));
    }
    let who = who.trim();
    if who.is_empty() || who.len() > 200 {
        return Err(ServerError::Client(AppError::invalid("owner", "enter the person's e-mail address or name")));
    }
    let mut people = db::users::find_people(&state.pool, who).await?;
    let person = match people.len() {
        0 => {
            return Err(ServerError::Client(AppError::invalid(
                "owner",
                format!("nobody is called or reachable at `{who}`"),
            )));
        }
        1 => people.remove(0),
        many => {
            return Err(ServerError::Client(AppError::invalid(
                "owner",
                format!("{many} people match `{who}`; use their e-mail address"),
            )));
        }
    };
    let certificates = db::revocations::revocable_of_owner(&state.pool, person.id, OffsetDateTime::now_utc())
        .await?
        .into_iter()
        .map(|row| RevocableCertificate {
            id: row.id,
            common_name: row.common_name,
            serial: row.serial,
            issuer_id: row.issuer_id,
        })
        .collect();
    Ok(OwnerRevocationPlan {
        owner_id: person.id,
        owner_name: person.display_name,
        owner_email: person.email,
        certificates,
    })
}
