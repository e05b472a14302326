//! `[limits]`: request rates (per client address for anonymous routes and refusals, per person for `/api/v1` and
//! `/rpc`), per-person certificate quotas, and the renewal floor. Every key is optional; the defaults let a team of people and
//! their automation work undisturbed while a single source cannot flood certdesk.

use std::ops::RangeInclusive;

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    anonymous_burst: Option<u32>,
    anonymous_per_second: Option<u32>,
    caller_burst: Option<u32>,
    caller_per_second: Option<u32>,
    certificates_per_day: Option<u32>,
    live_certificates: Option<u32>,
    renewal_floor_minutes: Option<u32>,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub per_second: u32,
}

#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// Per client address: `/auth/login`, `/auth/callback`, `/signin/*`, and every refused request (401/403).
    pub anonymous: Rate,
    /// Per person (session or API token): `/api/v1/*` and `/rpc/*`.
    pub caller: Rate,
    /// Per person: certificates requested in any 24 hours (automatic renewals not counted).
    pub certificates_per_day: u32,
    /// Per person: certificates issued or being issued that have not expired, been revoked or been superseded
    /// (renewals not counted: each replaces one).
    pub live_certificates: u32,
    /// No certificate is renewed automatically, nor may its renewal settings ask to be, sooner than this after it
    /// was requested.
    pub renewal_floor: std::time::Duration,
}

/// Generous enough for a whole office behind one NAT signing in at nine, and for browser tests signing in
/// twenty people from 127.0.0.1 in a few seconds.
const ANONYMOUS: Rate = Rate { burst: 60, per_second: 5 };
/// A page load makes a handful of server-function calls; automation may batch.
const CALLER: Rate = Rate { burst: 300, per_second: 30 };
/// Far above what a person or their automation asks for in a day, far below what would flood an issuer.
const CERTIFICATES_PER_DAY: u32 = 200;
const LIVE_CERTIFICATES: u32 = 1000;
/// Renewing more often than hourly is a loop, not a lifetime policy.
const RENEWAL_FLOOR_MINUTES: u32 = 60;

pub(super) fn validate(raw: Option<RawLimits>) -> Result<LimitsConfig, ConfigError> {
    let raw = raw.unwrap_or_default();
    let anonymous = rate("limits.anonymous", raw.anonymous_burst, raw.anonymous_per_second, ANONYMOUS)?;
    let caller = rate("limits.caller", raw.caller_burst, raw.caller_per_second, CALLER)?;
    let certificates_per_day =
        within("limits.certificates_per_day", raw.certificates_per_day, CERTIFICATES_PER_DAY, 1..=1_000_000)?;
    let live_certificates =
        within("limits.live_certificates", raw.live_certificates, LIVE_CERTIFICATES, 1..=1_000_000)?;
    // At most a day: the shortest certificate certdesk issues lives one day.
    let floor_minutes =
        within("limits.renewal_floor_minutes", raw.renewal_floor_minutes, RENEWAL_FLOOR_MINUTES, 1..=1440)?;
    let renewal_floor = std::time::Duration::from_secs(u64::from(floor_minutes) * 60);
    Ok(LimitsConfig { anonymous, caller, certificates_per_day, live_certificates, renewal_floor })
}

fn within(key: &str, value: Option<u32>, default: u32, range: RangeInclusive<u32>) -> Result<u32, ConfigError> {
    let value = value.unwrap_or(default);
    if !range.contains(&value) {
        return Err(ConfigError::invalid(key, format!("must be between {} and {}", range.start(), range.end())));
    }
    Ok(value)
}

fn rate(prefix: &str, burst: Option<u32>, per_second: Option<u32>, default: Rate) -> Result<Rate, ConfigError> {
    let burst = burst.unwrap_or(default.burst);
    let per_second = per_second.unwrap_or(default.per_second);
    if !(1..=100_000).contains(&burst) {
        return Err(ConfigError::invalid(format!("{prefix}_burst"), "must be between 1 and 100000"));
    }
    if !(1..=100_000).contains(&per_second) {
        return Err(ConfigError::invalid(format!("{prefix}_per_second"), "must be between 1 and 100000"));
    }
    Ok(Rate { burst, per_second })
}
