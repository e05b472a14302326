//! Running a block of requests of one arm with a fixed number of concurrent workers, and what a block measured:
//! each request's latency, the block's wall-clock time, and the CPU time the benchmark's process (certdesk itself in
//! the certdesk arm, the client in the peer's), PostgreSQL and OpenBao spent on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::support::blocks;
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
    let cpu_before = arms.processes.cpu()?;
    let shared = arms.clone();
    let timed = blocks::run(count, concurrency, move |_| {
        let arms = shared.clone();
        async move { arms.once(arm).await }
    })
    .await
    .with_context(|| format!("{} request failed", arm.label()))?;
    let cpu = arms.processes.cpu()?.since(cpu_before);
    Ok(Block { latencies: timed.latencies, elapsed: timed.elapsed, cpu })
}
