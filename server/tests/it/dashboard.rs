//! The dashboard's numbers against PostgreSQL, with time passed in: the 90-day timeline puts each issued
//! certificate in its week (expired, superseded and later ones left out), the counts by issuer and the list of
//! what expires soon, scoped to the caller unless an admin or auditor asks for everyone's; and the inventory's
//! expiry window (a timeline bar's link) lists exactly that bar's certificates.

use app::model::{CertStatus, CertificateQuery, DashboardScope, Role};
use certdesk::dashboard;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::support::{person, state_for};

async fn certificate(pool: &PgPool, owner: Uuid, issuer: &str, status: &str, expires_in: Duration) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, not_before, not_after,
                                   revoked_at)
         VALUES ($1, $2, $3, $4, $5, 'EC P-256', now() - interval '1 day', now() + $6,
                 CASE WHEN $4 = 'revoked' THEN now() END)",
    )
    .bind(id)
    .bind(owner)
    .bind(issuer)
    .bind(status)
    .bind(format!("c-{}.cluster.local", &id.to_string()[..8]))
    .bind(expires_in)
    .execute(pool)
    .await
    .unwrap();
    id
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_timeline_counts_and_expiring_list_follow_the_scope(pool: PgPool) {
    let state = state_for(&pool, "");
    let (pat, sam) = (person(&pool, "Pat", Role::User).await, person(&pool, "Sam", Role::User).await);
    let admin = person(&pool, "Ada", Role::Admin).await;
    let hours = Duration::hours;
    // Pat: two in the first week, one in week 3 (days 21–28), one past 90 days, one expired, one superseded.
    let soonest = certificate(&pool, pat.user_id, "private", "issued", hours(30)).await;
    certificate(&pool, pat.user_id, "private", "issued", hours(6 * 24 + 20)).await;
    certificate(&pool, pat.user_id, "private", "issued", hours(22 * 24)).await;
    certificate(&pool, pat.user_id, "private", "issued", hours(120 * 24)).await;
    let expired = certificate(&pool, pat.user_id, "private", "issued", -hours(3)).await;
    certificate(&pool, pat.user_id, "private", "superseded", hours(2 * 24)).await;
    // Sam: one in week 13 (days 84–90) from an issuer no longer configured, one revoked.
    certificate(&pool, sam.user_id, "old-ca", "issued", hours(85 * 24)).await;
    certificate(&pool, sam.user_id, "private", "revoked", hours(10 * 24)).await;
    let now = OffsetDateTime::now_utc();

    let own = dashboard::summary(&state, &pat, DashboardScope::All, now).await.unwrap();
    assert_eq!((own.scope, own.can_see_all), (DashboardScope::Mine, false));
    let counts: Vec<i64> = own.timeline.iter().map(|week| week.count).collect();
    assert_eq!(counts, [2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!((own.timeline[3].from_day, own.timeline[3].to_day), (21, 28));
    // Expired first (negative days), then the soonest; superseded ones are not current and not listed.
    let listed: Vec<(Uuid, i64)> = own.expiring_soon.iter().map(|row| (row.id, row.days_left)).collect();
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(listed[0], (expired, -1));
    assert_eq!(listed[1], (soonest, 1));
    let status = |summary: &app::model::DashboardSummary, status: CertStatus| {
        summary.by_status.iter().find(|row| row.status == status).map(|row| row.count)
    };
    assert_eq!(status(&own, CertStatus::Issued), Some(5));
    assert_eq!(status(&own, CertStatus::Superseded), Some(1));
    assert_eq!(status(&own, CertStatus::Revoked), Some(0));

    let everyone = dashboard::summary(&state, &admin, DashboardScope::All, now).await.unwrap();
    assert_eq!((everyone.scope, everyone.can_see_all), (DashboardScope::All, true));
    assert_eq!(everyone.timeline.iter().map(|week| week.count).sum::<i64>(), 4);
    assert_eq!(everyone.timeline[12].count, 1);
    let issuers: Vec<(&str, i64, i64)> =
        everyone.by_issuer.iter().map(|row| (row.issuer_id.as_str(), row.issued, row.total)).collect();
    // No issuer is configured here: both are listed, by id.
    assert_eq!(issuers, [("old-ca", 1, 1), ("private", 5, 7)]);
    assert!(everyone.expiring_soon.iter().all(|row| row.owner_name == "Pat"));
    // An admin asking for their own sees their own: nothing.
    let admins_own = dashboard::summary(&state, &admin, DashboardScope::Mine, now).await.unwrap();
    assert_eq!((admins_own.scope, admins_own.certificates_total), (DashboardScope::Mine, 0));

    // A bar's link: the inventory window of days 21–28 lists exactly Pat's certificate of week 3.
    let window = CertificateQuery {
        status: Some(CertStatus::Issued),
        expiring_after_days: Some(21),
        expiring_within_days: Some(28),
        ..Default::default()
    };
    let page = certdesk::inventory::list(&state, &pat, window.clone()).await.unwrap();
    assert_eq!(page.rows.len(), 1);
    let first_week = CertificateQuery { expiring_after_days: Some(0), expiring_within_days: Some(7), ..window };
    assert_eq!(certdesk::inventory::list(&state, &pat, first_week.clone()).await.unwrap().rows.len(), 2);
    let backwards = CertificateQuery { expiring_after_days: Some(7), ..first_week };
    let refused = certdesk::inventory::list(&state, &pat, backwards).await.err();
    assert!(
        matches!(&refused, Some(certdesk::error::ServerError::Client(app::AppError::Invalid { field: Some(field), .. }))
            if field == "expiring_after_days"),
        "{refused:?}"
    );
}
