//! Step-up: sensitive actions (creating API tokens, exporting the audit log, an admin revoking, renewing or
//! exporting the key of someone else's certificate, changing a webhook URL) need a second factor proven recently —
//! at the provider (`auth_time`) or by certdesk's own TOTP, never merely a new session. An older proof answers
//! `StepUpRequired`, and the UI sends the person through `/auth/login?step_up=1`, which asks the provider to
//! authenticate again (`prompt=login`, `max_age=0`) and checks the new `auth_time`.

use std::time::Duration;

use app::AppError;
use app::ssr::Caller;
use time::OffsetDateTime;

pub fn require_recent_mfa(caller: &Caller, now: OffsetDateTime, max_age: Duration) -> Result<(), AppError> {
    let age = now.unix_timestamp() - caller.mfa_at;
    if caller.mfa_at > 0 && (0..=max_age.as_secs() as i64).contains(&age) {
        Ok(())
    } else {
        Err(AppError::StepUpRequired)
    }
}

/// Where to confirm it's you before coming back to `next` (a same-site path).
pub fn href(next: &str) -> String {
    reqwest::Url::parse_with_params("http://certdesk/auth/login", [("step_up", "1"), ("next", next)])
        .ok()
        .and_then(|url| url.query().map(|query| format!("/auth/login?{query}")))
        .unwrap_or_else(|| "/auth/login?step_up=1".to_owned())
}

/// A step-up sign-in must have authenticated after it started (`auth_time`), allowing for clock skew.
pub fn is_fresh_authentication(auth_time: Option<i64>, started_at: i64) -> bool {
    const CLOCK_SKEW_SECS: i64 = 30;
    auth_time.is_some_and(|auth_time| auth_time >= started_at - CLOCK_SKEW_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Role;

    fn caller(mfa_at: i64) -> Caller {
        Caller {
            user_id: uuid::Uuid::nil(),
            display_name: String::new(),
            role: Role::Admin,
            csrf_token: String::new(),
            mfa_at,
            credential: app::ssr::Credential::Session,
        }
    }

    const TEN_MINUTES: Duration = Duration::from_secs(600);

    #[test]
    fn a_recent_second_factor_passes_and_an_old_one_does_not() {
        let now = OffsetDateTime::from_unix_timestamp(10_000).unwrap();
        assert_eq!(require_recent_mfa(&caller(10_000 - 599), now, TEN_MINUTES), Ok(()));
        assert_eq!(require_recent_mfa(&caller(10_000 - 601), now, TEN_MINUTES), Err(AppError::StepUpRequired));
    }

    #[test]
    fn tokens_and_future_times_never_count_as_step_up() {
        let now = OffsetDateTime::from_unix_timestamp(10_000).unwrap();
        assert_eq!(require_recent_mfa(&caller(0), now, TEN_MINUTES), Err(AppError::StepUpRequired));
        assert_eq!(require_recent_mfa(&caller(20_000), now, TEN_MINUTES), Err(AppError::StepUpRequired));
    }

    #[test]
    fn step_up_needs_an_auth_time_after_the_request() {
        assert!(is_fresh_authentication(Some(1_000), 1_000));
        assert!(!is_fresh_authentication(Some(900), 1_000));
        assert!(!is_fresh_authentication(None, 1_000));
    }
}
