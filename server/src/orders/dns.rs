//! DNS-01 answers through the configured `[[dns_servers]]` (RFC 2136 updates signed with TSIG): publish the TXT
//! record, wait until the authoritative server answers it before the CA is told to look, and remove it afterwards.

use std::time::Duration;

use crate::state::AppState;

/// How long an authoritative server may take to answer a record it accepted (secondaries, journal writes).
const VISIBLE_WITHIN: Duration = Duration::from_secs(20);

pub async fn publish_txt(
    state: &AppState,
    server_id: &str,
    record: &str,
    value: &str,
    ttl: u32,
) -> Result<(), PublishFailure> {
    let Some(server) = state.dns_servers.get(server_id) else {
        return Err(PublishFailure::Final(format!("the DNS server `{server_id}` for DNS-01 is not configured")));
    };
    server.add_txt(record, value, ttl).await.map_err(|error| {
        if error.is_transient() {
            PublishFailure::Later(error.to_string())
        } else {
            PublishFailure::Final(format!("publishing the DNS-01 record {record} failed: {error}"))
        }
    })?;
    let started = std::time::Instant::now();
    loop {
        match server.txt_values(record).await {
            Ok(values) if values.iter().any(|published| published == value) => return Ok(()),
            Ok(_) | Err(_) if started.elapsed() < VISIBLE_WITHIN => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            Ok(_) => {
                return Err(PublishFailure::Final(format!(
                    "the DNS server `{server_id}` accepted the TXT record {record} but does not answer it"
                )));
            }
            Err(error) => return Err(PublishFailure::Later(error.to_string())),
        }
    }
}

pub async fn remove_txt(state: &AppState, server_id: &str, record: &str, value: &str) -> Result<(), String> {
    let Some(server) = state.dns_servers.get(server_id) else {
        return Err(format!("the DNS server `{server_id}` is not configured"));
    };
    server.remove_txt(record, value).await.map_err(|error| error.to_string())
}

/// Why a challenge's answer was not published.
pub enum PublishFailure {
    /// The answer cannot be published: the request fails with this reason.
    Final(String),
    /// The DNS server is unreachable right now: try again later.
    Later(String),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for PublishFailure {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}
