//! ACME Renewal Information and `replaces` on certdesk's ACME server, issuing through the stack's real OpenBao:
//! the suggested window follows the certificate's renewal settings (a third of its lifetime left) and lies in the
//! past once it is revoked; an order that `replaces` a certificate supersedes it when issued, and a second one is
//! refused (alreadyReplaced), as is one naming a certificate that is not the owner's.

use instant_acme::{CertificateIdentifier, Identifier, NewOrder, RetryPolicy, RevocationRequest};
use rustls_pki_types::CertificateDer;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::Served;
use super::orders::{account_and_person_of, account_of};
use crate::support::stack;

async fn issued(account: &instant_acme::Account, name: &str, replaces: Option<CertificateIdentifier<'_>>) -> Vec<u8> {
    let identifiers = [Identifier::Dns(name.into())];
    let mut new_order = NewOrder::new(&identifiers);
    if let Some(replaces) = replaces {
        new_order = new_order.replaces(replaces);
    }
    let mut order = account.new_order(&new_order).await.unwrap();
    order.finalize().await.unwrap();
    let chain = order.poll_certificate(&RetryPolicy::default()).await.unwrap();
    pem::parse_many(&chain).unwrap().remove(0).into_contents()
}

fn identifier(der: &[u8]) -> CertificateIdentifier<'static> {
    let leaf_pem = pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()));
    certdesk::issuers::acme::renewal_info::identifier_of(&leaf_pem).unwrap()
}

async fn row(pool: &PgPool, der: &[u8]) -> (Uuid, String, Option<Uuid>) {
    let serial = certdesk::bundle::certificate_facts(der).unwrap().serial_colon();
    sqlx::query_as("SELECT id, status, renewed_from FROM certificates WHERE serial = $1")
        .bind(serial)
        .fetch_one(pool)
        .await
        .unwrap()
}

fn problem_type(error: instant_acme::Error) -> String {
    match error {
        instant_acme::Error::Api(problem) => problem.r#type.unwrap_or_default(),
        other => panic!("expected a problem document, got {other}"),
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn renewal_information_follows_the_renewal_policy_and_replaces_supersedes_once(pool: PgPool) {
    let served = Served::issuing(&pool, &stack().read("openbao/addr")).await;
    let (account, _) = account_of(&served, "Ari", &["platform"], &[]).await;
    let first = issued(&account, "ari.ns.svc.cluster.local", None).await;

    let (info, retry_after) = account.renewal_info(&identifier(&first)).await.unwrap();
    let (_, leaf) = x509_parser::parse_x509_certificate(&first).unwrap();
    let not_before = OffsetDateTime::from_unix_timestamp(leaf.validity().not_before.timestamp()).unwrap();
    let not_after = OffsetDateTime::from_unix_timestamp(leaf.validity().not_after.timestamp()).unwrap();
    let window = info.suggested_window;
    assert_eq!(window.start, not_after - (not_after - not_before) / 3, "when a third of the lifetime is left");
    assert_eq!(window.end - window.start, Duration::days(2));
    assert!(retry_after.as_secs() > 3600, "{retry_after:?}");

    // A stranger's certificate, or one nobody issued, cannot be replaced.
    let (stranger, _) = account_of(&served, "Stu", &["platform"], &[]).await;
    let identifiers = [Identifier::Dns("ari.ns.svc.cluster.local".into())];
    let theirs = stranger.new_order(&NewOrder::new(&identifiers).replaces(identifier(&first))).await;
    assert_eq!(problem_type(theirs.err().expect("not the stranger's")), "urn:ietf:params:acme:error:malformed");

    let second = issued(&account, "ari.ns.svc.cluster.local", Some(identifier(&first))).await;
    let (first_id, first_status, _) = row(&pool, &first).await;
    let (_, second_status, renewed_from) = row(&pool, &second).await;
    assert_eq!((first_status.as_str(), second_status.as_str()), ("superseded", "issued"));
    assert_eq!(renewed_from, Some(first_id), "the inventory shows which certificate replaced which");
    let again = account.new_order(&NewOrder::new(&identifiers).replaces(identifier(&first))).await;
    assert_eq!(problem_type(again.err().expect("replaced already")), "urn:ietf:params:acme:error:alreadyReplaced");

    // Revoked: renew now.
    let der = CertificateDer::from(second.clone());
    account.revoke(&RevocationRequest { certificate: &der, reason: None }).await.unwrap();
    let (info, _) = account.renewal_info(&identifier(&second)).await.unwrap();
    assert!(info.suggested_window.end < OffsetDateTime::now_utc(), "{:?}", info.suggested_window);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn concurrent_orders_replacing_one_certificate_leave_one_standing(pool: PgPool) {
    let served = Served::issuing(&pool, &stack().read("openbao/addr")).await;
    let (account, _) = account_of(&served, "Twin", &["platform"], &[]).await;
    let first = issued(&account, "twin.ns.svc.cluster.local", None).await;
    let identifiers = [Identifier::Dns("twin.ns.svc.cluster.local".into())];
    let attempts = (0..6).map(|_| {
        let account = account.clone();
        let replaces = identifier(&first);
        let identifiers = identifiers.clone();
        async move { account.new_order(&NewOrder::new(&identifiers).replaces(replaces)).await.map(|_| ()) }
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    let refused: Vec<String> = outcomes.into_iter().filter_map(Result::err).map(problem_type).collect();
    assert_eq!(refused.len(), 5, "one replacement stands: {refused:?}");
    assert!(refused.iter().all(|kind| kind == "urn:ietf:params:acme:error:alreadyReplaced"), "{refused:?}");
    let replacing: i64 =
        sqlx::query_scalar("SELECT count(*) FROM acme_server_orders WHERE replaces_certificate_id IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(replacing, 1);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_machines_certificate_is_renewed_by_its_machine_not_from_the_portal(pool: PgPool) {
    let served = Served::issuing(&pool, &stack().read("openbao/addr")).await;
    let (account, meta) = account_and_person_of(&served, "Mach", &["platform"], &[]).await;
    let first = issued(&account, "mach.ns.svc.cluster.local", None).await;
    let (id, ..) = row(&pool, &first).await;
    let caller = meta.caller.clone().unwrap();

    let detail = certdesk::inventory::detail(&served.state, &caller, id).await.unwrap();
    assert_eq!(detail.renewal.by_machine.as_deref(), Some("cluster"));
    assert!(!detail.renewal.can_renew, "the page offers no \"Renew now\"");
    let refused = certdesk::renewal::manual::renew_now(&served.state, &meta, &caller, id, None).await;
    let Err(certdesk::error::ServerError::Client(app::AppError::Conflict { message })) = refused else {
        panic!("a machine's certificate is refused with 409: {refused:?}")
    };
    assert!(message.contains("ACME account key “cluster”"), "{message}");
    assert_eq!(served.count("certificates").await, 1, "nothing issued");
}
