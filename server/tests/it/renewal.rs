//! Renewal against the test stack's real OpenBao and PostgreSQL, with time passed in (never slept): the renewal
//! point (a third of the lifetime by default, or `renew_before` days), a certificate past it renewed by
//! `run_once` (new serial, new key unless reuse was asked, the old one superseded and linked, audited), an
//! unreachable OpenBao retried with capped backoff while the old certificate stays current, and
//! `POST /api/v1/certificates/{id}/renew` with its refusals and exactly-once under a double submit.

use app::model::{NewApiToken, Role, TokenScope};
use app::ssr::{Caller, RequestMeta};
use axum::body::Body;
use certdesk::renewal::{self, renewal_point};
use certdesk::state::AppState;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::issuance::{Api, api_as, audit_actions, extra, server_key};
use crate::support::{Gate, stack, state_for};

struct Renewal {
    status: String,
    serial: Option<String>,
    leaf_pem: Option<String>,
    not_before: Option<OffsetDateTime>,
    not_after: Option<OffsetDateTime>,
    renew_at: Option<OffsetDateTime>,
    attempts: i32,
    retry_at: Option<OffsetDateTime>,
    last_error: Option<String>,
    renewed_from: Option<Uuid>,
}

async fn row(pool: &PgPool, id: Uuid) -> Renewal {
    let (status, serial, leaf_pem, not_before, not_after, renew_at, attempts, retry_at, last_error, renewed_from) =
        sqlx::query_as(
            "SELECT status, serial, leaf_pem, not_before, not_after, renew_at, renewal_attempts, renewal_retry_at,
                    renewal_last_error, renewed_from FROM certificates WHERE id = $1",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    Renewal { status, serial, leaf_pem, not_before, not_after, renew_at, attempts, retry_at, last_error, renewed_from }
}

/// The SubjectPublicKeyInfo of a PEM certificate.
fn public_key(leaf_pem: &str) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let block = pem::parse(leaf_pem).unwrap();
    let (_, certificate) = x509_parser::certificate::X509Certificate::from_der(block.contents()).unwrap();
    certificate.public_key().raw.to_vec()
}

pub fn id_of(answer: &Value) -> Uuid {
    Uuid::parse_str(answer["id"].as_str().unwrap_or_else(|| panic!("no id in {answer}"))).unwrap()
}

/// Within a millisecond (PostgreSQL keeps microseconds).
fn close(a: OffsetDateTime, b: OffsetDateTime) -> bool {
    (a - b).abs() < Duration::milliseconds(1)
}

