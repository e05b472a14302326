//! The background side of revocation: a batch's own worker, started by the replica that queued it, and the
//! `revocations` job on the job leader, which takes over what nobody holds — batches queued by a replica that
//! died, and intents whose claimant crashed between writing the intent and recording the CA's answer (the CA is
//! told again, which is harmless, or the intent is rolled back).

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::intent::{self, CLAIM, Carried};
use crate::audit::Actor;
use crate::db;
use crate::error::ServerError;
use crate::jobs::{Job, JobError, JobReport};
use crate::state::AppState;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Worked {
    pub revoked: usize,
    pub already_revoked: usize,
    pub failed: usize,
}

/// Starts working through `batch` on this replica, at once.
pub(crate) fn spawn(state: &AppState, actor: Actor, batch: Uuid) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(error) = work(&state, &actor, Some(batch), None).await {
            // The job leader's `revocations` job carries on once the claim runs out.
            tracing::warn!(batch = %batch, error = %error, "the revocation batch worker stopped");
        }
    });
}

/// Claims and carries out open intents (of `batch`, or any; requested before `requested_before` if given) until
/// none is left that nobody holds. Each claim reads the clock afresh, so a long batch never takes over a claim
/// that is still held.
pub async fn work(
    state: &AppState,
    actor: &Actor,
    batch: Option<Uuid>,
    requested_before: Option<OffsetDateTime>,
) -> Result<Worked, ServerError> {
    let mut worked = Worked::default();
    loop {
        let now = OffsetDateTime::now_utc();
        let Some(claimed) =
            db::revocation_intents::claim_next(&state.pool, batch, requested_before, now, now + CLAIM).await?
        else {
            return Ok(worked);
        };
        match intent::carry_out(state, actor, &claimed, std::time::Instant::now()).await? {
            Carried::Revoked(_) => worked.revoked += 1,
            Carried::AlreadyRevoked(_) => worked.already_revoked += 1,
            Carried::Failed(_) => worked.failed += 1,
        }
    }
}

/// Gives the replica that queued a batch a head start before the leader joins in.
const HEAD_START: time::Duration = time::Duration::seconds(30);

/// Open intents nobody holds: batches whose worker died, revocations a crash interrupted.
pub struct Revocations;

#[async_trait::async_trait]
impl Job for Revocations {
    fn name(&self) -> &'static str {
        "revocations"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(15)
    }

    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError> {
        let actor = Actor::job("revocations");
        let worked = work(state, &actor, None, Some(now - HEAD_START)).await?;
        if worked == Worked::default() {
            return Ok(JobReport::idle());
        }
        Ok(JobReport::new(format!(
            "revoked {}, already revoked {}, failed {}",
            worked.revoked, worked.already_revoked, worked.failed
        )))
    }
}
