//! The Machines page's server functions, through the service they call: the directories of the issuers with the
//! ACME server on; ACME accounts made for real by instant-acme with EAB, listed to their owner only and to admins
//! all (with owners, orders and the certificates they hold); deactivation by the owner or an admin, audited with
//! its own action, after which the ACME server refuses the account; another person's account is "not found"; and
//! nothing without a session.

use app::AppError;
use app::model::Role;
use app::ssr::RequestMeta;
use axum::body::Body;
use certdesk::acme_server::machines;
use http::{Request, StatusCode};
use instant_acme::{Account, ExternalAccountKey, NewAccount};
use sqlx::PgPool;
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

use super::clients::builder;
use super::{ISSUER, Served, fresh, hmac_key};
use crate::support::person;

/// An ACME account made by instant-acme with the ACME account key of a new person named `name`.
async fn person_with_account(served: &Served, name: &str) -> (RequestMeta, Account, Uuid) {
    let (meta, created) = served.person_with_key(name).await;
    let eab = ExternalAccountKey::new(created.key.key_id.clone(), &hmac_key(&created));
    let contact = format!("mailto:{}@example.test", name.to_lowercase());
    let new_account =
        NewAccount { contact: &[contact.as_str()], terms_of_service_agreed: true, only_return_existing: false };
    let (account, _) = builder().create(&new_account, served.directory(), Some(&eab)).await.unwrap();
    let prefix = format!("{}/acme/{ISSUER}/account/", served.base);
    let id = account.id().strip_prefix(&prefix).unwrap().parse().unwrap();
    (meta, account, id)
}

/// A certificate issued through `account` and the order that produced it, as the ACME server will store them.
async fn issued_order(pool: &PgPool, owner: Uuid, account: Uuid, name: &str) -> (Uuid, Uuid) {
    let (certificate, order) = (Uuid::new_v4(), Uuid::new_v4());
    let now = OffsetDateTime::now_utc();
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, dns_names, key_algorithm, not_after,
                                   acme_server_account_id)
         VALUES ($1, $2, $3, 'issued', $4, ARRAY[$4], 'EC P-256', $5, $6)",
    )
    .bind(certificate)
    .bind(owner)
    .bind(ISSUER)
    .bind(name)
    .bind(now + time::Duration::days(30))
    .bind(account)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO acme_server_orders (id, account_id, issuer_id, status, identifiers, expires_at, certificate_id,
                                         created_at, updated_at)
         VALUES ($1, $2, $3, 'valid', ARRAY[$4], $5, $6, $7, $7)",
    )
    .bind(order)
    .bind(account)
    .bind(ISSUER)
    .bind(name)
    .bind(now + time::Duration::days(7))
    .bind(certificate)
    .bind(now)
    .execute(pool)
    .await
    .unwrap();
    (order, certificate)
}

