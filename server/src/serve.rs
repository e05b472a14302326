//! `certdesk serve`: builds the state, binds the listener, brings the schema to this release in the background
//! (retrying while PostgreSQL is down) and serves until SIGTERM or Ctrl-C. Then, at once, it stops accepting and
//! gives up the job leader lock (another replica takes the jobs over), and drains in-flight requests for at most
//! `server.request_timeout_secs` plus a margin before it exits anyway (with 0: stopping was asked for).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::LeptosOptions;
use leptos_config::Env;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::audit::{ChainKey, ChainMonitor};
use crate::auth::OidcClient;
use crate::config::{Config, ConfigError};
use crate::crl::CrlRefresher;
use crate::db;
use crate::issuers::IssuerRegistry;
use crate::state::{AppState, MigrationStatus, Shared};

const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// Beyond the request timeout (every handler has answered by then): time for the answers to be written out.
const DRAIN_MARGIN: Duration = Duration::from_secs(5);
/// How long the exit waits for the election loop to confirm the lock is released (it closes one connection).
const RELEASE_WAIT: Duration = Duration::from_secs(6);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "cannot listen on {addr}: the address is already in use; stop whatever runs there or change `server.listen`"
    )]
    PortInUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// Everything the router needs, derived from configuration. Touches no network: the pool connects lazily.
pub fn build_state(config: Config) -> Result<AppState, ConfigError> {
    let pool = db::lazy_pool(&config.database)?;
    let issuers = IssuerRegistry::from_config(&config.issuers, &pool, config.encryption.as_ref())?;
    let crls = CrlRefresher::for_issuers(issuers.iter());
    let dns_servers = crate::dns_update::DnsServers::from_config(&config.dns_servers)?;
    let oidc = Arc::new(OidcClient::new(&config.auth, &config.server.public_url)?);
    let jobs = crate::jobs::JobStatus::new(&config.jobs.replica);
    let leptos_options = LeptosOptions::builder()
        .output_name("certdesk")
        .site_root(config.server.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .env(Env::PROD)
        .site_addr(config.server.listen)
        .build();
    let rate_limits = crate::http::RateLimits::new(config.limits.anonymous, config.limits.caller);
    let acme_validator = crate::acme_server::validation::Validator::new(&config.acme_validation)?;
    let chain_key = ChainKey::new(config.audit.chain_key.clone());
    Ok(AppState::new(Shared {
        acme_nonce_key: chain_key.derive(crate::acme_server::nonces::KEY_PURPOSE),
        acme_account_keys: Arc::default(),
        chain_key,
        chain_monitor: ChainMonitor::new(),
        config: Arc::new(config),
        pool,
        issuers,
        leptos_options,
        migrations: MigrationStatus::default(),
        oidc,
        crls,
        served_crls: crate::crl::ServedCrls::default(),
        // Orders in flight at once: far fewer than this, so in practice every answer is kept.
        http01_answers: crate::notified_cache::NotifiedCache::new(crate::db::acme::HTTP01_REMOVED_CHANNEL, 10_000),
        dns_servers,
        jobs,
        readiness: crate::http::SingleFlight::new(crate::http::READINESS_FRESH_FOR),
        rate_limits,
        refusals: crate::auth::refusals::RefusalThrottle::new(crate::auth::refusals::WINDOW),
        issuance_listener: Arc::new(crate::listeners::Listeners),
        acme_validator,
        unfinished: tokio_util::task::TaskTracker::new(),
    }))
}

pub async fn serve(config: Config) -> Result<(), ServeError> {
    let state = build_state(config)?;
    let addr = state.config.server.listen;
    let listener = TcpListener::bind(addr).await.map_err(|source| match source.kind() {
        std::io::ErrorKind::AddrInUse => ServeError::PortInUse { addr },
        _ => ServeError::Bind { addr, source },
    })?;
    tracing::info!(
        listen = %addr,
        public_url = %state.config.server.public_url,
        issuers = state.issuers.iter().count(),
        "certdesk listening"
    );
    let migrate_on_start = state.config.database.migrate_on_start;
    tokio::spawn(migrate_until_applied(state.pool.clone(), state.migrations.clone(), migrate_on_start));
    // Revocations on this replica wake its CRL tasks; everything periodic runs on the elected job leader.
    if let Some(addr) = state.config.acme.http01_listen {
        let responder_state = state.clone();
        tokio::spawn(async move {
            if let Err(error) = crate::orders::responder::serve_dedicated(responder_state, addr).await {
                tracing::error!(listen = %addr, error = %error, "the HTTP-01 responder could not listen");
            }
        });
    }
    crate::crl::refresher::spawn_all(&state);
    let election = crate::jobs::spawn(state.clone(), crate::schedule::registry())?;
    let pool = state.pool.clone();
    let jobs = state.jobs.clone();
    let unfinished = state.unfinished.clone();
    let drain_limit = state.config.server.request_timeout + DRAIN_MARGIN;
    let app = crate::http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let stop_jobs = jobs.clone();
    let stop_asked = Arc::new(std::sync::OnceLock::new());
    let stop_asked_at = stop_asked.clone();
    let graceful = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stop_asked_at.set(tokio::time::Instant::now());
        // Before the drain, not after it: the jobs move to another replica while this one finishes its requests.
        stop_jobs.stop();
    });
    let served = tokio::select! {
        served = graceful => served,
        () = async {
            jobs.stopped().await;
            tokio::time::sleep(drain_limit).await;
        } => {
            tracing::warn!(drain_limit_secs = drain_limit.as_secs(), "requests still running after the drain limit; stopping anyway");
            Ok(())
        }
    };
    // Also when serving failed without a signal: nothing may keep running jobs after this.
    jobs.stop();
    if tokio::time::timeout(RELEASE_WAIT, election).await.is_err() {
        tracing::warn!("the job election did not stop in time; the leader lock goes with the process");
    }
    // A notice the stopped job was sending is sent and recorded, not sent again by the next leader. Within the same
    // drain limit as the requests (which ran meanwhile), so the whole stop fits the grace period the manifests give.
    unfinished.close();
    let stop_began = stop_asked.get().copied().unwrap_or_else(tokio::time::Instant::now);
    if tokio::time::timeout_at(stop_began + drain_limit, unfinished.wait()).await.is_err() {
        tracing::warn!(
            unfinished = unfinished.len(),
            "background work still running after the drain limit; stopping anyway"
        );
    }
    pool.close().await;
    tracing::info!("certdesk stopped");
    served.map_err(ServeError::Serve)
}

