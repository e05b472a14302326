//! Benchmark of GETs: the public ones relying parties and probes make (`/healthz`, a CRL, a 304 for it, the CA
//! certificate, an HTTP-01 answer, a CRL of 100,000 entries) and the per-request overhead of signed-in ones (an API
//! list with a token, the certificates page and the dashboard in a session): certdesk's release binary against its
//! peer, Debian's nginx serving the same bytes from disk, in one run against a running stack (`CERTDESK_BENCH_STACK_DIR`; `end2end/stack.sh bench`
//! starts one). Load comes from `wrk` (16 connections), the arms alternate in blocks (ABBA) so machine noise hits
//! both, and the result is a Markdown table of certdesk/nginx ratios with CPU per request, plus JSON in
//! `target/bench/public_gets.json`. Then the large CRL's refresh after one more revocation (see `large_crl`).
#![allow(clippy::print_stdout)]

mod support;

/// This benchmark's own parts, in `benches/public_gets/`.
mod public_gets {
    pub mod large_crl;
    pub mod load;
    pub mod servers;
    pub mod session;
}

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::json;
use time::OffsetDateTime;

use app::model::Role;
use public_gets::large_crl::{self, LargeCrl, Refresh};
use public_gets::load::{self, Load};
use public_gets::servers::{self, Server};
use support::certdesk_arm::{Certdesk, config_toml};
use support::harness;
use support::report::write_json;
use support::stack::{ScratchDatabase, Stack};

const CONNECTIONS: u32 = 16;
const DEFAULT_SECONDS: u64 = 4;
/// Blocks per arm and line, alternating which arm goes first.
const BLOCKS_PER_ARM: usize = 2;
const TOKEN: &str = "bench-http01-token-0123456789abcdef";
/// Revoked certificates in the large CRL (≈4 MB).
const LARGE_CRL_ENTRIES: usize = 100_000;

fn main() -> ExitCode {
    harness::main_with("public GETs", run)
}

/// One line of the table: what is asked, and the conditional header each arm's 304 needs.
struct Line {
    what: &'static str,
    path: String,
    certdesk_header: Option<String>,
    nginx_header: Option<String>,
}

#[derive(Default)]
struct Measured {
    load: Load,
    cpu_seconds: f64,
}

impl Measured {
    fn cpu_us_per_request(&self) -> f64 {
        if self.load.requests == 0 { 0.0 } else { self.cpu_seconds * 1e6 / self.load.requests as f64 }
    }
}

async fn run() -> Result<()> {
    let seconds = harness::count_from_env("CERTDESK_BENCH_SECONDS", DEFAULT_SECONDS)?;
    let stack = Stack::from_env()?;
    let database = ScratchDatabase::create(&stack).await?;
    eprintln!("[bench] scratch database {}", database.name());
    let measured = measure(&stack, &database, Duration::from_secs(seconds)).await;
    let dropped = database.drop_now().await;
    let (rows, refresh) = measured?;
    dropped?;

    println!("{}", markdown(&rows, seconds));
    println!("{}", refresh_markdown(&refresh));
    let document: Vec<_> = rows
        .iter()
        .map(|(line, certdesk, nginx)| {
            json!({ "what": line.what, "certdesk_per_second": certdesk.load.per_second(),
                    "nginx_per_second": nginx.load.per_second(),
                    "ratio": certdesk.load.per_second() / nginx.load.per_second().max(f64::MIN_POSITIVE),
                    "certdesk_p99_ms": certdesk.load.p99_ms, "nginx_p99_ms": nginx.load.p99_ms,
                    "certdesk_cpu_us_per_request": certdesk.cpu_us_per_request(),
                    "nginx_cpu_us_per_request": nginx.cpu_us_per_request() })
        })
        .collect();
    let document = json!({ "lines": document, "large_crl_refresh": {
        "entries": refresh.entries, "bytes": refresh.bytes, "certdesk_ms": refresh.certdesk.as_secs_f64() * 1e3,
        "openssl_verify_ms": refresh.openssl_verify.as_secs_f64() * 1e3 } });
    write_json("public_gets", &document)
}

