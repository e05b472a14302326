//! The jobs certdesk has always needed: resolving interrupted certificate requests, the scheduled CRL refresh,
//! and housekeeping (expired sessions, old job runs).

use std::time::Duration;

use time::OffsetDateTime;

use crate::db;
use crate::jobs::{Job, JobError, JobReport};
use crate::state::AppState;

/// Requests a crash left `pending` (see `issuance::reconcile`).
pub struct Reconcile;

#[async_trait::async_trait]
impl Job for Reconcile {
    fn name(&self) -> &'static str {
        "reconcile"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(300)
    }

    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError> {
        let done = crate::issuance::reconcile::reconcile_pending(state, now).await?;
        Ok(JobReport::new(format!(
            "completed {}, failed {}, still pending {}",
            done.completed, done.failed, done.still_pending
        )))
    }
}

/// Re-reads and rebuilds the private issuers' CRLs on schedule. A revocation does not wait for it: the revoking
/// replica rebuilds its issuer's CRL at once (see `crl::refresher`).
pub struct CrlRefresh;

/// How often the scheduled pass looks; each CRL is fetched only when due.
pub const CRL_PASS_EVERY: Duration = Duration::from_secs(60);

#[async_trait::async_trait]
impl Job for CrlRefresh {
    fn name(&self) -> &'static str {
        "crl_refresh"
    }

    fn interval(&self) -> Duration {
        CRL_PASS_EVERY
    }

    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError> {
        let (done, failed) = crate::crl::refresher::refresh_due(state, now, CRL_PASS_EVERY).await;
        if failed.is_empty() {
            Ok(JobReport::new(if done.is_empty() { "no CRL to refresh".to_owned() } else { done.join("; ") }))
        } else {
            Err(JobError::Failed(failed.into_iter().chain(done).collect::<Vec<_>>().join("; ")))
        }
    }
}

/// Expired sessions (unusable anyway, their expiry is checked on read) and job runs older than a week.
pub struct Housekeeping;

const KEEP_JOB_RUNS: time::Duration = time::Duration::days(7);

#[async_trait::async_trait]
impl Job for Housekeeping {
    fn name(&self) -> &'static str {
        "housekeeping"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(600)
    }

    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError> {
        let store = tower_sessions_sqlx_store::PostgresStore::new(state.pool.clone());
        tower_sessions::ExpiredDeletion::delete_expired(&store)
            .await
            .map_err(|error| JobError::Failed(format!("deleting expired sessions: {error}")))?;
        let pruned = db::jobs::prune(&state.pool, now - KEEP_JOB_RUNS).await?;
        Ok(JobReport::new(format!("expired sessions deleted; {pruned} old job runs pruned")))
    }
}
