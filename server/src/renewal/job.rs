//! The `renewal` job: `run_once` on the job leader, so two replicas never race to renew (the database would
//! refuse the second anyway, see `issuance::renewal_settings::refusal_of_insert`).

use std::time::Duration;

use time::OffsetDateTime;

use crate::jobs::{Job, JobError, JobReport};
use crate::state::AppState;

pub struct Renewal;

#[async_trait::async_trait]
impl Job for Renewal {
    fn name(&self) -> &'static str {
        "renewal"
    }

    /// Renewal points are hours to days ahead of expiry: a minute late is nothing, a pass is one indexed query.
    fn interval(&self) -> Duration {
        Duration::from_secs(60)
    }

    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError> {
        let report = super::run_once(state, now).await?;
        let nothing = report.renewed.is_empty() && report.failed.is_empty() && report.skipped == 0;
        Ok(if nothing {
            JobReport::new("nothing due")
        } else {
            JobReport::new(format!(
                "{} renewed or ordered, {} failed (retried after backoff), {} already being renewed",
                report.renewed.len(),
                report.failed.len(),
                report.skipped
            ))
        })
    }
}
