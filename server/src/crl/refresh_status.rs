//! How the CRL refresh tasks fare and how to wake them: a plain value `AppState` holds (the tasks themselves are in
//! `refresher`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::config::IssuerKindConfig;
use crate::issuers::Issuer;

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

    pub(super) fn record(&self, issuer_id: &str, now: OffsetDateTime, result: Result<(), String>) {
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

    /// The issuers with a refresh channel, sorted, each with its wake-up.
    pub(super) fn channels(&self) -> Vec<(&String, &Arc<Notify>)> {
        let mut channels: Vec<_> = self.inner.wake.iter().collect();
        channels.sort_by(|a, b| a.0.cmp(b.0));
        channels
    }
}
