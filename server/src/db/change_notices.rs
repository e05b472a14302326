//! PostgreSQL `LISTEN`/`NOTIFY` between replicas: a change to a row that replicas keep in memory is announced in
//! its own transaction (delivered at the commit, never for a rollback), and each replica listens on a connection
//! of its own.

use sqlx::PgConnection;
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};

/// Tells every listener on `channel` that the row `key` changed, when the caller's transaction commits.
pub async fn announce(tx: &mut PgConnection, channel: &str, key: &str) -> Result<(), sqlx::Error> {
    // Not the query! macro: pg_notify answers `void`, which the macro cannot describe.
    sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(key).execute(tx).await.map(|_| ())
}

/// A connection that hears the keys announced on `channel` from now on (by any replica). It is a connection of its
/// own, made with `pool`'s options, never one of `pool`'s: held for as long as the replica runs, it must not take a
/// place the requests need (with `max_connections = 1` it would take the only one).
pub async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let own = PgPoolOptions::new().max_connections(1).connect_lazy_with(pool.connect_options().as_ref().clone());
    let mut listener = PgListener::connect_with(&own).await?;
    listener.listen(channel).await?;
    Ok(listener)
}
