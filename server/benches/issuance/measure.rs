//! Running a block of requests of one arm with a fixed number of concurrent workers, and what a block measured:
//! each request's latency, the block's wall-clock time, and the CPU time the benchmark's process (certdesk itself in
//! the certdesk arm, the client in the peer's), PostgreSQL and OpenBao spent on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::support::certdesk_arm::Certdesk;
use crate::support::cpu::Process;
use crate::support::peer::Peer;
use crate::support::stack::Stack;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arm {
    Certdesk,
    Peer,
}

impl Arm {
    pub fn label(self) -> &'static str {
        match self {
            Self::Certdesk => "certdesk",
            Self::Peer => "openbao (direct)",
        }
    }
}

/// Both arms, the counter that makes every requested name of the run distinct (`bench-N.cluster.local`), and the
/// processes whose CPU time a block measures.
pub struct Arms {
    pub certdesk: Certdesk,
    pub peer: Peer,
    names: AtomicU64,
    processes: Processes,
}

impl Arms {
    pub fn new(certdesk: Certdesk, peer: Peer, stack: &Stack) -> Result<Self> {
        let processes =
            Processes { own: Process::own(), postgres: stack.postgres_process()?, openbao: stack.openbao_process()? };
        Ok(Self { certdesk, peer, names: AtomicU64::new(0), processes })
    }

    async fn once(&self, arm: Arm) -> Result<()> {
        let name = format!("bench-{}.cluster.local", self.names.fetch_add(1, Ordering::Relaxed));
        match arm {
            Arm::Certdesk => self.certdesk.issue(&name).await,
            Arm::Peer => self.peer.issue(&name).await,
        }
    }
}

struct Processes {
    own: Process,
    postgres: Process,
    openbao: Process,
}

impl Processes {
    fn cpu(&self) -> Result<CpuUse> {
        Ok(CpuUse { own: self.own.seconds()?, postgres: self.postgres.seconds()?, openbao: self.openbao.seconds()? })
    }
}

/// CPU seconds by process.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuUse {
    /// The benchmark's process: certdesk in the certdesk arm (the router runs in it), the client in the peer's.
    pub own: f64,
    pub postgres: f64,
    pub openbao: f64,
}

impl CpuUse {
    fn since(self, before: Self) -> Self {
        Self {
            own: self.own - before.own,
            postgres: self.postgres - before.postgres,
            openbao: self.openbao - before.openbao,
        }
    }

    pub fn plus(self, other: Self) -> Self {
        Self {
            own: self.own + other.own,
            postgres: self.postgres + other.postgres,
            openbao: self.openbao + other.openbao,
        }
    }
}

/// What one block measured.
#[derive(Debug, Default)]
pub struct Block {
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
    pub cpu: CpuUse,
}

/// `count` requests of `arm`, `concurrency` at a time; the first failure stops the block and is returned.
pub async fn block(arms: &Arc<Arms>, arm: Arm, count: u64, concurrency: usize) -> Result<Block> {
    let claimed = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let cpu_before = arms.processes.cpu()?;
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (arms, claimed, failed) = (arms.clone(), claimed.clone(), failed.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !failed.load(Ordering::Relaxed) && claimed.fetch_add(1, Ordering::Relaxed) < count {
                    let start = Instant::now();
                    if let Err(error) = arms.once(arm).await {
                        failed.store(true, Ordering::Relaxed);
                        return Err(error);
                    }
                    latencies.push(start.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut measured = Block::default();
    let mut first_error = None;
    for worker in workers {
        match worker.await.context("benchmark worker")? {
            Ok(latencies) => measured.latencies.extend(latencies),
            Err(error) => first_error = first_error.or(Some(error)),
        }
    }
    measured.elapsed = started.elapsed();
    measured.cpu = arms.processes.cpu()?.since(cpu_before);
    match first_error {
        Some(error) => Err(error.context(format!("{} request failed", arm.label()))),
        None => Ok(measured),
    }
}
