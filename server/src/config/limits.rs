//! `[limits]`: request rates (per client address for anonymous routes and refusals, per person for `/api/v1` and
//! `/rpc`) and per-person certificate quotas. Every key is optional; the defaults let a team of people and
//! their automation work undisturbed while a single source cannot flood certdesk.

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    anonymous_burst: Option<u32>,
    anonymous_per_second: Option<u32>,
    caller_burst: Option<u32>,
    caller_per_second: Option<u32>,
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
}

/// Generous enough for a whole office behind one NAT signing in at nine, and for browser tests signing in
/// twenty people from 127.0.0.1 in a few seconds.
const ANONYMOUS: Rate = Rate { burst: 60, per_second: 5 };
/// A page load makes a handful of server-function calls; automation may batch.
const CALLER: Rate = Rate { burst: 300, per_second: 30 };

pub(super) fn validate(raw: Option<RawLimits>) -> Result<LimitsConfig, ConfigError> {
    let raw = raw.unwrap_or_default();
    let anonymous = rate("limits.anonymous", raw.anonymous_burst, raw.anonymous_per_second, ANONYMOUS)?;
    let caller = rate("limits.caller", raw.caller_burst, raw.caller_per_second, CALLER)?;
    Ok(LimitsConfig { anonymous, caller })
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
