//! PostgreSQL: the pool, the embedded migrations, and (in the submodules) every SQL statement certdesk runs.

pub mod acme;
pub mod acme_machines;
pub mod acme_server;
pub mod acme_server_orders;
pub mod api_tokens;
pub mod audit;
pub mod certificates;
pub mod change_notices;
pub mod crls;
pub mod dashboard;
pub mod jobs;
pub mod local_totp;
pub mod metrics;
pub mod migrations;
pub mod notifications;
pub mod patience;
pub mod quotas;
pub mod renewal;
pub mod revocation_intents;
pub mod revocations;
pub mod sealed;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::config::{ConfigError, DatabaseConfig};

/// Forward-only migrations, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A pool that connects on first use, so the server can start (and answer `/readyz` with 503) while PostgreSQL
/// is still down; connections are re-established by the pool when it comes back.
pub fn lazy_pool(config: &DatabaseConfig) -> Result<PgPool, ConfigError> {
    let options = PgConnectOptions::from_str(config.url.expose_secret())
        .map_err(|_| ConfigError::invalid("database.url", "is not a valid PostgreSQL connection URL"))?
        .application_name("certdesk");
    Ok(PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings every connection before handing it out by default: one more round trip per acquire (an
        // issuance acquires four or five times). A connection that answered within the last second is as alive as a
        // ping could show; one idle for longer (across a database restart, say) is pinged, and replaced if it died.
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= PING_WHEN_IDLE_FOR {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options))
}

/// How long a pooled connection may sit unused before it is checked before use.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// `SELECT 1` — is the database answering right now?
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(pool).await.map(|_| ())
}
