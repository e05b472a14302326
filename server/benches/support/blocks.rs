//! Running a block of timed operations with a fixed number of concurrent workers: each worker takes the next
//! operation until `count` were claimed, so the block ends when all are done; the first failure stops the block.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// What one block measured: each operation's latency and the block's wall-clock time.
#[derive(Debug, Default)]
pub struct Timed {
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

/// `count` calls of `operation`, `concurrency` at a time; `operation` is given its worker's index (0-based), so a
/// worker can use state of its own (an ACME account, say).
pub async fn run<F, Fut>(count: u64, concurrency: usize, operation: F) -> Result<Timed>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let operation = Arc::new(operation);
    let claimed = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (operation, claimed, failed) = (operation.clone(), claimed.clone(), failed.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !failed.load(Ordering::Relaxed) && claimed.fetch_add(1, Ordering::Relaxed) < count {
                    let start = Instant::now();
                    if let Err(error) = operation(worker).await {
                        failed.store(true, Ordering::Relaxed);
                        return Err(error);
                    }
                    latencies.push(start.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut timed = Timed::default();
    let mut first_error = None;
    for worker in workers {
        match worker.await.context("benchmark worker")? {
            Ok(latencies) => timed.latencies.extend(latencies),
            Err(error) => first_error = first_error.or(Some(error)),
        }
    }
    timed.elapsed = started.elapsed();
    match first_error {
        Some(error) => Err(error),
        None => Ok(timed),
    }
}

/// One concurrency level of two arms: a warm-up block of `warmup` operations of each, then `total` operations of
/// each in `rounds` blocks, alternating which arm goes first (ABBA…, so machine noise hits both). `block` runs one
/// block of an arm; the measured blocks of each arm, in the order of `arms`.
pub async fn interleaved<A, B, F, Fut>(
    arms: [A; 2],
    total: u64,
    rounds: u64,
    warmup: u64,
    mut block: F,
) -> Result<[Vec<B>; 2]>
where
    A: Copy,
    F: FnMut(A, u64) -> Fut,
    Fut: Future<Output = Result<B>>,
{
    for arm in arms {
        block(arm, warmup).await?;
    }
    let mut measured = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let count = total / rounds + u64::from(round < total % rounds);
        if count == 0 {
            continue;
        }
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            measured[index].push(block(arms[index], count).await?);
        }
    }
    Ok(measured)
}
