//! http-01 (RFC 8555 §8.3): `GET http://<name>:<http01_port>/.well-known/acme-challenge/<token>` to the addresses
//! the resolver gives for the name, `Host` the name; the body, trailing whitespace trimmed, must be the key
//! authorization. Redirects are followed as Let's Encrypt follows them: at most 10, no loops, only to `http` on
//! the http-01 port or `https` on 443 (whose certificate is not checked), only to DNS names, each looked up
//! through the same resolver.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Name, Resolve, Resolving};
use reqwest::header::LOCATION;
use reqwest::{StatusCode, Url};
use tokio::time::Instant;

use super::resolve::Resolver;
use super::{Challenge, ValidationFailure, any_certificate, describe_io, escaped};
use crate::config::ConfigError;

const MAX_REDIRECTS: usize = 10;
/// A key authorization is under 100 bytes; more than this is not one, and is not read.
const MAX_BODY: usize = 8 * 1024;
const HTTPS_PORT: u16 = 443;
const SHOWN_BODY_CHARS: usize = 128;
const USER_AGENT: &str = concat!("certdesk/", env!("CARGO_PKG_VERSION"), " (ACME validation server)");

#[derive(Debug)]
pub(super) struct Fetcher {
    resolver: Arc<Resolver>,
    port: u16,
    /// For redirects to `https`: any certificate, ALPN `http/1.1`.
    tls: rustls::ClientConfig,
}

impl Fetcher {
    pub(super) fn new(resolver: Arc<Resolver>, port: u16) -> Result<Self, ConfigError> {
        Ok(Self { resolver, port, tls: any_certificate::client_config(b"http/1.1")? })
    }

    pub(super) async fn validate(&self, challenge: &Challenge<'_>, deadline: Instant) -> Result<(), ValidationFailure> {
        let first =
            format!("http://{}:{}/.well-known/acme-challenge/{}", challenge.identifier, self.port, challenge.token);
        let mut url = Url::parse(&first)
            .map_err(|error| ValidationFailure::connection(format!("cannot fetch {first}: {error}")))?;
        let mut visited: Vec<Url> = Vec::new();
        loop {
            let response = self.fetch(&url, deadline).await?;
            let status = response.status();
            if let Some(location) = response.headers().get(LOCATION).filter(|_| is_redirect(status)) {
                if visited.len() == MAX_REDIRECTS {
                    return Err(ValidationFailure::connection(format!(
                        "Fetching {url}: Too many redirects (more than {MAX_REDIRECTS})"
                    )));
                }
                let next = self.redirect_target(&url, location)?;
                if next == url || visited.contains(&next) {
                    return Err(ValidationFailure::connection(format!(
                        "Fetching {url}: Redirect loop detected (back to {next})"
                    )));
                }
                visited.push(std::mem::replace(&mut url, next));
                continue;
            }
            if status != StatusCode::OK {
                return Err(ValidationFailure::unauthorized(format!(
                    "Invalid response from {url}: {}",
                    status.as_u16()
                )));
            }
            let body = read_body(response, &url, deadline).await?;
            return compare(&body, challenge.key_authorization);
        }
    }

