//! instant-acme's HTTP through certdesk's own reqwest client: the issuer's CA bundle and timeouts apply, and the
//! `Retry-After` of the last answer is kept (instant-acme drops it from rate-limit errors) so a driver can wait
//! as long as the CA asks.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use instant_acme::{BodyWrapper, BytesResponse, Error, HttpClient};

/// An ACME answer is small JSON or a PEM chain; anything larger is not an ACME server talking.
const MAX_BODY: usize = 1 << 20;

#[derive(Clone)]
pub struct AcmeHttp {
    client: reqwest::Client,
    last_retry_after: Arc<Mutex<Option<Duration>>>,
}

impl AcmeHttp {
    pub fn new(client: reqwest::Client) -> Self {
        Self { client, last_retry_after: Arc::default() }
    }

    /// How long the CA asked to wait in its latest answer that said so, taken (so it is used once).
    pub fn take_retry_after(&self) -> Option<Duration> {
        self.last_retry_after.lock().ok().and_then(|mut slot| slot.take())
    }
}

impl HttpClient for AcmeHttp {
    fn request(
        &self,
        request: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, Error>> + Send>> {
        let client = self.client.clone();
        let retry_after = self.last_retry_after.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = http_body_util::BodyExt::collect(body)
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            let response = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|error| Error::Other(Box::new(error)))?;
            if let Some(wait) = response.headers().get(http::header::RETRY_AFTER).and_then(parse_retry_after)
                && let Ok(mut slot) = retry_after.lock()
            {
                *slot = Some(wait);
            }
            let mut builder = http::Response::builder().status(response.status()).version(response.version());
            if let Some(headers) = builder.headers_mut() {
                *headers = response.headers().clone();
            }
            let bytes = response.bytes().await.map_err(|error| Error::Other(Box::new(error)))?;
            if bytes.len() > MAX_BODY {
                return Err(Error::Str("the ACME server sent an answer larger than 1 MiB"));
            }
            let (parts, ()) = builder.body(())?.into_parts();
            Ok(BytesResponse { parts, body: Box::new(bytes) })
        })
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3).
fn parse_retry_after(value: &http::HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(&http::HeaderValue::from_static("120")), Some(Duration::from_secs(120)));
        let past = http::HeaderValue::from_static("Fri, 31 Dec 1999 23:59:59 GMT");
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&http::HeaderValue::from_static("soon")), None);
    }
}
