//! Both arms' accounts and the blocks of flows run on them: each worker drives flows on an account of its own, one
//! flow at a time; a block records each flow's latency, its wall-clock time, the ACME requests the client sent,
//! the http-01 answers fetched, and the CPU time of every process taking part.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use instant_acme::Account;

use super::certdesk::{DOMAIN, THREADS};
use super::client::{self, Http};
use super::responder::Answers;
use crate::support::blocks;
use crate::support::cpu::{self, Process};
use crate::support::stack::Stack;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arm {
    Certdesk,
    Pebble,
}

impl Arm {
    pub fn label(self) -> &'static str {
        match self {
            Self::Certdesk => "certdesk",
            Self::Pebble => "Pebble",
        }
    }
}

/// Where CPU time goes, in this order.
pub const CPU_PARTS: [&str; 6] = ["client", "certdesk", "PostgreSQL", "OpenBao", "Pebble", "DNS"];

/// CPU seconds (or milliseconds per flow) by `CPU_PARTS`. The client is the benchmark's process without certdesk's
/// runtime: instant-acme, key generation, the responder.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuUse(pub [f64; 6]);

impl CpuUse {
    fn since(self, before: Self) -> Self {
        Self(std::array::from_fn(|part| self.0[part] - before.0[part]))
    }

    pub fn plus(self, other: Self) -> Self {
        Self(std::array::from_fn(|part| self.0[part] + other.0[part]))
    }

    pub fn scaled(self, factor: f64) -> Self {
        Self(self.0.map(|seconds| seconds * factor))
    }

    pub fn total(&self) -> f64 {
        self.0.iter().sum()
    }
}

struct Processes {
    own: Process,
    postgres: Process,
    openbao: Process,
    pebble: Process,
    dns: [Process; 2],
}

impl Processes {
    fn cpu(&self) -> Result<CpuUse> {
        let certdesk = cpu::own_threads_seconds(THREADS)?;
        Ok(CpuUse([
            self.own.seconds()? - certdesk,
            certdesk,
            self.postgres.seconds()?,
            self.openbao.seconds()?,
            self.pebble.seconds()?,
            self.dns[0].seconds()? + self.dns[1].seconds()?,
        ]))
    }
}

/// Both arms' accounts (one per worker), the client they share, the responder's answers, and the counter that
/// makes every flow's name distinct (`flow-N.flows.priv.example.test`).
pub struct Arms {
    certdesk: Vec<Account>,
    pebble: Vec<Account>,
    http: Http,
    answers: Answers,
    names: AtomicU64,
    processes: Processes,
}

impl Arms {
    pub fn new(
        certdesk: Vec<Account>,
        pebble: Vec<Account>,
        http: Http,
        answers: Answers,
        stack: &Stack,
    ) -> Result<Self> {
        let [bind, challtestsrv] = stack.dns_processes()?;
        let processes = Processes {
            own: Process::own(),
            postgres: stack.postgres_process()?,
            openbao: stack.openbao_process()?,
            pebble: stack.pebble_process()?,
            dns: [bind, challtestsrv],
        };
        Ok(Self { certdesk, pebble, http, answers, names: AtomicU64::new(0), processes })
    }

    async fn flow(&self, arm: Arm, worker: usize) -> Result<()> {
        let accounts = match arm {
            Arm::Certdesk => &self.certdesk,
            Arm::Pebble => &self.pebble,
        };
        let account = accounts.get(worker).context("more workers than accounts")?;
        let name = format!("flow-{}.{DOMAIN}", self.names.fetch_add(1, Ordering::Relaxed));
        client::flow(account, &name, &self.answers).await
    }
}

/// What one block measured.
#[derive(Debug, Default)]
pub struct Block {
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
    pub cpu: CpuUse,
    /// ACME requests the client sent (newNonce, newOrder, authorization, challenge, polls, finalize, download).
    pub requests: u64,
    /// http-01 answers the arm's server fetched from the responder.
    pub fetches: u64,
}

/// `count` flows of `arm`, `concurrency` at a time; the first failure stops the block and is returned. Fails too
/// when the server fetched fewer http-01 answers than it validated orders.
pub async fn block(arms: &Arc<Arms>, arm: Arm, count: u64, concurrency: usize) -> Result<Block> {
    let cpu_before = arms.processes.cpu()?;
    let (requests_before, fetches_before) = (arms.http.requests(), arms.answers.fetches());
    let shared = arms.clone();
    let timed = blocks::run(count, concurrency, move |worker| {
        let arms = shared.clone();
        async move { arms.flow(arm, worker).await }
    })
    .await
    .with_context(|| match arm {
        Arm::Certdesk => "a certdesk flow failed".to_owned(),
        // Seen on this machine: every Pebble goroutine waiting on its store's lock, after some hundred orders.
        Arm::Pebble => "a Pebble flow failed (one that got no answer: Pebble 2.4's in-memory store can deadlock \
                        under concurrent newOrders, its goroutines waiting on each other's locks; run again)"
            .to_owned(),
    })?;
    let block = Block {
        cpu: arms.processes.cpu()?.since(cpu_before),
        requests: arms.http.requests() - requests_before,
        fetches: arms.answers.fetches() - fetches_before,
        latencies: timed.latencies,
        elapsed: timed.elapsed,
    };
    ensure!(
        block.fetches >= count,
        "{} validated {count} orders with {} http-01 fetches: it did not validate them all for real",
        arm.label(),
        block.fetches
    );
    Ok(block)
}
