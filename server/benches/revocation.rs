//! Benchmark of revocation latency: how long after a revocation request the served CRL lists the certificate.
//! certdesk (`POST /api/v1/certificates/{id}/revoke` through the router, then `GET /crl/private.crl` until the
//! serial is on it: OpenBao revokes, the refresher rebuilds, fetches, checks and stores the CRL) against its real
//! peer, OpenBao used directly (`revoke`, then its own `GET /v1/{mount}/crl` until the serial is on it). Both arms
//! alternate revocation by revocation on the same mount, in one run against a running stack; the report gives
//! p50/p99 of each and certdesk/peer ratios, plus the issue's bound: certdesk within 60 s.
#![allow(clippy::print_stdout)]

mod support;

/// This benchmark's own part, in `benches/revocation/` (declared inside a module named after the benchmark, as
/// `benches/issuance.rs` does).
mod revocation {
    pub mod probes;
}

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, ensure};
use serde_json::json;

use revocation::probes;
use support::certdesk_arm::Certdesk;
use support::harness;
use support::peer::Peer;
use support::report::write_json;
use support::stack::{ScratchDatabase, Stack};

const DEFAULT_REVOCATIONS: usize = 40;
/// The issue's bound on "a revocation shows up in the served CRL".
const BOUND: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    harness::main_with("revocation", run)
}

async fn run() -> Result<()> {
    let revocations = harness::count_from_env("CERTDESK_BENCH_REVOCATIONS", DEFAULT_REVOCATIONS as u64)? as usize;
    let stack = Stack::from_env()?;
    let database = ScratchDatabase::create(&stack).await?;
    eprintln!("[bench] scratch database {}", database.name());
    let measured = measure(&stack, &database, revocations).await;
    let dropped = database.drop_now().await;
    let (certdesk, peer) = measured?;
    dropped?;

    let (certdesk, peer) = (probes::Latencies::of(certdesk), probes::Latencies::of(peer));
    let ratio = |ours: f64, theirs: f64| if theirs > 0.0 { ours / theirs } else { f64::NAN };
    println!("### Revocation → served CRL ({revocations} revocations per arm, interleaved)\n");
    println!("| arm | p50 (ms) | p99 (ms) | max (ms) |\n|---|---:|---:|---:|");
    println!(
        "| certdesk (revoke API → /crl/private.crl) | {:.1} | {:.1} | {:.1} |",
        certdesk.p50_ms, certdesk.p99_ms, certdesk.max_ms
    );
    println!(
        "| OpenBao direct (revoke → /v1/pki/crl) | {:.1} | {:.1} | {:.1} |",
        peer.p50_ms, peer.p99_ms, peer.max_ms
    );
    println!(
        "\nratios certdesk/peer: p50 {:.2}, p99 {:.2}; every certdesk revocation on the served CRL within {} s: {}",
        ratio(certdesk.p50_ms, peer.p50_ms),
        ratio(certdesk.p99_ms, peer.p99_ms),
        BOUND.as_secs(),
        certdesk.max_ms < BOUND.as_secs_f64() * 1000.0,
    );
    let report = json!({
        "revocations_per_arm": revocations,
        "certdesk": certdesk.json(), "peer": peer.json(),
        "ratio_p50": ratio(certdesk.p50_ms, peer.p50_ms), "ratio_p99": ratio(certdesk.p99_ms, peer.p99_ms),
        "bound_ms": BOUND.as_millis() as u64,
    });
    write_json("revocation", &report)?;
    ensure!(
        certdesk.max_ms < BOUND.as_secs_f64() * 1000.0,
        "a revocation took longer than {} s to reach the CRL",
        BOUND.as_secs()
    );
    Ok(())
}

/// Issues `revocations` certificates per arm, then revokes them alternately, timing each until its CRL lists it.
async fn measure(
    stack: &Stack,
    database: &ScratchDatabase,
    revocations: usize,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let (certdesk, state) = Certdesk::prepare_with_state(stack, database.url.as_str()).await?;
    certdesk::crl::refresher::spawn_all(&state);
    let peer = Peer::login(stack).await?;
    let stamp = uuid::Uuid::new_v4().simple().to_string();
    eprintln!("[bench] issuing {revocations} certificates per arm");
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for index in 0..revocations {
        let answer = certdesk.issue_answer(&format!("rv-c{index}-{}.cluster.local", &stamp[..8])).await?;
        ours.push(probes::Issued::from_certdesk(&answer)?);
        let signed = peer.sign(&format!("rv-p{index}-{}.cluster.local", &stamp[..8])).await?;
        theirs.push(probes::Issued::from_openbao(&signed)?);
    }
    // Let the refresher settle on a first CRL, so the first measurement is not a cold start.
    probes::wait_for_first_crl(&certdesk).await?;
    let mut certdesk_latencies = Vec::new();
    let mut peer_latencies = Vec::new();
    for (index, (mine, other)) in ours.iter().zip(&theirs).enumerate() {
        if index % 10 == 0 {
            eprintln!("[bench] revocation {index}/{revocations}");
        }
        // Alternate which arm goes first, so drift over the run hits both.
        if index % 2 == 0 {
            certdesk_latencies.push(probes::certdesk_revocation(&certdesk, mine).await?);
            peer_latencies.push(probes::peer_revocation(stack, &peer, other).await?);
        } else {
            peer_latencies.push(probes::peer_revocation(stack, &peer, other).await?);
            certdesk_latencies.push(probes::certdesk_revocation(&certdesk, mine).await?);
        }
    }
    Ok((certdesk_latencies, peer_latencies))
}
