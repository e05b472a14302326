//! Orders on certdesk's ACME server with instant-acme as the client, issuing through the stack's real OpenBao:
//! names a `no_challenge` rule exempts are issued at once to the ACME account key's owner, through the same
//! pipeline as a person's request (intent, audit, chain); newOrder refuses what the policy or the key's restriction
//! does not allow, storing nothing; finalize refuses an order that is not ready and a CSR that is not the order's;
//! an issuer that is down during finalize leaves the order `processing` until the `acme_server` job finishes it.

use instant_acme::{Account, ExternalAccountKey, Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Served, hmac_key};
use crate::support::{Gate, stack};
use app::model::NewAcmeAccountKey;
use certdesk::jobs::Job;

fn builder() -> instant_acme::AccountBuilder {
    Account::builder_with_http(Box::new(certdesk::issuers::acme::http_client::AcmeHttp::new(reqwest::Client::new())))
}

/// An account of a new person in `groups`, bound to their ACME account key (restricted to `allowed_names`).
pub(super) async fn account_of(
    served: &Served,
    name: &str,
    groups: &[&str],
    allowed_names: &[&str],
) -> (Account, Uuid) {
    let (account, meta) = account_and_person_of(served, name, groups, allowed_names).await;
    (account, meta.caller.unwrap().user_id)
}

/// `account_of`, with the person's request (second factor just proven) rather than only their id.
pub(super) async fn account_and_person_of(
    served: &Served,
    name: &str,
    groups: &[&str],
    allowed_names: &[&str],
) -> (Account, app::ssr::RequestMeta) {
    let (meta, _) = served.person_with_key(name).await;
    let owner = meta.caller.as_ref().unwrap().user_id;
    sqlx::query("UPDATE users SET groups = $2 WHERE id = $1")
        .bind(owner)
        .bind(groups.iter().map(|group| group.to_string()).collect::<Vec<_>>())
        .execute(&served.pool)
        .await
        .unwrap();
    let input = NewAcmeAccountKey {
        name: "cluster".into(),
        expires_in_days: 30,
        allowed_names: allowed_names.iter().map(|name| name.to_string()).collect(),
    };
    let created = certdesk::acme_server::account_keys::create(&served.state, &meta, &input, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let eab = ExternalAccountKey::new(created.key.key_id.clone(), &hmac_key(&created));
    let new_account = NewAccount { contact: &[], terms_of_service_agreed: true, only_return_existing: false };
    let (account, _) = builder().create(&new_account, served.directory(), Some(&eab)).await.unwrap();
    (account, meta)
}

fn dns(names: &[&str]) -> Vec<Identifier> {
    names.iter().map(|name| Identifier::Dns(name.to_string())).collect()
}

fn problem(error: instant_acme::Error) -> instant_acme::Problem {
    match error {
        instant_acme::Error::Api(problem) => problem,
        other => panic!("expected a problem document, got {other}"),
    }
}

fn csr_for(names: &[&str]) -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|name| name.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.serialize_request(&key).unwrap().der().to_vec()
}

fn order_id(url: &str) -> Uuid {
    url.rsplit('/').next().unwrap().parse().unwrap()
}

