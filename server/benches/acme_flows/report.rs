//! Summaries of the measured blocks (flows per second, p50, p99, requests and http-01 fetches per flow, CPU per
//! flow by process), the certdesk/Pebble ratios against the goal (≥ 0.8× Pebble's flows per second), and
//! their two renderings: a Markdown table for stdout and JSON for `target/bench/acme_flows.json`.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::measure::{Arm, Block, CPU_PARTS, CpuUse};
use crate::support::report::{Setup, push_notes};
use crate::support::stats::{Latencies, ratio, round};

/// The goal for the throughput ratio certdesk/Pebble.
pub const GOAL: f64 = 0.8;

/// One arm at one concurrency level, over all of its blocks.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub flows: Latencies,
    pub requests_per_flow: f64,
    pub fetches_per_flow: f64,
    /// CPU milliseconds per flow, by `CPU_PARTS`.
    pub cpu_ms: CpuUse,
}

impl Summary {
    pub fn of(blocks: &[Block]) -> Self {
        let elapsed: Duration = blocks.iter().map(|block| block.elapsed).sum();
        let flows = Latencies::of(blocks.iter().flat_map(|block| block.latencies.iter().copied()), elapsed);
        let per_flow = |total: f64| if flows.count == 0 { 0.0 } else { total / flows.count as f64 };
        let cpu = blocks.iter().fold(CpuUse::default(), |sum, block| sum.plus(block.cpu));
        Self {
            flows,
            requests_per_flow: per_flow(blocks.iter().map(|block| block.requests).sum::<u64>() as f64),
            fetches_per_flow: per_flow(blocks.iter().map(|block| block.fetches).sum::<u64>() as f64),
            cpu_ms: cpu.scaled(per_flow(1000.0)),
        }
    }

    fn json(&self) -> Value {
        let cpu: serde_json::Map<String, Value> =
            CPU_PARTS.iter().zip(self.cpu_ms.0).map(|(part, ms)| ((*part).to_owned(), json!(round(ms)))).collect();
        json!({ "flows": self.flows.count, "flows_per_second": round(self.flows.throughput),
                "p50_ms": round(self.flows.p50_ms), "p99_ms": round(self.flows.p99_ms),
                "mean_ms": round(self.flows.mean_ms), "requests_per_flow": round(self.requests_per_flow),
                "http01_fetches_per_flow": round(self.fetches_per_flow), "cpu_ms_per_flow": cpu })
    }
}

/// Both arms at one concurrency level.
#[derive(Debug, Clone, Copy)]
pub struct Level {
    pub concurrency: usize,
    pub certdesk: Summary,
    pub pebble: Summary,
}

impl Level {
    fn arms(&self) -> [(Arm, &Summary); 2] {
        [(Arm::Certdesk, &self.certdesk), (Arm::Pebble, &self.pebble)]
    }

    pub fn throughput_ratio(&self) -> f64 {
        ratio(self.certdesk.flows.throughput, self.pebble.flows.throughput)
    }

    fn p50_ratio(&self) -> f64 {
        ratio(self.certdesk.flows.p50_ms, self.pebble.flows.p50_ms)
    }

    fn p99_ratio(&self) -> f64 {
        ratio(self.certdesk.flows.p99_ms, self.pebble.flows.p99_ms)
    }
}

pub const NOTES: &[&str] = &[
    "a flow, for an ACME account that already exists: newOrder (one DNS name) → authorization → http-01 key \
     authorization put on the benchmark's responder → challenge ready → order polled every 5 ms until ready → \
     finalize with a fresh EC P-256 key's CSR → polled until valid → chain downloaded",
    "both arms run the same client: instant-acme over certdesk's HTTP adapter, one reqwest client, HTTP/1.1 with \
     kept-alive connections (Pebble serves HTTPS only, certdesk's loopback listener is plain HTTP)",
    "certdesk = the router in this process on its own runtime, as `certdesk serve` runs it (jobs and CRL refresher \
     included), issuer `private` on the stack's OpenBao, EAB-bound accounts; every order writes its ACME rows, \
     audit events, the certificate's inventory row, and issues through the pipeline (policy, quota, intent, OpenBao \
     sign, chain check)",
    "Pebble = the stack's Pebble (PEBBLE_VA_NOSLEEP=1, checked), signing in its own process, keeping all in memory",
    "both validate http-01 for real against the same responder, resolving the name through the stack's BIND",
    "ratios are certdesk/Pebble: flows/s < 1 and latency > 1 mean certdesk is slower by that factor",
    "CPU per flow is read from /proc around each block: client = this process without certdesk's runtime threads \
     (instant-acme's signatures, key generation, the responder), certdesk = its runtime's threads, DNS = BIND and \
     pebble-challtestsrv",
];

pub fn markdown(setup: &Setup, levels: &[Level]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ACME flows, {} per arm per level (+{} warm-up), arms interleaved in {} alternating blocks each; {} CPUs; \
         OpenBao {}.\n",
        setup.count, setup.warmup, setup.blocks_per_arm, setup.cpus, setup.openbao_version
    );
    out.push_str("| clients | arm | flows | flows/s | p50 (ms) | p99 (ms) | ACME requests per flow | http-01 fetches per flow |\n");
    out.push_str("|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for level in levels {
        for (arm, summary) in level.arms() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} |",
                level.concurrency,
                arm.label(),
                summary.flows.count,
                summary.flows.throughput,
                summary.flows.p50_ms,
                summary.flows.p99_ms,
                summary.requests_per_flow,
                summary.fetches_per_flow
            );
        }
    }
    let _ = writeln!(out, "\n| clients | flows/s ratio (certdesk/Pebble) | goal ≥ {GOAL} | p50 ratio | p99 ratio |");
    out.push_str("|---:|---:|---|---:|---:|\n");
    for level in levels {
        let met = if level.throughput_ratio() >= GOAL { "met" } else { "not met" };
        let _ = writeln!(
            out,
            "| {} | {:.2} | {met} | {:.2} | {:.2} |",
            level.concurrency,
            level.throughput_ratio(),
            level.p50_ratio(),
            level.p99_ratio()
        );
    }
    let _ = writeln!(out, "\n| clients | arm | CPU ms per flow: {} | all |", CPU_PARTS.join(" | "));
    let _ = writeln!(out, "|---:|---|{}---:|", "---:|".repeat(CPU_PARTS.len()));
    for level in levels {
        for (arm, summary) in level.arms() {
            let parts: Vec<String> = summary.cpu_ms.0.iter().map(|ms| format!("{ms:.2}")).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2} |",
                level.concurrency,
                arm.label(),
                parts.join(" | "),
                summary.cpu_ms.total()
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
                "pebble": level.pebble.json(),
                "ratios": { "flows_per_second": round(level.throughput_ratio()), "p50": round(level.p50_ratio()),
                            "p99": round(level.p99_ratio()) },
                "goal_met": level.throughput_ratio() >= GOAL,
            })
        })
        .collect();
    let mut document = setup.document("acme_flows", "flows", levels, NOTES);
    document.insert("goal_flows_per_second_ratio".into(), json!(GOAL));
    Value::Object(document)
}
