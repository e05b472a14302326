//! Load from `wrk`: a fixed number of connections for a fixed time against one URL, read back as requests, rate
//! and latency percentiles; any answer outside 2xx/3xx fails the run.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    pub requests: u64,
    pub seconds: f64,
    pub p99_ms: f64,
}

impl Load {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.requests as f64 / self.seconds } else { 0.0 }
    }

    pub fn add(&mut self, other: Load) {
        self.requests += other.requests;
        self.seconds += other.seconds;
        self.p99_ms = self.p99_ms.max(other.p99_ms);
    }
}

pub fn run(url: &str, header: Option<&str>, connections: u32, duration: Duration) -> Result<Load> {
    let mut command = Command::new("wrk");
    command.args(["-t2", &format!("-c{connections}"), &format!("-d{}s", duration.as_secs().max(1)), "--latency"]);
    if let Some(header) = header {
        command.args(["-H", header]);
    }
    let output = command.arg(url).output().context("running wrk (apt install wrk; end2end/stack.sh bench does)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!("wrk failed for {url}: {}{}", text, String::from_utf8_lossy(&output.stderr));
    }
    if let Some(line) = text.lines().find(|line| line.contains("Non-2xx or 3xx responses")) {
        bail!("{url}: {}", line.trim());
    }
    // "  123456 requests in 5.00s, 12.34MB read"
    let summary = text.lines().find(|line| line.contains(" requests in ")).context("wrk printed no summary")?;
    let mut words = summary.split_whitespace();
    let requests = words.next().and_then(|count| count.parse().ok()).context("request count")?;
    let seconds = summary
        .split(" requests in ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|time| time.trim().strip_suffix('s'))
        .and_then(|time| time.parse().ok())
        .context("duration")?;
    let p99_ms = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .map(|latency| milliseconds(latency.trim()))
        .unwrap_or_default();
    Ok(Load { requests, seconds, p99_ms })
}

/// wrk's latencies: "812.00us", "1.23ms", "2.00s".
fn milliseconds(text: &str) -> f64 {
    let split = text.find(|character: char| character.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().unwrap_or(0.0);
    match unit {
        "us" => value / 1000.0,
        "s" => value * 1000.0,
        _ => value,
    }
}
