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
            let bytes = read_capped(response, MAX_BODY).await.map_err(|error| match error {
                ReadError::TooLarge => Error::Str("the ACME server sent an answer larger than 1 MiB"),
                ReadError::Transport(error) => Error::Other(Box::new(error)),
            })?;
            let (parts, ()) = builder.body(())?.into_parts();
            Ok(BytesResponse { parts, body: Box::new(bytes) })
        })
    }
}

#[derive(Debug)]
enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

/// The body, read chunk by chunk and given up as soon as it passes `max` bytes (or announces more): a server
/// that streams without end costs at most `max` bytes of memory, and its connection is dropped.
async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Bytes, ReadError> {
    if response.content_length().is_some_and(|length| length > max as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > max {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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

    /// A server streaming `chunks` chunks of 64 KiB, 5 ms apart, counting how many it got to send.
    async fn streaming_server(chunks: usize, declare_length: bool) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || {
                let counter = counter.clone();
                async move {
                    let stream = futures_util::stream::unfold(0, move |n| {
                        let counter = counter.clone();
                        async move {
                            if n == chunks {
                                return None;
                            }
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            counter.fetch_add(1, Ordering::SeqCst);
                            Some((Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 64 * 1024])), n + 1))
                        }
                    });
                    let mut response = axum::response::Response::new(axum::body::Body::from_stream(stream));
                    if declare_length {
                        response.headers_mut().insert(http::header::CONTENT_LENGTH, (chunks * 64 * 1024).into());
                    }
                    response
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, sent)
    }

    #[tokio::test]
    async fn an_endless_answer_is_refused_while_streaming_not_after_buffering() {
        use std::sync::atomic::Ordering;
        let client = reqwest::Client::new();
        // 64 MiB in chunks, no length announced: the reader stops just past 1 MiB.
        let (url, sent) = streaming_server(1024, false).await;
        let response = client.get(&url).send().await.unwrap();
        assert!(matches!(read_capped(response, MAX_BODY).await, Err(ReadError::TooLarge)));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let sent = sent.load(Ordering::SeqCst);
        assert!(sent < 64, "gave up after about 1 MiB, not 64 MiB: {sent} chunks of 64 KiB were sent");

        // An announced length over the cap is refused before reading anything.
        let (url, sent) = streaming_server(32, true).await;
        let response = client.get(&url).send().await.unwrap();
        assert!(matches!(read_capped(response, MAX_BODY).await, Err(ReadError::TooLarge)));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let sent = sent.load(Ordering::SeqCst);
        assert!(sent < 8, "refused on the announced 2 MiB, not after reading them: {sent} chunks were sent");

        // An answer within the cap is read whole.
        let (url, _) = streaming_server(4, false).await;
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(read_capped(response, MAX_BODY).await.unwrap().len(), 4 * 64 * 1024);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(&http::HeaderValue::from_static("120")), Some(Duration::from_secs(120)));
        let past = http::HeaderValue::from_static("Fri, 31 Dec 1999 23:59:59 GMT");
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&http::HeaderValue::from_static("soon")), None);
    }
}
