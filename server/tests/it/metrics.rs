//! `/metrics` against the real stack: a scrape parses with a Prometheus text-format parser and carries the expiry
//! gauge of each issued certificate with its labels, the inventory counts, and the issuance counter; without the
//! configured token it answers 401, without `[metrics]` 404; a short token is refused at start.

use axum::body::Body;
use http::{Request, StatusCode};
use sqlx::PgPool;
use tower::ServiceExt;

use app::model::{Role, TokenScope};

use crate::issuance::{api_as, extra, server_key};
use crate::support::{config_toml, state_for};

const TOKEN: &str = "metrics-token-0123456789";

async fn scrape(router: &axum::Router, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get("/metrics");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    (status, String::from_utf8(axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap())
}

fn gauge(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.samples.iter().find_map(|sample| {
        let wanted =
            sample.metric == metric && labels.iter().all(|(name, value)| sample.labels.get(name) == Some(*value));
        match (&sample.value, wanted) {
            (prometheus_parse::Value::Gauge(value) | prometheus_parse::Value::Counter(value), true) => Some(*value),
            _ => None,
        }
    })
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_scrape_parses_and_carries_the_expiry_of_each_certificate(pool: PgPool) {
    let stack = crate::support::stack();
    let state = state_for(&pool, &format!("{}\n[metrics]\nbearer_token = \"{TOKEN}\"\n", extra(&stack, None)));
    let api = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = api.request(server_key(&["metered.cluster.local"], "ec-p256", 7), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let router = certdesk::http::router(state);

    assert_eq!(scrape(&router, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&router, Some("wrong-token-0123456789")).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = scrape(&router, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let parsed = prometheus_parse::Scrape::parse(body.lines().map(|line| Ok(line.to_owned()))).unwrap();

    let id = created["id"].as_str().unwrap();
    let serial = created["serial"].as_str().unwrap();
    let labels =
        [("id", id), ("subject_CN", "metered.cluster.local"), ("issuer", "private"), ("serial_number", serial)];
    let expiry =
        gauge(&parsed, "certdesk_certificate_expiry_seconds", &labels).expect("the certificate's expiry gauge");
    let week = 7.0 * 86_400.0;
    assert!(expiry > week - 600.0 && expiry <= week + 60.0, "expires in about a week: {expiry}");
    assert_eq!(gauge(&parsed, "certdesk_certificates", &[("issuer", "private"), ("status", "issued")]), Some(1.0));
    let issued = gauge(&parsed, "certdesk_issuance_total", &[("issuer", "private"), ("outcome", "issued")]);
    assert!(issued.is_some_and(|count| count >= 1.0), "issuance counter: {body}");
    assert!(body.contains("certdesk_issuance_duration_seconds_bucket"), "latency histogram: {body}");
    let owner = parsed
        .samples
        .iter()
        .find(|sample| sample.metric == "certdesk_certificate_expiry_seconds")
        .and_then(|sample| sample.labels.get("owner").map(str::to_owned));
    assert_eq!(owner.as_deref(), Some(format!("{}@example.test", api.user_id).as_str()));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn metrics_are_off_without_their_section_and_a_short_token_is_refused(pool: PgPool) {
    let router = certdesk::http::router(state_for(&pool, ""));
    let (status, body) = scrape(&router, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let short = config_toml("postgres://x@127.0.0.1/x", "127.0.0.1:3999", "[metrics]\nbearer_token = \"short\"\n");
    let error = certdesk::config::Config::from_toml_str(&short).unwrap_err();
    assert!(error.to_string().contains("metrics.bearer_token"), "{error}");
}

/// An issued certificate of `owner@example.test` for `private-name.cluster.local`, expiring in ten days.
async fn issued_certificate_with_owner(pool: &PgPool) {
    let owner = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, issuer, subject, email) VALUES ($1, 'https://idp', 'owner', 'owner@example.test')",
    )
    .bind(owner)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, serial, not_after)
         VALUES ($1, $2, 'private', 'issued', 'private-name.cluster.local', 'ec-p256', '1a:2b', now() + interval '10 days')",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(owner)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn without_a_token_a_scrape_has_counts_but_no_certificate_names_or_owners(pool: PgPool) {
    issued_certificate_with_owner(&pool).await;
    let open = certdesk::http::router(state_for(&pool, "[metrics]\n"));
    let (status, body) = scrape(&open, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let parsed = prometheus_parse::Scrape::parse(body.lines().map(|line| Ok(line.to_owned()))).unwrap();
    assert_eq!(gauge(&parsed, "certdesk_certificates", &[("issuer", "private"), ("status", "issued")]), Some(1.0));
    let soonest = gauge(&parsed, "certdesk_certificate_soonest_expiry_seconds", &[("issuer", "private")]).unwrap();
    assert!((soonest - 10.0 * 86_400.0).abs() < 120.0, "the soonest expiry, per issuer: {soonest}");
    assert!(!body.contains("certdesk_certificate_expiry_seconds{"), "no per-certificate series: {body}");
    assert!(!body.contains("owner@example.test") && !body.contains("private-name"), "{body}");

    // The token, or the explicit switch, brings the per-certificate series with its owner.
    for extra in [
        format!("[metrics]\nbearer_token = \"{TOKEN}\"\n"),
        "[metrics]\nexpose_owners_without_token = true\n".to_owned(),
    ] {
        let router = certdesk::http::router(state_for(&pool, &extra));
        let token = extra.contains(TOKEN).then_some(TOKEN);
        let (status, body) = scrape(&router, token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let parsed = prometheus_parse::Scrape::parse(body.lines().map(|line| Ok(line.to_owned()))).unwrap();
        let labels = [("subject_CN", "private-name.cluster.local"), ("owner", "owner@example.test")];
        assert!(gauge(&parsed, "certdesk_certificate_expiry_seconds", &labels).is_some(), "{extra}: {body}");
    }
}
