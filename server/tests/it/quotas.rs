//! Per-person quotas and the renewal floor against the test stack's real OpenBao and PostgreSQL: the daily cap
//! holds under 20 concurrent requests, says when the next request is possible, still answers an idempotent replay,
//! counts "renew now" but not automatic renewals, and rolls over after 24 hours; the live cap refuses new
//! certificates but not renewals; renewal settings sooner than the floor are refused at request time and the job
//! never renews a certificate younger than the floor; a renewal is shortened to a policy that shrank.

use axum::body::Body;
use certdesk::renewal;
use http::{HeaderMap, Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;
use uuid::Uuid;

use crate::issuance::{Api, api_as, extra, server_key};
use crate::renewal::{id_of, renew};
use crate::support::{stack, state_for};

/// `POST /api/v1/certificates` answering its headers too (`Retry-After`).
async fn request(api: &Api, body: &Value, idempotency_key: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::post("/api/v1/certificates")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", api.token));
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let response = api.router.clone().oneshot(request.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn owner(pool: &PgPool, limits: &str) -> (certdesk::state::AppState, Api) {
    let state = state_for(pool, &format!("{}[limits]\n{limits}", extra(&stack(), None)));
    let api =
        api_as(pool, state.clone(), &["platform-team"], app::model::Role::User, app::model::TokenScope::ReadWrite)
            .await;
    (state, api)
}

async fn rows_of(pool: &PgPool, owner: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM certificates WHERE owner_id = $1")
        .bind(owner)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// `certificate.denied` events naming `quota`.
async fn denied_for(pool: &PgPool, quota: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'certificate.denied' AND outcome = 'denied'
           AND details->>'quota' = $1",
    )
    .bind(quota)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_daily_cap_issues_exactly_what_is_left_to_concurrent_requests(pool: PgPool) {
    let (state, api) = owner(&pool, "certificates_per_day = 5\n").await;
    let first = server_key(&["first.cluster.local"], "ec-p256", 3);
    let (status, _, created) = request(&api, &first, Some("first")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let first_id = created["id"].clone();
    let (status, _, second) = request(&api, &server_key(&["second.cluster.local"], "ec-p256", 3), None).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");

    // Three left, twenty at once: exactly three certificates.
    let bodies: Vec<Value> = (0..20).map(|n| server_key(&[&format!("burst{n}.cluster.local")], "ec-p256", 3)).collect();
    let answers = futures_util::future::join_all(bodies.iter().map(|body| request(&api, body, None))).await;
    let created = answers.iter().filter(|(status, _, _)| *status == StatusCode::CREATED).count();
    let refused: Vec<&(StatusCode, HeaderMap, Value)> =
        answers.iter().filter(|(status, _, _)| *status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!((created, refused.len()), (3, 17), "{:?}", answers.iter().map(|answer| answer.0).collect::<Vec<_>>());
    assert_eq!(rows_of(&pool, api.user_id).await, 5);
    // The refusal names the quota and says when: the first request is a day old in just under 24 hours.
    let (_, headers, body) = refused[0];
    assert_eq!(body["kind"], "quota_exceeded", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("daily certificate quota") && message.contains("5 allowed per person"), "{message}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((23 * 3600..=24 * 3600).contains(&retry_after), "{retry_after}");
    assert_eq!(body["retry_after_secs"].as_u64(), Some(retry_after));
    assert_eq!(denied_for(&pool, "limits.certificates_per_day").await, 17);

    // A replay of the first request is still answered with its certificate.
    let (status, _, replayed) = request(&api, &first, Some("first")).await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!((&replayed["id"], &replayed["replayed"]), (&first_id, &json!(true)), "{replayed}");

    // "Renew now" is a person's request: counted, refused, and not recorded as a failed renewal.
    let id = id_of(&replayed);
    let (status, answer) = renew(&api, &id.to_string(), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("daily certificate quota"), "{answer}");
    let attempts: i32 = sqlx::query_scalar("SELECT renewal_attempts FROM certificates WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, 0);
    // An automatic renewal is not: the job renews it with the quota spent.
    let renew_at: OffsetDateTime =
        sqlx::query_scalar("SELECT renew_at FROM certificates WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();
    let report = renewal::run_once(&state, renew_at + Duration::minutes(1)).await.unwrap();
    assert!(report.renewed.iter().any(|(old, _)| *old == id), "{report:?}");

    // A day later the window has moved on: requests are possible again.
    sqlx::query("UPDATE certificates SET created_at = created_at - interval '25 hours' WHERE owner_id = $1")
        .bind(api.user_id)
        .execute(&pool)
        .await
        .unwrap();
    let (status, _, later) = request(&api, &server_key(&["later.cluster.local"], "ec-p256", 3), None).await;
    assert_eq!(status, StatusCode::CREATED, "{later}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_live_cap_refuses_new_certificates_until_one_is_revoked_but_never_a_renewal(pool: PgPool) {
    let (_, api) = owner(&pool, "live_certificates = 2\n").await;
    let mut ids = Vec::new();
    for name in ["one.cluster.local", "two.cluster.local"] {
        let (status, _, created) = request(&api, &server_key(&[name], "ec-p256", 3), None).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        ids.push(id_of(&created));
    }
    let third = server_key(&["three.cluster.local"], "ec-p256", 3);
    let (status, _, refused) = request(&api, &third, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("quota of live certificates") && message.contains("revoke"), "{message}");
    assert_eq!(denied_for(&pool, "limits.live_certificates").await, 1);
    // A renewal replaces a certificate: not held against the cap.
    let (status, renewed) = renew(&api, &ids[0].to_string(), None).await;
    assert_eq!(status, StatusCode::CREATED, "{renewed}");
    // Revoking one frees its place.
    let revoke =
        Request::post(format!("/api/v1/certificates/{}/revoke", ids[1])).header("content-type", "application/json");
    let (status, body) = api.send(revoke, Body::from(json!({ "reason": "superseded" }).to_string())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (status, _, created) = request(&api, &third, None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

/// The quota check reads what it counts, not the owner's history: among 3,000 certificates of past months (expired,
/// superseded, failed), it counts today's requests and what is live exactly, reading a few dozen rows at most (it
/// read all 3,005 before `certificates_owner_live`).
#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_quota_check_reads_what_it_counts_not_the_owners_history(pool: PgPool) {
    let owner = crate::support::person(&pool, "Machines", app::model::Role::User).await.user_id;
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, not_after, created_at)
         SELECT gen_random_uuid(), $1, 'private', (ARRAY['issued', 'superseded', 'failed'])[n % 3 + 1],
                'old-' || n || '.cluster.local', 'EC P-256', now() - make_interval(days => n % 200 + 1),
                now() - make_interval(days => n % 200 + 91)
         FROM generate_series(1, 3000) AS n",
    )
    .bind(owner)
    .execute(&pool)
    .await
    .unwrap();
    // Today: three issued and live, one pending without an expiry yet, and an automatic renewal (live, but not a
    // request of the owner's).
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, not_after, created_at,
                                   automatic_renewal)
         SELECT gen_random_uuid(), $1, 'private', CASE WHEN n = 4 THEN 'pending' ELSE 'issued' END,
                'new-' || n || '.cluster.local', 'EC P-256',
                CASE WHEN n = 4 THEN NULL ELSE now() + interval '30 days' END, now() - make_interval(mins => n), n = 5
         FROM generate_series(1, 5) AS n",
    )
    .bind(owner)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE certificates").execute(&pool).await.unwrap();

    let now = OffsetDateTime::now_utc();
    let mut tx = pool.begin().await.unwrap();
    let usage = certdesk::db::quotas::usage(&mut tx, owner, now - Duration::days(1), now).await.unwrap();
    assert_eq!((usage.requested, usage.live), (4, 5), "{usage:?}");
    let read: i64 = sqlx::query_scalar(
        "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables WHERE relname = 'certificates'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(read <= 50, "the quota check read {read} rows of certificates for an owner with 5 of today");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn renewal_sooner_than_the_floor_is_refused_at_request_time_and_never_done_by_the_job(pool: PgPool) {
    let (state, api) = owner(&pool, "").await;
    // One day with 99% remaining would renew 14 minutes after issuance.
    let mut body = server_key(&["floor.cluster.local"], "ec-p256", 1);
    body["renewal"] = json!({ "remaining_percent": 99 });
    let (status, _, refused) = request(&api, &body, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["field"], "renewal.remaining_percent", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("at most once every 60 minutes"), "{refused}");
    assert_eq!(rows_of(&pool, api.user_id).await, 0);
    // 95% is 72 minutes: allowed.
    body["renewal"] = json!({ "remaining_percent": 95 });
    let (status, _, created) = request(&api, &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = id_of(&created);

    // Whatever moves its renewal point to now (the CA's renewal information), the job leaves a certificate
    // requested less than the floor ago alone, and renews it once it is older.
    sqlx::query("UPDATE certificates SET renew_at = now() - interval '1 minute' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    assert!(renewal::due(&state, now).await.unwrap().is_empty());
    let report = renewal::run_once(&state, now).await.unwrap();
    assert!(report.renewed.is_empty(), "{report:?}");
    let later = now + Duration::minutes(61);
    assert_eq!(renewal::due(&state, later).await.unwrap().iter().map(|due| due.id).collect::<Vec<_>>(), [id]);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_renewal_inherits_at_most_the_validity_the_policy_allows_now(pool: PgPool) {
    let (_, api) = owner(&pool, "").await;
    // 30 days, renewing when 99% remain (7.2 hours after issuance).
    let mut body = server_key(&["shrunk.cluster.local"], "ec-p256", 30);
    body["renewal"] = json!({ "remaining_percent": 99 });
    let (status, _, created) = request(&api, &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = id_of(&created);
    let renew_at: OffsetDateTime =
        sqlx::query_scalar("SELECT renew_at FROM certificates WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();

    // The platform rule now allows one day at most: the renewal is one day long, not refused.
    let shrunk = extra(&stack(), None).replace("max_validity_days = 90", "max_validity_days = 1");
    assert_ne!(shrunk, extra(&stack(), None));
    let state = state_for(&pool, &shrunk);
    let report = renewal::run_once(&state, renew_at + Duration::minutes(1)).await.unwrap();
    assert_eq!((report.renewed.len(), report.failed.len()), (1, 0), "{report:?}");
    let renewed = report.renewed[0].1;
    let (validity_days, not_before, not_after, renew_at): (i32, OffsetDateTime, OffsetDateTime, OffsetDateTime) =
        sqlx::query_as("SELECT validity_days, not_before, not_after, renew_at FROM certificates WHERE id = $1")
            .bind(renewed)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(validity_days, 1);
    assert!(not_after - not_before <= Duration::days(1) + Duration::minutes(1), "{not_before}..{not_after}");
    // 1% of a day is 14 minutes: the renewal point is held at the floor after issuance instead.
    assert!(renew_at >= OffsetDateTime::now_utc() + Duration::minutes(58), "{renew_at}");
    let inherited: Option<i64> = sqlx::query_scalar(
        "SELECT (details->>'inherited_validity_days')::bigint FROM audit_events
         WHERE action = 'certificate.requested' AND object = $1",
    )
    .bind(format!("certificate:{renewed}"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(inherited, Some(30));
}
