//! `[jobs]`: background jobs, run by whichever replica holds the leader lock.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

const DEFAULT_RETRY_SECS: u64 = 5;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJobs {
    replica: Option<String>,
    election_retry_secs: Option<u64>,
    #[serde(default)]
    intervals: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// This process in `job_runs` and the logs; unique per replica.
    pub replica: String,
    /// How often a replica that is not the leader tries to become it.
    pub election_retry: Duration,
    /// Per-job interval overrides by job name (checked against the registered jobs when serving).
    pub intervals: BTreeMap<String, Duration>,
}

pub(super) fn validate(raw: Option<RawJobs>) -> Result<JobsConfig, ConfigError> {
    let raw = raw.unwrap_or_default();
    let replica = raw.replica.unwrap_or_else(default_replica);
    if replica.is_empty() || replica.len() > 128 || replica.chars().any(char::is_control) {
        return Err(ConfigError::invalid("jobs.replica", "must be 1 to 128 printable characters"));
    }
    let retry = raw.election_retry_secs.unwrap_or(DEFAULT_RETRY_SECS);
    if !(1..=300).contains(&retry) {
        return Err(ConfigError::invalid("jobs.election_retry_secs", "must be between 1 and 300"));
    }
    let mut intervals = BTreeMap::new();
    for (job, secs) in raw.intervals {
        if !(1..=86_400 * 7).contains(&secs) {
            return Err(ConfigError::invalid(format!("jobs.intervals.{job}"), "must be between 1 and 604800 seconds"));
        }
        intervals.insert(job, Duration::from_secs(secs));
    }
    Ok(JobsConfig { replica, election_retry: Duration::from_secs(retry), intervals })
}

/// `hostname-pid`: unique per process on a host, recognisable in `job_runs`.
fn default_replica() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "certdesk".to_owned());
    format!("{host}-{}", std::process::id())
}