    /// The response to one GET (headers read, body not yet), the host looked up through the resolver first.
    async fn fetch(&self, url: &Url, deadline: Instant) -> Result<reqwest::Response, ValidationFailure> {
        let host = url.host_str().unwrap_or_default();
        let addresses = tokio::time::timeout_at(deadline, self.resolver.addresses(host, deadline))
            .await
            .map_err(|_| ValidationFailure::dns(format!("DNS problem: query timed out looking up A for {host}")))??;
        let shown = addresses.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ");
        // One client per request, so the connection goes exactly to these addresses (reqwest can pin addresses
        // per client only) and nothing is pooled between validations; with a prepared TLS configuration that is
        // cheap.
        let pinned: Vec<SocketAddr> = addresses.iter().map(|ip| SocketAddr::new(*ip, 0)).collect();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(self.tls.clone())
            .resolve_to_addrs(host, &pinned)
            .dns_resolver(Arc::new(NoOtherNames))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .http1_only()
            .connect_timeout(deadline.saturating_duration_since(Instant::now()))
            .user_agent(USER_AGENT)
            .build()
            .map_err(|error| ValidationFailure::connection(format!("the HTTP client cannot be built: {error}")))?;
        match tokio::time::timeout_at(deadline, client.get(url.clone()).send()).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(request_failure(&shown, url, &error)),
            Err(_) => Err(ValidationFailure::connection(format!(
                "{shown}: Fetching {url}: Timeout after connect (your server may be slow or overloaded)"
            ))),
        }
    }

    /// `location` resolved against `current`, if it is a target certdesk follows.
    fn redirect_target(
        &self,
        current: &Url,
        location: &reqwest::header::HeaderValue,
    ) -> Result<Url, ValidationFailure> {
        let refused = |why: String| ValidationFailure::connection(format!("Fetching {current}: {why}"));
        let text = location.to_str().map_err(|_| refused("the redirect's Location is not ASCII text".into()))?;
        let mut next = current.join(text).map_err(|error| {
            refused(format!("Invalid redirect target \"{}\": {error}", escaped(text.as_bytes(), 256)))
        })?;
        next.set_fragment(None);
        let expected_port = match next.scheme() {
            "http" => self.port,
            "https" => HTTPS_PORT,
            other => {
                return Err(refused(format!(
                    "Invalid protocol scheme in redirect target. Only \"http\" and \"https\" protocol schemes are \
                     supported, not \"{}\"",
                    escaped(other.as_bytes(), 32)
                )));
            }
        };
        let Some(domain) = next.domain() else {
            return Err(refused(format!(
                "Invalid host in redirect target \"{}\". Only domain names are supported, not IP addresses",
                next.host_str().unwrap_or_default()
            )));
        };
        let is_dns_name =
            crate::names::normalize_dns_name(domain).is_ok_and(|name| !name.is_wildcard() && name.as_str() == domain);
        if !is_dns_name {
            return Err(refused(format!(
                "Invalid host in redirect target \"{}\": not a DNS name",
                escaped(domain.as_bytes(), 256)
            )));
        }
        let port = next.port_or_known_default().unwrap_or_default();
        if port != expected_port {
            return Err(refused(format!(
                "Invalid port in redirect target. Only port {} (http) and {HTTPS_PORT} (https) are followed, not {port}",
                self.port
            )));
        }
        if !next.username().is_empty() || next.password().is_some() {
            return Err(refused("Invalid redirect target: it carries credentials".into()));
        }
        Ok(next)
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// At most `MAX_BODY` + 1 bytes, so "too long" can be told from "exactly the limit".
async fn read_body(
    mut response: reqwest::Response,
    url: &Url,
    deadline: Instant,
) -> Result<Vec<u8>, ValidationFailure> {
    let mut body = Vec::new();
    while body.len() <= MAX_BODY {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = MAX_BODY + 1 - body.len();
                body.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
            }
            Ok(Ok(None)) => break,
            Ok(Err(error)) => {
                return Err(ValidationFailure::connection(format!(
                    "Fetching {url}: the response could not be read: {}",
                    root_cause(&error)
                )));
            }
            Err(_) => {
                return Err(ValidationFailure::connection(format!(
                    "Fetching {url}: Timeout while reading the response (your server may be slow or overloaded)"
                )));
            }
        }
    }
    Ok(body)
}

fn compare(body: &[u8], key_authorization: &str) -> Result<(), ValidationFailure> {
    let trimmed = body.trim_ascii_end();
    if body.len() <= MAX_BODY && trimmed == key_authorization.as_bytes() {
        return Ok(());
    }
    let got = if body.len() > MAX_BODY {
        format!("more than {} KiB starting \"{}\"", MAX_BODY / 1024, escaped(body, SHOWN_BODY_CHARS))
    } else {
        format!("\"{}\"", escaped(trimmed, SHOWN_BODY_CHARS))
    };
    Err(ValidationFailure::incorrect_response(format!(
        "The key authorization file from the server did not match this challenge. Expected \"{key_authorization}\" \
         (got {got})"
    )))
}

