//! Signed webhooks. The body is JSON (`id`, `type`, `created_at`, `data`); `X-Certdesk-Signature: sha256=<hex>` is
//! HMAC-SHA256 under the person's signing secret over `<X-Certdesk-Timestamp>.<body>`, and `X-Certdesk-Event-Id`
//! repeats `id` for de-duplication.
//!
//! SSRF: a webhook is a URL chosen by any signed-in person that certdesk then calls from inside its network. Unless
//! `[notifications] webhook_allow_private` is on, a URL whose host is, or resolves to, an address that is not
//! globally routable (loopback, private, link-local and cloud metadata, shared, multicast, benchmarking,
//! documentation, or an IPv6 form embedding IPv4 such as NAT64 and 6to4; see `address`) is refused when saved,
//! every address is checked again at delivery and the connection pinned to the checked address (no DNS rebinding
//! in between), and redirects are never followed. Delivery ignores proxies from the environment (HTTPS_PROXY and
//! the like): a proxy would connect on its own, to whatever the name resolves to there, and undo the pinning.

mod address;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Url;
use secrecy::SecretString;
use serde_json::json;
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use address::is_public;

use super::delivery_error::DeliveryError;
use crate::db;
use crate::db::notifications::Due;
use crate::state::AppState;

pub const MAX_URL_LENGTH: usize = 2048;
pub const SIGNATURE_HEADER: &str = "x-certdesk-signature";
pub const TIMESTAMP_HEADER: &str = "x-certdesk-timestamp";
pub const EVENT_ID_HEADER: &str = "x-certdesk-event-id";
const TIMEOUT: Duration = Duration::from_secs(10);
const PRIVATE_ADDRESS: &str = "points at a private or reserved address; webhooks must go to a public address";

/// A URL a person may save: http(s), a host, no credentials, not too long; addresses checked by `resolve`.
pub fn parse_url(value: &str) -> Result<Url, String> {
    if value.len() > MAX_URL_LENGTH {
        return Err(format!("must be at most {MAX_URL_LENGTH} characters"));
    }
    let url = Url::parse(value).map_err(|_| "is not a URL such as https://hooks.example.com/certdesk".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password: certdesk signs each request instead".into());
    }
    Ok(url)
}

/// The addresses `url` may be called at: resolved, and every one public unless private ones are allowed.
pub async fn resolve(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| format!("the host {host} cannot be resolved"))?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(format!("the host {host} cannot be resolved"));
    }
    // The resolved address is not echoed: it would tell whoever saves URLs what internal names resolve to.
    if !allow_private && addresses.iter().any(|address| !is_public(address.ip())) {
        return Err(PRIVATE_ADDRESS.to_owned());
    }
    Ok(addresses)
}

/// `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"). (HMAC takes keys of any length: never `None`.)
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
}

/// A fresh signing secret: 32 random bytes, hex, prefixed so people recognise it.
pub fn new_secret() -> SecretString {
    use rand::RngCore;
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    SecretString::from(format!("cdwh_{}", hex::encode(bytes)))
}

pub fn secret_context(user_id: uuid::Uuid) -> String {
    format!("webhook:{user_id}")
}

pub async fn send(state: &AppState, notice: &Due, now: OffsetDateTime) -> Result<(), DeliveryError> {
    let settings = db::notifications::settings_of(&state.pool, notice.user_id)
        .await
        .map_err(|error| DeliveryError::Retry(format!("database: {error}")))?;
    let (Some(url), Some(sealed)) = (settings.webhook_url, settings.webhook_secret) else {
        return Err(DeliveryError::Skip("webhook removed by its owner".into()));
    };
    let Some(sealer) = state.config.encryption.as_ref() else {
        return Err(DeliveryError::Retry("[encryption] is not configured: the signing secret cannot be opened".into()));
    };
    let secret = sealer
        .open(&sealed, &secret_context(notice.user_id))
        .map_err(|error| DeliveryError::Retry(format!("signing secret: {error}")))?;
    let secret = String::from_utf8_lossy(&secret).into_owned();
    let url = parse_url(&url).map_err(DeliveryError::Skip)?;
    let addresses = resolve(&url, state.config.notifications.webhook_allow_private)
        .await
        .map_err(|why| DeliveryError::Retry(format!("webhook URL {why}")))?;
    let body = serde_json::to_vec(&json!({
        "id": notice.id,
        "type": notice.payload["type"],
        "created_at": notice.created_at.format(&Rfc3339).unwrap_or_default(),
        "data": notice.payload,
    }))
    .map_err(|error| DeliveryError::Skip(error.to_string()))?;
    let timestamp = now.unix_timestamp();
    let signed = signature(&secret, timestamp, &body).ok_or_else(|| DeliveryError::Skip("cannot sign".into()))?;
    let mut client = reqwest::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none()).no_proxy();
    if let Some(host) = url.host_str() {
        // Pinned: the request goes to an address just checked, whatever DNS says a moment later.
        client = client.resolve_to_addrs(host, &addresses);
    }
    let client = client.build().map_err(|error| DeliveryError::Retry(error.to_string()))?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signed)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(EVENT_ID_HEADER, notice.id.to_string())
        .body(body)
        .send()
        .await
        .map_err(|error| DeliveryError::Retry(format!("webhook: {}", without_url(&error))))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(DeliveryError::Retry(format!("webhook answered HTTP {}", response.status().as_u16())))
    }
}

/// reqwest errors name the URL, which may hold a token in its path: keep only the kind.
fn without_url(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer in time".into()
    } else if error.is_connect() {
        "cannot connect".into()
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_address_is_not_echoed() {
        for (url, address) in [
            ("http://10.20.30.40/hook", "10.20.30.40"),
            ("http://[64:ff9b::a14:1e28]/hook", "64:ff9b::a14:1e28"),
            ("http://198.18.7.9:8080/hook", "198.18.7.9"),
        ] {
            let why = resolve(&parse_url(url).unwrap(), false).await.unwrap_err();
            assert!(why.contains("private or reserved address"), "{url}: {why}");
            assert!(!why.contains(address), "{url}: {why}");
        }
        // A name resolving to loopback: the answer says neither the address nor that it is loopback.
        let why = resolve(&parse_url("http://localhost:9/hook").unwrap(), false).await.unwrap_err();
        assert_eq!(why, PRIVATE_ADDRESS);
        assert!(resolve(&parse_url("http://10.20.30.40/hook").unwrap(), true).await.is_ok());
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert!(parse_url("https://hooks.example.com/x").is_ok());
        assert!(parse_url("ftp://hooks.example.com/x").unwrap_err().contains("http"));
        assert!(parse_url("https://user:pw@hooks.example.com/").unwrap_err().contains("password"));
        assert!(parse_url(&format!("https://h.example/{}", "a".repeat(3000))).unwrap_err().contains("2048"));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_and_body() {
        // Independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature("key", 1_700_000_000, b"{}").unwrap(),
            "sha256=".to_owned()
                + &hex::encode({
                    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"key").unwrap();
                    mac.update(b"1700000000.{}");
                    mac.finalize().into_bytes()
                })
        );
    }
}
