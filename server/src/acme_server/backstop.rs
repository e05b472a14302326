//! The `acme_server` job: what no request is waiting for any more. Orders past their expiry become invalid;
//! validations and finalizations that a dead replica left under a lease that ran out, and finalizations a sealed
//! issuer postponed, are attempted again.

use std::time::Duration;

use app::ssr::RequestMeta;
use time::OffsetDateTime;

use super::finalize::{self, LEASE};
use super::{Directory, challenges};
use crate::db;
use crate::jobs::{Job, JobError, JobReport};
use crate::state::AppState;

/// At most this many orders per run and kind of work; the next run takes the rest.
const BATCH: i64 = 50;

pub struct AcmeServerBackstop;

#[async_trait::async_trait]
impl Job for AcmeServerBackstop {
    fn name(&self) -> &'static str {
        "acme_server"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(5)
    }

    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError> {
        let expired = db::acme_server_orders::expire(&state.pool, now, BATCH).await?;
        let meta = RequestMeta { request_id: format!("job:{}", self.name()), client_addr: String::new(), caller: None };
        let stalled =
            db::acme_server_orders::take_stalled_challenges(&state.pool, now, now + challenges::LEASE, BATCH).await?;
        futures_util::future::join_all(
            stalled.iter().map(|challenge| challenges::validate_and_record(state, &meta, challenge)),
        )
        .await;
        let due = db::acme_server_orders::take_due_finalizations(&state.pool, now, now + LEASE, BATCH).await?;
        let mut finalized = 0;
        for order in &due {
            let Ok(directory) = Directory::of(state, &order.issuer_id) else {
                // The issuer no longer offers ACME: the order waits (and expires) rather than be issued elsewhere.
                continue;
            };
            match finalize::attempt(state, &directory, &meta, order).await {
                Ok(()) => finalized += 1,
                Err(error) => tracing::info!(order = %order.id, error = %error, "ACME order refused at finalization"),
            }
        }
        if expired.is_empty() && stalled.is_empty() && due.is_empty() {
            return Ok(JobReport::idle());
        }
        Ok(JobReport::new(format!(
            "{} ACME orders expired, {} stalled validations retried, {} finalizations attempted ({finalized} without \
             refusal)",
            expired.len(),
            stalled.len(),
            due.len()
        )))
    }
}
