//! The `notifications` job: records the notices that became due (thresholds crossed, today's digests) and sends
//! what the outbox holds. Time is passed in, so tests step a certificate through its thresholds without waiting.

use std::time::Duration;

use time::OffsetDateTime;

use super::deliver::{self, Delivered};
use super::expiry;
use crate::jobs::{Job, JobError, JobReport};
use crate::state::AppState;

pub struct Notifications;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// New notices (one per channel) for certificates that crossed a threshold.
    pub expiry_notices: usize,
    pub digests: usize,
    pub delivered: Delivered,
}

pub async fn run_once(state: &AppState, now: OffsetDateTime) -> Result<RunSummary, sqlx::Error> {
    let expiry_notices = expiry::record_crossed(state, now).await?;
    let digests = expiry::record_digests(state, now).await?;
    let delivered = deliver::send_due(state, now).await?;
    Ok(RunSummary { expiry_notices, digests, delivered })
}

#[async_trait::async_trait]
impl Job for Notifications {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(60)
    }

    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError> {
        let done = run_once(state, now).await?;
        let sent = &done.delivered;
        Ok(JobReport::new(format!(
            "{} expiry notices and {} digests recorded; {} sent, {} to retry, {} given up, {} skipped",
            done.expiry_notices, done.digests, sent.sent, sent.retrying, sent.given_up, sent.skipped
        )))
    }
}