/// Brings the schema to this release, retrying with capped exponential backoff and one log line per attempt, so a
/// server started before its database becomes ready by itself once the database is up. With `migrate_on_start`
/// off it only waits for `certdesk migrate` (the deployment's Job) to have applied them. A schema already current
/// is only read, so a server role that may not change the schema starts as well.
pub async fn migrate_until_applied(pool: PgPool, status: MigrationStatus, migrate_on_start: bool) {
    use db::migrations::SchemaState;
    let mut delay = FIRST_RETRY;
    for attempt in 1_u32.. {
        // Err((unreachable, problem)): the database did not answer, or the schema is not this release's yet.
        let outcome = match db::migrations::schema_state(&pool).await {
            Ok(SchemaState::Current) => Ok(()),
            Ok(SchemaState::Pending(_)) if migrate_on_start => {
                db::migrations::apply(&pool).await.map_err(|error| (false, format!("applying the migrations: {error}")))
            }
            Ok(SchemaState::Pending(versions)) => {
                Err((false, format!("waiting for `certdesk migrate` to apply migrations {versions:?}")))
            }
            Ok(SchemaState::Diverged { version, problem }) => {
                tracing::error!(attempt, version, problem, "the applied migration does not match this release");
                Err((false, format!("migration {version}: {problem}")))
            }
            Err(error) => Err((true, error.to_string())),
        };
        let (unreachable, problem) = match outcome {
            Ok(()) => {
                tracing::info!(attempt, "database ready; migrations applied");
                status.mark_applied();
                return;
            }
            Err(not_yet) => not_yet,
        };
        let retry_in_ms = delay.as_millis() as u64;
        if unreachable {
            tracing::warn!(attempt, retry_in_ms, error = %problem, "database not ready; will retry");
        } else {
            tracing::warn!(attempt, retry_in_ms, problem, "schema not ready; will retry");
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RETRY);
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
