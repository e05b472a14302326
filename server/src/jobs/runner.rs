//! The election loop and, while this replica leads, one task per job: each waits for its next start, checks the
//! lock is still held, runs the job with the current time, and records the run. Losing the lock stops them all, and
//! so does shutdown (SIGTERM), which also releases the lock at once instead of when the process exits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::leader::{self, LeaderLock};
use super::{Job, JobError, JobRegistry, JobReport};
use crate::config::ConfigError;
use crate::db;
use crate::state::AppState;

/// How often the leader checks its lock while no job is due, so a lost lock stops everything soon.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// `job_runs.detail` is for people: a line, not a dump.
const MAX_DETAIL: usize = 2000;

/// Starts the election loop (every replica runs it; only the leader runs jobs). Refuses `[jobs.intervals]`
/// entries that name no registered job. The task ends after `JobStatus::stop`, with the lock released.
pub fn spawn(state: AppState, registry: JobRegistry) -> Result<tokio::task::JoinHandle<()>, ConfigError> {
    let intervals = registry.intervals(&state.config.jobs)?;
    Ok(tokio::spawn(elect(state, registry, intervals)))
}

async fn elect(state: AppState, registry: JobRegistry, intervals: BTreeMap<&'static str, Duration>) {
    state.jobs.set_leader(false);
    while !state.jobs.is_stopping() {
        if state.migrations.applied() {
            let attempt = tokio::select! {
                attempt = leader::try_acquire(&state.pool) => attempt,
                () = state.jobs.stopped() => break,
            };
            match attempt {
                Ok(Some(lock)) => lead(&state, &registry, &intervals, lock).await,
                Ok(None) => {}
                Err(error) => tracing::debug!(error = %error, "job leader election: database not reachable"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(state.config.jobs.election_retry) => {}
            () = state.jobs.stopped() => break,
        }
    }
    tracing::info!(replica = %state.jobs.replica, "shutting down: no longer competing for the job leader lock");
}

/// Runs every job until the lock is lost; returns having stopped them all (the lock is released on drop).
async fn lead(
    state: &AppState,
    registry: &JobRegistry,
    intervals: &BTreeMap<&'static str, Duration>,
    lock: LeaderLock,
) {
    let replica = state.jobs.replica.clone();
    tracing::info!(replica = %replica, "this replica is now the job leader");
    state.jobs.set_leader(true);
    // Holding the lock, nobody else runs jobs: an unfinished run is one a previous leader never completed.
    let interrupted = "interrupted: its replica stopped or lost the leader lock";
    match db::jobs::close_interrupted(&state.pool, None, OffsetDateTime::now_utc(), interrupted).await {
        Ok(0) => {}
        Ok(closed) => tracing::info!(closed, "closed job runs a previous leader left unfinished"),
        Err(error) => tracing::warn!(error = %error, "could not close unfinished job runs"),
    }
    let lock = Arc::new(Mutex::new(lock));
    let mut runs = JoinSet::new();
    for job in registry.jobs() {
        let interval = intervals.get(job.name()).copied().unwrap_or_else(|| job.interval());
        runs.spawn(job_loop(state.clone(), job.clone(), interval, lock.clone()));
    }
    let shutting_down = loop {
        tokio::select! {
            () = tokio::time::sleep(HEARTBEAT) => {
                if !lock.lock().await.still_held().await {
                    break false;
                }
            }
            // A job loop only ends when it found the lock lost.
            Some(_) = runs.join_next() => break false,
            () = state.jobs.stopped() => break true,
        }
    };
    // Stop at once rather than finish: another replica may already hold the lock (see `Job` on cancellation).
    runs.shutdown().await;
    state.jobs.set_leader(false);
    let stopped = if shutting_down {
        // Every job loop has ended, so nothing else holds the mutex; closing the session frees the lock now rather
        // than when the process exits after draining its requests.
        if let Ok(lock) = Arc::try_unwrap(lock) {
            lock.into_inner().release().await;
        }
        tracing::info!(replica = %replica, "shutting down: stopped running jobs and released the job leader lock");
        "interrupted: this replica shut down"
    } else {
        tracing::warn!(replica = %replica, "lost the job leader lock; stopped running jobs");
        "interrupted: this replica lost the leader lock"
    };
    if let Err(error) =
        db::jobs::close_interrupted(&state.pool, Some(&replica), OffsetDateTime::now_utc(), stopped).await
    {
        tracing::debug!(error = %error, "could not close this replica's unfinished job runs");
    }
}

async fn job_loop(state: AppState, job: Arc<dyn Job>, interval: Duration, lock: Arc<Mutex<LeaderLock>>) {
    // Carry on from the last recorded start, whichever replica made it: a takeover does not repeat a fresh run.
    let mut next = match db::jobs::last_started(&state.pool, job.name()).await {
        Ok(Some(last)) => last + interval,
        _ => OffsetDateTime::now_utc(),
    };
    loop {
        let now = OffsetDateTime::now_utc();
        if next > now {
            tokio::time::sleep(Duration::try_from(next - now).unwrap_or(interval)).await;
        }
        if !lock.lock().await.still_held().await {
            return;
        }
        let started = OffsetDateTime::now_utc();
        let _ = run_recorded(&state, job.as_ref(), started).await;
        next = started + interval;
    }
}

/// Runs `job` once at `now`, recorded in `job_runs` (as this replica) and in the metrics.
pub async fn run_recorded(state: &AppState, job: &dyn Job, now: OffsetDateTime) -> Result<JobReport, JobError> {
    let name = job.name();
    let id = db::jobs::start(&state.pool, name, &state.jobs.replica, now).await?;
    let clock = Instant::now();
    let result = job.run(state, now).await;
    let elapsed = clock.elapsed();
    let (success, detail) = match &result {
        Ok(report) => {
            tracing::debug!(job = name, detail = %report.detail, "job run finished");
            (true, report.detail.clone())
        }
        Err(error) => {
            tracing::warn!(job = name, error = %error, "job run failed");
            (false, error.to_string())
        }
    };
    crate::metrics::job_run(name, success, elapsed);
    let detail: String = detail.chars().take(MAX_DETAIL).collect();
    let finished = now + elapsed;
    if matches!(&result, Ok(report) if report.idle) {
        if let Err(error) = db::jobs::discard(&state.pool, id).await {
            tracing::warn!(job = name, error = %error, "could not drop an idle job run");
        }
        return result;
    }
    if let Err(error) = db::jobs::finish(&state.pool, id, finished, success, &detail).await {
        tracing::warn!(job = name, error = %error, "could not record the end of a job run");
    }
    result
}
