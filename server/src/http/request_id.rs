//! Gives every request a fresh id (never trusting one sent by the client), records the client address (the peer,
//! or what a trusted proxy says, see `client_addr`), and returns the id in `x-request-id` so people can quote it.

use std::net::SocketAddr;

use app::ssr::{ClientAddr, REQUEST_ID_HEADER};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tracing::Span;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// `server.trusted_proxies`.
#[derive(Debug, Clone)]
pub struct TrustedProxies(pub std::sync::Arc<[ipnet::IpNet]>);

pub async fn assign_request_id(State(trusted): State<TrustedProxies>, mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let header = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("unknown"));
    request.headers_mut().insert(REQUEST_ID_HEADER, header.clone());
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let client = peer.map(|peer| super::client_addr::client_addr(peer, request.headers(), &trusted.0).to_string());
    request.extensions_mut().insert(ClientAddr(client.unwrap_or_default()));
    request.extensions_mut().insert(RequestId(id));
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID_HEADER, header);
    response
}

/// The tracing span of a request. The path only: query strings can carry codes and tokens.
pub fn span_for_request(request: &Request) -> Span {
    let id = request.extensions().get::<RequestId>().map(|id| id.0.as_str()).unwrap_or_default();
    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
}
