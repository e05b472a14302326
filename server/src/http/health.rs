//! `/healthz` (the process answers) and `/readyz` (the database answers, migrated; how every issuer, CRL and the
//! background jobs fare). Only the database makes a replica unready: it is what every request needs, and what one
//! replica may have lost while others have not. An issuer that does not answer, or a stale CRL, degrades readiness
//! without failing it: an issuer outage is every replica's at once, and taking them all out of the load balancer
//! would stop pages, downloads, CRLs and the other issuers too (issuance from that issuer refuses on its own).
//! One probe answers every `/readyz` for 5 s, and a burst shares one probe.

use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use time::OffsetDateTime;

use crate::crl::RefreshStatus;
use crate::db;
use crate::issuers::ProbeResult;
use crate::state::{AppState, ReadinessAnswer};

const DATABASE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    database: ProbeResult,
    issuers: BTreeMap<String, ProbeResult>,
    crls: BTreeMap<String, CrlReadiness>,
    /// This replica, whether it is the job leader, and each job's last run (informational: never makes it unready).
    jobs: Option<crate::jobs::overview::JobsOverview>,
    /// The components that are down, so a reader does not have to scan the whole document.
    down: Vec<String>,
    /// Working, but not as they should: an issuer that does not answer (`issuer:<id>`, also in `down`), a CRL that
    /// could not be refreshed or is past its nextUpdate (`crl:<name>`).
    degraded: Vec<String>,
}

#[derive(Serialize, Default)]
struct CrlReadiness {
    crl_number: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    this_update: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    next_update: Option<OffsetDateTime>,
    /// Seconds since the served CRL was issued.
    age_seconds: Option<i64>,
    stale: bool,
    /// Why it is stale, when it is.
    problem: Option<String>,
    #[serde(flatten)]
    refresh: Option<RefreshStatus>,
}

pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "alive" }))
}

/// How long one readiness probe answers for. Probes call every issuer (OpenBao, the ACME directory): a flood of
/// `/readyz` must not become a flood of calls to them.
pub const READINESS_FRESH_FOR: Duration = Duration::from_secs(5);

pub async fn readyz(State(state): State<AppState>) -> Response {
    let (status, body) = state.readiness.get_or_compute(|| probe(&state)).await;
    let headers = [(http::header::CACHE_CONTROL, "no-store"), (http::header::CONTENT_TYPE, "application/json")];
    (status, headers, body).into_response()
}

async fn probe(state: &AppState) -> ReadinessAnswer {
    let (database, issuers) = tokio::join!(database_probe(state), state.issuers.probe_all());
    let mut down = Vec::new();
    if !database.ok {
        down.push("database".to_owned());
    }
    let issuers_down: Vec<String> =
        issuers.iter().filter(|(_, probe)| !probe.ok).map(|(id, _)| format!("issuer:{id}")).collect();
    down.extend(issuers_down.iter().cloned());
    let crls = if database.ok { crl_readiness(state).await } else { BTreeMap::new() };
    let jobs = if database.ok { Some(crate::jobs::overview::overview(state).await) } else { None };
    let mut degraded = issuers_down;
    degraded.extend(crls.iter().filter(|(_, crl)| crl.stale).map(|(name, _)| format!("crl:{name}")));
    let ready = database.ok;
    let label = match (ready, degraded.is_empty()) {
        (false, _) => "unavailable",
        (true, false) => "degraded",
        (true, true) => "ready",
    };
    let body = Readiness { status: label, database, issuers, crls, jobs, down, degraded };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"status":"unavailable"}"#.to_vec());
    (status, body.into())
}

/// Every published CRL and every issuer whose CRL certdesk refreshes, with what is wrong with it, if anything.
async fn crl_readiness(state: &AppState) -> BTreeMap<String, CrlReadiness> {
    let now = OffsetDateTime::now_utc();
    let stored = db::crls::list(&state.pool).await.unwrap_or_default();
    let mut refresh = state.crls.status();
    let mut crls = BTreeMap::new();
    for crl in stored {
        let refresh_status = refresh.remove(&crl.name);
        let expired = crl.next_update.is_some_and(|next| next <= now);
        let failing = refresh_status.as_ref().and_then(|status| status.last_error.clone());
        let problem = match (expired, failing) {
            (true, _) => Some("past its nextUpdate: relying parties will reject it".to_owned()),
            (false, Some(error)) => Some(format!("refresh failing, serving the last good CRL: {error}")),
            (false, None) => None,
        };
        crls.insert(
            crl.name,
            CrlReadiness {
                crl_number: Some(crl.crl_number),
                this_update: Some(crl.this_update),
                next_update: crl.next_update,
                age_seconds: Some((now - crl.this_update).whole_seconds()),
                stale: problem.is_some(),
                problem,
                refresh: refresh_status,
            },
        );
    }
    // Issuers whose CRL was never stored: nothing to serve yet.
    for (name, status) in refresh {
        let problem = status.last_error.clone().map(|error| format!("no CRL fetched yet: {error}"));
        crls.insert(
            name,
            CrlReadiness { stale: problem.is_some(), problem, refresh: Some(status), ..Default::default() },
        );
    }
    crls
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
