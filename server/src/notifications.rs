//! Notices to people about their certificates: expiry at each configured threshold, revocation, renewal success
//! and failure, and a daily digest for admins; over e-mail (SMTP) and signed webhooks, as each person chose.
//!
//! Every notice goes through an outbox: its row, unique per event and channel, is claimed before anything is
//! sent, and the `notifications` job (on the job leader) sends what is pending, retrying with backoff. So a
//! certificate crossing a threshold gives exactly one notice per channel across restarts and replicas. Delivery
//! itself is at-least-once (a crash between the SMTP server accepting a message and certdesk recording it sends
//! it again on the next attempt): each e-mail carries a stable Message-ID and each webhook the notice id in
//! `X-Certdesk-Event-Id`, so receivers can drop the rare repeat.

pub mod deliver;
pub mod delivery_error;
pub mod email;
mod email_text;
pub mod expiry;
pub mod job;
pub mod settings;
pub mod webhook;

use serde_json::{Value, json};
use sqlx::PgConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::db;
use crate::db::notifications::{CertificateBrief, NewNotice};
use crate::error::ServerError;
use crate::state::AppState;

pub use job::{Notifications, run_once};

/// The channels a notice can take.
pub const EMAIL: &str = "email";
pub const WEBHOOK: &str = "webhook";

/// The channels `user_id` wants and certdesk can serve right now.
pub async fn channels_of(
    db: &mut PgConnection,
    state: &AppState,
    user_id: Uuid,
) -> Result<Vec<&'static str>, sqlx::Error> {
    let settings = db::notifications::settings_of(&mut *db, user_id).await?;
    let mut channels = Vec::new();
    if settings.email_enabled
        && state.config.smtp.is_some()
        && db::notifications::email_of(&mut *db, user_id).await?.is_some()
    {
        channels.push(EMAIL);
    }
    if settings.webhook_url.is_some() && settings.webhook_secret.is_some() {
        channels.push(WEBHOOK);
    }
    Ok(channels)
}

/// One event to tell a person about.
pub struct Event<'a> {
    /// Unique per event: a second `record` of the same key adds nothing.
    pub key: String,
    pub kind: &'static str,
    pub user_id: Uuid,
    pub certificate: Option<&'a CertificateBrief>,
    pub threshold_days: Option<i32>,
    pub payload: Value,
}

/// Claims the event on each of the person's channels; returns how many notices are new.
pub async fn record(state: &AppState, event: &Event<'_>, now: OffsetDateTime) -> Result<usize, sqlx::Error> {
    record_in(&mut *state.pool.acquire().await?, state, event, now).await
}

/// `record` on `db`: in a transaction, the notice commits or rolls back with the change it tells of.
pub async fn record_in(
    db: &mut PgConnection,
    state: &AppState,
    event: &Event<'_>,
    now: OffsetDateTime,
) -> Result<usize, sqlx::Error> {
    let mut new = 0;
    for channel in channels_of(db, state, event.user_id).await? {
        let notice = NewNotice {
            event_key: &event.key,
            channel,
            kind: event.kind,
            user_id: event.user_id,
            certificate_id: event.certificate.map(|certificate| certificate.id),
            threshold_days: event.threshold_days,
            payload: &event.payload,
            now,
        };
        if db::notifications::claim(&mut *db, &notice).await? {
            new += 1;
        }
    }
    Ok(new)
}

/// The certificate as every notice describes it.
pub fn describe(certificate: &CertificateBrief) -> Value {
    json!({
        "id": certificate.id,
        "common_name": certificate.common_name,
        "dns_names": certificate.dns_names,
        "serial": certificate.serial,
        "issuer": certificate.issuer_id,
        "not_after": certificate.not_after.and_then(|time| time.format(&Rfc3339).ok()),
    })
}

async fn certificate(db: impl sqlx::PgExecutor<'_>, id: Uuid) -> Result<CertificateBrief, ServerError> {
    db::notifications::certificate_brief(db, id)
        .await?
        .ok_or_else(|| ServerError::Internal(format!("certificate {id} not found for its notice")))
}

/// In the transaction that records a revocation: tells the owner (delivery by the job), so the notice cannot be
/// lost between the record's commit and its own.
pub async fn revoked(
    tx: &mut PgConnection,
    state: &AppState,
    certificate_id: Uuid,
    now: OffsetDateTime,
) -> Result<usize, ServerError> {
    let certificate = certificate(&mut *tx, certificate_id).await?;
    let event = Event {
        key: format!("revoked:{certificate_id}"),
        kind: "revoked",
        user_id: certificate.owner_id,
        certificate: Some(&certificate),
        threshold_days: None,
        payload: json!({ "type": "certificate.revoked", "certificate": describe(&certificate),
                         "reason": certificate.revocation_reason }),
    };
    Ok(record_in(tx, state, &event, now).await?)
}

/// For the renewal code: `renewed_id` replaced `previous_id`. One notice per renewed certificate.
pub async fn renewal_succeeded(
    state: &AppState,
    previous_id: Uuid,
    renewed_id: Uuid,
    now: OffsetDateTime,
) -> Result<usize, ServerError> {
    let renewed = certificate(&state.pool, renewed_id).await?;
    let event = Event {
        key: format!("renewal_succeeded:{renewed_id}"),
        kind: "renewal_succeeded",
        user_id: renewed.owner_id,
        certificate: Some(&renewed),
        threshold_days: None,
        payload: json!({ "type": "certificate.renewed", "certificate": describe(&renewed), "previous_id": previous_id }),
    };
    Ok(record(state, &event, now).await?)
}

/// For the renewal code: renewing `certificate_id` failed with `error` (shown to its owner: no secrets). At most
/// one notice per certificate per UTC day, however often the renewal is retried.
pub async fn renewal_failed(
    state: &AppState,
    certificate_id: Uuid,
    error: &str,
    now: OffsetDateTime,
) -> Result<usize, ServerError> {
    let certificate = certificate(&state.pool, certificate_id).await?;
    let event = Event {
        key: format!("renewal_failed:{certificate_id}:{}", now.date()),
        kind: "renewal_failed",
        user_id: certificate.owner_id,
        certificate: Some(&certificate),
        threshold_days: None,
        payload: json!({ "type": "certificate.renewal_failed", "certificate": describe(&certificate), "error": error }),
    };
    Ok(record(state, &event, now).await?)
}
