//! The dashboard's numbers: counts by status and issuer, the 90-day expiry timeline in weekly bars, and the
//! certificates expiring soon; of the caller's own certificates, or of everyone's for admins and auditors.

use app::model::{
    CertStatus, DashboardScope, DashboardSummary, ExpiringCertificate, ExpiryWeek, IssuerCounts, StatusCount,
};
use app::ssr::Caller;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::auth::roles::owner_scope;
use crate::db;
use crate::db::certificates::stored_status;
use crate::error::ServerError;
use crate::state::AppState;

/// "Expiring soon": the stat card, the per-issuer column and the list.
const EXPIRY_HORIZON: Duration = Duration::days(30);
/// The timeline's reach and bar width.
pub const TIMELINE_DAYS: u32 = 90;
const WEEK_DAYS: u32 = 7;
/// Enough to act on; the inventory's filter shows the rest.
const EXPIRING_LIST_LIMIT: i64 = 10;

/// Admins and auditors see everyone's certificates unless they ask for their own; everyone else sees theirs.
pub async fn summary(
    state: &AppState,
    caller: &Caller,
    wanted: DashboardScope,
    now: OffsetDateTime,
) -> Result<DashboardSummary, ServerError> {
    let pool = &state.pool;
    let can_see_all = owner_scope(caller).is_none();
    let (scope, owner) = match (can_see_all, wanted) {
        (true, DashboardScope::All) => (DashboardScope::All, None),
        _ => (DashboardScope::Mine, Some(caller.user_id)),
    };
    let horizon = now + EXPIRY_HORIZON;
    let counts = db::dashboard::certificate_counts(pool, owner, horizon).await?;
    let per_issuer = db::dashboard::counts_by_issuer(pool, owner, horizon).await?;
    let by_status = CertStatus::ALL
        .into_iter()
        .map(|status| StatusCount {
            status,
            count: per_issuer.iter().filter(|row| stored_status(&row.status) == status).map(|row| row.count).sum(),
        })
        .collect();
    let issuer_name = |id: &str| {
        state.issuers.get(id).map(|issuer| issuer.config.display_name.clone()).unwrap_or_else(|| id.to_owned())
    };
    // Configured issuers first (in configuration order, zeros included), then any that are no longer configured.
    let mut issuer_ids: Vec<String> = state.issuers.iter().map(|issuer| issuer.config.id.clone()).collect();
    for row in &per_issuer {
        if !issuer_ids.contains(&row.issuer_id) {
            issuer_ids.push(row.issuer_id.clone());
        }
    }
    let by_issuer = issuer_ids
        .into_iter()
        .map(|id| {
            let rows = || per_issuer.iter().filter(|row| row.issuer_id == id);
            IssuerCounts {
                display_name: issuer_name(&id),
                total: rows().map(|row| row.count).sum(),
                issued: rows().filter(|row| row.status == "issued").map(|row| row.count).sum(),
                expiring_within_30_days: rows().map(|row| row.expiring_before).sum(),
                issuer_id: id,
            }
        })
        .collect();
    let week = Duration::days(i64::from(WEEK_DAYS));
    let buckets = db::dashboard::expiry_buckets(
        pool,
        owner,
        now,
        now + Duration::days(i64::from(TIMELINE_DAYS)),
        week.whole_seconds(),
    )
    .await?;
    let timeline = weeks(now, &buckets);
    let expiring_soon = db::dashboard::expiring_soon(pool, owner, horizon, EXPIRING_LIST_LIMIT)
        .await?
        .into_iter()
        .map(|row| ExpiringCertificate {
            id: row.id,
            issuer_name: issuer_name(&row.issuer_id),
            common_name: row.common_name,
            owner_name: row.owner_name,
            days_left: days_left(now, row.not_after),
            not_after: row.not_after.format(&Rfc3339).unwrap_or_default(),
        })
        .collect();
    Ok(DashboardSummary {
        scope,
        can_see_all,
        certificates_total: counts.total,
        issued: counts.issued,
        expiring_within_30_days: counts.expiring_before,
        revoked: counts.revoked,
        failed: counts.failed,
        by_status,
        by_issuer,
        timeline,
        expiring_soon,
        users: db::dashboard::user_count(pool).await?,
        audit_events: db::audit::count(pool).await?,
        issuers: state.issuers.iter().map(|issuer| issuer.summary()).collect(),
    })
}

/// The timeline's bars from the counted buckets: one per week, the last one cut at `TIMELINE_DAYS`.
pub fn weeks(now: OffsetDateTime, buckets: &[(i32, i64)]) -> Vec<ExpiryWeek> {
    (0..TIMELINE_DAYS.div_ceil(WEEK_DAYS))
        .map(|index| {
            let from_day = index * WEEK_DAYS;
            let to_day = (from_day + WEEK_DAYS).min(TIMELINE_DAYS);
            let count = buckets.iter().filter(|(bucket, _)| *bucket == index as i32).map(|(_, count)| count).sum();
            ExpiryWeek {
                from_day,
                to_day,
                first: day_label(now + Duration::days(i64::from(from_day))),
                // The window ends just before `to_day`.
                last: day_label(now + Duration::days(i64::from(to_day)) - Duration::seconds(1)),
                count,
            }
        })
        .collect()
}

/// Whole days until `not_after`, rounded towards the past: expiring in 20 hours is 0 days left; expired an hour
/// ago is -1.
pub fn days_left(now: OffsetDateTime, not_after: OffsetDateTime) -> i64 {
    (not_after - now).as_seconds_f64().div_euclid(86_400.0) as i64
}

/// "2 Dec" (UTC).
fn day_label(time: OffsetDateTime) -> String {
    let month = time.month().to_string();
    format!("{} {}", time.day(), month.get(..3).unwrap_or(&month))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn thirteen_weekly_bars_cover_ninety_days_with_the_counts_in_place() {
        let now = datetime!(2026-12-02 15:00 UTC);
        let bars = weeks(now, &[(0, 2), (3, 5), (12, 1)]);
        assert_eq!(bars.len(), 13);
        assert_eq!((bars[0].from_day, bars[0].to_day, bars[0].count), (0, 7, 2));
        assert_eq!((bars[0].first.as_str(), bars[0].last.as_str()), ("2 Dec", "9 Dec"));
        assert_eq!((bars[3].from_day, bars[3].count, bars[3].range()), (21, 5, "23 Dec – 30 Dec".to_owned()));
        assert_eq!((bars[12].from_day, bars[12].to_day, bars[12].count), (84, 90, 1));
        assert_eq!(bars.iter().map(|bar| bar.count).sum::<i64>(), 8);
        assert_eq!(bars[3].href(), "/certificates?status=issued&expiring_after=21&expiring=28&sort=expiry");
    }

    #[test]
    fn days_left_rounds_towards_the_past() {
        let now = datetime!(2026-12-02 15:00 UTC);
        assert_eq!(days_left(now, now + Duration::hours(20)), 0);
        assert_eq!(days_left(now, now + Duration::days(3)), 3);
        assert_eq!(days_left(now, now - Duration::hours(1)), -1);
    }
}
