//! Is an issuer reachable and able to work? Vault/OpenBao: `sys/health` (unsealed, initialised). ACME: the
//! directory document answers and names `newNonce`.

use serde::Serialize;

use crate::config::IssuerKindConfig;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    pub ok: bool,
    /// Short and safe to publish: no addresses, tokens or upstream bodies.
    pub detail: String,
}

impl ProbeResult {
    pub fn up() -> Self {
        Self { ok: true, detail: "reachable".into() }
    }

    pub fn down(detail: impl Into<String>) -> Self {
        Self { ok: false, detail: detail.into() }
    }
}

pub async fn probe(http: &reqwest::Client, kind: &IssuerKindConfig) -> ProbeResult {
    match kind {
        IssuerKindConfig::Vault { address, .. } => {
            let Ok(url) = address.join("v1/sys/health?standbyok=true&perfstandbyok=true") else {
                return ProbeResult::down("bad address");
            };
            match http.get(url).send().await {
                Ok(response) => match response.status().as_u16() {
                    200 | 429 | 473 => ProbeResult::up(),
                    503 => ProbeResult::down("sealed"),
                    501 => ProbeResult::down("not initialised"),
                    status => ProbeResult::down(format!("unhealthy (HTTP {status})")),
                },
                Err(error) => ProbeResult::down(describe_transport_error(&error)),
            }
        }
        IssuerKindConfig::Acme(acme) => match http.get(acme.directory_url.clone()).send().await {
            Ok(response) if response.status().is_success() => match response.json::<serde_json::Value>().await {
                Ok(directory) if directory.get("newNonce").is_some() => ProbeResult::up(),
                _ => ProbeResult::down("answered, but not with an ACME directory"),
            },
            Ok(response) => ProbeResult::down(format!("unhealthy (HTTP {})", response.status().as_u16())),
            Err(error) => ProbeResult::down(describe_transport_error(&error)),
        },
    }
}

fn describe_transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "unreachable".into()
    } else {
        "request failed".into()
    }
}
