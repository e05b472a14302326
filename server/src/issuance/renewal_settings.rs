//! A certificate's renewal settings: checked at request time, stored with the intent, and turned into the
//! renewal point once the certificate is issued (from its real lifetime: an issuer may shorten what was asked).

use app::AppError;
use app::model::RenewalRequest;
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::db;
use crate::error::ServerError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenewalSettings {
    pub auto: bool,
    /// `None`: one third.
    pub remaining_percent: Option<u8>,
    /// Wins over the share while it is shorter than the lifetime.
    pub renew_before_days: Option<u32>,
    pub reuse_key: bool,
}

impl RenewalSettings {
    /// Folded into the request's fingerprint: the same idempotency key with other renewal settings is another
    /// request.
    pub fn fingerprint(&self) -> String {
        format!(
            "renewal:{}:{}:{}:{}",
            self.auto,
            self.remaining_percent.map(|percent| percent.to_string()).unwrap_or_default(),
            self.renew_before_days.map(|days| days.to_string()).unwrap_or_default(),
            self.reuse_key
        )
    }

    /// The settings as stored with a certificate.
    pub fn of(row: &db::renewal::RenewalRow) -> Self {
        Self {
            auto: row.auto_renew,
            remaining_percent: row.renew_remaining_percent.and_then(|percent| u8::try_from(percent).ok()),
            renew_before_days: row.renew_before_days.and_then(|days| u32::try_from(days).ok()),
            reuse_key: row.reuse_key,
        }
    }

    /// "when a third of its lifetime remains", "10 days before it expires".
    pub fn describe(&self) -> String {
        match (self.renew_before_days, self.remaining_percent) {
            (Some(1), _) => "1 day before it expires".into(),
            (Some(days), _) => format!("{days} days before it expires"),
            (None, Some(percent)) => format!("when {percent}% of its lifetime remains"),
            (None, None) => "when a third of its lifetime remains".into(),
        }
    }
}

/// The request's renewal choices, checked. A CSR's certificate can only be renewed by signing its CSR again, so
/// it always keeps its key; it renews itself only when asked, and then not sooner than `floor` after it is issued
/// (`limits.renewal_floor_minutes`): a setting that would is refused, naming it.
pub fn check(
    input: Option<&RenewalRequest>,
    from_csr: bool,
    validity_days: u32,
    floor: std::time::Duration,
) -> Result<RenewalSettings, AppError> {
    let input = input.cloned().unwrap_or_default();
    if let Some(percent) = input.remaining_percent
        && !(1..=99).contains(&percent)
    {
        return Err(AppError::invalid("renewal.remaining_percent", "choose between 1 and 99 percent"));
    }
    if let Some(days) = input.renew_before_days {
        if input.remaining_percent.is_some() {
            return Err(AppError::invalid(
                "renewal.renew_before_days",
                "give either renew_before_days or remaining_percent, not both",
            ));
        }
        if days == 0 || days >= validity_days {
            return Err(AppError::invalid(
                "renewal.renew_before_days",
                format!("must be at least 1 and fewer than the validity ({validity_days} days)"),
            ));
        }
    }
    let settings = RenewalSettings {
        auto: input.auto.unwrap_or(!from_csr),
        remaining_percent: input.remaining_percent,
        renew_before_days: input.renew_before_days,
        reuse_key: input.reuse_key || from_csr,
    };
    if settings.auto {
        check_floor(&settings, validity_days, floor)?;
    }
    Ok(settings)
}

