//! Keeping each private issuer's CRL fresh. Two paths feed the same fetch-check-store step:
//!
//! - **Right after a revocation**, on the replica that recorded it: a task per issuer (`spawn_all`, on every
//!   replica) is woken, rebuilds the CRL (so the revocation is on it) and retries with backoff until that works.
//!   This stays local rather than going through the job leader on purpose: storing is idempotent (the same bytes
//!   are only confirmed, an older CRL number is refused under the row lock), so a second replica refreshing is
//!   harmless, while waiting for the leader (or for a new one after it died) would delay a revocation reaching the
//!   CRL by up to an election. The task also refreshes once at start, so each replica's `/readyz` shows whether
//!   it can reach its issuers' CRLs.
//! - **On schedule**, by the job leader only (the `crl_refresh` job calls `refresh_due`): a CRL not confirmed for
//!   `REFRESH_EVERY` is re-read (a revocation made outside certdesk shows up), and one nearing half its validity
//!   is rebuilt, so the served CRL never reaches its nextUpdate.
//!
//! The outcome of each attempt on this replica is kept for `/readyz`.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;

use super::CrlError;
use super::checked;
use super::store::{self, Stored};
use crate::config::IssuerKindConfig;
use crate::db;
use crate::db::crls::CrlSummary;
use crate::issuers::Issuer;
use crate::state::AppState;

/// Even an unchanged CRL is re-fetched this often, so a revocation made outside certdesk shows up.
pub const REFRESH_EVERY: Duration = Duration::from_secs(300);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// Starts one task per issuer that refreshes once now and then whenever `request_rebuild` wakes it; they run
/// until the process ends. Scheduled refreshes are the job leader's (`refresh_due`).
pub fn spawn_all(state: &AppState) {
    for (issuer_id, wake) in state.crls.channels() {
        tokio::spawn(run(state.clone(), issuer_id.clone(), wake.clone()));
    }
}

/// The scheduled pass: refreshes every CRL that is `due`; returns a line per CRL refreshed and per failure.
pub async fn refresh_due(state: &AppState, now: OffsetDateTime, pass_every: Duration) -> (Vec<String>, Vec<String>) {
    let stored = match db::crls::list(&state.pool).await {
        Ok(stored) => stored,
        Err(error) => return (Vec::new(), vec![format!("reading the stored CRLs: {error}")]),
    };
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for (id, _) in state.crls.channels() {
        let Some(issuer) = state.issuers.get(id) else { continue };
        let Some(rebuild) = due(stored.iter().find(|crl| crl.name == *id), now, pass_every) else { continue };
        match attempt(state, issuer, rebuild, now).await {
            Ok(refreshed) => done.push(format!("{id}: {refreshed}")),
            Err(error) => failed.push(format!("{id}: {error}")),
        }
    }
    (done, failed)
}

/// One refresh, its outcome recorded for `/readyz` and the metrics.
async fn attempt(state: &AppState, issuer: &Issuer, rebuild: bool, now: OffsetDateTime) -> Result<Refreshed, CrlError> {
    let id = issuer.config.id.as_str();
    let result = refresh_once(state, issuer, rebuild).await;
    match &result {
        Ok(_) => state.crls.record(id, now, Ok(())),
        Err(error) => {
            tracing::warn!(issuer = id, error = %error, "CRL refresh failed; serving the last good CRL");
            state.crls.record(id, now, Err(error.to_string()));
        }
    }
    crate::metrics::crl_refresh(id, result.is_ok());
    result
}

/// Whether the scheduled pass should fetch a CRL now (`Some`), and rebuild it first (`Some(true)`): one never
/// stored, one not confirmed for `REFRESH_EVERY` (counting until the next pass), and a rebuild for one that will be
/// past half its validity by the next pass, so it never reaches its nextUpdate even if a few refreshes fail.
pub fn due(stored: Option<&CrlSummary>, now: OffsetDateTime, pass_every: Duration) -> Option<bool> {
    let Some(stored) = stored else { return Some(false) };
    if let Some(next_update) = stored.next_update {
        let halfway = stored.this_update + (next_update - stored.this_update) / 2;
        if now + pass_every >= halfway {
            return Some(true);
        }
    }
    (now + pass_every - stored.confirmed_at > REFRESH_EVERY).then_some(false)
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The issuer publishes no CRL.
    NotPublished,
    Unchanged,
    Replaced {
        crl_number: String,
        adopted: usize,
    },
}

