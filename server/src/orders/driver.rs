//! Who drives which order when: a new order at once (its request answered right away with `pending`), and every
//! few seconds the orders that are due and that nobody holds — those a restart, a crash or a retry left behind.
//! A lease in the order row keeps two replicas (or two tasks) from driving the same order.

use std::sync::LazyLock;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::challenges;
use super::order::{self, LEASE};
use crate::db;
use crate::error::ServerError;
use crate::state::AppState;

const RESUME_EVERY: Duration = Duration::from_secs(2);
const RESUME_BATCH: i64 = 20;

/// This process, as named (with the drive) in the leases it takes.
pub static REPLICA: LazyLock<String> = LazyLock::new(|| {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "certdesk".into());
    format!("{host}-{}-{}", std::process::id(), &Uuid::new_v4().simple().to_string()[..6])
});

/// Drives a freshly requested order in the background.
pub fn start(state: &AppState, certificate_id: Uuid) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(error) = drive(&state, certificate_id, OffsetDateTime::now_utc()).await {
            tracing::warn!(certificate = %certificate_id, error = %error, "ACME order driver stopped");
        }
    });
}

/// Takes the order's lease (as of `now`) and drives it as far as it goes; nothing when someone else holds it.
pub async fn drive(state: &AppState, certificate_id: Uuid, now: OffsetDateTime) -> Result<(), ServerError> {
    // Each drive holds the lease as itself, not as the replica: the request's driver and the job's run in the same
    // process, and with one name the second would take the first's lease and both would answer the CA's challenge.
    let holder = format!("{}/{}", *REPLICA, &Uuid::new_v4().simple().to_string()[..8]);
    let Some(row) = db::acme::lease(&state.pool, certificate_id, &holder, now, now + LEASE).await? else {
        return Ok(());
    };
    let issuer = state.issuers.get(&row.issuer_id);
    let Some((issuer, acme)) = issuer.and_then(|issuer| issuer.acme().map(|acme| (issuer, acme))) else {
        let reason = format!("its ACME issuer `{}` is no longer configured", row.issuer_id);
        crate::issuance::record::fail(state, &crate::audit::Actor::job("acme"), certificate_id, &reason).await?;
        let progress = db::acme::Progress {
            order_url: row.order_url.as_deref(),
            state: "failed",
            authorizations: &row.authorizations,
            problem: Some(&serde_json::json!({ "detail": reason })),
            attempts: row.attempts,
            next_attempt_at: now,
            leased_until: None,
        };
        db::acme::save_progress(&state.pool, certificate_id, &holder, &progress, now).await?;
        return Ok(());
    };
    order::advance(state, issuer, acme, &holder, row).await
}

/// Drives every due order nobody holds (as of `now`: tests pass a later time to stand for a lease running out)
/// and retries DNS records left behind; answers how many orders it looked at.
pub async fn resume_due(state: &AppState, now: OffsetDateTime) -> Result<usize, ServerError> {
    let due = db::acme::due(&state.pool, now, RESUME_BATCH).await?;
    for certificate_id in &due {
        if let Err(error) = drive(state, *certificate_id, now).await {
            tracing::warn!(certificate = %certificate_id, error = %error, "resuming an ACME order failed");
        }
    }
    challenges::retry_take_downs(state).await?;
    Ok(due.len())
}

/// The `acme_orders` job: resumes due orders on the job leader. A fresh order is driven at once by the replica
/// that took the request (`start`); this job picks up retries after their backoff and orders whose driver died.
pub struct ResumeOrders;

#[async_trait::async_trait]
impl crate::jobs::Job for ResumeOrders {
    fn name(&self) -> &'static str {
        "acme_orders"
    }

    fn interval(&self) -> Duration {
        RESUME_EVERY
    }

    async fn run(
        &self,
        state: &AppState,
        now: OffsetDateTime,
    ) -> Result<crate::jobs::JobReport, crate::jobs::JobError> {
        Ok(match resume_due(state, now).await? {
            // Every few seconds: a run that found nothing is not worth a row in `job_runs`.
            0 => crate::jobs::JobReport::idle(),
            resumed => crate::jobs::JobReport::new(format!("{resumed} ACME orders driven")),
        })
    }
}
