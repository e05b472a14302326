//! The HTTP-01 responder: `GET /.well-known/acme-challenge/{token}` answers the key authorization an order of
//! certdesk stored for that token (any replica can answer: the answers live in PostgreSQL, and each replica keeps
//! those it served in memory until the order finishes), 404 otherwise. Served
//! on the main listener and, when `acme.http01_listen` is set, on a listener of its own (port 80 behind the
//! gateway) that answers nothing else.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use http::StatusCode;

use crate::db;
use crate::http::plain_text;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/.well-known/acme-challenge/{token}", get(answer))
}

async fn answer(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    // Tokens are base64url (RFC 8555 §8.3); anything else is not one of ours and needs no database round trip.
    let well_formed = (16..=128).contains(&token.len())
        && token.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !well_formed {
        return plain_text(StatusCode::NOT_FOUND, "no such challenge");
    }
    let answer = state.http01_answers.get(&state.pool, &token, || db::acme::http01_response(&state.pool, &token));
    match answer.await {
        Ok(Some(response)) => {
            tracing::debug!(token = %token, "answered an HTTP-01 challenge");
            plain_text(StatusCode::OK, response.as_str().to_owned())
        }
        Ok(None) => plain_text(StatusCode::NOT_FOUND, "no such challenge"),
        Err(error) => {
            tracing::warn!(error = %error, "HTTP-01 responder cannot reach the database");
            plain_text(StatusCode::SERVICE_UNAVAILABLE, "try again")
        }
    }
}

/// Serves only the responder on `addr` until the process ends.
pub async fn serve_dedicated(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(listen = %addr, "HTTP-01 responder listening");
    let app = routes().with_state(state);
    axum::serve(listener, app).await
}
