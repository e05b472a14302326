//! The certdesk arm: certdesk in this process as `certdesk serve` runs it (the router on a loopback listener, the
//! CRL refresher and the jobs), on a tokio runtime of its own whose threads are named `certdesk-server`, so its CPU
//! time is told apart from the client's. Its ACME server is on for issuer `private` (the stack's OpenBao) with EAB
//! required; a policy lets the benchmark's person order names under `DOMAIN` (30 days, the most the stack's OpenBao
//! role signs; Pebble's are 90 days, which costs it nothing more); certdesk validates http-01 itself,
//! resolving through the stack's BIND (as Pebble does) and fetching from the benchmark's responder.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use app::model::NewAcmeAccountKey;
use base64::Engine;
use instant_acme::{Account, ExternalAccountKey};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::client::Http;
use crate::support::certdesk_arm::{Certdesk, Extra, signed_in};
use crate::support::stack::Stack;

/// The thread name of certdesk's runtime (at most 15 bytes: what /proc shows of a thread's name).
pub const THREADS: &str = "certdesk-server";
/// Every flow's name is `flow-N.` this: under a domain the stack's OpenBao role allows.
pub const DOMAIN: &str = "flows.priv.example.test";
/// As many worker threads as `certdesk serve` gets on this machine's cores (tokio's default).
fn worker_threads() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

pub struct ServedCertdesk {
    /// `None` once shut down.
    runtime: Option<tokio::runtime::Runtime>,
    pub directory_url: String,
    pool: PgPool,
    user_id: uuid::Uuid,
    state: certdesk::state::AppState,
}

impl ServedCertdesk {
    /// Builds and serves certdesk on the scratch database; its http-01 validation fetches from `http01_port`.
    pub async fn start(stack: &Stack, database_url: &str, http01_port: u16) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads())
            .thread_name(THREADS)
            // Blocking threads that exit take their CPU time out of the per-thread count: keep them for the run.
            .thread_keep_alive(Duration::from_secs(3600))
            .enable_all()
            .build()
            .context("certdesk's runtime")?;
        let issuer = format!(
            "[[issuers.policy]]\nname = \"acme-flows\"\ngroups = [\"platform-team\"]\ndomains = [\"{DOMAIN}\"]\n\
             max_validity_days = 30\n[issuers.acme_server]\nenabled = true\nvalidity_days = 30\n"
        );
        let tail = format!(
            "[acme_validation]\nresolver = \"{}\"\nhttp01_port = {http01_port}\ntimeout_seconds = 10\n",
            stack.bind_address()?
        );
        let (stack, database_url) = (stack.clone(), database_url.to_owned());
        let served = runtime.spawn(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let listen = listener.local_addr()?.to_string();
            let extra = Extra { issuer: &issuer, tail: &tail };
            let (certdesk, state) = Certdesk::prepare_on(&stack, &database_url, &listen, extra).await?;
            certdesk::crl::refresher::spawn_all(&state);
            certdesk::jobs::spawn(state.clone(), certdesk::schedule::registry())
                .map_err(|error| anyhow::anyhow!("starting the jobs: {error}"))?;
            let app = certdesk.router.into_make_service_with_connect_info::<SocketAddr>();
            tokio::spawn(async move { axum::serve(listener, app).await });
            anyhow::Ok((format!("http://{listen}/acme/private/directory"), certdesk.pool, certdesk.user_id, state))
        });
        let (directory_url, pool, user_id, state) = served.await.context("certdesk's start")??;
        Ok(Self { runtime: Some(runtime), directory_url, pool, user_id, state })
    }

    /// `count` accounts of the benchmark's person, each bound to an ACME account key made for it.
    pub async fn accounts(&self, http: &Http, count: usize) -> Result<Vec<Account>> {
        let mut accounts = Vec::with_capacity(count);
        for index in 0..count {
            let (state, user_id) = (self.state.clone(), self.user_id);
            let input =
                NewAcmeAccountKey { name: format!("bench-{index}"), expires_in_days: 30, allowed_names: Vec::new() };
            let created = self
                .on_runtime(async move {
                    let now = OffsetDateTime::now_utc();
                    certdesk::acme_server::account_keys::create(&state, &signed_in(user_id, now), &input, now)
                        .await
                        .map_err(|error| anyhow::anyhow!("creating an ACME account key: {error:?}"))
                })
                .await?;
            let hmac = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&created.hmac_key)?;
            let eab = ExternalAccountKey::new(created.key.key_id.clone(), &hmac);
            accounts.push(http.account(&self.directory_url, Some(&eab)).await?);
        }
        Ok(accounts)
    }

    /// Closes certdesk's connections to the scratch database and stops its runtime.
    pub async fn shut_down(mut self) {
        let pool = self.pool.clone();
        let closed = self.on_runtime(async move {
            pool.close().await;
            anyhow::Ok(())
        });
        let _ = closed.await;
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Runs `work` on certdesk's runtime (its database connections belong there).
    async fn on_runtime<T: Send + 'static>(&self, work: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
        let runtime = self.runtime.as_ref().context("certdesk was shut down")?;
        runtime.spawn(work).await.context("a task on certdesk's runtime")?
    }
}

impl Drop for ServedCertdesk {
    /// A runtime may not be dropped inside another: shut it down without waiting.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
