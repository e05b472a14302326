//! tls-alpn-01 (RFC 8737): a TLS handshake with the name's address on `tls_alpn01_port`, SNI the name, offering
//! only the `acme-tls/1` protocol; the server must choose it and present the certificate `certificate` checks.

mod certificate;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use super::resolve::Resolver;
use super::{Challenge, ValidationFailure, any_certificate, describe_io};
use crate::config::ConfigError;

/// RFC 8737 §6.2.
const ACME_TLS_1: &[u8] = b"acme-tls/1";

#[derive(Clone)]
pub(super) struct Prober {
    resolver: Arc<Resolver>,
    port: u16,
    connector: TlsConnector,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Prober {
    pub(super) fn new(resolver: Arc<Resolver>, port: u16) -> Result<Self, ConfigError> {
        let config = any_certificate::client_config(ACME_TLS_1)?;
        Ok(Self { resolver, port, connector: TlsConnector::from(Arc::new(config)) })
    }

    pub(super) async fn validate(&self, challenge: &Challenge<'_>, deadline: Instant) -> Result<(), ValidationFailure> {
        let name = challenge.identifier;
        let addresses = tokio::time::timeout_at(deadline, self.resolver.addresses(name, deadline))
            .await
            .map_err(|_| ValidationFailure::dns(format!("DNS problem: query timed out looking up A for {name}")))??;
        let (stream, address) = connect(&addresses, self.port, deadline).await?;
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|_| ValidationFailure::tls(format!("`{name}` cannot be sent as the TLS server name")))?;
        let tls = match tokio::time::timeout_at(deadline, self.connector.connect(server_name, stream)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(error)) => return Err(handshake_failure(address, &error)),
            Err(_) => {
                return Err(ValidationFailure::connection(format!(
                    "{address}: Timeout during the TLS handshake (the server may be slow or overloaded)"
                )));
            }
        };
        let (_, session) = tls.get_ref();
        if session.alpn_protocol() != Some(ACME_TLS_1) {
            return Err(ValidationFailure::tls(format!(
                "{address}: the server did not choose the acme-tls/1 protocol (RFC 8737); is a tls-alpn-01 responder \
                 serving {name}?"
            )));
        }
        let Some(leaf) = session.peer_certificates().and_then(|chain| chain.first()) else {
            return Err(ValidationFailure::tls(format!("{address}: the server presented no certificate")));
        };
        certificate::check(leaf, name, challenge.key_authorization, &address.to_string())
    }
}

/// The first address that accepts a connection, tried in order (IPv6 first), as Boulder does.
async fn connect(
    addresses: &[IpAddr],
    port: u16,
    deadline: Instant,
) -> Result<(TcpStream, SocketAddr), ValidationFailure> {
    let mut failures = Vec::new();
    for ip in addresses {
        let address = SocketAddr::new(*ip, port);
        match tokio::time::timeout_at(deadline, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => return Ok((stream, address)),
            Ok(Err(error)) => failures.push(format!("{address}: {}", describe_io(&error))),
            Err(_) => {
                failures.push(format!("{address}: Timeout during connect (likely firewall problem)"));
                break;
            }
        }
    }
    Err(ValidationFailure::connection(failures.join("; ")))
}

/// A TLS-level refusal (an alert, no common protocol, a bad handshake) is `tls`; a dropped connection is
/// `connection`.
fn handshake_failure(address: SocketAddr, error: &std::io::Error) -> ValidationFailure {
    match error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol)) => {
            ValidationFailure::tls(format!(
                "{address}: the server refused the acme-tls/1 protocol (RFC 8737) with a no_application_protocol alert"
            ))
        }
        Some(tls) => ValidationFailure::tls(format!("{address}: TLS handshake failed: {tls}")),
        None => ValidationFailure::connection(format!("{address}: during the TLS handshake: {}", describe_io(error))),
    }
}
