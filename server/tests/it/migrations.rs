//! The schema at start, against the migrations this release embeds: a schema a newer release already migrated is
//! current for this one (both serve during a rollout or after a rollback), and `certdesk migrate` leaves it alone;
//! without `migrate_on_start` a server writes nothing and waits for `certdesk migrate`; an applied migration that
//! differs from this release's is named, never applied over.

use std::time::Duration;

use certdesk::db::migrations::{SchemaState, apply, schema_state};
use certdesk::state::MigrationStatus;
use sqlx::PgPool;

use crate::support::eventually;

async fn record_foreign_migration(pool: &PgPool, version: i64, checksum: &[u8]) {
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, 'from a newer release', true, $2, 0)",
    )
    .bind(version)
    .bind(checksum)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_schema_a_newer_release_migrated_is_current_for_this_one(pool: PgPool) {
    assert_eq!(schema_state(&pool).await.unwrap(), SchemaState::Current);
    record_foreign_migration(&pool, 29_991_231_000_000, &[7; 48]).await;
    assert_eq!(schema_state(&pool).await.unwrap(), SchemaState::Current, "a newer migration is not this one's");
    apply(&pool)
        .await
        .expect("`certdesk migrate` of the older release is a no-op, not 'previously applied but missing'");

    let status = MigrationStatus::default();
    let starting = tokio::spawn(certdesk::serve::migrate_until_applied(pool.clone(), status.clone(), true));
    tokio::time::timeout(Duration::from_secs(10), starting).await.expect("ready at once").unwrap();
    assert!(status.applied());
}

#[sqlx::test(migrations = false)]
async fn without_migrate_on_start_a_server_waits_for_certdesk_migrate_and_writes_nothing(pool: PgPool) {
    let SchemaState::Pending(versions) = schema_state(&pool).await.unwrap() else { panic!("nothing is applied") };
    assert_eq!(versions.len(), certdesk::db::MIGRATOR.iter().count());

    let status = MigrationStatus::default();
    let waiting = tokio::spawn(certdesk::serve::migrate_until_applied(pool.clone(), status.clone(), false));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!status.applied(), "not ready before the schema is");
    let bookkeeping: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text").fetch_one(&pool).await.unwrap();
    assert_eq!(bookkeeping, None, "the server created nothing");

    apply(&pool).await.unwrap();
    eventually("the waiting server to see the schema current", Duration::from_secs(20), || async {
        status.applied().then_some(())
    })
    .await;
    waiting.await.unwrap();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_applied_migration_that_differs_from_this_releases_is_named(pool: PgPool) {
    let first = certdesk::db::MIGRATOR.iter().next().unwrap().version;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = $1")
        .bind(first)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        schema_state(&pool).await.unwrap(),
        SchemaState::Diverged { version: first, problem: "it differs from this release's" }
    );
    let status = MigrationStatus::default();
    let starting = tokio::spawn(certdesk::serve::migrate_until_applied(pool.clone(), status.clone(), true));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!status.applied(), "never ready on a schema that is not this release's");
    starting.abort();
}

/// A role of the server that may use the tables but not change the schema, as README's "Deploying" sets it up.
async fn server_role(pool: &PgPool) -> (String, PgPool) {
    let admin = PgPool::connect(&crate::support::stack().read("postgres/admin_url")).await.unwrap();
    let role = format!("certdesk_app_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE ROLE {role} LOGIN PASSWORD 'app'")).execute(&admin).await.unwrap();
    for grant in [
        "GRANT USAGE ON SCHEMA public, tower_sessions TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, tower_sessions TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ] {
        sqlx::query(&grant.replace("{role}", &role)).execute(pool).await.unwrap();
    }
    let options = pool.connect_options().as_ref().clone().username(&role).password("app");
    (role, PgPool::connect_with(options).await.unwrap())
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_server_role_that_cannot_change_the_schema_starts_on_a_migrated_database(pool: PgPool) {
    let (role, app) = server_role(&pool).await;
    let created = sqlx::query("CREATE TABLE intruder (id int)").execute(&app).await;
    assert!(created.is_err(), "the role may not create tables");
    let disabled = sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER ALL").execute(&app).await;
    assert!(disabled.is_err(), "nor switch off the audit log's trigger");

    assert_eq!(schema_state(&app).await.unwrap(), SchemaState::Current);
    let status = MigrationStatus::default();
    let starting = tokio::spawn(certdesk::serve::migrate_until_applied(app.clone(), status.clone(), false));
    tokio::time::timeout(Duration::from_secs(10), starting).await.expect("ready at once").unwrap();
    assert!(status.applied());
    app.close().await;

    let database = pool.connect_options().get_database().unwrap().to_owned();
    let admin_url = crate::support::stack().read("postgres/admin_url");
    let mut admin_here: sqlx::postgres::PgConnectOptions = admin_url.parse().unwrap();
    admin_here = admin_here.database(&database);
    let admin = PgPool::connect_with(admin_here).await.unwrap();
    sqlx::query(&format!("DROP OWNED BY {role}")).execute(&admin).await.unwrap();
    sqlx::query(&format!("DROP ROLE {role}")).execute(&admin).await.unwrap();
    admin.close().await;
}
