//! Prometheus `/metrics`. A scrape renders two parts: what PostgreSQL knows right now (certificates by status and
//! issuer, seconds until each issued certificate expires, each CRL's age, number and next update) and what this
//! process counted since it started (issuance and revocation counts and latencies, issuer errors, CRL refreshes),
//! recorded with the `metrics` crate into a Prometheus recorder.

mod exposition;
pub mod routes;

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::issuers::IssuerError;

/// Latency buckets (seconds) for issuance and revocation: a CA answers in milliseconds, a slow one in seconds.
const LATENCY_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder, installed on first use. `None` if another recorder was installed first (then only
/// the database part is rendered).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), &LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!("certdesk_issuance_total", "Certificate requests by issuer and outcome.");
    metrics::describe_histogram!(
        "certdesk_issuance_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a request to its answer, issuer call included."
    );
    metrics::describe_counter!("certdesk_revocation_total", "Revocation requests by issuer and outcome.");
    metrics::describe_histogram!(
        "certdesk_revocation_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a revocation request to its answer, issuer call included."
    );
    metrics::describe_counter!("certdesk_issuer_errors_total", "Errors answered by issuers, by kind.");
    metrics::describe_counter!("certdesk_crl_refresh_total", "CRL refresh attempts by outcome.");
    metrics::describe_counter!("certdesk_job_runs_total", "Background job runs on this replica, by job and outcome.");
    metrics::describe_histogram!(
        "certdesk_job_run_duration_seconds",
        metrics::Unit::Seconds,
        "How long background job runs took on this replica."
    );
    metrics::describe_gauge!("certdesk_job_leader", "1 while this replica holds the job leader lock, else 0.");
    metrics::describe_counter!("certdesk_notifications_total", "Notice deliveries by channel and outcome.");
    metrics::describe_counter!(
        "certdesk_refusals_total",
        "Refused anonymous requests by action (request.csrf, api.auth, auth.login), audited or not."
    );
    metrics::describe_counter!(
        "certdesk_renewals_total",
        "Renewal attempts by issuer and outcome (started: an ACME order placed; failed: retried after backoff)."
    );
}

/// One certificate request finished with `outcome` (`issued`, `failed`, `denied`, `over_quota`).
pub fn issuance(issuer: &str, outcome: &'static str, elapsed: Duration) {
    recorder();
    metrics::counter!("certdesk_issuance_total", "issuer" => issuer.to_owned(), "outcome" => outcome).increment(1);
    metrics::histogram!("certdesk_issuance_duration_seconds", "issuer" => issuer.to_owned()).record(elapsed);
}

/// One revocation request finished with `outcome` (`revoked`, `already_revoked`, `failed`, `denied`).
pub fn revocation(issuer: &str, outcome: &'static str, elapsed: Duration) {
    recorder();
    metrics::counter!("certdesk_revocation_total", "issuer" => issuer.to_owned(), "outcome" => outcome).increment(1);
    metrics::histogram!("certdesk_revocation_duration_seconds", "issuer" => issuer.to_owned()).record(elapsed);
}

pub fn issuer_error(issuer: &str, error: &IssuerError) {
    recorder();
    let kind = match error {
        IssuerError::Unavailable { .. } => "unavailable",
        IssuerError::Sealed { .. } => "sealed",
        IssuerError::Refused { .. } => "refused",
        IssuerError::NotConfigured { .. } => "not_configured",
        IssuerError::BadAnswer { .. } => "bad_answer",
    };
    metrics::counter!("certdesk_issuer_errors_total", "issuer" => issuer.to_owned(), "kind" => kind).increment(1);
}

pub fn crl_refresh(issuer: &str, ok: bool) {
    recorder();
    let outcome = if ok { "success" } else { "failure" };
    metrics::counter!("certdesk_crl_refresh_total", "crl" => issuer.to_owned(), "outcome" => outcome).increment(1);
}

/// One background job run finished on this replica.
pub fn job_run(job: &'static str, success: bool, elapsed: Duration) {
    recorder();
    let outcome = if success { "success" } else { "failure" };
    metrics::counter!("certdesk_job_runs_total", "job" => job, "outcome" => outcome).increment(1);
    metrics::histogram!("certdesk_job_run_duration_seconds", "job" => job).record(elapsed);
}

pub fn job_leader(leader: bool) {
    recorder();
    metrics::gauge!("certdesk_job_leader").set(if leader { 1.0 } else { 0.0 });
}

/// One renewal attempt of a certificate of `issuer` ended `renewed`, `started` (an ACME order now runs) or `failed`.
pub fn renewal(issuer: &str, outcome: &'static str) {
    recorder();
    metrics::counter!("certdesk_renewals_total", "issuer" => issuer.to_owned(), "outcome" => outcome).increment(1);
}

/// One notice delivery attempt on `channel` (`email`, `webhook`) ended `sent` or `failed`.
pub fn notice(channel: &str, outcome: &'static str) {
    recorder();
    metrics::counter!("certdesk_notifications_total", "channel" => channel.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// One anonymous request refused (`request.csrf`, `api.auth`, `auth.login`); counted whether or not it was audited.
pub fn refusal(action: &str) {
    recorder();
    metrics::counter!("certdesk_refusals_total", "action" => action.to_owned()).increment(1);
}
