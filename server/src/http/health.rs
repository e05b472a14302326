//! `/healthz` (the process answers) and `/readyz` (the database and every issuer answer).

use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;

use crate::db;
use crate::issuers::ProbeResult;
use crate::state::AppState;

const DATABASE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    database: ProbeResult,
    issuers: BTreeMap<String, ProbeResult>,
    /// The components that are down, so a reader does not have to scan the whole document.
    down: Vec<String>,
}

pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "alive" }))
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let (database, issuers) = tokio::join!(database_probe(&state), state.issuers.probe_all());
    let mut down = Vec::new();
    if !database.ok {
        down.push("database".to_owned());
    }
    down.extend(issuers.iter().filter(|(_, probe)| !probe.ok).map(|(id, _)| format!("issuer:{id}")));
    let ready = down.is_empty();
    let body = Readiness { status: if ready { "ready" } else { "unavailable" }, database, issuers, down };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn database_probe(state: &AppState) -> ProbeResult {
    match tokio::time::timeout(DATABASE_PROBE_TIMEOUT, db::ping(&state.pool)).await {
        Err(_) => ProbeResult::down("no answer within 2 s"),
        Ok(Err(_)) => ProbeResult::down("unreachable"),
        Ok(Ok(())) if !state.migrations.applied() => ProbeResult::down("migrations pending"),
        Ok(Ok(())) => ProbeResult::up(),
    }
}

/// A handler panicked: answer 500 without the panic message, which may hold anything.
pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "kind": "internal", "incident": "panic" })))
        .into_response()
}
