//! Keeping each private issuer's CRL fresh: a task per issuer fetches, checks and stores it at start-up, right
//! after every revocation (rebuilt first, so the revocation is on it), and on a schedule that rebuilds it well
//! before its nextUpdate. Failures are retried with backoff while the last good CRL keeps being served; the
//! outcome of each attempt is kept for `/readyz`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::Notify;

use super::CrlError;
use super::checked;
use super::store::{self, Stored};
use crate::config::IssuerKindConfig;
use crate::issuers::Issuer;
use crate::state::AppState;

/// Even an unchanged CRL is re-fetched this often, so a revocation made outside certdesk shows up.
const REFRESH_EVERY: Duration = Duration::from_secs(300);
const SHORTEST_WAIT: Duration = Duration::from_secs(5);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// The outcome of the latest refreshes of one CRL.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RefreshStatus {
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success: Option<OffsetDateTime>,
    /// Why the latest attempt failed; `None` once one succeeds again.
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
}

/// Wakes the refresh tasks and remembers how they fare. Cheap to clone.
#[derive(Clone, Default)]
pub struct CrlRefresher {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    wake: HashMap<String, Arc<Notify>>,
    status: RwLock<BTreeMap<String, RefreshStatus>>,
}

impl CrlRefresher {
    /// One refresh channel per issuer that certdesk publishes a CRL for (the private PKI ones).
    pub fn for_issuers<'a>(issuers: impl Iterator<Item = &'a Issuer>) -> Self {
        let wake = issuers
            .filter(|issuer| matches!(issuer.config.kind, IssuerKindConfig::Vault { .. }))
            .map(|issuer| (issuer.config.id.clone(), Arc::new(Notify::new())))
            .collect();
        Self { inner: Arc::new(Inner { wake, status: RwLock::default() }) }
    }

    /// Asks for a rebuilt CRL soon. Requests made while one runs are coalesced into one more run.
    pub fn request_rebuild(&self, issuer_id: &str) {
        if let Some(wake) = self.inner.wake.get(issuer_id) {
            wake.notify_one();
        }
    }

    pub fn status(&self) -> BTreeMap<String, RefreshStatus> {
        self.inner.status.read().map(|status| status.clone()).unwrap_or_default()
    }

    fn record(&self, issuer_id: &str, now: OffsetDateTime, result: Result<(), String>) {
        let Ok(mut status) = self.inner.status.write() else { return };
        let entry = status.entry(issuer_id.to_owned()).or_default();
        entry.last_attempt = Some(now);
        match result {
            Ok(()) => {
                entry.last_success = Some(now);
                entry.last_error = None;
                entry.consecutive_failures = 0;
            }
            Err(error) => {
                entry.last_error = Some(error);
                entry.consecutive_failures += 1;
            }
        }
    }

    /// Starts one refresh task per issuer; they run until the process ends.
    pub fn spawn_all(&self, state: &AppState) {
        for (issuer_id, wake) in &self.inner.wake {
            tokio::spawn(run(state.clone(), self.clone(), issuer_id.clone(), wake.clone()));
        }
    }
}

/// When the next scheduled refresh is due, and whether it must rebuild the CRL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub wait: Duration,
    pub rebuild: bool,
}

/// After a good refresh: come back within `REFRESH_EVERY`, and rebuild once half of the CRL's validity is gone, so
/// the served CRL never reaches its nextUpdate even if a few refreshes fail.
pub fn schedule(this_update: OffsetDateTime, next_update: Option<OffsetDateTime>, now: OffsetDateTime) -> Schedule {
    let Some(next_update) = next_update else { return Schedule { wait: REFRESH_EVERY, rebuild: false } };
    let halfway = this_update + (next_update - this_update) / 2;
    if now >= halfway {
        return Schedule { wait: SHORTEST_WAIT, rebuild: true };
    }
    let until_halfway = Duration::try_from(halfway - now).unwrap_or(SHORTEST_WAIT);
    if until_halfway <= REFRESH_EVERY {
        Schedule { wait: until_halfway.max(SHORTEST_WAIT), rebuild: true }
    } else {
        Schedule { wait: REFRESH_EVERY, rebuild: false }
    }
}

/// Fetches (after a rebuild, if asked), checks and stores one issuer's CRL.
pub async fn refresh_once(state: &AppState, issuer: &Issuer, rebuild: bool) -> Result<Option<Schedule>, CrlError> {
    let Some(published) = issuer.authority()?.crl(rebuild).await? else { return Ok(None) };
    let root = match &issuer.config.kind {
        IssuerKindConfig::Vault { root_ca_der, .. } => root_ca_der.as_deref(),
        IssuerKindConfig::Acme(_) => None,
    };
    let checked = checked::check(&published.crl_der, &published.signer_der, root)?;
    let now = OffsetDateTime::now_utc();
    let id = issuer.config.id.as_str();
    let stored = store::store(&state.pool, &state.chain_key, id, Some(id), &checked, now).await?;
    if let Stored::Replaced { adopted } = stored {
        tracing::info!(issuer = id, crl_number = %checked.number, entries = checked.entries.len(), adopted, "CRL updated");
    }
    Ok(Some(schedule(checked.this_update, checked.next_update, now)))
}

async fn run(state: AppState, refresher: CrlRefresher, issuer_id: String, wake: Arc<Notify>) {
    let mut rebuild = false;
    let mut retry = FIRST_RETRY;
    loop {
        let wait = if !state.migrations.applied() {
            Duration::from_secs(1)
        } else if let Some(issuer) = state.issuers.get(&issuer_id) {
            let now = OffsetDateTime::now_utc();
            match refresh_once(&state, issuer, rebuild).await {
                Ok(schedule) => {
                    refresher.record(&issuer_id, now, Ok(()));
                    crate::metrics::crl_refresh(&issuer_id, true);
                    retry = FIRST_RETRY;
                    let schedule = schedule.unwrap_or(Schedule { wait: REFRESH_EVERY, rebuild: false });
                    rebuild = schedule.rebuild;
                    schedule.wait
                }
                Err(error) => {
                    // `rebuild` stays as it was: a revocation waiting for the CRL still needs its rebuild.
                    tracing::warn!(issuer = %issuer_id, error = %error, retry_in_s = retry.as_secs(), "CRL refresh failed; serving the last good CRL");
                    refresher.record(&issuer_id, now, Err(error.to_string()));
                    crate::metrics::crl_refresh(&issuer_id, false);
                    let wait = retry;
                    retry = (retry * 2).min(LONGEST_RETRY);
                    wait
                }
            }
        } else {
            return;
        };
        tokio::select! {
            () = wake.notified() => rebuild = true,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() + time::Duration::hours(hours)
    }

    #[test]
    fn a_young_crl_is_only_re_read() {
        assert_eq!(schedule(at(0), Some(at(72)), at(1)), Schedule { wait: REFRESH_EVERY, rebuild: false });
    }

    #[test]
    fn past_half_its_validity_the_crl_is_rebuilt() {
        assert_eq!(schedule(at(0), Some(at(72)), at(40)), Schedule { wait: SHORTEST_WAIT, rebuild: true });
        let near = at(36) - time::Duration::minutes(2);
        assert_eq!(schedule(at(0), Some(at(72)), near), Schedule { wait: Duration::from_secs(120), rebuild: true });
    }

    #[test]
    fn a_crl_without_next_update_is_re_read_regularly() {
        assert_eq!(schedule(at(0), None, at(1000)), Schedule { wait: REFRESH_EVERY, rebuild: false });
    }
}
