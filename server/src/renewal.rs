//! Automatic renewal of certificates, and "renew now". A renewal is a new certificate with the same issuer,
//! names, key type, validity, usages and owner, through the same issuance pipeline as any request (policy checked
//! again against the owner's groups, intent, issuer, verified chain); when it is issued it becomes the current
//! certificate and the old one is kept as `superseded`, linked both ways (`renewed_from`). One renewal per
//! certificate, in flight or done, enforced by the database, so double submits and concurrent runs renew once.
//!
//! `run_once(state, now)` renews everything `due(state, now)`; the `renewal` job runs it on the job leader (time
//! is passed in, so tests never sleep). A failed attempt leaves the old certificate untouched and current, keeps
//! the error, tells the owner, and schedules the next attempt with capped exponential backoff. Issuers not
//! no longer configured are skipped. An ACME renewal is an order finishing in the background: its renewal
//! point comes from the CA's renewal information when offered (`ari`), and a failed order counts as a
//! failed attempt (`failure::order_failed`). A certificate's renewal settings belong to its request
//! (`issuance::renewal_settings`).

pub mod ari;
pub mod failure;
mod job;
pub mod manual;
mod request;
pub mod view;

use app::AppError;
use app::model::RequestedCertificate;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::Actor;
use crate::db;
use crate::db::certificates::CertificateRecord;
use crate::error::ServerError;
use crate::issuance::pipeline::{self, Requester};
use crate::issuance::quota::QuotaUse;
use crate::state::AppState;

pub use crate::issuance::renewal_settings::{RenewalSettings, renewal_point};
pub use job::Renewal;

/// Certificates renewed per run; the rest are still due at the next run.
const BATCH: i64 = 50;

/// A certificate whose renewal point has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub id: Uuid,
    pub issuer_id: String,
    pub renew_at: OffsetDateTime,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// Issued certificates with automatic renewal whose renewal point (and backoff, after a failure) has passed at
/// `now`, most urgent first; those of issuers no longer configured are left out, and so are those with a renewal in flight (an ACME order still running) and those requested less than the renewal
/// floor (`limits.renewal_floor_minutes`) ago, whatever moved their renewal point (the CA's renewal information).
pub async fn due(state: &AppState, now: OffsetDateTime) -> Result<Vec<Due>, ServerError> {
    let requested_before = now - state.config.limits.renewal_floor;
    Ok(db::renewal::due(&state.pool, now, requested_before, BATCH)
        .await?
        .into_iter()
        .filter(|row| state.issuers.get(&row.issuer_id).is_some())
        .map(|row| Due { id: row.id, issuer_id: row.issuer_id, renew_at: row.renew_at, attempts: row.renewal_attempts })
        .collect())
}

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// (old, new) certificate ids.
    pub renewed: Vec<(Uuid, Uuid)>,
    /// Old certificate ids with the error, retried after their backoff.
    pub failed: Vec<(Uuid, String)>,
    /// Renewed concurrently by someone else (another replica, the button).
    pub skipped: usize,
    /// What the ACME CAs said about renewal windows (ARI).
    pub renewal_info: ari::AriReport,
}

/// Renews every certificate due at `now`.
pub async fn run_once(state: &AppState, now: OffsetDateTime) -> Result<RunReport, ServerError> {
    // The ACME CAs' suggested windows first: they can move a renewal point to now.
    let renewal_info = ari::refresh_due(state, now).await?;
    let mut report = RunReport { renewal_info, ..RunReport::default() };
    for due in due(state, now).await? {
        let Some(record) = db::certificates::find_visible(&state.pool, due.id, None).await? else { continue };
        match renew(state, Actor::job("renewal"), QuotaUse::AutomaticRenewal, &record, None, now).await {
            Ok(renewed) => {
                let outcome = if renewed.status == app::model::CertStatus::Pending { "started" } else { "renewed" };
                crate::metrics::renewal(&record.issuer_id, outcome);
                report.renewed.push((due.id, renewed.id));
            }
            Err(ServerError::Client(AppError::Conflict { .. })) => report.skipped += 1,
            Err(error) => {
                crate::metrics::renewal(&record.issuer_id, "failed");
                report.failed.push((due.id, failure_text(&error)));
            }
        }
    }
    if !report.renewed.is_empty() || !report.failed.is_empty() || report.skipped > 0 {
        tracing::info!(
            renewed = report.renewed.len(),
            failed = report.failed.len(),
            skipped = report.skipped,
            "renewal run"
        );
    }
    Ok(report)
}

/// Renews `record` through the issuance pipeline; a failure (other than a renewal already in flight or done, or the
/// owner's daily quota spent by "renew now") is recorded on the old certificate, which stays as it was.
pub(crate) async fn renew(
    state: &AppState,
    actor: Actor,
    quota: QuotaUse,
    record: &CertificateRecord,
    idempotency_key: Option<String>,
    now: OffsetDateTime,
) -> Result<RequestedCertificate, ServerError> {
    let Some(row) = db::renewal::find(&state.pool, record.id).await? else {
        return Err(ServerError::Client(AppError::not_found("certificate")));
    };
    let settings = RenewalSettings::of(&row);
    let request = request::for_renewal(record, row.csr_pem, settings, idempotency_key)?;
    let requester = Requester {
        owner_id: record.owner_id,
        actor: actor.clone(),
        renews: Some(record.id),
        quota,
        acme_server: None,
    };
    match pipeline::issue_for(state, &requester, request).await {
        Ok(renewed) => Ok(renewed),
        Err(error @ ServerError::Client(AppError::Conflict { .. } | AppError::QuotaExceeded { .. })) => Err(error),
        Err(error) => {
            tracing::warn!(certificate = %record.id, error = %error, "renewal failed");
            failure::record_failure(state, &actor, record, &failure_text(&error), now).await?;
            Err(error)
        }
    }
}

/// What the owner reads about a failed attempt: the message a person would have seen, never a database string.
fn failure_text(error: &ServerError) -> String {
    match error {
        ServerError::Client(error) => error.to_string(),
        _ => "certdesk could not complete the renewal (an incident was logged)".into(),
    }
}