/// Why a GET got no response, in Let's Encrypt's words; a failed TLS handshake (after a redirect to https) is
/// `tls`, everything else `connection`.
fn request_failure(addresses: &str, url: &Url, error: &reqwest::Error) -> ValidationFailure {
    let prefix = format!("{addresses}: Fetching {url}");
    if let Some(tls) = rustls_error(error) {
        return ValidationFailure::tls(format!("{prefix}: TLS handshake failed: {tls}"));
    }
    let what = if error.is_connect() && error.is_timeout() {
        "Timeout during connect (likely firewall problem)".to_owned()
    } else if error.is_timeout() {
        "Timeout after connect (your server may be slow or overloaded)".to_owned()
    } else if let Some(io) = io_error(error) {
        describe_io(io)
    } else {
        root_cause(error)
    };
    ValidationFailure::connection(format!("{prefix}: {what}"))
}

fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |&error| error.source())
}

fn io_error(error: &reqwest::Error) -> Option<&std::io::Error> {
    causes(error).find_map(|cause| cause.downcast_ref::<std::io::Error>())
}

/// tokio-rustls reports a handshake failure as an `io::Error` wrapping the `rustls::Error`.
fn rustls_error(error: &reqwest::Error) -> Option<&rustls::Error> {
    causes(error).find_map(|cause| {
        cause.downcast_ref::<rustls::Error>().or_else(|| {
            cause
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        })
    })
}

fn root_cause(error: &reqwest::Error) -> String {
    causes(error).last().map(ToString::to_string).unwrap_or_else(|| error.to_string())
}

/// Every name the client may connect to is pinned before the request; anything else is refused rather than
/// looked up elsewhere (the machine's resolver, /etc/hosts).
struct NoOtherNames;

impl Resolve for NoOtherNames {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().to_owned();
        Box::pin(async move { Err(format!("{name} was not looked up through the validation resolver").into()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_AUTHORIZATION: &str = "token.thumbprint";

    #[test]
    fn the_body_must_be_the_key_authorization_up_to_trailing_whitespace() {
        assert_eq!(compare(b"token.thumbprint", KEY_AUTHORIZATION), Ok(()));
        assert_eq!(compare(b"token.thumbprint\r\n \t", KEY_AUTHORIZATION), Ok(()));
        for wrong in [&b" token.thumbprint"[..], b"token.thumbprintX", b"", b"token"] {
            assert_eq!(compare(wrong, KEY_AUTHORIZATION).unwrap_err().problem, "incorrectResponse");
        }
        let mut long = KEY_AUTHORIZATION.as_bytes().to_vec();
        long.resize(MAX_BODY + 1, b' ');
        let failure = compare(&long, KEY_AUTHORIZATION).unwrap_err();
        assert!(failure.detail.contains("more than 8 KiB"), "{}", failure.detail);
    }

    #[test]
    fn redirect_targets_are_checked_before_they_are_followed() {
        let fetcher =
            Fetcher::new(Arc::new(Resolver::new(Some("127.0.0.1:53".parse().unwrap())).unwrap()), 5002).unwrap();
        let current = Url::parse("http://www.example.test:5002/.well-known/acme-challenge/t").unwrap();
        let target = |location: &str| {
            fetcher
                .redirect_target(&current, &reqwest::header::HeaderValue::from_str(location).unwrap())
                .map(|url| url.to_string())
                .map_err(|failure| (failure.problem, failure.detail))
        };
        assert_eq!(target("/other").unwrap(), "http://www.example.test:5002/other");
        assert_eq!(target("http://b.example.test:5002/x#frag").unwrap(), "http://b.example.test:5002/x");
        assert_eq!(target("https://b.example.test/x").unwrap(), "https://b.example.test/x");
        for refused in [
            "http://b.example.test/x",
            "https://b.example.test:8443/x",
            "ftp://b.example.test:5002/x",
            "http://127.0.0.1:5002/x",
            "http://[::1]:5002/x",
            "http://user:pw@b.example.test:5002/x",
            "file:///etc/passwd",
        ] {
            let (problem, detail) = target(refused).unwrap_err();
            assert_eq!(problem, "connection", "{refused}: {detail}");
        }
    }
}
