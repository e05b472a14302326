//! A renewal that failed: counted and backed off on the certificate it was to replace (which stays current),
//! audited, and its owner told; whether it failed at once or as an ACME order that finished later.

use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::db::certificates::CertificateRecord;
use crate::error::ServerError;
use crate::state::AppState;

/// The first retry after a failure; each further failure doubles the wait, up to `RETRY_CAP`.
pub const RETRY_BASE: Duration = Duration::minutes(5);
/// Long enough not to hammer an issuer that is down for hours, short enough to renew well before expiry.
pub const RETRY_CAP: Duration = Duration::hours(4);
/// The wait before the next attempt after `attempts` failures in a row.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 16) - 1;
    (RETRY_BASE * 2_i32.pow(doublings as u32)).min(RETRY_CAP)
}

/// An ACME order finishes in the background: when `failed_id` was a renewal, its failure is the renewal's,
/// counted and backed off on the certificate it was to replace (which stays current), and its owner told.
pub async fn order_failed(
    state: &AppState,
    failed_id: Uuid,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(), ServerError> {
    let Some(previous) = db::renewal::renewed_from(&state.pool, failed_id).await? else { return Ok(()) };
    let Some(record) = db::certificates::find_visible(&state.pool, previous, None).await? else { return Ok(()) };
    let actor = Actor::job("renewal");
    crate::metrics::renewal(&record.issuer_id, "failed");
    record_failure(state, &actor, &record, &format!("the ACME order failed: {reason}"), now).await
}

/// Counts the failed attempt, schedules the next, keeps the error and audits it, in one transaction.
pub(super) async fn record_failure(
    state: &AppState,
    actor: &Actor,
    record: &CertificateRecord,
    text: &str,
    now: OffsetDateTime,
) -> Result<(), ServerError> {
    let mut tx = state.pool.begin().await?;
    let (attempts, retry_at) =
        db::renewal::record_failure(&mut tx, record.id, text, |attempts| now + backoff(attempts)).await?;
    let entry = actor
        .did(Action::CertificateRenewalFailed)
        .on(Object::Certificate(record.id))
        .with(json!({ "issuer": record.issuer_id, "serial": record.serial, "attempt": attempts,
                "retry_at": retry_at.format(&Rfc3339).unwrap_or_default(), "error": text }));
    audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    tx.commit().await?;
    // After the commit: the failure is recorded whatever happens to the notice (a crash here loses only it).
    if let Err(error) = crate::notifications::renewal_failed(state, record.id, text, now).await {
        tracing::warn!(certificate = %record.id, error = %error, "could not record the renewal failure notice");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_minutes_up_to_four_hours() {
        let minutes: Vec<i64> = (1..=8).map(|attempts| backoff(attempts).whole_minutes()).collect();
        assert_eq!(minutes, [5, 10, 20, 40, 80, 160, 240, 240]);
        assert_eq!(backoff(1000), RETRY_CAP);
    }
}
