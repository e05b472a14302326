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

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use issuance::measure::{self, Arm, Arms, Block};
use issuance::report::{self, Level, Setup, Summary};
use support::certdesk_arm::Certdesk;
use support::harness;
use support::peer::Peer;
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
    // The workspace's target/ (server's parent folder), whatever CARGO_TARGET_DIR says.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = manifest.parent().unwrap_or(manifest).join("target/bench");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let file = out.join("issuance.json");
    std::fs::write(&file, serde_json::to_string_pretty(&report::json(&setup, &levels))?)
        .with_context(|| format!("writing {}", file.display()))?;
    eprintln!("[bench] wrote {}", file.display());
    Ok(())
}

async fn measure(stack: &Stack, database: &ScratchDatabase, requests: u64) -> Result<(Setup, Vec<Level>)> {
    let certdesk = Certdesk::prepare(stack, database.url.as_str()).await?;
    let pool = certdesk.pool.clone();
    let peer = Peer::login(stack).await?;
    let setup = Setup {
        requests,
        warmup: WARMUP,
        blocks_per_arm: BLOCKS_PER_ARM.min(requests),
        cpus: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        openbao_version: peer.server_version(stack).await,
    };
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
    eprintln!("[bench] concurrency {concurrency}: warm-up ({WARMUP} per arm)");
    for arm in [Arm::Certdesk, Arm::Peer] {
        measure::block(arms, arm, WARMUP, concurrency).await?;
    }
    let mut certdesk: Vec<Block> = Vec::new();
    let mut peer: Vec<Block> = Vec::new();
    for round in 0..BLOCKS_PER_ARM {
        let count = requests / BLOCKS_PER_ARM + u64::from(round < requests % BLOCKS_PER_ARM);
        if count == 0 {
            continue;
        }
        let order = if round % 2 == 0 { [Arm::Certdesk, Arm::Peer] } else { [Arm::Peer, Arm::Certdesk] };
        for arm in order {
            eprintln!("[bench] concurrency {concurrency}: {} × {count}", arm.label());
            let block = measure::block(arms, arm, count, concurrency).await?;
            match arm {
                Arm::Certdesk => certdesk.push(block),
                Arm::Peer => peer.push(block),
            }
        }
    }
    Ok(Level { concurrency, certdesk: Summary::of(&certdesk), peer: Summary::of(&peer) })
}
