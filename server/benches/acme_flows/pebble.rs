//! The Pebble arm: the stack's Pebble, checked to run as the issue asks — validation sleep off
//! (`PEBBLE_VA_NOSLEEP=1`) and validating for real (no `PEBBLE_VA_ALWAYS_VALID`) — read from its process's
//! environment, so a Pebble started otherwise fails the benchmark instead of skewing it. Its accounts need no EAB.

use anyhow::{Context, Result, bail};
use instant_acme::Account;

use super::client::Http;
use crate::support::stack::{Stack, StackPebble};

pub struct PebbleArm {
    pub server: StackPebble,
}

impl PebbleArm {
    pub fn check(stack: &Stack) -> Result<Self> {
        let server = stack.pebble()?;
        let not_running = "the stack's Pebble is not running: `end2end/stack.sh bench` starts it";
        let pid = stack.pebble_process().context(not_running)?.pid();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).context(not_running)?;
        let variables: Vec<String> =
            environ.split(|byte| *byte == 0).map(|variable| String::from_utf8_lossy(variable).into_owned()).collect();
        if !variables.iter().any(|variable| variable == "PEBBLE_VA_NOSLEEP=1") {
            bail!("the stack's Pebble runs with validation sleeps (PEBBLE_VA_NOSLEEP is not 1): its flows would wait");
        }
        if variables.iter().any(|variable| variable.starts_with("PEBBLE_VA_ALWAYS_VALID=") && !variable.ends_with('='))
        {
            bail!("the stack's Pebble runs with PEBBLE_VA_ALWAYS_VALID: it would not validate http-01 at all");
        }
        Ok(Self { server })
    }

    /// `count` accounts of Pebble's.
    pub async fn accounts(&self, http: &Http, count: usize) -> Result<Vec<Account>> {
        let mut accounts = Vec::with_capacity(count);
        for _ in 0..count {
            accounts.push(http.account(&self.server.directory_url, None).await?);
        }
        Ok(accounts)
    }
}
