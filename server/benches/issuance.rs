//! Benchmark of private-certificate issuance: certdesk (`POST /api/v1/certificates` through the router, with
//! everything it does around the CA) against its real peer, OpenBao's `sign` called directly with the same role,
//! in one run against a running stack (`CERTDESK_BENCH_STACK_DIR`; `end2end/stack.sh bench` starts one). Both arms
//! run at 1 and 8 concurrent workers, interleaved in alternating blocks so machine noise hits both, and the result
//! is reported as certdesk/peer ratios: a Markdown table on stdout and JSON in `target/bench/issuance.json`.
#![allow(clippy::print_stdout)]

mod support;

/// This benchmark's own parts, in `benches/issuance/` (a benchmark's root file looks for its modules beside itself,
/// so they are declared inside a module named after it).
mod issuance {
    pub mod measure;
    pub mod report;
}

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use issuance::measure::{self, Arm, Arms};
use issuance::report::{self, Level, Summary};
use support::blocks;
use support::certdesk_arm::Certdesk;
use support::harness;
use support::peer::Peer;
use support::report::{Setup, write_json};
use support::stack::{ScratchDatabase, Stack};

const DEFAULT_REQUESTS: u64 = 200;
const WARMUP: u64 = 10;
/// Each arm's requests at a level run in this many blocks, alternating which arm goes first (ABBA…).
const BLOCKS_PER_ARM: u64 = 4;
const CONCURRENCY: [usize; 2] = [1, 8];

fn main() -> ExitCode {
    harness::main_with("issuance", run)
}

async fn run() -> Result<()> {
    let requests = harness::count_from_env("CERTDESK_BENCH_REQUESTS", DEFAULT_REQUESTS)?;
    let stack = Stack::from_env()?;
    let database = ScratchDatabase::create(&stack).await?;
    eprintln!("[bench] scratch database {}", database.name());
    let measured = measure(&stack, &database, requests).await;
    // Dropped whatever happened, before the result is looked at.
    let dropped = database.drop_now().await;
    let (setup, levels) = measured?;
    dropped?;

    println!("{}", report::markdown(&setup, &levels));
    write_json("issuance", &report::json(&setup, &levels))
}

async fn measure(stack: &Stack, database: &ScratchDatabase, requests: u64) -> Result<(Setup, Vec<Level>)> {
    let certdesk = Certdesk::prepare(stack, database.url.as_str()).await?;
    let pool = certdesk.pool.clone();
    let peer = Peer::login(stack).await?;
    let setup = Setup::new(requests, WARMUP, BLOCKS_PER_ARM, peer.server_version(stack).await);
    let arms = Arc::new(Arms::new(certdesk, peer, stack)?);
    let mut levels = Vec::new();
    let mut outcome = Ok(());
    for concurrency in CONCURRENCY {
        match level(&arms, concurrency, requests).await {
            Ok(level) => levels.push(level),
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }
    pool.close().await;
    outcome.map(|()| (setup, levels))
}

/// One concurrency level: a warm-up of each arm, then both arms' blocks interleaved.
async fn level(arms: &Arc<Arms>, concurrency: usize, requests: u64) -> Result<Level> {
    eprintln!("[bench] concurrency {concurrency}: warm-up ({WARMUP} per arm), then both arms interleaved");
    let [certdesk, peer] =
        blocks::interleaved([Arm::Certdesk, Arm::Peer], requests, BLOCKS_PER_ARM, WARMUP, |arm, count| {
            eprintln!("[bench] concurrency {concurrency}: {} × {count}", arm.label());
            measure::block(arms, arm, count, concurrency)
        })
        .await?;
    Ok(Level { concurrency, certdesk: Summary::of(&certdesk), peer: Summary::of(&peer) })
}
