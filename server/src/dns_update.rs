//! ACME DNS-01 records through the company's DNS: TXT values added and removed by RFC 2136 dynamic updates signed
//! with TSIG (RFC 8945), and read back from the authoritative server, for the zones in `[[dns_servers]]`.

mod error;
pub mod name;
mod rfc2136;
/// Also asks certdesk's ACME validation's DNS questions (see `acme_server::validation::resolve`).
pub(crate) mod transport;

use std::sync::Arc;

use async_trait::async_trait;

pub use error::DnsUpdateError;
pub(crate) use error::rcode_mnemonic;
pub use rfc2136::Rfc2136Publisher;

use crate::config::{ConfigError, DnsServerConfig};

/// Publishes DNS-01 TXT values in one zone. Record names are absolute (`_acme-challenge.www.example.com`, trailing
/// dot optional, any case); a name outside the zone is refused before anything is sent.
#[async_trait]
pub trait TxtPublisher: Send + Sync + std::fmt::Debug {
    /// Adds one TXT value at `record` (absolute name, e.g. "_acme-challenge.www.dns01.certdesk.test"), keeping
    /// other values.
    async fn add_txt(&self, record: &str, value: &str, ttl: u32) -> Result<(), DnsUpdateError>;
    /// Removes exactly that value (absent is fine).
    async fn remove_txt(&self, record: &str, value: &str) -> Result<(), DnsUpdateError>;
    /// The TXT values the authoritative server now answers for `record` (to check before telling the CA).
    async fn txt_values(&self, record: &str) -> Result<Vec<String>, DnsUpdateError>;
}

/// The configured DNS servers, each serving one zone.
#[derive(Debug, Clone, Default)]
pub struct DnsServers {
    servers: Vec<Server>,
}

#[derive(Debug, Clone)]
struct Server {
    id: String,
    zone: String,
    publisher: Arc<dyn TxtPublisher>,
}

impl DnsServers {
    pub fn from_config(configs: &[DnsServerConfig]) -> Result<Self, ConfigError> {
        let servers = configs
            .iter()
            .map(|config| {
                let publisher = Rfc2136Publisher::new(config)?;
                Ok(Server { id: config.id.clone(), zone: config.zone.clone(), publisher: Arc::new(publisher) })
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Self { servers })
    }

    /// The server whose zone holds `name` (longest zone suffix wins), with its id. `name` may be the domain being
    /// validated (`www.example.com`, `*.example.com`) or its `_acme-challenge` record.
    pub fn for_name(&self, name: &str) -> Option<(&str, Arc<dyn TxtPublisher>)> {
        let trimmed = name.trim();
        let name = name::normalize_absolute_name(trimmed.strip_prefix("*.").unwrap_or(trimmed)).ok()?;
        self.servers
            .iter()
            .filter(|server| name::is_within(&name, &server.zone))
            .max_by_key(|server| server.zone.len())
            .map(|server| (server.id.as_str(), server.publisher.clone()))
    }

    pub fn get(&self, id: &str) -> Option<Arc<dyn TxtPublisher>> {
        self.servers.iter().find(|server| server.id == id).map(|server| server.publisher.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }
}

#[cfg(test)]
mod tests;
