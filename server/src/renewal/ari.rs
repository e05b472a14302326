//! Renewal windows from the CAs that suggest them (ACME renewal information, RFC 9773): asks the CA when each of
//! its certificates should be renewed, places the renewal point at a uniformly random moment of the suggested
//! window (or now, when the window has begun), and asks again when the CA's `Retry-After` says. A CA without
//! renewal information keeps the lifetime share (`renewal::renewal_point`) and is asked again daily, in case it
//! gains it.

use std::time::Duration as StdDuration;

use rand::Rng;
use time::{Duration, OffsetDateTime};

use crate::db;
use crate::db::renewal::AriAnswer;
use crate::error::ServerError;
use crate::issuers::RenewalInfo;
use crate::state::AppState;

/// Certificates asked about per renewal run.
const BATCH: i64 = 50;
/// Bounds on the CA's `Retry-After`: RFC 9773 lets clients clamp it to a reasonable range.
const MIN_RECHECK: Duration = Duration::minutes(1);
const MAX_RECHECK: Duration = Duration::days(1);
/// After a failed or unsupported request: ask again later rather than hammer the CA.
const RECHECK_AFTER_TROUBLE: Duration = Duration::hours(6);

/// What asking about certificates did in one run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AriReport {
    /// Renewal points placed from a window the CA suggested.
    pub windows: usize,
    /// Certificates whose CA offers no ARI (they keep the lifetime share).
    pub unsupported: usize,
    /// Requests that failed; asked again later.
    pub failed: usize,
}

/// The renewal point inside `[start, end)`: uniformly random, so a fleet renewed together spreads out; `now` when
/// the window has already begun (RFC 9773 §4.2: renew immediately).
pub fn point_in_window(start: OffsetDateTime, end: OffsetDateTime, now: OffsetDateTime, roll: f64) -> OffsetDateTime {
    if start <= now || end <= start {
        return now.max(start.min(end));
    }
    start + (end - start) * roll.clamp(0.0, 1.0)
}

/// Whether the CA's explanation URL may become a link on the certificate's page: http(s) only, never
/// `javascript:` or `data:` from a CA that misbehaves.
fn is_web_link(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some())
}

/// When to ask again, from the CA's hint.
fn next_check(now: OffsetDateTime, retry_after: StdDuration) -> OffsetDateTime {
    let hint = Duration::try_from(retry_after).unwrap_or(MAX_RECHECK);
    now + hint.clamp(MIN_RECHECK, MAX_RECHECK)
}

/// Asks the CAs about every certificate of theirs due for it at `now`.
pub async fn refresh_due(state: &AppState, now: OffsetDateTime) -> Result<AriReport, ServerError> {
    let issuers: Vec<String> = state
        .issuers
        .iter()
        .filter(|issuer| issuer.authority().offers_renewal_info())
        .map(|issuer| issuer.config.id.clone())
        .collect();
    let mut report = AriReport::default();
    if issuers.is_empty() {
        return Ok(report);
    }
    for candidate in db::renewal::ari_due(&state.pool, &issuers, now, BATCH).await? {
        let Some(issuer) = state.issuers.get(&candidate.issuer_id) else { continue };
        let info = issuer.authority().renewal_info(&candidate.leaf_pem).await;
        let answer = match &info {
            &RenewalInfo::Window { start, end, ref explanation_url, retry_after } => {
                report.windows += 1;
                let roll = rand::thread_rng().r#gen::<f64>();
                AriAnswer {
                    window: Some((start, end)),
                    renew_at: Some(point_in_window(start, end, now, roll)),
                    explanation_url: explanation_url.as_deref().filter(|url| is_web_link(url)),
                    next_check: next_check(now, retry_after),
                }
            }
            RenewalInfo::Unsupported => {
                report.unsupported += 1;
                AriAnswer { window: None, renew_at: None, explanation_url: None, next_check: now + MAX_RECHECK }
            }
            RenewalInfo::Failed(error) => {
                report.failed += 1;
                tracing::warn!(certificate = %candidate.id, error = %error, "asking the CA for renewal information");
                AriAnswer {
                    window: None,
                    renew_at: None,
                    explanation_url: None,
                    next_check: now + RECHECK_AFTER_TROUBLE,
                }
            }
        };
        db::renewal::record_ari(&state.pool, candidate.id, &answer).await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_point_is_inside_a_future_window_and_now_once_the_window_began() {
        let now = datetime!(2026-06-01 00:00 UTC);
        let (start, end) = (now + Duration::days(10), now + Duration::days(12));
        assert_eq!(point_in_window(start, end, now, 0.0), start);
        assert_eq!(point_in_window(start, end, now, 0.5), now + Duration::days(11));
        assert!(point_in_window(start, end, now, 0.999) < end);
        assert_eq!(point_in_window(now - Duration::hours(1), end, now, 0.7), now);
        // A window already over: renew now.
        assert_eq!(point_in_window(now - Duration::days(3), now - Duration::days(1), now, 0.2), now);
    }

    #[test]
    fn only_web_urls_become_links() {
        assert!(is_web_link("https://letsencrypt.org/2025/incident"));
        assert!(!is_web_link("javascript:alert(document.cookie)"));
        assert!(!is_web_link("data:text/html,<script>alert(1)</script>"));
        assert!(!is_web_link("not a url"));
    }

    #[test]
    fn the_recheck_follows_retry_after_within_bounds() {
        let now = datetime!(2026-06-01 00:00 UTC);
        assert_eq!(next_check(now, StdDuration::from_secs(6 * 3600)), now + Duration::hours(6));
        assert_eq!(next_check(now, StdDuration::ZERO), now + MIN_RECHECK);
        assert_eq!(next_check(now, StdDuration::from_secs(30 * 86_400)), now + MAX_RECHECK);
    }
}