async fn audit_actions(pool: &PgPool, object: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT action, actor FROM audit_events WHERE object = $1 ORDER BY seq")
        .bind(object)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn names_needing_no_challenge_are_issued_to_the_keys_owner_through_the_pipeline(pool: PgPool) {
    let served = Served::issuing(&pool, &stack().read("openbao/addr")).await;
    let (account, owner) = account_of(&served, "Mo", &["platform"], &[]).await;
    let names = ["api.ns.svc.cluster.local", "db.ns.svc.cluster.local"];
    let mut order = account.new_order(&NewOrder::new(&dns(&names))).await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Ready, "exempt names need no challenge");
    let id = order_id(order.url());
    order.finalize().await.unwrap();
    let chain = order.poll_certificate(&RetryPolicy::default()).await.unwrap();

    let blocks = pem::parse_many(&chain).unwrap();
    assert_eq!(blocks.len(), 2, "the leaf and the intermediate, not the root: {chain}");
    let (_, leaf) = x509_parser::parse_x509_certificate(blocks[0].contents()).unwrap();
    let sans: Vec<String> = leaf
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .map(|name| name.to_string())
        .collect();
    assert_eq!(sans, vec!["DNSName(api.ns.svc.cluster.local)", "DNSName(db.ns.svc.cluster.local)"]);
    let days = (leaf.validity().not_after.timestamp() - leaf.validity().not_before.timestamp()) / 86_400;
    assert!(days <= 30, "the directory's 90 days cut to the policy's 30: {days}");

    let account_id = order_id(account.id());
    let (certificate, status, cert_owner, via, key_source): (Uuid, String, Uuid, Option<Uuid>, String) =
        sqlx::query_as(
            "SELECT c.id, c.status, c.owner_id, c.acme_server_account_id, c.key_source FROM certificates c
         JOIN acme_server_orders o ON o.certificate_id = c.id WHERE o.id = $1 AND o.status = 'valid'",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((status.as_str(), cert_owner, via, key_source.as_str()), ("issued", owner, Some(account_id), "csr"));
    let record = certdesk::db::certificates::find_visible(&pool, certificate, Some(owner)).await.unwrap().unwrap();
    assert_eq!(record.acme_account.as_deref(), Some("cluster"), "the inventory names the ACME account key");
    let person = format!("user:{owner}");
    assert_eq!(
        audit_actions(&pool, &format!("acme_order:{id}")).await,
        vec![("acme_order.created".into(), person.clone())]
    );
    let actions = audit_actions(&pool, &format!("certificate:{certificate}")).await;
    let expected = ["certificate.requested", "certificate.issued", "certificate.downloaded"];
    assert_eq!(actions, expected.map(|action| (action.to_owned(), person.clone())).to_vec());

    // Finalize again: the order as it is, no second certificate.
    let again = order.finalize_csr(&csr_for(&names)).await;
    assert!(again.is_ok(), "{again:?}");
    assert_eq!(order.state().status, OrderStatus::Valid);
    assert_eq!(served.count("certificates").await, 1);

    // Another person's account cannot see the order.
    let (stranger, _) = account_of(&served, "Sam", &["platform"], &[]).await;
    let refused = problem(stranger.order(order.url().to_owned()).await.err().expect("another account's order"));
    assert_eq!(refused.status, Some(404), "{refused:?}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn new_order_refuses_names_outside_the_policy_or_the_keys_restriction_and_stores_nothing(pool: PgPool) {
    let served = Served::issuing(&pool, "http://127.0.0.1:9").await;
    let (account, _) = account_of(&served, "Ann", &[], &["*.apps.priv.example.test"]).await;
    let rejected = |problem: &instant_acme::Problem| {
        problem.r#type.as_deref() == Some("urn:ietf:params:acme:error:rejectedIdentifier")
    };

    let refused =
        problem(account.new_order(&NewOrder::new(&dns(&["www.elsewhere.test"]))).await.err().expect("refused"));
    assert!(rejected(&refused), "{refused:?}");
    let subproblem = &refused.subproblems[0];
    assert_eq!(subproblem.identifier, Some(Identifier::Dns("www.elsewhere.test".into())));
    assert!(subproblem.detail.as_deref().unwrap().contains("restricted to *.apps.priv.example.test"), "{subproblem:?}");

    let refused =
        problem(account.new_order(&NewOrder::new(&dns(&["*.apps.priv.example.test"]))).await.err().expect("refused"));
    assert!(rejected(&refused) && refused.detail.as_deref().unwrap().contains("wildcard"), "{refused:?}");

    let two = dns(&["a.apps.priv.example.test", "b.elsewhere.test", "c.other.test"]);
    let refused = problem(account.new_order(&NewOrder::new(&two)).await.err().expect("refused"));
    assert_eq!(refused.subproblems.len(), 2, "one subproblem per refused name: {refused:?}");

    let ip = [Identifier::Ip("10.0.0.1".parse().unwrap())];
    let refused = problem(account.new_order(&NewOrder::new(&ip)).await.err().expect("refused"));
    assert_eq!(refused.r#type.as_deref(), Some("urn:ietf:params:acme:error:unsupportedIdentifier"));

    let (unrestricted, _) = account_of(&served, "Bo", &[], &[]).await;
    let refused =
        problem(unrestricted.new_order(&NewOrder::new(&dns(&["www.example.org"]))).await.err().expect("refused"));
    assert!(refused.detail.as_deref().unwrap().contains("priv.example.test"), "names the allowed domains: {refused:?}");

    assert_eq!(served.count("acme_server_orders").await, 0);
    assert_eq!(served.count("acme_server_authorizations").await, 0);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn finalize_refuses_an_order_not_ready_and_a_csr_with_other_names_leaving_the_order_as_it_was(pool: PgPool) {
    let served = Served::issuing(&pool, &stack().read("openbao/addr")).await;
    let (account, _) = account_of(&served, "Cy", &["platform"], &[]).await;

    // A name that must be proven: the order waits for its challenges, three kinds offered.
    let mut pending = account.new_order(&NewOrder::new(&dns(&["web.priv.example.test"]))).await.unwrap();
    assert_eq!(pending.state().status, OrderStatus::Pending);
    {
        let mut authorizations = pending.authorizations();
        let authorization = authorizations.next().await.unwrap().unwrap();
        let kinds: Vec<String> =
            authorization.challenges.iter().map(|challenge| format!("{:?}", challenge.r#type)).collect();
        assert_eq!(kinds, ["Dns01", "Http01", "TlsAlpn01"]);
    }
    let refused = problem(pending.finalize_csr(&csr_for(&["web.priv.example.test"])).await.expect_err("not ready"));
    assert_eq!(refused.r#type.as_deref(), Some("urn:ietf:params:acme:error:orderNotReady"), "{refused:?}");

    let mut ready = account.new_order(&NewOrder::new(&dns(&["api.ns.svc.cluster.local"]))).await.unwrap();
    let refused =
        problem(ready.finalize_csr(&csr_for(&["other.ns.svc.cluster.local"])).await.expect_err("other names"));
    assert_eq!(refused.r#type.as_deref(), Some("urn:ietf:params:acme:error:badCSR"), "{refused:?}");
    assert_eq!(ready.refresh().await.unwrap().status, OrderStatus::Ready, "the order is left as it was");
    assert_eq!(served.count("certificates").await, 0);
    ready.finalize().await.unwrap();
    ready.poll_certificate(&RetryPolicy::default()).await.unwrap();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_issuer_down_during_finalize_leaves_the_order_processing_until_the_job_finishes_it(pool: PgPool) {
    let bao: reqwest::Url = stack().read("openbao/addr").parse().unwrap();
    let upstream = format!("{}:{}", bao.host_str().unwrap(), bao.port().unwrap()).parse().unwrap();
    let gate = Gate::start(upstream).await;
    let served = Served::issuing(&pool, &format!("http://127.0.0.1:{}", gate.port)).await;
    let (account, _) = account_of(&served, "Di", &["platform"], &[]).await;
    let mut order = account.new_order(&NewOrder::new(&dns(&["cache.ns.svc.cluster.local"]))).await.unwrap();
    let id = order_id(order.url());

    gate.close();
    order.finalize().await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Processing, "the client is told to come back");
    assert_eq!(order.certificate().await.unwrap(), None, "still processing");
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM certificates").fetch_all(&pool).await.unwrap();
    assert_eq!(statuses, ["failed"], "the attempt is recorded as failed, with its reason");

    // The job, while the issuer is still down, leaves it processing; once it is back, finishes it.
    let job = certdesk::acme_server::backstop::AcmeServerBackstop;
    job.run(&served.state, OffsetDateTime::now_utc() + time::Duration::minutes(10)).await.unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM acme_server_orders WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "processing");
    gate.open();
    job.run(&served.state, OffsetDateTime::now_utc() + time::Duration::minutes(20)).await.unwrap();
    let chain = order.poll_certificate(&RetryPolicy::default()).await.unwrap();
    assert!(chain.contains("BEGIN CERTIFICATE"));
    let mut statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM certificates").fetch_all(&pool).await.unwrap();
    statuses.sort();
    assert_eq!(statuses, ["failed", "failed", "issued"], "one certificate issued, each failed attempt kept");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_finalization_cut_short_after_issuing_is_finished_with_the_same_certificate(pool: PgPool) {
    let served = Served::issuing(&pool, &stack().read("openbao/addr")).await;
    let (account, _) = account_of(&served, "Cut", &["platform"], &[]).await;
    let mut order = account.new_order(&NewOrder::new(&dns(&["crash.ns.svc.cluster.local"]))).await.unwrap();
    let id = order_id(order.url());
    order.finalize().await.unwrap();
    order.poll_certificate(&RetryPolicy::default()).await.unwrap();
    let (certificate, csr_pem): (Uuid, String) =
        sqlx::query_as("SELECT id, csr_pem FROM certificates").fetch_one(&pool).await.unwrap();

    // What a replica that died after OpenBao signed, before it marked the order valid, leaves: the order still
    // processing with its CSR, its lease run out.
    sqlx::query(
        "UPDATE acme_server_orders SET status = 'processing', certificate_id = NULL, csr_der = $2,
                next_attempt_at = now() - interval '1 second'
         WHERE id = $1",
    )
    .bind(id)
    .bind(pem::parse(csr_pem).unwrap().into_contents())
    .execute(&pool)
    .await
    .unwrap();
    let job = certdesk::acme_server::backstop::AcmeServerBackstop;
    job.run(&served.state, OffsetDateTime::now_utc()).await.unwrap();
    let (status, finished_with): (String, Option<Uuid>) =
        sqlx::query_as("SELECT status, certificate_id FROM acme_server_orders WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), finished_with), ("valid", Some(certificate)), "the certificate already issued");
    assert_eq!(served.count("certificates").await, 1, "never a second one");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_account_gets_no_more_open_orders_than_the_cap_until_one_ends(pool: PgPool) {
    let served = Served::issuing_configured(&pool, "http://127.0.0.1:9", "max_open_orders_per_account = 2", "").await;
    let (account, _) = account_of(&served, "Capped", &[], &[]).await;
    let mut first = account.new_order(&NewOrder::new(&dns(&["one.priv.example.test"]))).await.unwrap();
    account.new_order(&NewOrder::new(&dns(&["two.priv.example.test"]))).await.unwrap();

    let refused =
        problem(account.new_order(&NewOrder::new(&dns(&["three.priv.example.test"]))).await.err().expect("capped"));
    assert_eq!(refused.r#type.as_deref(), Some("urn:ietf:params:acme:error:rateLimited"), "{refused:?}");
    assert!(refused.detail.as_deref().unwrap_or_default().contains("2"), "names the cap: {refused:?}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM acme_server_orders").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 2, "the refused order is not stored");

    // An order that ends (its authorization deactivated: invalid) frees its place.
    {
        let mut authorizations = first.authorizations();
        let mut authorization = authorizations.next().await.unwrap().unwrap();
        authorization.deactivate().await.unwrap();
    }
    first.refresh().await.unwrap();
    assert_eq!(first.state().status, OrderStatus::Invalid);
    account.new_order(&NewOrder::new(&dns(&["three.priv.example.test"]))).await.unwrap();
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn concurrent_new_orders_of_one_account_do_not_pass_the_cap_together(pool: PgPool) {
    let served = Served::issuing_configured(&pool, "http://127.0.0.1:9", "max_open_orders_per_account = 3", "").await;
    let (account, _) = account_of(&served, "Racer", &[], &[]).await;
    let names: Vec<String> = (0..8).map(|index| format!("race{index}.priv.example.test")).collect();
    let attempts = names.iter().map(|name| {
        let account = account.clone();
        let name = name.clone();
        async move { account.new_order(&NewOrder::new(&[Identifier::Dns(name)])).await.map(|_| ()) }
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    let created = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(created, 3, "{outcomes:?}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM acme_server_orders").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 3);
}