/// Refuses settings whose renewal point, for the requested lifetime, comes sooner than `floor` after issuance,
/// naming the setting that puts it there (the validity, when the default share does).
fn check_floor(settings: &RenewalSettings, validity_days: u32, floor: std::time::Duration) -> Result<(), AppError> {
    let issued = OffsetDateTime::UNIX_EPOCH;
    let expires = issued + Duration::days(i64::from(validity_days));
    let after = renewal_point(issued, expires, settings.remaining_percent, settings.renew_before_days) - issued;
    if after >= floor {
        return Ok(());
    }
    let floor_minutes = floor.as_secs() / 60;
    let (field, change) = match (settings.renew_before_days, settings.remaining_percent) {
        (Some(_), _) => ("renewal.renew_before_days", "fewer days"),
        (None, Some(_)) => ("renewal.remaining_percent", "a smaller share"),
        (None, None) => ("validity_days", "a longer validity"),
    };
    Err(AppError::invalid(
        field,
        format!(
            "with a validity of {validity_days} days this renews {} minutes after it is issued; certdesk renews a \
             certificate at most once every {floor_minutes} minutes: choose {change}, or turn automatic renewal off",
            after.whole_minutes()
        ),
    ))
}

/// When a certificate valid from `not_before` to `not_after` is due for renewal: `renew_before_days` before it
/// expires, or when the chosen share of its lifetime (a third by default) remains. A `renew_before_days` as long
/// as the lifetime (the issuer shortened it) would renew at once, forever: the share applies instead.
pub fn renewal_point(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    remaining_percent: Option<u8>,
    renew_before_days: Option<u32>,
) -> OffsetDateTime {
    let lifetime = not_after - not_before;
    if let Some(days) = renew_before_days {
        let before = Duration::days(i64::from(days));
        if before < lifetime {
            return not_after - before;
        }
    }
    let remaining = match remaining_percent {
        Some(percent) => lifetime * f64::from(percent) / 100.0,
        None => lifetime / 3,
    };
    not_after - remaining
}

/// The settings (and what it renews) as the intent's insert stores them.
pub fn intent_columns(settings: &RenewalSettings, renews: Option<Uuid>) -> db::renewal::IntentRenewal {
    db::renewal::IntentRenewal {
        auto_renew: settings.auto,
        remaining_percent: settings.remaining_percent.map(i16::from),
        renew_before_days: settings.renew_before_days.map(|days| days as i32),
        reuse_key: settings.reuse_key,
        renewed_from: renews,
    }
}

/// The intent's insert failed: a second renewal of the same certificate is refused by the database (in flight or
/// done, there is only one), and says so.
pub fn refusal_of_insert(error: sqlx::Error) -> ServerError {
    match error {
        sqlx::Error::Database(error) if error.constraint() == Some(db::renewal::ONE_RENEWAL_INDEX) => {
            ServerError::Client(AppError::Conflict {
                message: "this certificate is already being renewed or was renewed".into(),
            })
        }
        other => ServerError::from(other),
    }
}

/// What completing an issuance does for renewal: the renewal point it stores with the certificate, and the
/// certificate it supersedes.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnIssue {
    pub renew_at: Option<OffsetDateTime>,
    pub renews: Option<Uuid>,
}

/// The settings of an intent when it completes: known to the request that stored them (they never change after the
/// insert), or read back by whoever completes it later (an order, the reconciler).
#[derive(Debug, Clone, Copy)]
pub enum IntentSettings {
    Known(db::renewal::IssuedSettings),
    Stored,
}

/// At completion, in the transaction that marks a certificate issued and before it does: its renewal point, from
/// its real lifetime, never sooner than `floor` after now (a lifetime shorter than asked, by the issuer's choice or a
/// policy that shrank before a renewal, must not make a certificate renew itself in a loop), and the certificate it
/// renews.
pub async fn on_issue(
    tx: &mut PgConnection,
    id: Uuid,
    settings: IntentSettings,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
    now: OffsetDateTime,
    floor: std::time::Duration,
) -> Result<OnIssue, ServerError> {
    let settings = match settings {
        IntentSettings::Known(settings) => settings,
        IntentSettings::Stored => match db::renewal::settings_for_update(tx, id).await? {
            Some(settings) => settings,
            None => return Ok(OnIssue::default()),
        },
    };
    let renew_at = settings.auto_renew.then(|| {
        let percent = settings.renew_remaining_percent.and_then(|percent| u8::try_from(percent).ok());
        let days = settings.renew_before_days.and_then(|days| u32::try_from(days).ok());
        renewal_point(not_before, not_after, percent, days).max(now + floor)
    });
    Ok(OnIssue { renew_at, renews: settings.renewed_from })
}

