//! `[[dns_servers]]`: the DNS servers certdesk changes by RFC 2136 dynamic update (TSIG-signed) to answer ACME
//! DNS-01 challenges, one entry per zone.

use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{ConfigError, SecretSource};
use crate::dns_update::name::normalize_absolute_name;

/// A TSIG key shorter than this is guessable; `tsig-keygen` makes keys as long as the HMAC output.
const MIN_TSIG_KEY_BYTES: usize = 16;
const DEFAULT_TIMEOUT_SECONDS: u64 = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDnsServer {
    id: String,
    /// `host:port` or an IP address (port 53 when left out).
    address: String,
    zone: String,
    tsig_key_name: String,
    tsig_algorithm: Option<String>,
    tsig_secret: Option<SecretString>,
    tsig_secret_file: Option<std::path::PathBuf>,
    timeout_seconds: Option<u64>,
}

/// HMAC algorithms a TSIG key can use; the ones RFC 8945 says to implement and BIND's `tsig-keygen` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsigAlgorithm {
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl TsigAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha384 => "hmac-sha384",
            Self::HmacSha512 => "hmac-sha512",
        }
    }
}

/// One validated `[[dns_servers]]` entry.
#[derive(Debug, Clone)]
pub struct DnsServerConfig {
    pub id: String,
    /// `host:port`, port always present.
    pub address: String,
    /// Lower case, no trailing dot: `dns01.certdesk.test`.
    pub zone: String,
    /// Lower case, no trailing dot, as the server knows it.
    pub tsig_key_name: String,
    pub tsig_algorithm: TsigAlgorithm,
    /// The key, base64 as `tsig-keygen` prints it (checked to decode).
    pub tsig_secret: SecretString,
    /// For one whole exchange: connecting, sending and the answer.
    pub timeout: Duration,
}

pub(super) fn validate(raw: Vec<RawDnsServer>) -> Result<Vec<DnsServerConfig>, ConfigError> {
    let mut ids = std::collections::HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(index, server)| {
            let key = |field: &str| format!("dns_servers[{index}].{field}");
            let id_is_valid = !server.id.is_empty()
                && server.id.len() <= 32
                && server.id.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
            if !id_is_valid {
                return Err(ConfigError::invalid(key("id"), "use 1 to 32 lowercase letters, digits or '-'"));
            }
            if !ids.insert(server.id.clone()) {
                return Err(ConfigError::invalid(key("id"), format!("`{}` is used twice", server.id)));
            }
            let address = address(&key("address"), &server.address)?;
            let zone = normalize_absolute_name(&server.zone)
                .map_err(|reason| ConfigError::invalid(key("zone"), format!("not a DNS zone name: {reason}")))?;
            let tsig_key_name = normalize_absolute_name(&server.tsig_key_name)
                .map_err(|reason| ConfigError::invalid(key("tsig_key_name"), format!("not a key name: {reason}")))?;
            let tsig_algorithm = match server.tsig_algorithm.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("hmac-sha256") => TsigAlgorithm::HmacSha256,
                Some("hmac-sha384") => TsigAlgorithm::HmacSha384,
                Some("hmac-sha512") => TsigAlgorithm::HmacSha512,
                Some(_) => {
                    return Err(ConfigError::invalid(
                        key("tsig_algorithm"),
                        "expected hmac-sha256, hmac-sha384 or hmac-sha512",
                    ));
                }
            };
            let secret_key = key("tsig_secret");
            let tsig_secret =
                SecretSource { key: &secret_key, inline: server.tsig_secret, file: server.tsig_secret_file }
                    .resolve()?;
            let decoded = decode_secret(&tsig_secret).ok_or_else(|| {
                ConfigError::invalid(&secret_key, "not base64 (the `secret` that `tsig-keygen` prints)")
            })?;
            if decoded.len() < MIN_TSIG_KEY_BYTES {
                return Err(ConfigError::invalid(
                    &secret_key,
                    format!(
                        "decodes to {} bytes; use at least {MIN_TSIG_KEY_BYTES} (`tsig-keygen -a {}` makes one)",
                        decoded.len(),
                        tsig_algorithm.as_str()
                    ),
                ));
            }
            let seconds = server.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
            if !(1..=120).contains(&seconds) {
                return Err(ConfigError::invalid(key("timeout_seconds"), "must be between 1 and 120"));
            }
            Ok(DnsServerConfig {
                id: server.id,
                address,
                zone,
                tsig_key_name,
                tsig_algorithm,
                tsig_secret,
                timeout: Duration::from_secs(seconds),
            })
        })
        .collect()
}

