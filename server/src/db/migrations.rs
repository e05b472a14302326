//! The schema's version against the migrations this binary embeds: read from sqlx's bookkeeping table without
//! writing anything (so a server whose role may not change the schema can tell whether it is current), and applied
//! tolerating migrations newer than this binary (a newer release already migrated while this one still runs).

use sqlx::PgPool;
use sqlx::migrate::{MigrateError, Migrator};

use super::MIGRATOR;

/// PostgreSQL's `undefined_table`: no migration was ever applied.
const UNDEFINED_TABLE: &str = "42P01";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// Every migration of this binary is applied (newer ones may be too).
    Current,
    /// These migrations of this binary are not applied yet.
    Pending(Vec<i64>),
    /// This applied migration differs from this binary's, or failed half-way: a person must look.
    Diverged { version: i64, problem: &'static str },
}

pub async fn schema_state(pool: &PgPool) -> Result<SchemaState, sqlx::Error> {
    let applied: Vec<(i64, bool, Vec<u8>)> =
        match sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations").fetch_all(pool).await {
            Ok(rows) => rows,
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some(UNDEFINED_TABLE) => Vec::new(),
            Err(error) => return Err(error),
        };
    let mut pending = Vec::new();
    for migration in MIGRATOR.iter().filter(|migration| migration.migration_type.is_up_migration()) {
        match applied.iter().find(|(version, ..)| *version == migration.version) {
            None => pending.push(migration.version),
            Some((version, false, _)) => {
                return Ok(SchemaState::Diverged { version: *version, problem: "it failed half-way" });
            }
            Some((version, true, checksum)) if checksum.as_slice() != &*migration.checksum => {
                return Ok(SchemaState::Diverged { version: *version, problem: "it differs from this release's" });
            }
            Some(_) => {}
        }
    }
    Ok(if pending.is_empty() { SchemaState::Current } else { SchemaState::Pending(pending) })
}

/// Applies this binary's pending migrations under sqlx's advisory lock (one replica at a time), leaving alone the
/// newer ones a later release applied: during a rollout, or after one was rolled back, both releases share one
/// schema, which is why every migration keeps the previous release working.
pub async fn apply(pool: &PgPool) -> Result<(), MigrateError> {
    let migrator = Migrator { migrations: MIGRATOR.migrations.clone(), ignore_missing: true, ..Migrator::DEFAULT };
    migrator.run(pool).await
}