/// Once it is marked issued: the certificate it renews is superseded (one revoked meanwhile stays revoked; the
/// renewal still replaces it). Answers that certificate, for the audit event.
pub async fn supersede_renewed(
    tx: &mut PgConnection,
    on_issue: OnIssue,
    now: OffsetDateTime,
) -> Result<Option<Uuid>, ServerError> {
    let Some(previous) = on_issue.renews else { return Ok(None) };
    db::renewal::mark_superseded(tx, previous, now).await?;
    Ok(Some(previous))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

    #[test]
    fn the_default_renews_when_a_third_remains_and_renew_before_wins_when_shorter() {
        let start = datetime!(2026-01-01 00:00 UTC);
        let end = start + Duration::days(90);
        assert_eq!(renewal_point(start, end, None, None), start + Duration::days(60));
        assert_eq!(renewal_point(start, end, Some(10), None), start + Duration::days(81));
        assert_eq!(renewal_point(start, end, None, Some(7)), end - Duration::days(7));
        // Longer than the lifetime (the issuer shortened it): the share applies.
        assert_eq!(renewal_point(start, start + Duration::days(3), None, Some(5)), start + Duration::days(2));
    }

    #[test]
    fn request_choices_are_checked_and_default_by_key_source() {
        let generated = check(None, false, 30, HOUR).unwrap();
        assert_eq!(
            generated,
            RenewalSettings { auto: true, remaining_percent: None, renew_before_days: None, reuse_key: false }
        );
        let csr = check(None, true, 30, HOUR).unwrap();
        assert_eq!((csr.auto, csr.reuse_key), (false, true));
        let field = |request: RenewalRequest| match check(Some(&request), false, 30, HOUR) {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(RenewalRequest { renew_before_days: Some(30), ..Default::default() }).as_deref(),
            Some("renewal.renew_before_days")
        );
        assert_eq!(
            field(RenewalRequest { remaining_percent: Some(100), ..Default::default() }).as_deref(),
            Some("renewal.remaining_percent")
        );
        let both = RenewalRequest { remaining_percent: Some(20), renew_before_days: Some(5), ..Default::default() };
        assert_eq!(field(both).as_deref(), Some("renewal.renew_before_days"));
        let before = check(
            Some(&RenewalRequest { renew_before_days: Some(10), reuse_key: true, ..Default::default() }),
            false,
            30,
            HOUR,
        );
        assert_eq!(before.unwrap().describe(), "10 days before it expires");
    }

    #[test]
    fn settings_renewing_sooner_than_the_floor_after_issuance_are_refused_naming_the_setting() {
        let percent = |percent: u8| RenewalRequest { remaining_percent: Some(percent), ..Default::default() };
        // One day with 99% remaining renews 14 minutes after issuance.
        let Err(AppError::Invalid { field, message }) = check(Some(&percent(99)), false, 1, HOUR) else {
            panic!("a renewal 14 minutes after issuance must be refused")
        };
        assert_eq!(field.as_deref(), Some("renewal.remaining_percent"));
        assert!(
            message.contains("renews 14 minutes after it is issued") && message.contains("60 minutes"),
            "{message}"
        );
        // 95% of one day is 72 minutes: allowed; so is anything without automatic renewal.
        assert!(check(Some(&percent(95)), false, 1, HOUR).is_ok());
        let manual = RenewalRequest { auto: Some(false), ..percent(99) };
        assert!(check(Some(&manual), false, 1, HOUR).is_ok());
        // The default third of a day is 16 hours: too soon only for a floor longer than that, blamed on the validity.
        let day = std::time::Duration::from_secs(86_400);
        let Err(AppError::Invalid { field, .. }) = check(None, false, 1, day) else { panic!("16 h < 24 h") };
        assert_eq!(field.as_deref(), Some("validity_days"));
    }
}
