//! One timed revocation per arm: send it, then poll that arm's CRL until it lists the serial (every 10 ms, the
//! same on both arms), and the latency summaries.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::support::certdesk_arm::Certdesk;
use crate::support::peer::{MOUNT, Peer};
use crate::support::stack::Stack;
use crate::support::stats::{millis, percentile};

const POLL: Duration = Duration::from_millis(10);
const GIVE_UP: Duration = Duration::from_secs(120);

pub struct Issued {
    /// certdesk's certificate id (the peer has none).
    id: String,
    /// "3a:0f:01".
    serial: String,
}

impl Issued {
    pub fn from_certdesk(answer: &Value) -> Result<Self> {
        Ok(Self {
            id: answer["id"].as_str().context("certdesk answered no id")?.to_owned(),
            serial: answer["serial"].as_str().context("certdesk answered no serial")?.to_owned(),
        })
    }

    pub fn from_openbao(data: &Value) -> Result<Self> {
        let serial = data["serial_number"].as_str().context("OpenBao answered no serial_number")?;
        Ok(Self { id: String::new(), serial: serial.trim_start_matches("00:").to_owned() })
    }
}

/// Is `serial` ("3a:0f:01") on the DER CRL?
fn lists(crl_der: &[u8], serial: &str) -> bool {
    let Ok((_, crl)) = CertificateRevocationList::from_der(crl_der) else { return false };
    crl.iter_revoked_certificates().any(|entry| certdesk::bundle::serial_colon_of(entry.raw_serial()) == serial)
}

async fn certdesk_crl(certdesk: &Certdesk) -> Result<(StatusCode, Vec<u8>)> {
    let response = certdesk.router.clone().oneshot(Request::get("/crl/private.crl").body(Body::empty())?).await?;
    let status = response.status();
    Ok((status, axum::body::to_bytes(response.into_body(), 1 << 24).await?.to_vec()))
}

pub async fn wait_for_first_crl(certdesk: &Certdesk) -> Result<()> {
    let started = Instant::now();
    while certdesk_crl(certdesk).await?.0 != StatusCode::OK {
        if started.elapsed() > GIVE_UP {
            bail!("certdesk served no CRL within {GIVE_UP:?}");
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

pub async fn certdesk_revocation(certdesk: &Certdesk, issued: &Issued) -> Result<Duration> {
    let started = Instant::now();
    let request = Request::post(format!("/api/v1/certificates/{}/revoke", issued.id))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", certdesk.token))
        .body(Body::from(json!({ "reason": "superseded" }).to_string()))?;
    let response = certdesk.router.clone().oneshot(request).await?;
    if response.status() != StatusCode::OK {
        bail!("certdesk answered {} to a revocation", response.status());
    }
    loop {
        let (status, body) = certdesk_crl(certdesk).await?;
        if status == StatusCode::OK && lists(&body, &issued.serial) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > GIVE_UP {
            bail!("certdesk's CRL did not list {} within {GIVE_UP:?}", issued.serial);
        }
        tokio::time::sleep(POLL).await;
    }
}

pub async fn peer_revocation(stack: &Stack, peer: &Peer, issued: &Issued) -> Result<Duration> {
    let revoke = stack.bao_address.join(&format!("v1/{MOUNT}/revoke"))?;
    let crl = stack.bao_address.join(&format!("v1/{MOUNT}/crl"))?;
    let started = Instant::now();
    let response = peer
        .client
        .post(revoke)
        .header("X-Vault-Token", &peer.token)
        .json(&json!({ "serial_number": issued.serial }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("OpenBao answered {} to a revocation", response.status());
    }
    loop {
        let body = peer.client.get(crl.clone()).send().await?.bytes().await?;
        if lists(&body, &issued.serial) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > GIVE_UP {
            bail!("OpenBao's CRL did not list {} within {GIVE_UP:?}", issued.serial);
        }
        tokio::time::sleep(POLL).await;
    }
}

pub struct Latencies {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub count: usize,
}

impl Latencies {
    pub fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let at = |p: f64| millis(percentile(&samples, p));
        Self { p50_ms: at(0.50), p99_ms: at(0.99), max_ms: at(1.0), count: samples.len() }
    }

    pub fn json(&self) -> Value {
        json!({ "count": self.count, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms })
    }
}
