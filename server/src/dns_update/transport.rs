//! One DNS message over TCP (RFC 1035 section 4.2.2, RFC 7766): two octets of length, the message, and the same
//! back. TCP rather than UDP: a refused connection says "nobody listens" at once, and nothing is truncated.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) enum ExchangeError {
    Unreachable(String),
    TimedOut,
}

/// Sends `request` to `address` (`host:port`) and returns the answer; `timeout` bounds the whole exchange.
pub(crate) async fn exchange(address: &str, request: &[u8], timeout: Duration) -> Result<Vec<u8>, ExchangeError> {
    let length = u16::try_from(request.len())
        .map_err(|_| ExchangeError::Unreachable("the request is longer than a DNS message can be".into()))?;
    let conversation = async {
        let mut stream = TcpStream::connect(address).await.map_err(|error| describe("cannot connect", &error))?;
        let mut framed = Vec::with_capacity(request.len() + 2);
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(request);
        stream.write_all(&framed).await.map_err(|error| describe("sending failed", &error))?;
        let mut length = [0_u8; 2];
        stream.read_exact(&mut length).await.map_err(|error| describe("no answer", &error))?;
        let mut response = vec![0_u8; usize::from(u16::from_be_bytes(length))];
        stream.read_exact(&mut response).await.map_err(|error| describe("the answer was cut short", &error))?;
        Ok(response)
    };
    tokio::time::timeout(timeout, conversation).await.map_err(|_| ExchangeError::TimedOut)?
}

fn describe(what: &str, error: &std::io::Error) -> ExchangeError {
    let reason = match error.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused (is the DNS server running on that port?)".into(),
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
            format!("{what}: the server closed the connection")
        }
        _ => format!("{what}: {error}"),
    };
    ExchangeError::Unreachable(reason)
}
