//! The configured issuers. For now: how to reach each one and whether it answers (for `/readyz`); issuance and
//! revocation plug in behind the same registry.

mod probe;

use std::collections::BTreeMap;
use std::time::Duration;

use app::model::{IssuerKind, IssuerSummary};

use crate::config::{ConfigError, IssuerConfig, IssuerKindConfig};

pub use probe::ProbeResult;

/// Readiness probes must answer well inside a load balancer's check interval.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct Issuer {
    pub config: IssuerConfig,
    http: reqwest::Client,
}

impl Issuer {
    pub fn summary(&self) -> IssuerSummary {
        IssuerSummary {
            id: self.config.id.clone(),
            display_name: self.config.display_name.clone(),
            kind: match self.config.kind {
                IssuerKindConfig::Vault { .. } => IssuerKind::Vault,
                IssuerKindConfig::Acme { .. } => IssuerKind::Acme,
            },
        }
    }

    pub async fn probe(&self) -> ProbeResult {
        probe::probe(&self.http, &self.config.kind).await
    }
}

/// Issuers by id, in configuration order for display.
#[derive(Debug, Clone, Default)]
pub struct IssuerRegistry {
    issuers: Vec<Issuer>,
}

impl IssuerRegistry {
    pub fn from_config(configs: &[IssuerConfig]) -> Result<Self, ConfigError> {
        let issuers = configs
            .iter()
            .enumerate()
            .map(|(index, config)| {
                let builder = reqwest::Client::builder().timeout(PROBE_TIMEOUT).user_agent("certdesk");
                let builder = crate::config::trusting(
                    builder,
                    config.ca_bundle_pem.as_deref(),
                    &format!("issuers[{index}].ca_bundle"),
                )?;
                let http = builder.build().map_err(|error| {
                    ConfigError::invalid(format!("issuers[{index}]"), format!("cannot build an HTTP client: {error}"))
                })?;
                Ok(Issuer { config: config.clone(), http })
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Self { issuers })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Issuer> {
        self.issuers.iter()
    }

    /// Probes every issuer concurrently.
    pub async fn probe_all(&self) -> BTreeMap<String, ProbeResult> {
        let probes = self.issuers.iter().map(|issuer| async move { (issuer.config.id.clone(), issuer.probe().await) });
        futures_util::future::join_all(probes).await.into_iter().collect()
    }
}
