//! The large-CRL lines: a CRL of 100,000 revoked certificates (≈4 MB) from a throw-away root, stored as certdesk
//! stores a fetched CRL (checked, then put, which tells every replica), and the refresh after one more revocation:
//! from the moment the new CRL is handed to certdesk until the running server answers with it. Its peer is
//! `openssl crl` verifying the same CRL's signature, the least any server must do with a CRL it did not make.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use certdesk::audit::ChainKey;
use certdesk::ceremony::{RevokedEntry, RootCrlOptions, RootOptions, RootSigner, init_root, root_crl};
use certdesk::crl::checked::check;
use certdesk::crl::store::store;
use rcgen::RevocationReason;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::servers::Server;

/// Where certdesk serves it (the name certdesk keeps the offline root's CRL under).
pub const PATH: &str = "/crl/root.crl";

pub struct LargeCrl {
    signer: RootSigner,
    pub root_der: Vec<u8>,
    revoked: Vec<RevokedEntry>,
    number: u64,
    pub der: Vec<u8>,
}

/// What the refresh took, certdesk's and the peer's.
pub struct Refresh {
    pub entries: usize,
    pub bytes: usize,
    /// From handing the new CRL to certdesk (check + store) to the server's first answer with it.
    pub certdesk: Duration,
    /// `openssl crl -verify` of the same file.
    pub openssl_verify: Duration,
}

impl LargeCrl {
    /// A root and its CRL revoking `entries` certificates (serials of 16 random-looking octets, as CAs make them).
    pub fn make(entries: usize) -> Result<Self> {
        let root =
            init_root(&RootOptions { common_name: "Bench Large CRL Root".into(), organization: None, days: 30 })?;
        let signer = RootSigner::from_pem(&root.cert_pem, &root.key_pem)?;
        let root_der = pem::parse(&root.cert_pem)?.into_contents();
        let revoked = (0..entries).map(entry).collect();
        let mut large = Self { signer, root_der, revoked, number: 0, der: Vec::new() };
        large.sign_next()?;
        Ok(large)
    }

    fn sign_next(&mut self) -> Result<()> {
        self.number += 1;
        let options = RootCrlOptions { crl_number: self.number, next_update_days: 7, revoked: self.revoked.clone() };
        self.der = root_crl(&self.signer, &options)?.der;
        Ok(())
    }

    /// Stores the current CRL as certdesk does a fetched one.
    pub async fn store(&self, pool: &PgPool, key: &ChainKey) -> Result<()> {
        let checked = check(&self.der, &self.root_der, Some(&self.root_der))?;
        store(pool, key, "root", None, &checked, OffsetDateTime::now_utc()).await?;
        Ok(())
    }

    /// One more revocation: the new CRL handed to certdesk, then `server` asked until it answers with it.
    pub async fn refresh(&mut self, pool: &PgPool, key: &ChainKey, server: &Server, dir: &Path) -> Result<Refresh> {
        let served_before = etag(server).await?;
        self.revoked.push(entry(self.revoked.len()));
        self.sign_next()?;
        let started = Instant::now();
        self.store(pool, key).await?;
        loop {
            let now_served = etag(server).await?;
            if now_served != served_before {
                break;
            }
            ensure!(started.elapsed() < Duration::from_secs(30), "the new CRL was not served within 30 s");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let certdesk = started.elapsed();
        Ok(Refresh {
            entries: self.revoked.len(),
            bytes: self.der.len(),
            certdesk,
            openssl_verify: self.openssl_verify(dir)?,
        })
    }

    fn openssl_verify(&self, dir: &Path) -> Result<Duration> {
        let crl = dir.join("large.crl");
        let root = dir.join("large-root.pem");
        std::fs::write(&crl, &self.der)?;
        std::fs::write(&root, pem::encode(&pem::Pem::new("CERTIFICATE", self.root_der.clone())))?;
        let started = Instant::now();
        let output = Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-in"])
            .arg(&crl)
            .arg("-CAfile")
            .arg(&root)
            .output()
            .context("running openssl crl")?;
        let took = started.elapsed();
        let said = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() || !said.contains("verify OK") {
            bail!("openssl crl did not verify the large CRL: {said}");
        }
        Ok(took)
    }
}

fn entry(index: usize) -> RevokedEntry {
    // Positive (top bit clear) and never zero, like the serials CAs assign.
    let mut serial = vec![0x1c; 16];
    serial[8..].copy_from_slice(&(index as u64 + 1).to_be_bytes());
    RevokedEntry { serial, reason: RevocationReason::Superseded, revoked_at: OffsetDateTime::now_utc() }
}

async fn etag(server: &Server) -> Result<String> {
    let response = reqwest::Client::new().head(format!("{}{PATH}", server.base)).send().await?;
    ensure!(response.status().is_success(), "certdesk answered {} for {PATH}", response.status());
    let etag = response.headers().get("etag").and_then(|value| value.to_str().ok()).map(str::to_owned);
    etag.context("no ETag on the large CRL")
}
