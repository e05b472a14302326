//! The peer arm: OpenBao used directly, as a script or another tool would, with certdesk's own AppRole and the
//! same role (`pki_private_issuer/sign/certdesk-demo-ec`): a fresh EC P-256 key and CSR made with
//! `certdesk::keys`, one `sign` call over a plain reqwest client, the certificate read from the answer.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use certdesk::keys::{self, KeyType};
use certdesk::names::normalize_dns_name;
use reqwest::Url;
use serde_json::{Value, json};

use super::stack::Stack;

pub const MOUNT: &str = "pki_private_issuer";
pub const ROLE: &str = "certdesk-demo-ec";

pub struct Peer {
    pub client: reqwest::Client,
    sign_url: Url,
    pub token: String,
}

impl Peer {
    /// Logs in once with the stack's AppRole; the token is reused, as certdesk's issuer reuses its own.
    pub async fn login(stack: &Stack) -> Result<Self> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build()?;
        let login = stack.bao_address.join("v1/auth/approle/login")?;
        let body = json!({ "role_id": stack.read_openbao("role_id")?, "secret_id": stack.read_openbao("secret_id")? });
        let response = client.post(login).json(&body).send().await.context("AppRole login")?;
        let status = response.status();
        let answer: Value = response.json().await.context("AppRole login answer")?;
        let Some(token) = answer["auth"]["client_token"].as_str() else {
            bail!("AppRole login answered {status} without a token");
        };
        let sign_url = stack.bao_address.join(&format!("v1/{MOUNT}/sign/{ROLE}"))?;
        Ok(Self { client, sign_url, token: token.to_owned() })
    }

    /// The server's version, from `sys/health`, for the report.
    pub async fn server_version(&self, stack: &Stack) -> String {
        let answer = match stack.bao_address.join("v1/sys/health") {
            Ok(url) => self.client.get(url).send().await.ok(),
            Err(_) => None,
        };
        let version = match answer {
            Some(response) => response.json::<Value>().await.ok().map(|health| health["version"].clone()),
            None => None,
        };
        version.and_then(|version| version.as_str().map(str::to_owned)).unwrap_or_else(|| "(unknown)".into())
    }

    /// One certificate for `name`, valid for a day, like certdesk's request.
    pub async fn issue(&self, name: &str) -> Result<()> {
        self.sign(name).await.map(|_| ())
    }

    /// `issue`, answering OpenBao's `data` (certificate, serial_number…).
    pub async fn sign(&self, name: &str) -> Result<Value> {
        let key = tokio::task::spawn_blocking(|| keys::generate(KeyType::EcP256)).await??;
        let csr = keys::build_csr(&key, Some(name), &[normalize_dns_name(name)?], &[])?;
        let body = json!({ "csr": csr, "common_name": name, "ttl": "86400s", "format": "pem",
                           "exclude_cn_from_sans": false });
        let response =
            self.client.post(self.sign_url.clone()).header("X-Vault-Token", &self.token).json(&body).send().await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        if !status.is_success() || !answer["data"]["certificate"].as_str().is_some_and(|pem| pem.contains("BEGIN")) {
            bail!("OpenBao answered {status} for {name}: {answer}");
        }
        Ok(answer["data"].clone())
    }
}
