//! The arithmetic of the reports: nearest-rank percentiles of latencies, milliseconds, ratios, and JSON rounding.

use std::time::Duration;

/// Nearest-rank percentile of sorted values (`p` in 0..=1); zero for no values.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Three decimals, for the JSON files.
pub fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// `a / b`, NaN when there is nothing to divide by.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}

/// Latencies of an arm's blocks: how many, per second of the blocks' summed wall-clock time, p50, p99 and mean.
#[derive(Debug, Default, Clone, Copy)]
pub struct Latencies {
    pub count: usize,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
}

impl Latencies {
    pub fn of(latencies: impl IntoIterator<Item = Duration>, elapsed: Duration) -> Self {
        let mut latencies: Vec<Duration> = latencies.into_iter().collect();
        latencies.sort_unstable();
        let count = latencies.len();
        let total: Duration = latencies.iter().sum();
        Self {
            count,
            throughput: if elapsed.is_zero() { 0.0 } else { count as f64 / elapsed.as_secs_f64() },
            p50_ms: millis(percentile(&latencies, 0.50)),
            p99_ms: millis(percentile(&latencies, 0.99)),
            mean_ms: if count == 0 { 0.0 } else { millis(total) / count as f64 },
        }
    }
}
