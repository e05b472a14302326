//! What every benchmark binary shares: its async `run` on a tokio runtime, the exit status with the error chain,
//! and counts read from the environment.

use std::future::Future;
use std::process::ExitCode;

use anyhow::{Context, Result};

/// Runs `run` to completion; a failure is printed as "`name` benchmark failed: …" and exits 1.
pub fn main_with<F: Future<Output = Result<()>>>(name: &str, run: impl FnOnce() -> F) -> ExitCode {
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")
        .and_then(|runtime| runtime.block_on(run()));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name} benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A positive count from the environment variable `var`, or `default` when it is not set.
pub fn count_from_env(var: &str, default: u64) -> Result<u64> {
    match std::env::var(var) {
        Ok(text) => text.trim().parse::<u64>().ok().filter(|n| *n > 0).with_context(|| format!("{var} must be > 0")),
        Err(_) => Ok(default),
    }
}
