//! Benchmark of whole ACME flows (issue 17): certdesk as an ACME server against Pebble, the stack's other ACME
//! server, in the same run, with the same instant-acme client code driving both: for an account that exists,
//! newOrder → http-01 (validated for real by each server against the benchmark's own responder) → finalize →
//! download. 1 and 8 concurrent clients, each with an account of its own, arms interleaved in alternating blocks;
//! the result is reported as certdesk/Pebble ratios against the goal (≥ 0.8× Pebble's flows per second
//! while certdesk also writes its inventory and audit): a Markdown table on stdout and JSON in
//! `target/bench/acme_flows.json`. Needs a running stack (`CERTDESK_BENCH_STACK_DIR`: PostgreSQL, OpenBao, BIND,
//! Pebble; `end2end/stack.sh bench` starts them) and fails without one.
#![allow(clippy::print_stdout)]

mod support;

/// This benchmark's own parts, in `benches/acme_flows/` (declared inside a module named after the benchmark, as
/// `benches/issuance.rs` does).
mod acme_flows {
    pub mod certdesk;
    pub mod client;
    pub mod measure;
    pub mod pebble;
    pub mod report;
    pub mod responder;
}

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use acme_flows::certdesk::ServedCertdesk;
use acme_flows::client::Http;
use acme_flows::measure::{self, Arm, Arms};
use acme_flows::pebble::PebbleArm;
use acme_flows::report::{self, Level, Summary};
use acme_flows::responder::{self, Answers};
use support::blocks;
use support::harness;
use support::peer::Peer;
use support::report::{Setup, write_json};
use support::stack::{ScratchDatabase, Stack};

const DEFAULT_FLOWS: u64 = 500;
const WARMUP: u64 = 16;
/// Each arm's flows at a level run in this many blocks, alternating which arm goes first (ABBA…).
const BLOCKS_PER_ARM: u64 = 4;
const CONCURRENCY: [usize; 2] = [1, 8];

fn main() -> ExitCode {
    harness::main_with("acme_flows", run)
}

async fn run() -> Result<()> {
    let flows = harness::count_from_env("CERTDESK_BENCH_ACME_FLOWS", DEFAULT_FLOWS)?;
    let stack = Stack::from_env()?;
    // Checked before anything is made: a stack without Pebble (or with one that does not validate) fails here.
    let pebble = PebbleArm::check(&stack)?;
    let database = ScratchDatabase::create(&stack).await?;
    eprintln!("[bench] scratch database {}", database.name());
    let measured = measure(&stack, &database, &pebble, flows).await;
    let dropped = database.drop_now().await;
    let (setup, levels) = measured?;
    dropped?;

    println!("{}", report::markdown(&setup, &levels));
    write_json("acme_flows", &report::json(&setup, &levels))
}

async fn measure(
    stack: &Stack,
    database: &ScratchDatabase,
    pebble: &PebbleArm,
    flows: u64,
) -> Result<(Setup, Vec<Level>)> {
    let answers = Answers::default();
    responder::start(pebble.server.http01_port, answers.clone()).await?;
    let certdesk = ServedCertdesk::start(stack, database.url.as_str(), pebble.server.http01_port).await?;
    let outcome = measure_served(stack, &certdesk, pebble, answers, flows).await;
    certdesk.shut_down().await;
    outcome
}

async fn measure_served(
    stack: &Stack,
    certdesk: &ServedCertdesk,
    pebble: &PebbleArm,
    answers: Answers,
    flows: u64,
) -> Result<(Setup, Vec<Level>)> {
    let listener_ca = std::fs::read(&pebble.server.listener_ca).context("the stack's Pebble listener CA")?;
    let http = Http::new(&listener_ca)?;
    let workers = CONCURRENCY.into_iter().max().unwrap_or(1);
    eprintln!("[bench] {workers} accounts per arm");
    let certdesk_accounts = certdesk.accounts(&http, workers).await?;
    let pebble_accounts = pebble.accounts(&http, workers).await?;
    let setup = Setup::new(flows, WARMUP, BLOCKS_PER_ARM, Peer::login(stack).await?.server_version(stack).await);
    let arms = Arc::new(Arms::new(certdesk_accounts, pebble_accounts, http, answers, stack)?);
    let mut levels = Vec::new();
    for concurrency in CONCURRENCY {
        levels.push(level(&arms, concurrency, flows).await?);
    }
    Ok((setup, levels))
}

/// One concurrency level: a warm-up of each arm, then both arms' blocks interleaved.
async fn level(arms: &Arc<Arms>, concurrency: usize, flows: u64) -> Result<Level> {
    eprintln!("[bench] {concurrency} clients: warm-up ({WARMUP} flows per arm), then both arms interleaved");
    let [certdesk, pebble] =
        blocks::interleaved([Arm::Certdesk, Arm::Pebble], flows, BLOCKS_PER_ARM, WARMUP, |arm, count| {
            eprintln!("[bench] {concurrency} clients: {} × {count}", arm.label());
            measure::block(arms, arm, count, concurrency)
        })
        .await?;
    Ok(Level { concurrency, certdesk: Summary::of(&certdesk), pebble: Summary::of(&pebble) })
}
