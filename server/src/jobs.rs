//! Background jobs, run on exactly one replica: the holder of a PostgreSQL advisory lock (`leader`) runs every
//! registered `Job` on its interval (`runner`), records each run in `job_runs` and counts it in the metrics.
//! Replicas that are not the leader retry the election every few seconds; a replica that dies releases the lock
//! with its connection, and the next one to take it carries on from the recorded runs.
//!
//! Registering a job is one line in `schedule::registry()`.

pub mod leader;
pub mod overview;
pub mod runner;
pub mod status;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::config::{ConfigError, JobsConfig};
use crate::error::ServerError;
use crate::state::AppState;

pub use runner::spawn;
pub use status::JobStatus;

/// Periodic work that must happen on one replica only.
///
/// A run may be cancelled at any await point (the replica lost the leader lock, or died): it must leave the
/// database consistent, and work that must happen once has to be claimed or recorded in a transaction, so the
/// next leader neither repeats nor loses it.
#[async_trait::async_trait]
pub trait Job: Send + Sync + 'static {
    /// Stable name: `job_runs.job`, the `job` metric label, the key in `[jobs.intervals]`.
    fn name(&self) -> &'static str;
    /// Time between the starts of two runs (unless `[jobs.intervals]` says otherwise).
    fn interval(&self) -> Duration;
    /// One run at `now`. Tests call it directly with the time they choose.
    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError>;
}

/// What a successful run did, in a line an admin can read (no secrets, no personal data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    pub detail: String,
    /// Nothing to do: the run is counted in the metrics but not kept in `job_runs` (a job running every few
    /// seconds would otherwise fill it with empty runs).
    pub idle: bool,
}

impl JobReport {
    pub fn new(detail: impl Into<String>) -> Self {
        Self { detail: detail.into(), idle: false }
    }

    pub fn idle() -> Self {
        Self { detail: "nothing to do".into(), idle: true }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Failed(String),
}

/// The jobs this build runs.
#[derive(Clone, Default)]
pub struct JobRegistry {
    jobs: Vec<Arc<dyn Job>>,
}

impl JobRegistry {
    pub fn register(&mut self, job: impl Job) -> &mut Self {
        self.jobs.push(Arc::new(job));
        self
    }

    pub fn jobs(&self) -> impl Iterator<Item = &Arc<dyn Job>> {
        self.jobs.iter()
    }

    /// Each job's interval, `[jobs.intervals]` applied; an override naming no registered job is a config error.
    pub fn intervals(&self, config: &JobsConfig) -> Result<BTreeMap<&'static str, Duration>, ConfigError> {
        let known: BTreeMap<&'static str, Duration> = self
            .jobs
            .iter()
            .map(|job| (job.name(), config.intervals.get(job.name()).copied().unwrap_or(job.interval())))
            .collect();
        if let Some(unknown) = config.intervals.keys().find(|name| !known.contains_key(name.as_str())) {
            let names: Vec<&str> = known.keys().copied().collect();
            return Err(ConfigError::invalid(
                format!("jobs.intervals.{unknown}"),
                format!("no such job (jobs: {})", names.join(", ")),
            ));
        }
        Ok(known)
    }
}
