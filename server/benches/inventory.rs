//! Benchmark of the inventory list at 100,000 certificates: certdesk's keyset pages (the statements in
//! `db::certificates::list`) against the usual peer, OFFSET pagination over the same rows and order, on a scratch
//! database of a running stack (`CERTDESK_BENCH_STACK_DIR`). Reported as latency ratios: a deep page must cost
//! what the first page costs. Also times a substring search (trigram index) and the soonest-expiry order.
#![allow(clippy::print_stdout)]

mod support;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use certdesk::db::certificates::{ListFilter, ListPosition, list};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use support::harness;
use support::stack::{ScratchDatabase, Stack};

const ROWS: i64 = 100_000;
const PAGE: i64 = 51;
const DEEP: i64 = 90_000;
const RUNS: usize = 40;

fn main() -> ExitCode {
    harness::main_with("inventory", run)
}

async fn run() -> Result<()> {
    let stack = Stack::from_env()?;
    let database = ScratchDatabase::create(&stack).await?;
    let outcome = measure(&database).await;
    if let Ok(rows) = &outcome {
        report(rows);
    }
    database.drop_now().await?;
    outcome.map(|_| ())
}

fn report(rows: &[(String, f64, Option<f64>)]) {
    println!("\n## Inventory list at {ROWS} certificates (p50 of {RUNS} runs, ms)\n");
    println!("| case | certdesk (keyset) | peer (OFFSET) | ratio certdesk/peer |");
    println!("|---|---:|---:|---:|");
    for (case, ours, peer) in rows {
        match peer {
            Some(peer) => println!("| {case} | {ours:.2} | {peer:.2} | {:.3} |", ours / peer),
            None => println!("| {case} | {ours:.2} | — | — |"),
        }
    }
}

async fn measure(database: &ScratchDatabase) -> Result<Vec<(String, f64, Option<f64>)>> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(database.url.as_str()).await?;
    certdesk::db::MIGRATOR.run(&pool).await.context("migrations")?;
    let owner = Uuid::new_v4();
    fill(&pool, owner).await?;
    let (deep_time, deep_id): (OffsetDateTime, Uuid) =
        sqlx::query_as("SELECT created_at, id FROM certificates ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1")
            .bind(DEEP)
            .fetch_one(&pool)
            .await?;
    let filter = |search: &'static str| ListFilter {
        owner: Some(owner),
        search,
        owner_search: "",
        issuer_id: None,
        status: None,
        expiring_before: None,
        expiring_from: None,
        limit: PAGE,
    };
    let keyset = |position: ListPosition, search: &'static str| {
        let pool = pool.clone();
        async move { list(&pool, &filter(search), &position).await.map(|rows| rows.len()) }
    };
    let offset = |skip: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "SELECT c.id FROM certificates c JOIN users u ON u.id = c.owner_id WHERE c.owner_id = $1
                 ORDER BY c.created_at DESC, c.id DESC OFFSET $2 LIMIT $3",
            )
            .bind(owner)
            .bind(skip)
            .bind(PAGE)
            .fetch_all(&pool)
            .await
            .map(|rows| rows.len())
        }
    };
    let first = p50(|| keyset(ListPosition::Newest(None), "")).await?;
    let first_offset = p50(|| offset(0)).await?;
    let deep = p50(|| keyset(ListPosition::Newest(Some((deep_time, deep_id))), "")).await?;
    let deep_offset = p50(|| offset(DEEP)).await?;
    let search = p50(|| keyset(ListPosition::Newest(None), "svc-4242")).await?;
    let expiry = p50(|| keyset(ListPosition::SoonestExpiry(None), "")).await?;
    pool.close().await;
    Ok(vec![
        ("first page".into(), first, Some(first_offset)),
        (format!("page after row {DEEP}"), deep, Some(deep_offset)),
        ("search 'svc-4242' (trigram)".into(), search, None),
        ("soonest expiry, first page".into(), expiry, None),
    ])
}

/// One owner with ROWS issued certificates of distinct names, serials, expiries and creation times.
async fn fill(pool: &PgPool, owner: Uuid) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, issuer, subject, display_name, role) VALUES ($1, 'bench', 'bench', 'Bench', 'user')",
    )
    .bind(owner)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, serial, not_after,
                                   created_at, search_text)
         SELECT gen_random_uuid(), $1, 'private', 'issued', 'svc-' || n || '.cluster.local', 'EC P-256',
                to_hex(n * 7919), now() + make_interval(days => n % 90 + 1), now() - make_interval(secs => n),
                'svc-' || n || '.cluster.local ' || to_hex(n * 7919)
         FROM generate_series(1, $2::int) AS n",
    )
    .bind(owner)
    .bind(ROWS)
    .execute(pool)
    .await?;
    sqlx::query("ANALYZE certificates").execute(pool).await?;
    Ok(())
}

/// Median wall time in milliseconds of RUNS calls, after 5 warm-up calls (prepared statements settle on their
/// plan within the first executions).
async fn p50<F, Fut>(mut call: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, sqlx::Error>>,
{
    for _ in 0..5 {
        call().await?;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let rows = call().await?;
        times.push(start.elapsed());
        anyhow::ensure!(rows > 0, "a measured query returned no rows");
    }
    times.sort();
    Ok(times[RUNS / 2].as_secs_f64() * 1000.0)
}