impl DnsServerConfig {
    /// The TSIG key's bytes (`None` only if the secret was changed after validation to something not base64).
    pub fn tsig_key(&self) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        decode_secret(&self.tsig_secret)
    }
}

/// The key bytes of a base64 TSIG secret (whitespace inside is allowed, as in BIND's key files).
fn decode_secret(secret: &SecretString) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let compact: zeroize::Zeroizing<String> =
        zeroize::Zeroizing::new(secret.expose_secret().chars().filter(|c| !c.is_whitespace()).collect());
    base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()).ok().map(zeroize::Zeroizing::new)
}

/// `host:port`, `[v6]:port`, an IP address or a host name; the port defaults to 53.
fn address(key: &str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let invalid = || ConfigError::invalid(key, "expected host:port or an IP address, e.g. 127.0.0.1:8054");
    if value.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(value.to_owned());
    }
    if let Ok(ip) = value.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, 53).to_string());
    }
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().ok().filter(|port| *port != 0).ok_or_else(invalid)?),
        None => (value, 53),
    };
    let host = crate::names::normalize_dns_name(host).map_err(|_| invalid())?;
    if host.is_wildcard() {
        return Err(invalid());
    }
    Ok(format!("{}:{port}", host.as_str()))
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError, TsigAlgorithm};

    const SECRET: &str = "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg=";

    fn config(servers: &str) -> Result<Config, ConfigError> {
        crate::config::minimal_with(servers)
    }

    fn server(fields: &str) -> String {
        format!(
            "[[dns_servers]]\nid = \"bind\"\naddress = \"127.0.0.1:8054\"\nzone = \"Dns01.Certdesk.Test.\"\n\
             tsig_key_name = \"certdesk-acme\"\ntsig_secret = \"{SECRET}\"\n{fields}"
        )
    }

    fn invalid(result: Result<Config, ConfigError>) -> (String, String) {
        match result {
            Err(ConfigError::Invalid { key, reason }) => (key, reason),
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn a_server_is_read_with_defaults_and_a_normalised_zone() {
        let parsed = config(&server("")).unwrap();
        let [server_config] = parsed.dns_servers.as_slice() else { panic!("one server expected") };
        assert_eq!(server_config.id, "bind");
        assert_eq!(server_config.zone, "dns01.certdesk.test");
        assert_eq!(server_config.address, "127.0.0.1:8054");
        assert_eq!(server_config.tsig_algorithm, TsigAlgorithm::HmacSha256);
        assert_eq!(server_config.timeout.as_secs(), 10);
        let tuned = config(&server("tsig_algorithm = \"HMAC-SHA512\"\ntimeout_seconds = 3\n")).unwrap();
        assert_eq!(tuned.dns_servers[0].tsig_algorithm, TsigAlgorithm::HmacSha512);
        assert_eq!(tuned.dns_servers[0].timeout.as_secs(), 3);
        assert!(config("").unwrap().dns_servers.is_empty(), "the section is optional");
    }

    #[test]
    fn addresses_take_a_default_port() {
        let with_address = |value: &str| config(&server("").replace("127.0.0.1:8054", value));
        let address = |value: &str| with_address(value).unwrap().dns_servers[0].address.clone();
        assert_eq!(address("10.0.0.53"), "10.0.0.53:53");
        assert_eq!(address("NS1.Example.com"), "ns1.example.com:53");
        assert_eq!(address("ns1.example.com:5353"), "ns1.example.com:5353");
        assert_eq!(address("[::1]:8054"), "[::1]:8054");
        for bad in ["", "ns1.example.com:0", "ns1.example.com:dns", "a b:53", "*.example.com"] {
            assert_eq!(invalid(with_address(bad)).0, "dns_servers[0].address", "{bad}");
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("tsig_secret = \"not base64!\"", "dns_servers[0].tsig_secret", "not base64"),
            ("tsig_secret = \"c2hvcnQ=\"", "dns_servers[0].tsig_secret", "at least 16"),
            ("tsig_algorithm = \"hmac-md5\"", "dns_servers[0].tsig_algorithm", "hmac-sha256"),
            ("zone = \"dns01..test\"", "dns_servers[0].zone", "empty label"),
            ("zone = \"dns01 zone.test\"", "dns_servers[0].zone", "not a DNS zone name"),
            ("zone = \".\"", "dns_servers[0].zone", "not a DNS zone name"),
            ("tsig_key_name = \"\"", "dns_servers[0].tsig_key_name", "not a key name"),
            ("timeout_seconds = 0", "dns_servers[0].timeout_seconds", "between 1 and 120"),
            ("id = \"Bind Server\"", "dns_servers[0].id", "lowercase"),
        ];
        for (line, key, reason) in cases {
            // Each line replaces the default value of its key.
            let field = line.split(" = ").next().unwrap();
            let toml = server("")
                .lines()
                .filter(|existing| !existing.starts_with(&format!("{field} = ")))
                .chain([line])
                .collect::<Vec<_>>()
                .join("\n");
            let (got_key, got_reason) = invalid(config(&format!("{toml}\n")));
            assert_eq!(got_key, key, "{line}");
            assert!(got_reason.contains(reason), "{line}: {got_reason}");
        }
        let without_secret = server("").replace(&format!("tsig_secret = \"{SECRET}\"\n"), "");
        assert_eq!(invalid(config(&without_secret)).0, "dns_servers[0].tsig_secret");
        let both = server("tsig_secret_file = \"/nonexistent\"\n");
        assert_eq!(invalid(config(&both)).0, "dns_servers[0].tsig_secret");
        let unreadable = without_secret + "tsig_secret_file = \"/nonexistent/tsig.secret\"\n";
        assert_eq!(invalid(config(&unreadable)).0, "dns_servers[0].tsig_secret_file");
    }

    #[test]
    fn ids_are_unique() {
        let (key, reason) = invalid(config(&format!("{}{}", server(""), server(""))));
        assert_eq!(key, "dns_servers[1].id");
        assert!(reason.contains("twice"), "{reason}");
    }

    #[test]
    fn the_secret_never_appears_in_debug_output() {
        let parsed = config(&server("")).unwrap();
        let debug = format!("{parsed:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        let error = invalid(config_with_secret("c2VjcmV0!!")).1;
        assert!(!error.contains("c2VjcmV0"), "{error}");
    }

    fn config_with_secret(secret: &str) -> Result<Config, ConfigError> {
        config(&server("").replace(SECRET, secret))
    }

    #[test]
    fn a_secret_file_is_read_and_trimmed() {
        let dir = std::env::temp_dir().join(format!("certdesk-dns-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tsig.secret");
        std::fs::write(&path, format!("{SECRET}\n")).unwrap();
        let toml = server("")
            .replace(&format!("tsig_secret = \"{SECRET}\""), &format!("tsig_secret_file = \"{}\"", path.display()));
        let parsed = config(&toml).unwrap();
        assert_eq!(parsed.dns_servers[0].tsig_key().unwrap().len(), 35);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
