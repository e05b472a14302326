//! Summaries of the measured blocks (throughput, p50, p99, CPU per certificate by process), the certdesk/peer
//! ratios, and their two renderings:
//! a Markdown table for stdout and JSON for `target/bench/issuance.json`.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::measure::{Block, CpuUse};
use crate::support::report::{Setup, push_notes};
use crate::support::stats::{Latencies, ratio, round};

/// One arm at one concurrency level, over all of its blocks.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub requests: usize,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    /// CPU milliseconds per request, by process.
    pub cpu_ms: CpuUse,
}

impl Summary {
    /// Throughput is all requests over the summed wall-clock time of the arm's blocks.
    pub fn of(blocks: &[Block]) -> Self {
        let elapsed: Duration = blocks.iter().map(|block| block.elapsed).sum();
        let latencies = Latencies::of(blocks.iter().flat_map(|block| block.latencies.iter().copied()), elapsed);
        let requests = latencies.count;
        let cpu = blocks.iter().fold(CpuUse::default(), |sum, block| sum.plus(block.cpu));
        let per_request_ms = |seconds: f64| if requests == 0 { 0.0 } else { seconds * 1000.0 / requests as f64 };
        Self {
            cpu_ms: CpuUse {
                own: per_request_ms(cpu.own),
                postgres: per_request_ms(cpu.postgres),
                openbao: per_request_ms(cpu.openbao),
            },
            requests,
            throughput: latencies.throughput,
            p50_ms: latencies.p50_ms,
            p99_ms: latencies.p99_ms,
            mean_ms: latencies.mean_ms,
        }
    }

    fn json(&self) -> Value {
        json!({ "requests": self.requests, "throughput_rps": round(self.throughput), "p50_ms": round(self.p50_ms),
                "p99_ms": round(self.p99_ms), "mean_ms": round(self.mean_ms),
                "cpu_ms_per_request": { "own_process": round(self.cpu_ms.own), "postgres": round(self.cpu_ms.postgres),
                                        "openbao": round(self.cpu_ms.openbao) } })
    }
}

/// Both arms at one concurrency level.
#[derive(Debug, Clone, Copy)]
pub struct Level {
    pub concurrency: usize,
    pub certdesk: Summary,
    pub peer: Summary,
}

impl Level {
    pub fn throughput_ratio(&self) -> f64 {
        ratio(self.certdesk.throughput, self.peer.throughput)
    }
    pub fn p50_ratio(&self) -> f64 {
        ratio(self.certdesk.p50_ms, self.peer.p50_ms)
    }
    pub fn p99_ratio(&self) -> f64 {
        ratio(self.certdesk.p99_ms, self.peer.p99_ms)
    }
}

pub const NOTES: &[&str] = &[
    "certdesk = POST /api/v1/certificates through the router (server-generated EC P-256 key, 1-day validity): \
     token check, policy, key sealing, intent + audit rows, OpenBao sign, chain verification, issued + audit rows",
    "peer = direct OpenBao sign with the same AppRole and role (pki_private_issuer/sign/certdesk-demo-ec), \
     one reused reqwest client and token",
    "both arms generate a fresh EC P-256 key and CSR with certdesk::keys per request (key generation is in both)",
    "ratios are certdesk/peer: throughput < 1 and latency > 1 mean certdesk is slower by that factor",
    "CPU per certificate is read from /proc around each block: the benchmark's own process (certdesk in the certdesk \
     arm, the HTTP client in the peer's; key generation in both), the stack's PostgreSQL with its backends, and \
     OpenBao; the machine's other processes are not counted",
];

pub fn markdown(setup: &Setup, levels: &[Level]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Private-certificate issuance, {} requests per arm per level (+{} warm-up), arms interleaved in {} \
         alternating blocks each; {} CPUs; OpenBao {}.\n",
        setup.count, setup.warmup, setup.blocks_per_arm, setup.cpus, setup.openbao_version
    );
    out.push_str("| concurrency | arm | requests | throughput (req/s) | p50 (ms) | p99 (ms) |\n");
    out.push_str("|---:|---|---:|---:|---:|---:|\n");
    for level in levels {
        for (label, summary) in [("certdesk", &level.certdesk), ("openbao (direct)", &level.peer)] {
            let _ = writeln!(
                out,
                "| {} | {label} | {} | {:.1} | {:.1} | {:.1} |",
                level.concurrency, summary.requests, summary.throughput, summary.p50_ms, summary.p99_ms
            );
        }
    }
    out.push_str("\n| concurrency | throughput ratio (certdesk/peer) | p50 ratio | p99 ratio |\n");
    out.push_str("|---:|---:|---:|---:|\n");
    for level in levels {
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:.2} | {:.2} |",
            level.concurrency,
            level.throughput_ratio(),
            level.p50_ratio(),
            level.p99_ratio()
        );
    }
    out.push_str("\n| concurrency | arm | CPU ms per certificate: this process | PostgreSQL | OpenBao | all three |\n");
    out.push_str("|---:|---|---:|---:|---:|---:|\n");
    for level in levels {
        for (label, summary) in [("certdesk", &level.certdesk), ("openbao (direct)", &level.peer)] {
            let cpu = summary.cpu_ms;
            let _ = writeln!(
                out,
                "| {} | {label} | {:.2} | {:.2} | {:.2} | {:.2} |",
                level.concurrency,
                cpu.own,
                cpu.postgres,
                cpu.openbao,
                cpu.own + cpu.postgres + cpu.openbao
            );
        }
    }
    push_notes(&mut out, NOTES);
    out
}

pub fn json(setup: &Setup, levels: &[Level]) -> Value {
    let levels: Vec<Value> = levels
        .iter()
        .map(|level| {
            json!({
                "concurrency": level.concurrency,
                "certdesk": level.certdesk.json(),
                "peer": level.peer.json(),
                "ratios": { "throughput": round(level.throughput_ratio()), "p50": round(level.p50_ratio()),
                            "p99": round(level.p99_ratio()) },
            })
        })
        .collect();
    Value::Object(setup.document("issuance", "requests", levels, NOTES))
}
