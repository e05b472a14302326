//! The configured issuers: how to reach each one, whether it answers (for `/readyz`), and the certificate
//! authority behind it (`authority`): OpenBao/Vault PKI (`vault`), which signs at once, or an ACME CA (`acme`),
//! which finishes orders later.

pub mod acme;
mod authority;
mod probe;
pub mod vault;

use std::sync::Arc;

use std::collections::BTreeMap;
use std::time::Duration;

use app::model::{IssuerKind, IssuerSummary};

use sqlx::PgPool;

use crate::config::{ConfigError, IssuerConfig, IssuerKindConfig};
use crate::sealing::Sealer;

pub use acme::AcmeIssuer;
pub use authority::{CertificateAuthority, Issued, IssuerError, PublishedCrl, RenewalInfo, Signed, SigningRequest};
pub use probe::ProbeResult;

/// Readiness probes must answer well inside a load balancer's check interval.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// One ACME request; orders themselves are polled, so no single call needs long.
const ACME_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct Issuer {
    pub config: IssuerConfig,
    http: reqwest::Client,
    authority: Arc<dyn CertificateAuthority>,
    /// Set for ACME issuers, for the order driver (`orders`), which speaks ACME; everything else goes through
    /// `authority`.
    acme: Option<Arc<AcmeIssuer>>,
}

impl Issuer {
    pub fn summary(&self) -> IssuerSummary {
        IssuerSummary {
            id: self.config.id.clone(),
            display_name: self.config.display_name.clone(),
            kind: match self.config.kind {
                IssuerKindConfig::Vault { .. } => IssuerKind::Vault,
                IssuerKindConfig::Acme(_) => IssuerKind::Acme,
            },
        }
    }

    /// The ACME protocol side of an ACME issuer, for the order driver only.
    pub fn acme(&self) -> Option<&AcmeIssuer> {
        self.acme.as_deref()
    }

    /// The CA behind this issuer.
    pub fn authority(&self) -> &dyn CertificateAuthority {
        self.authority.as_ref()
    }

    pub async fn probe(&self) -> ProbeResult {
        probe::probe(&self.http, &self.config.kind).await
    }
}

/// An HTTP client for one issuer that trusts its configured CA bundle.
fn http_client(config: &IssuerConfig, index: usize, timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    let builder = reqwest::Client::builder().timeout(timeout).user_agent("certdesk");
    crate::config::trusting(builder, config.ca_bundle_pem.as_deref(), &format!("issuers[{index}].ca_bundle"))?
        .build()
        .map_err(|error| {
            ConfigError::invalid(format!("issuers[{index}]"), format!("cannot build an HTTP client: {error}"))
        })
}

/// Issuers by id, in configuration order for display.
#[derive(Debug, Clone, Default)]
pub struct IssuerRegistry {
    issuers: Vec<Issuer>,
}

impl IssuerRegistry {
    /// The pool and sealer are for ACME accounts, which are stored sealed in the database.
    pub fn from_config(configs: &[IssuerConfig], pool: &PgPool, sealer: Option<&Sealer>) -> Result<Self, ConfigError> {
        let issuers = configs
            .iter()
            .enumerate()
            .map(|(index, config)| {
                let http = http_client(config, index, PROBE_TIMEOUT)?;
                let mut acme = None;
                let authority: Arc<dyn CertificateAuthority> = match &config.kind {
                    IssuerKindConfig::Vault { address, mount, role, approle, .. } => {
                        Arc::new(vault::VaultIssuer::new(
                            &config.id,
                            address,
                            mount,
                            role,
                            approle.clone(),
                            config.ca_bundle_path.clone(),
                            // Its own client: fetching a large CRL may take longer than a readiness probe may.
                            http_client(config, index, vault::REQUEST_TIMEOUT)?,
                        ))
                    }
                    IssuerKindConfig::Acme(acme_config) => {
                        let issuer = Arc::new(AcmeIssuer::new(
                            &config.id,
                            Arc::new(acme_config.clone()),
                            http_client(config, index, ACME_TIMEOUT)?,
                            pool.clone(),
                            sealer.cloned(),
                        ));
                        acme = Some(issuer.clone());
                        issuer
                    }
                };
                Ok(Issuer { config: config.clone(), http, authority, acme })
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Self { issuers })
    }

    pub fn get(&self, id: &str) -> Option<&Issuer> {
        self.issuers.iter().find(|issuer| issuer.config.id == id)
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