async fn measure(
    stack: &Stack,
    database: &ScratchDatabase,
    duration: Duration,
) -> Result<(Vec<(Line, Measured, Measured)>, Refresh)> {
    // The schema, and one certificate with an HTTP-01 answer stored for it (as an ACME order leaves it).
    let certdesk_arm = Certdesk::prepare(stack, database.url.as_str()).await?;
    let issued = certdesk_arm.issue_answer("public-gets.cluster.local").await?;
    let certificate_id = issued["id"].as_str().and_then(|id| id.parse().ok()).context("the issued id")?;
    let challenge = certdesk::db::acme::NewChallenge {
        certificate_id,
        identifier: "public-gets.cluster.local",
        kind: "http-01",
        token: Some(TOKEN),
        response: "bench-http01-token-0123456789abcdef.key-authorization-thumbprint",
        dns_record: None,
        dns_server: None,
        now: OffsetDateTime::now_utc(),
    };
    certdesk::db::acme::insert_challenge(&certdesk_arm.pool, &challenge).await?;
    let chain_key = certdesk::audit::ChainKey::new(secrecy::SecretString::from("bench-large-crl".to_owned()));
    let mut large = tokio::task::spawn_blocking(|| LargeCrl::make(LARGE_CRL_ENTRIES)).await??;
    large.store(&certdesk_arm.pool, &chain_key).await?;
    let cookie =
        public_gets::session::signed_in_cookie(&certdesk_arm.pool, certdesk_arm.user_id, "Bench", Role::User).await?;
    let bearer = format!("Authorization: Bearer {}", certdesk_arm.token);

    let dir = std::env::temp_dir().join(format!("certdesk-bench-public-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let listen = format!("127.0.0.1:{}", servers::free_port()?);
    let config = config_toml(stack, database.url.as_str(), &listen)?;
    let binary = servers::certdesk_binary();
    eprintln!("[bench] certdesk {} on {listen}", binary.display());
    let certdesk = servers::certdesk(&binary, &dir, &config, format!("http://{listen}")).await?;

    let challenge_path = format!("/.well-known/acme-challenge/{TOKEN}");
    // What is asked, and the header certdesk needs for it (the signed-in lines' credentials).
    let asked: [(&str, Option<&str>); 8] = [
        ("/healthz", None),
        ("/crl/private.crl", None),
        ("/ca/private.der", None),
        (&challenge_path, None),
        (large_crl::PATH, None),
        ("/api/v1/certificates", Some(&bearer)),
        ("/certificates", Some(&cookie)),
        ("/", Some(&cookie)),
    ];
    let client = reqwest::Client::new();
    let mut files = Vec::new();
    for (path, header) in asked {
        let mut request = client.get(format!("{}{path}", certdesk.base));
        if let Some((name, value)) = header.and_then(|header| header.split_once(": ")) {
            request = request.header(name, value);
        }
        let response = request.send().await?;
        ensure!(response.status().is_success(), "certdesk answered {} for {path}", response.status());
        // A page served to a signed-out browser would be the sign-in redirect, not the page.
        ensure!(response.url().path() == path, "certdesk redirected {path} to {}", response.url());
        files.push((path, response.bytes().await?.to_vec()));
    }
    let nginx = servers::nginx(&dir, servers::free_port()?, &files).await?;
    let crl_etags = (etag_of(&client, &certdesk, asked[1].0).await?, etag_of(&client, &nginx, asked[1].0).await?);

    let line = |what, (path, header): (&str, Option<&str>)| Line {
        what,
        path: path.to_owned(),
        certdesk_header: header.map(str::to_owned),
        nginx_header: None,
    };
    let lines = vec![
        line("GET /healthz", asked[0]),
        line("GET /crl/private.crl", asked[1]),
        Line {
            what: "GET /crl/private.crl, 304",
            path: asked[1].0.to_owned(),
            certdesk_header: Some(format!("If-None-Match: {}", crl_etags.0)),
            nginx_header: Some(format!("If-None-Match: {}", crl_etags.1)),
        },
        line("GET /ca/private.der", asked[2]),
        line("GET /.well-known/acme-challenge/…", asked[3]),
        line("GET /crl/root.crl, 100,000 entries", asked[4]),
        line("GET /api/v1/certificates (API token)", asked[5]),
        line("GET /certificates (signed-in page)", asked[6]),
        line("GET / (signed-in dashboard)", asked[7]),
    ];
    let mut rows = Vec::new();
    for line in lines {
        let (mut certdesk_total, mut nginx_total) = (Measured::default(), Measured::default());
        for block in 0..BLOCKS_PER_ARM * 2 {
            // ABBA: certdesk, nginx, nginx, certdesk.
            let certdesk_turn = matches!(block % 4, 0 | 3);
            let (server, header, total) = if certdesk_turn {
                (&certdesk, line.certdesk_header.clone(), &mut certdesk_total)
            } else {
                (&nginx, line.nginx_header.clone(), &mut nginx_total)
            };
            let before = server.cpu_seconds()?;
            let url = format!("{}{}", server.base, line.path);
            let measured =
                tokio::task::spawn_blocking(move || load::run(&url, header.as_deref(), CONNECTIONS, duration))
                    .await??;
            total.cpu_seconds += server.cpu_seconds()? - before;
            total.load.add(measured);
        }
        eprintln!(
            "[bench] {}: certdesk {:.0}/s, nginx {:.0}/s",
            line.what,
            certdesk_total.load.per_second(),
            nginx_total.load.per_second()
        );
        rows.push((line, certdesk_total, nginx_total));
    }
    let refresh = large.refresh(&certdesk_arm.pool, &chain_key, &certdesk, &dir).await;
    drop((certdesk, nginx));
    let _ = std::fs::remove_dir_all(&dir);
    Ok((rows, refresh?))
}

async fn etag_of(client: &reqwest::Client, server: &Server, path: &str) -> Result<String> {
    let response = client.get(format!("{}{path}", server.base)).send().await?;
    let etag = response.headers().get("etag").and_then(|value| value.to_str().ok()).map(str::to_owned);
    etag.with_context(|| format!("no ETag on {path}"))
}

fn markdown(rows: &[(Line, Measured, Measured)], seconds: u64) -> String {
    let mut text = format!(
        "### GETs: certdesk vs nginx serving the same bytes ({CONNECTIONS} connections, wrk, {} × {seconds} s per arm and line)\n\n\
         | GET | certdesk req/s | nginx req/s | ratio | p99 certdesk / nginx | CPU per request certdesk / nginx |\n\
         |---|---|---|---|---|---|\n",
        BLOCKS_PER_ARM
    );
    for (line, certdesk, nginx) in rows {
        let ratio = certdesk.load.per_second() / nginx.load.per_second().max(f64::MIN_POSITIVE);
        text.push_str(&format!(
            "| {} | {:.0} | {:.0} | {ratio:.2} | {:.2} ms / {:.2} ms | {:.0} µs / {:.0} µs |\n",
            line.what,
            certdesk.load.per_second(),
            nginx.load.per_second(),
            certdesk.load.p99_ms,
            nginx.load.p99_ms,
            certdesk.cpu_us_per_request(),
            nginx.cpu_us_per_request(),
        ));
    }
    text
}

fn refresh_markdown(refresh: &Refresh) -> String {
    let (certdesk, openssl) = (refresh.certdesk.as_secs_f64() * 1e3, refresh.openssl_verify.as_secs_f64() * 1e3);
    format!(
        "### A large CRL after one more revocation ({} entries, {:.1} MB)\n\n\
         | step | ms |\n|---|---|\n\
         | certdesk: the new CRL checked and stored, until the running server answers with it | {certdesk:.0} |\n\
         | peer: `openssl crl` verifying the same CRL's signature | {openssl:.0} |\n\
         | ratio openssl / certdesk | {:.2} |\n",
        refresh.entries,
        refresh.bytes as f64 / 1e6,
        openssl / certdesk.max(f64::MIN_POSITIVE),
    )
}
