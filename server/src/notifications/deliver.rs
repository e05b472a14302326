//! Sending what the outbox holds: each due notice over its channel; a failure is retried with backoff (1 minute,
//! doubling, at most 6 hours) and given up after `MAX_ATTEMPTS`, each outcome recorded on the row.
//!
//! A notice is claimed for `SEND_LEASE` (45 s) before it is sent, then sent and recorded by a task of its own, whose
//! record retries while the database restarts: neither a PostgreSQL restart between the receiver's answer and the
//! record (which also ends this replica's job leadership, cancelling the job) nor a SIGTERM mid-send sends it again.
//! Only a replica killed in that instant leaves a notice that is sent again once its claim runs out: delivery is at
//! least once, and each carries its id for the receiver to drop a repeat.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

pub use super::delivery_error::DeliveryError;
use super::{EMAIL, WEBHOOK, email, webhook};
use crate::db;
use crate::db::notifications::Due;
use crate::state::AppState;

const BATCH: i64 = 100;
pub const MAX_ATTEMPTS: i32 = 12;
const FIRST_RETRY: Duration = Duration::from_secs(60);
const LONGEST_RETRY: Duration = Duration::from_secs(6 * 3600);
/// Longer than a sending takes (a webhook times out after 10 s, an SMTP exchange after 20 s), short enough that a
/// notice whose sender died or could not record a failure is tried again soon: it is not due meanwhile.
const SEND_LEASE: time::Duration = time::Duration::seconds(45);

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub retrying: usize,
    pub given_up: usize,
    pub skipped: usize,
}

/// When to try again after `attempts` failed attempts; `None`: give up.
pub fn next_attempt(attempts: i32, now: OffsetDateTime) -> Option<OffsetDateTime> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 2_u32.saturating_pow(u32::try_from(attempts.max(1) - 1).unwrap_or(0));
    Some(now + FIRST_RETRY.saturating_mul(factor).min(LONGEST_RETRY))
}

pub async fn send_due(state: &AppState, now: OffsetDateTime) -> Result<Delivered, sqlx::Error> {
    let mut done = Delivered::default();
    let mailer = Arc::new(state.config.smtp.as_ref().map(email::Mailer::new).transpose());
    for notice in db::notifications::due(&state.pool, now, BATCH).await? {
        if !db::notifications::claim_for_sending(&state.pool, notice.id, now, now + SEND_LEASE).await? {
            continue;
        }
        // Sent and recorded by a task of its own: a job cancelled in the middle (its leadership lost with the
        // database, or SIGTERM) neither cuts the record short nor leaves the notice to be sent again once its claim
        // runs out. Shutdown waits for it (`AppState::unfinished`).
        let (task_state, mailer) = (state.clone(), mailer.clone());
        let delivery = state.unfinished.spawn(async move { deliver(&task_state, &mailer, notice, now).await });
        match delivery.await.map_err(|_| sqlx::Error::WorkerCrashed)?? {
            Outcome::Sent => done.sent += 1,
            Outcome::Skipped => done.skipped += 1,
            Outcome::Retrying => done.retrying += 1,
            Outcome::GivenUp => done.given_up += 1,
        }
    }
    Ok(done)
}

/// What became of one notice.
enum Outcome {
    Sent,
    Skipped,
    Retrying,
    GivenUp,
}

async fn deliver(
    state: &AppState,
    mailer: &Result<Option<email::Mailer>, email::MailerError>,
    notice: Due,
    now: OffsetDateTime,
) -> Result<Outcome, sqlx::Error> {
    let result = if !notice.certificate_current {
        Err(DeliveryError::Skip("the certificate is no longer current".into()))
    } else {
        match notice.channel.as_str() {
            EMAIL => match mailer {
                Ok(Some(mailer)) => mailer.send(state, &notice, now).await,
                Ok(None) => Err(DeliveryError::Skip("[smtp] is not configured".into())),
                Err(error) => Err(DeliveryError::Retry(error.to_string())),
            },
            WEBHOOK => webhook::send(state, &notice, now).await,
            other => Err(DeliveryError::Skip(format!("unknown channel {other}"))),
        }
    };
    match result {
        Ok(()) => {
            record_sent(&state.pool, notice.id, now).await?;
            crate::metrics::notice(&notice.channel, "sent");
            Ok(Outcome::Sent)
        }
        Err(DeliveryError::Skip(why)) => {
            db::notifications::mark_skipped(&state.pool, notice.id, &why).await?;
            Ok(Outcome::Skipped)
        }
        Err(DeliveryError::Retry(error)) => {
            let next = next_attempt(notice.attempts + 1, now);
            tracing::warn!(notice = %notice.id, channel = %notice.channel, attempt = notice.attempts + 1,
                           error = %error, gave_up = next.is_none(), "notice not delivered");
            db::notifications::mark_attempt_failed(&state.pool, notice.id, &error, next).await?;
            crate::metrics::notice(&notice.channel, "failed");
            Ok(if next.is_some() { Outcome::Retrying } else { Outcome::GivenUp })
        }
    }
}

/// Records a delivery, retried while the database is unavailable: the receiver has the notice, so only the record
/// may be repeated, never the sending.
async fn record_sent(pool: &sqlx::PgPool, id: uuid::Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    let what = format!("notice {id} delivered");
    db::patience::until_recorded(&what, || db::notifications::mark_sent(pool, id, now)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_end() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(next_attempt(1, now), Some(now + Duration::from_secs(60)));
        assert_eq!(next_attempt(2, now), Some(now + Duration::from_secs(120)));
        assert_eq!(next_attempt(11, now), Some(now + LONGEST_RETRY));
        assert_eq!(next_attempt(MAX_ATTEMPTS, now), None);
    }
}