impl std::fmt::Display for Refreshed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotPublished => f.write_str("no CRL published"),
            Self::Unchanged => f.write_str("unchanged"),
            Self::Replaced { crl_number, adopted } => {
                write!(f, "CRL {crl_number} stored ({adopted} revocations adopted)")
            }
        }
    }
}

/// Fetches (after a rebuild, if asked), checks and stores one issuer's CRL.
pub async fn refresh_once(state: &AppState, issuer: &Issuer, rebuild: bool) -> Result<Refreshed, CrlError> {
    let Some(published) = issuer.authority().crl(rebuild).await? else { return Ok(Refreshed::NotPublished) };
    let root = match &issuer.config.kind {
        IssuerKindConfig::Vault { root_ca_der, .. } => root_ca_der.as_deref(),
        IssuerKindConfig::Acme(_) => None,
    };
    let checked = checked::check(&published.crl_der, &published.signer_der, root)?;
    let now = OffsetDateTime::now_utc();
    let id = issuer.config.id.as_str();
    match store::store(&state.pool, &state.chain_key, id, Some(id), &checked, now).await? {
        Stored::Unchanged => Ok(Refreshed::Unchanged),
        Stored::Replaced { adopted } => {
            // This replica serves the new CRL from its next request on; the others hear of it through NOTIFY.
            state.served_crls.forget(id);
            tracing::info!(issuer = id, crl_number = %checked.number, entries = checked.entries.len(), adopted, "CRL updated");
            Ok(Refreshed::Replaced { crl_number: checked.number.to_string(), adopted })
        }
    }
}

/// One issuer's wake-up task: a refresh owed (`Some(rebuild)`) is retried with backoff until it works; a wake-up
/// while one is owed or running turns into (at most) one more run with a rebuild.
async fn run(state: AppState, issuer_id: String, wake: Arc<Notify>) {
    let mut owed = Some(false);
    let mut retry = FIRST_RETRY;
    loop {
        let Some(rebuild) = owed else {
            wake.notified().await;
            owed = Some(true);
            continue;
        };
        let wait = if !state.migrations.applied() {
            Duration::from_secs(1)
        } else {
            let Some(issuer) = state.issuers.get(&issuer_id) else { return };
            match attempt(&state, issuer, rebuild, OffsetDateTime::now_utc()).await {
                Ok(_) => {
                    owed = None;
                    retry = FIRST_RETRY;
                    continue;
                }
                Err(_) => {
                    let wait = retry;
                    retry = (retry * 2).min(LONGEST_RETRY);
                    wait
                }
            }
        };
        tokio::select! {
            () = wake.notified() => owed = Some(true),
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

    fn stored(
        this_update: OffsetDateTime,
        next_update: Option<OffsetDateTime>,
        confirmed_at: OffsetDateTime,
    ) -> CrlSummary {
        CrlSummary {
            name: "private".into(),
            crl_number: "1".into(),
            this_update,
            next_update,
            entry_count: 0,
            confirmed_at,
        }
    }

    const PASS: Duration = Duration::from_secs(60);

    #[test]
    fn a_crl_never_stored_is_fetched() {
        assert_eq!(due(None, at(0), PASS), Some(false));
    }

    #[test]
    fn a_young_recently_confirmed_crl_is_left_alone_then_re_read() {
        let crl = stored(at(0), Some(at(72)), at(1));
        assert_eq!(due(Some(&crl), at(1) + time::Duration::minutes(2), PASS), None);
        assert_eq!(due(Some(&crl), at(1) + time::Duration::minutes(5), PASS), Some(false));
    }

    #[test]
    fn near_half_its_validity_the_crl_is_rebuilt() {
        let crl = stored(at(0), Some(at(72)), at(35));
        assert_eq!(due(Some(&crl), at(36) - time::Duration::seconds(30), PASS), Some(true));
        assert_eq!(due(Some(&crl), at(40), PASS), Some(true));
        assert_eq!(due(Some(&crl), at(35) + time::Duration::minutes(1), PASS), None);
    }

    #[test]
    fn a_crl_without_next_update_is_re_read_regularly() {
        let crl = stored(at(0), None, at(1000));
        assert_eq!(due(Some(&crl), at(1000) + time::Duration::minutes(1), PASS), None);
        assert_eq!(due(Some(&crl), at(1000) + time::Duration::minutes(10), PASS), Some(false));
    }
}
