//! Finding what to tell: certificates that crossed an expiry threshold, and the admins' daily digest.

use serde_json::json;
use time::OffsetDateTime;

use super::{EMAIL, Event, describe, record};
use crate::db;
use crate::db::notifications::NewNotice;
use crate::state::AppState;

/// Certificates handled per run; the rest are found by the next run.
const BATCH: i64 = 500;
/// The digest lists what expires within this.
const DIGEST_HORIZON: time::Duration = time::Duration::days(14);

/// Records an expiry notice for each certificate that crossed a threshold since its last notice; returns how
/// many notices are new.
pub async fn record_crossed(state: &AppState, now: OffsetDateTime) -> Result<usize, sqlx::Error> {
    let thresholds: Vec<i32> =
        state.config.notifications.thresholds_days.iter().map(|days| i32::try_from(*days).unwrap_or(365)).collect();
    let mut new = 0;
    for crossed in db::notifications::crossed_thresholds(&state.pool, now, &thresholds, BATCH).await? {
        let certificate = &crossed.certificate;
        let days_left = certificate.not_after.map(|not_after| (not_after - now).whole_days());
        let event = Event {
            key: format!("expiry:{}:{}", certificate.id, crossed.threshold_days),
            kind: "expiry",
            user_id: certificate.owner_id,
            certificate: Some(certificate),
            threshold_days: Some(crossed.threshold_days),
            payload: json!({ "type": "certificate.expiring", "certificate": describe(certificate),
                             "threshold_days": crossed.threshold_days, "days_left": days_left }),
        };
        new += record(state, &event, now).await?;
    }
    Ok(new)
}

/// Once per UTC day, with `[notifications] admin_digest`: one e-mail per admin listing certificates expiring
/// within two weeks and the failures of the last day.
pub async fn record_digests(state: &AppState, now: OffsetDateTime) -> Result<usize, sqlx::Error> {
    if !state.config.notifications.admin_digest || state.config.smtp.is_none() {
        return Ok(0);
    }
    let expiring = db::notifications::expiring_before(&state.pool, now, now + DIGEST_HORIZON, 200).await?;
    let failures = db::notifications::failures_since(&state.pool, now - time::Duration::days(1), 200).await?;
    let payload = json!({ "type": "digest", "date": now.date().to_string(), "expiring": expiring,
                          "failures": failures });
    let mut new = 0;
    for (admin, _) in db::notifications::admins_with_email(&state.pool).await? {
        let key = format!("digest:{}:{admin}", now.date());
        let notice = NewNotice {
            event_key: &key,
            channel: EMAIL,
            kind: "digest",
            user_id: admin,
            certificate_id: None,
            threshold_days: None,
            payload: &payload,
            now,
        };
        if db::notifications::claim(&state.pool, &notice).await? {
            new += 1;
        }
    }
    Ok(new)
}