fn user_id(meta: &RequestMeta) -> Uuid {
    meta.caller.as_ref().unwrap().user_id
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_directories_are_those_of_the_issuers_with_the_acme_server_on(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let pat = fresh(person(&pool, "Pat", Role::User).await);
    let listed = machines::directories(&served.state, &pat).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].issuer_id.as_str(), listed[0].eab_required), (ISSUER, true));
    assert_eq!(listed[0].directory_url, served.directory());
    let directory: serde_json::Value =
        reqwest::get(&listed[0].directory_url).await.unwrap().error_for_status().unwrap().json().await.unwrap();
    assert_eq!(directory["meta"]["externalAccountRequired"], true, "the listed URL is the served directory");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn people_see_their_own_accounts_and_admins_everyones_with_orders_and_certificates(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (pat, _, pat_account) = person_with_account(&served, "Pat").await;
    let (sam, _, sam_account) = person_with_account(&served, "Sam").await;
    let (order, certificate) = issued_order(&pool, user_id(&pat), pat_account, "www.example.test").await;
    let ada = fresh(person(&pool, "Ada", Role::Admin).await);

    let mine = machines::accounts(&served.state, &pat).await.unwrap();
    assert!(!mine.everyone);
    assert_eq!(mine.accounts.iter().map(|account| account.id).collect::<Vec<_>>(), [pat_account], "Pat's only");
    let account = &mine.accounts[0];
    assert_eq!((account.status.as_str(), account.issuer_id.as_str()), ("valid", ISSUER));
    assert_eq!(account.contact, ["mailto:pat@example.test"]);
    assert_eq!(account.account_key.as_ref().map(|key| key.name.as_str()), Some("cluster"));
    assert_eq!((account.certificates, account.orders), (1, 1));
    assert_eq!(mine.orders.len(), 1);
    assert_eq!((mine.orders[0].id, mine.orders[0].certificate_id), (order, Some(certificate)));
    assert_eq!(
        (mine.orders[0].status.as_str(), &mine.orders[0].identifiers[..]),
        ("valid", &["www.example.test".to_owned()][..])
    );

    let sams = machines::accounts(&served.state, &sam).await.unwrap();
    assert_eq!(sams.accounts.iter().map(|account| account.id).collect::<Vec<_>>(), [sam_account]);
    assert!(sams.orders.is_empty(), "Pat's orders are not Sam's");
    assert_eq!(sams.accounts[0].certificates, 0);

    let all = machines::accounts(&served.state, &ada).await.unwrap();
    assert!(all.everyone);
    let mut owners: Vec<_> = all.accounts.iter().map(|account| account.owner_name.clone().unwrap()).collect();
    owners.sort();
    assert_eq!(owners, ["Pat", "Sam"]);
    assert_eq!(all.orders.len(), 1);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn owners_and_admins_deactivate_accounts_audited_and_the_acme_server_then_refuses_them(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (pat, pat_client, pat_account) = person_with_account(&served, "Pat").await;
    let (sam, _, sam_account) = person_with_account(&served, "Sam").await;
    let ada = fresh(person(&pool, "Ada", Role::Admin).await);
    let now = OffsetDateTime::now_utc();
    let status = |id: Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM acme_server_accounts WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    let refused = machines::deactivate(&served.state, &sam, pat_account, now).await.unwrap_err().into_app_error(&sam);
    assert!(matches!(refused, AppError::NotFound { .. }), "another person's account: {refused:?}");
    let unknown = machines::deactivate(&served.state, &pat, Uuid::new_v4(), now).await.unwrap_err();
    assert!(matches!(unknown.into_app_error(&pat), AppError::NotFound { .. }));
    assert_eq!(status(pat_account).await, "valid");

    machines::deactivate(&served.state, &pat, pat_account, now).await.unwrap();
    assert_eq!(status(pat_account).await, "deactivated");
    let again = machines::deactivate(&served.state, &pat, pat_account, now).await.unwrap_err().into_app_error(&pat);
    assert!(matches!(again, AppError::Invalid { .. }), "{again:?}");
    // The ACME server refuses the deactivated account's requests.
    let error = pat_client.update_contacts(&["mailto:other@example.test"]).await.unwrap_err();
    match error {
        instant_acme::Error::Api(problem) => {
            assert_eq!(problem.r#type.as_deref(), Some("urn:ietf:params:acme:error:unauthorized"));
        }
        other => panic!("expected a problem document, got {other}"),
    }

    machines::deactivate(&served.state, &ada, sam_account, now).await.unwrap();
    assert_eq!(status(sam_account).await, "deactivated");

    let audit: Vec<(String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT actor, object, details FROM audit_events WHERE action = 'acme_account.deactivated_in_portal' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(audit.len(), 2, "one row per deactivation, none for the refusals: {audit:?}");
    assert_eq!(
        (audit[0].0.clone(), audit[0].1.clone()),
        (format!("user:{}", user_id(&pat)), format!("acme_account:{pat_account}"))
    );
    assert_eq!(audit[0].2["by"], "owner");
    assert_eq!(
        (audit[1].0.clone(), audit[1].1.clone()),
        (format!("user:{}", user_id(&ada)), format!("acme_account:{sam_account}"))
    );
    assert_eq!(
        (audit[1].2["by"].as_str(), audit[1].2["owner"].as_str()),
        (Some("admin"), Some(user_id(&sam).to_string().as_str()))
    );
    let listed = machines::accounts(&served.state, &sam).await.unwrap();
    assert_eq!(listed.accounts[0].status, "deactivated");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn nothing_without_a_session(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let nobody = RequestMeta::default();
    assert_eq!(
        machines::directories(&served.state, &nobody).unwrap_err().into_app_error(&nobody),
        AppError::Unauthenticated
    );
    let error = machines::accounts(&served.state, &nobody).await.unwrap_err().into_app_error(&nobody);
    assert_eq!(error, AppError::Unauthenticated);
    let now = OffsetDateTime::now_utc();
    let error = machines::deactivate(&served.state, &nobody, Uuid::new_v4(), now).await.unwrap_err();
    assert_eq!(error.into_app_error(&nobody), AppError::Unauthenticated);
    for (endpoint, body) in [
        ("acme_directories", "{}".to_owned()),
        ("list_acme_accounts", "{}".to_owned()),
        ("deactivate_acme_account", format!("{{\"id\":\"{}\"}}", Uuid::new_v4())),
    ] {
        let request = Request::post(format!("/rpc/{endpoint}"))
            .header("content-type", "application/json")
            .header("origin", served.base.as_str())
            .body(Body::from(body))
            .unwrap();
        let response = certdesk::http::router(served.state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{endpoint} without a session");
    }
}
