//! What `/readyz` says about the background jobs: which replica this is, whether it leads, and the last run of
//! each job (on whichever replica ran it).

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::db;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct JobsOverview {
    pub replica: String,
    pub leader: bool,
    pub last_runs: BTreeMap<String, LastRun>,
}

#[derive(Debug, Serialize)]
pub struct LastRun {
    pub replica: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// `success`, `failure`, or `running`.
    pub outcome: String,
    pub detail: String,
}

pub async fn overview(state: &AppState) -> JobsOverview {
    let runs = db::jobs::latest_runs(&state.pool).await.unwrap_or_default();
    JobsOverview {
        replica: state.jobs.replica.to_string(),
        leader: state.jobs.is_leader(),
        last_runs: runs
            .into_iter()
            .map(|run| {
                let last = LastRun {
                    replica: run.replica,
                    started_at: run.started_at,
                    finished_at: run.finished_at,
                    outcome: run.outcome.unwrap_or_else(|| "running".to_owned()),
                    detail: run.detail,
                };
                (run.job, last)
            })
            .collect(),
    }
}