async fn owner_api(pool: &PgPool, state: AppState) -> Api {
    api_as(pool, state, &["platform-team"], Role::User, TokenScope::ReadWrite).await
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_certificate_past_its_renewal_point_is_renewed_with_a_new_key_unless_reuse_was_asked(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let api = owner_api(&pool, state.clone()).await;
    // Default: a third of the lifetime, a fresh key.
    let (status, fresh) = api.request(server_key(&["fresh.cluster.local"], "ec-p256", 3), None).await;
    assert_eq!(status, StatusCode::CREATED, "{fresh}");
    let fresh = id_of(&fresh);
    // Two days before expiry, the same key.
    let mut body = server_key(&["kept.cluster.local"], "ec-p384", 10);
    body["renewal"] = json!({ "renew_before_days": 2, "reuse_key": true });
    let (status, kept) = api.request(body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    let kept = id_of(&kept);
    let (old_fresh, old_kept) = (row(&pool, fresh).await, row(&pool, kept).await);
    let (start, end) = (old_fresh.not_before.unwrap(), old_fresh.not_after.unwrap());
    let point = old_fresh.renew_at.unwrap();
    assert!(close(point, end - (end - start) / 3), "{point} for {start}..{end}");
    assert!(close(point, renewal_point(start, end, None, None)));
    let kept_point = old_kept.renew_at.unwrap();
    assert!(close(kept_point, old_kept.not_after.unwrap() - Duration::days(2)), "{kept_point}");

    // Before the point nothing is due; after it, exactly the one whose point passed.
    assert!(renewal::due(&state, point - Duration::minutes(1)).await.unwrap().is_empty());
    let due = renewal::due(&state, point + Duration::minutes(1)).await.unwrap();
    assert_eq!(due.iter().map(|due| due.id).collect::<Vec<_>>(), [fresh]);
    let report = renewal::run_once(&state, point + Duration::minutes(1)).await.unwrap();
    assert_eq!((report.renewed.len(), report.failed.len()), (1, 0), "{report:?}");
    let (old_id, new_id) = report.renewed[0];
    assert_eq!(old_id, fresh);
    let (old, new) = (row(&pool, fresh).await, row(&pool, new_id).await);
    assert_eq!((old.status.as_str(), new.status.as_str()), ("superseded", "issued"));
    assert_eq!(new.renewed_from, Some(fresh));
    assert_ne!(old.serial, new.serial, "a new serial");
    assert_ne!(
        public_key(old.leaf_pem.as_deref().unwrap()),
        public_key(new.leaf_pem.as_deref().unwrap()),
        "a fresh key"
    );
    // The renewal keeps the settings and places its own renewal point.
    assert!(close(new.renew_at.unwrap(), renewal_point(new.not_before.unwrap(), new.not_after.unwrap(), None, None)));
    let renewed_events: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, object FROM audit_events WHERE action = 'certificate.renewed'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(renewed_events, [("system:renewal".to_owned(), format!("certificate:{fresh}"))]);
    // Both are in the line of versions shown on their pages.
    let detail = certdesk::inventory::detail(&state, &caller_of(&api), new_id).await.unwrap();
    assert_eq!(detail.renewal.versions.iter().map(|version| version.id).collect::<Vec<_>>(), [fresh, new_id]);
    assert_eq!((detail.renewal.renewed_from, detail.renewal.can_renew), (Some(fresh), true));
    let old_detail = certdesk::inventory::detail(&state, &caller_of(&api), fresh).await.unwrap();
    assert_eq!((old_detail.renewal.superseded_by, old_detail.renewal.can_renew), (Some(new_id), false));
    // A renewal still being issued (an ACME order) is in the history but supersedes nothing yet.
    let in_flight = insert_with_status(&pool, api.user_id, "pending").await;
    sqlx::query("UPDATE certificates SET renewed_from = $2 WHERE id = $1")
        .bind(in_flight)
        .bind(new_id)
        .execute(&pool)
        .await
        .unwrap();
    let current = certdesk::inventory::detail(&state, &caller_of(&api), new_id).await.unwrap().renewal;
    assert_eq!((current.superseded_by, current.can_renew), (None, false), "{current:?}");
    assert_eq!(current.versions.last().map(|version| version.id), Some(in_flight));
    sqlx::query("DELETE FROM certificates WHERE id = $1").bind(in_flight).execute(&pool).await.unwrap();
    // The old one is never renewed again. (The new one was issued moments later in real time, so with this clock
    // it is itself due already: time passed in runs ahead of the issuer's.)
    let again = renewal::run_once(&state, point + Duration::minutes(2)).await.unwrap();
    assert!(again.renewed.iter().all(|(old, _)| *old != fresh), "{again:?}");
    let renewals: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates WHERE renewed_from = $1")
        .bind(fresh)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(renewals, 1);

    // The one that keeps its key: same public key, new serial, and the key downloads for the new certificate.
    let report = renewal::run_once(&state, kept_point + Duration::minutes(1)).await.unwrap();
    let kept_new = report.renewed.iter().find(|(old, _)| *old == kept).map(|(_, new)| *new);
    let kept_new = kept_new.unwrap_or_else(|| panic!("{report:?}"));
    let renewed_kept = row(&pool, kept_new).await;
    assert_eq!(
        public_key(old_kept.leaf_pem.as_deref().unwrap()),
        public_key(renewed_kept.leaf_pem.as_deref().unwrap())
    );
    assert_ne!(old_kept.serial, renewed_kept.serial);
    let (status, key) = api.download(&kept_new.to_string(), "key-pem", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, old_key) = api.download(&kept.to_string(), "key-pem", None).await;
    assert_eq!(key, old_key, "the same key, re-sealed for the new certificate");
}

fn caller_of(api: &Api) -> Caller {
    Caller {
        user_id: api.user_id,
        display_name: "Pat".into(),
        role: Role::User,
        csrf_token: String::new(),
        mfa_at: 0,
        credential: app::ssr::Credential::Session,
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_unreachable_openbao_is_retried_with_backoff_and_the_old_certificate_stays_current(pool: PgPool) {
    let stack = stack();
    let upstream = stack.openbao_address();
    let gate = Gate::start(format!("127.0.0.1:{}", upstream.port().unwrap()).parse().unwrap()).await;
    let smtp = crate::notifications::SmtpServer::start().await;
    let config =
        extra(&stack, Some(&format!("http://127.0.0.1:{}", gate.port))) + &crate::notifications::notifying(smtp.port);
    let state = state_for(&pool, &config);
    let api = owner_api(&pool, state.clone()).await;
    let (status, created) = api.request(server_key(&["gated.cluster.local"], "ec-p256", 3), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = id_of(&created);
    let before = row(&pool, id).await;
    let point = before.renew_at.unwrap();

    gate.close();
    let first = point + Duration::minutes(1);
    let report = renewal::run_once(&state, first).await.unwrap();
    assert_eq!((report.renewed.len(), report.failed.len()), (0, 1), "{report:?}");
    assert!(report.failed[0].1.contains("unavailable"), "{report:?}");
    let after = row(&pool, id).await;
    assert_eq!((after.status.as_str(), &after.serial, &after.leaf_pem), ("issued", &before.serial, &before.leaf_pem));
    assert_eq!(after.attempts, 1);
    assert!(close(after.retry_at.unwrap(), first + Duration::minutes(5)));
    assert!(after.last_error.as_deref().is_some_and(|error| error.contains("unavailable")), "{:?}", after.last_error);
    // Within the backoff nothing is attempted; after it, again, with the wait doubled.
    assert!(renewal::due(&state, first + Duration::minutes(4)).await.unwrap().is_empty());
    let second = first + Duration::minutes(6);
    let report = renewal::run_once(&state, second).await.unwrap();
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let after = row(&pool, id).await;
    assert_eq!((after.attempts, after.status.as_str()), (2, "issued"));
    assert!(close(after.retry_at.unwrap(), second + Duration::minutes(10)));
    let failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'certificate.renewal_failed' AND object = $1",
    )
    .bind(format!("certificate:{id}"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(failures, 2);
    // The owner is told, once for the day however often it is retried, with the reason.
    certdesk::notifications::run_once(&state, second).await.unwrap();
    let failed: Vec<(String, String)> =
        smtp.messages().into_iter().filter(|(_, subject)| subject.contains("failed")).collect();
    let days = if first.date() == second.date() { 1 } else { 2 };
    assert_eq!(failed.len(), days, "{:?}", smtp.messages());
    assert!(failed[0].1.contains("gated.cluster.local"), "{failed:?}");
    // The old certificate is still the one the inventory shows as current.
    let current: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM certificates WHERE status = 'issued'").fetch_all(&pool).await.unwrap();
    assert_eq!(current, [id]);

    // OpenBao is back: the next attempt after the backoff renews it.
    gate.open();
    let report = renewal::run_once(&state, second + Duration::minutes(11)).await.unwrap();
    assert_eq!(report.renewed.len(), 1, "{report:?}");
    assert_eq!(row(&pool, id).await.status, "superseded");
}

/// The same person with another token of `scope`, made for private keys or not.
pub async fn token_for(pool: &PgPool, state: &AppState, user_id: Uuid, scope: TokenScope, private_keys: bool) -> Api {
    let now = OffsetDateTime::now_utc();
    let caller = Caller {
        user_id,
        display_name: "Pat".into(),
        role: Role::User,
        csrf_token: String::new(),
        mfa_at: now.unix_timestamp(),
        credential: app::ssr::Credential::Session,
    };
    let meta = RequestMeta { request_id: "test".into(), client_addr: "127.0.0.1".into(), caller: Some(caller) };
    let new = NewApiToken { name: format!("{scope:?}-{private_keys}"), scope, expires_in_days: 30, private_keys };
    let created =
        certdesk::auth::tokens::create(pool, &state.chain_key, &meta, &new, std::time::Duration::from_secs(600), now)
            .await
            .unwrap();
    Api { router: certdesk::http::router(state.clone()), token: created.secret, user_id }
}

pub async fn renew(api: &Api, id: &str, key: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::post(format!("/api/v1/certificates/{id}/renew"));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let (status, bytes) = api.send(request, Body::empty()).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn insert_with_status(pool: &PgPool, owner: Uuid, status: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, dns_names, key_algorithm, validity_days)
         VALUES ($1, $2, 'private', $3, 'x.cluster.local', '{x.cluster.local}', 'EC P-256', 3)",
    )
    .bind(id)
    .bind(owner)
    .bind(status)
    .execute(pool)
    .await
    .unwrap();
    id
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn renew_now_answers_the_owner_once_and_refuses_what_cannot_be_renewed(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let api = owner_api(&pool, state.clone()).await;
    let other = owner_api(&pool, state.clone()).await;
    let read_only = token_for(&pool, &state, api.user_id, TokenScope::Read, false).await;
    let (_, created) = api.request(server_key(&["renew.cluster.local"], "ec-p256", 30), None).await;
    let id = id_of(&created).to_string();

    // Someone else's (or no such id): 404. A read-only token: 403.
    assert_eq!(renew(&other, &id, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(renew(&api, "not-a-uuid", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(renew(&api, &Uuid::new_v4().to_string(), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(renew(&read_only, &id, None).await.0, StatusCode::FORBIDDEN);
    // Failed or pending requests hold no certificate: 409 saying why.
    for (status, why) in [("failed", "request it again"), ("pending", "still being issued")] {
        let stuck = insert_with_status(&pool, api.user_id, status).await;
        let (code, answer) = renew(&api, &stuck.to_string(), None).await;
        assert_eq!(code, StatusCode::CONFLICT, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains(why), "{answer}");
    }

    // A double submit without a key: one renewal, the other answer a conflict.
    let (first, second) = tokio::join!(renew(&api, &id, None), renew(&api, &id, None));
    let mut codes = [first.0, second.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::CREATED, StatusCode::CONFLICT], "{first:?} {second:?}");
    let renewals: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates WHERE renewed_from = $1::uuid")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(renewals, 1);
    let new_id = if first.0 == StatusCode::CREATED { id_of(&first.1) } else { id_of(&second.1) };
    // Already superseded: 409 naming the certificate that replaced it.
    let (code, answer) = renew(&api, &id, None).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(answer["message"].as_str().unwrap().contains(&new_id.to_string()), "{answer}");

    // With an idempotency key: the repeat answers the first renewal (200, the same certificate).
    let (code, keyed) = renew(&api, &new_id.to_string(), Some("renew-1")).await;
    assert_eq!(code, StatusCode::CREATED, "{keyed}");
    let (code, replayed) = renew(&api, &new_id.to_string(), Some("renew-1")).await;
    assert_eq!((code, replayed["replayed"].as_bool()), (StatusCode::OK, Some(true)), "{replayed}");
    assert_eq!(id_of(&replayed), id_of(&keyed));

    // Revoked: 409.
    let current = id_of(&keyed).to_string();
    let (code, _) = api
        .send(
            Request::post(format!("/api/v1/certificates/{current}/revoke")).header("content-type", "application/json"),
            Body::from(json!({ "reason": "cessationOfOperation" }).to_string()),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, answer) = renew(&api, &current, None).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(answer["message"].as_str().unwrap().contains("revoked"), "{answer}");
    let actions = audit_actions(&pool).await;
    assert_eq!(actions.iter().filter(|action| *action == "certificate.renewed").count(), 2, "{actions:?}");
}
