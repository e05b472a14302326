//! Per-person certificate quotas (`[limits]`): how many certificates a person may request in any 24 hours
//! (`certificates_per_day`) and hold live at once (`live_certificates`). The issuance pipeline checks them twice: once
//! before a key is made (an exhausted quota costs certdesk nothing), and for good in the intent's transaction under
//! a lock on the owner, so concurrent requests cannot all slip under the cap. A refusal names the quota and says
//! what to do.
//!
//! What counts. A person's request counts against both quotas. A renewal replaces a certificate, so it never
//! counts against the live cap. An automatic renewal does not count per day either: the renewal floor
//! (`renewal_floor_minutes`) already bounds how often the job renews a certificate, and refusing it would let a
//! certificate expire. "Renew now" is a person's request and counts per day: the floor does not hold it back (a
//! key that leaked must be replaceable at once, even right after issuance), so the daily cap is what ends a "renew
//! now" loop.

use app::AppError;
use sqlx::PgConnection;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::config::LimitsConfig;
use crate::db;

/// Which of the owner's quotas a request is held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaUse {
    /// A new certificate: both.
    Request,
    /// "Renew now": the daily one.
    ManualRenewal,
    /// The renewal job: none.
    AutomaticRenewal,
}

/// The rolling window of `certificates_per_day`.
const DAY: Duration = Duration::days(1);

/// A quota the request would exceed: the configuration key (for the audit event) and the answer for the person.
#[derive(Debug, Clone)]
pub struct QuotaRefusal {
    pub quota: &'static str,
    pub used: i64,
    pub limit: u32,
    pub error: AppError,
}

/// Whether the request being checked is already among the owner's certificates the count sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThisRequest {
    /// Not yet inserted (the check before key generation).
    NotCounted,
    /// Inserted, as a pending intent (not an automatic renewal), in the transaction that runs the check.
    Counted,
}

/// `None` when `owner_id` may make one more request of kind `usage` at `now`. Counts what is committed (and the
/// caller's own uncommitted intent, when `this` says it is there): to be race-free, call it in the transaction that
/// inserts the request, after `db::quotas::lock_owner`.
pub async fn check(
    conn: &mut PgConnection,
    limits: &LimitsConfig,
    owner_id: Uuid,
    usage: QuotaUse,
    this: ThisRequest,
    now: OffsetDateTime,
) -> Result<Option<QuotaRefusal>, sqlx::Error> {
    if usage == QuotaUse::AutomaticRenewal {
        return Ok(None);
    }
    let mut used = db::quotas::usage(conn, owner_id, now - DAY, now).await?;
    if this == ThisRequest::Counted {
        // Its own pending row counts as requested today and as live; the quotas are about the others.
        used.requested -= 1;
        used.live -= 1;
    }
    if used.requested >= i64::from(limits.certificates_per_day) {
        // The oldest request of the window frees a place when it is a day old.
        let free_at = used.oldest_requested.map_or(now, |oldest| oldest + DAY);
        return Ok(Some(per_day(used.requested, limits.certificates_per_day, free_at, now)));
    }
    if usage == QuotaUse::Request && used.live >= i64::from(limits.live_certificates) {
        return Ok(Some(live(used.live, limits.live_certificates)));
    }
    Ok(None)
}

fn per_day(requested: i64, limit: u32, free_at: OffsetDateTime, now: OffsetDateTime) -> QuotaRefusal {
    let wait = (free_at - now).max(Duration::SECOND);
    // Rounded up: retrying at the stated time succeeds.
    let retry_after_secs = u64::try_from(wait.whole_seconds()).unwrap_or(1) + u64::from(wait.subsec_nanoseconds() > 0);
    let at = free_at.replace_nanosecond(0).unwrap_or(free_at).format(&Rfc3339).unwrap_or_default();
    let message = format!(
        "you have reached your daily certificate quota: {requested} certificates requested in the last 24 hours, \
         {limit} allowed per person; you can request the next one in {} (at {at}), or ask an administrator to raise \
         `limits.certificates_per_day`",
        readable(wait)
    );
    QuotaRefusal {
        quota: "limits.certificates_per_day",
        used: requested,
        limit,
        error: AppError::QuotaExceeded { message, retry_after_secs },
    }
}

fn live(live: i64, limit: u32) -> QuotaRefusal {
    let message = format!(
        "you have reached your quota of live certificates: you hold {live} (issued or being issued, not expired), \
         {limit} allowed per person; revoke certificates you no longer need or let them expire, then request again \
         (renewing a certificate you hold is still possible)"
    );
    QuotaRefusal { quota: "limits.live_certificates", used: live, limit, error: AppError::Conflict { message } }
}

/// "3 h 12 min", "12 min", "40 s".
fn readable(wait: Duration) -> String {
    let (hours, minutes) = (wait.whole_hours(), wait.whole_minutes() % 60);
    match (hours, minutes) {
        (0, 0) => format!("{} s", wait.whole_seconds().max(1)),
        (0, minutes) => format!("{minutes} min"),
        (hours, minutes) => format!("{hours} h {minutes} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_refusal_says_when_the_next_request_is_possible_and_retry_after_rounds_up() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let refusal = per_day(3, 3, now + Duration::minutes(192) + Duration::milliseconds(1), now);
        let AppError::QuotaExceeded { message, retry_after_secs } = &refusal.error else { panic!("{refusal:?}") };
        assert_eq!(*retry_after_secs, 192 * 60 + 1);
        assert!(message.contains("daily certificate quota") && message.contains("in 3 h 12 min"), "{message}");
        assert_eq!(refusal.error.status(), 429);
        assert_eq!(live(5, 5).error.status(), 409);
        assert_eq!(readable(Duration::seconds(40)), "40 s");
    }
}
