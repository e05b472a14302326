//! `AppState`: what every handler can reach, behind one `Arc`. axum clones the state for every `State`
//! extractor and every `from_fn_with_state` layer, so a clone must cost one reference count, not a copy of the
//! issuers, their policies and the Leptos options.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use crate::audit::{ChainKey, ChainMonitor};
use crate::auth::oidc::OidcClient;
use crate::auth::refusals::RefusalThrottle;
use crate::config::Config;
use crate::crl::ServedCrls;
use crate::crl::refresh_status::CrlRefresher;
use crate::dns_update::DnsServers;
use crate::events::IssuanceListener;
use crate::http::rate_limit::RateLimits;
use crate::http::single_flight::SingleFlight;
use crate::issuers::IssuerRegistry;
use crate::jobs::status::JobStatus;
use crate::notified_cache::NotifiedCache;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    /// A copy of this state with some parts changed (tests give each test its own database, or another clock
    /// for a throttle).
    pub fn with(&self, change: impl FnOnce(&mut Shared)) -> Self {
        let mut shared = Shared::clone(&self.0);
        change(&mut shared);
        Self::new(shared)
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of `AppState`.
#[derive(Clone)]
pub struct Shared {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub issuers: IssuerRegistry,
    pub chain_key: ChainKey,
    /// The audit chain's last verified point, for the viewer's banner.
    pub chain_monitor: ChainMonitor,
    pub leptos_options: LeptosOptions,
    pub migrations: MigrationStatus,
    pub oidc: Arc<OidcClient>,
    /// Wakes the CRL refresh tasks after a revocation; remembers how they fare for `/readyz`.
    pub crls: CrlRefresher,
    /// The CRLs and CA certificates this replica serves, from memory.
    pub served_crls: ServedCrls,
    /// The HTTP-01 answers this replica served, from memory (dropped on every replica when an order finishes).
    pub http01_answers: NotifiedCache<String>,
    /// Where ACME DNS-01 records are published.
    pub dns_servers: DnsServers,
    /// This replica's name and whether it runs the background jobs now.
    pub jobs: JobStatus,
    /// The last readiness probe, shared by the `/readyz` requests of the next few seconds.
    pub readiness: SingleFlight<ReadinessAnswer>,
    /// Request rates per client address and per person (this replica's buckets).
    pub rate_limits: RateLimits,
    /// Which anonymous refusals still get an audit row this minute.
    pub refusals: RefusalThrottle,
    /// Who hears what issuance tells (the `listeners` module).
    pub issuance_listener: Arc<dyn IssuanceListener<AppState>>,
    /// The MAC key of the ACME server's nonces (derived from the audit chain key: the same on every replica).
    pub acme_nonce_key: [u8; 32],
    /// The keys of the ACME accounts this replica has seen (a hint; see `acme_server::known_keys`).
    pub acme_account_keys: Arc<crate::acme_server::known_keys::KnownKeys>,
    /// How certdesk's ACME server validates challenges (`[acme_validation]`).
    pub acme_validator: crate::acme_server::validation::Validator,
    /// Work that neither a cancelled job nor a dropped request may cut short, and that shutdown waits for: a notice
    /// being sent and recorded, a revocation the CA made being recorded.
    pub unfinished: tokio_util::task::TaskTracker,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// A readiness probe's answer as served: status and JSON body.
pub type ReadinessAnswer = (http::StatusCode, bytes::Bytes);

/// Set once the embedded migrations have been applied; until then the server is not ready.
#[derive(Clone, Default)]
pub struct MigrationStatus(Arc<AtomicBool>);

impl MigrationStatus {
    pub fn mark_applied(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn applied(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
