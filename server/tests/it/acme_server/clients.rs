//! instant-acme, a real ACME client, against certdesk's ACME server on a real listener: an account created with
//! External Account Binding belongs to the key's owner (with its audit row), found again with
//! `onlyReturnExisting`, its contacts updated, and deactivated (after which its key is refused).

use instant_acme::{Account, ExternalAccountKey, Key, NewAccount};
use rustls_pki_types::PrivateKeyDer;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ISSUER, Served, hmac_key};

pub(super) fn builder() -> instant_acme::AccountBuilder {
    // certdesk's own adapter (its ACME issuer uses it); the test listener is plain HTTP.
    Account::builder_with_http(Box::new(certdesk::issuers::acme::http_client::AcmeHttp::new(reqwest::Client::new())))
}

fn no_contact() -> NewAccount<'static> {
    NewAccount { contact: &[], terms_of_service_agreed: true, only_return_existing: false }
}

/// A person named `name` with an ACME account key, and an account without contacts bound to it: the person's request
/// metadata, the binding (to bind more), the account and its credentials.
async fn bound_account(
    served: &Served,
    name: &str,
) -> (app::ssr::RequestMeta, ExternalAccountKey, Account, instant_acme::AccountCredentials) {
    let (meta, created) = served.person_with_key(name).await;
    let eab = ExternalAccountKey::new(created.key.key_id.clone(), &hmac_key(&created));
    let (account, credentials) = builder().create(&no_contact(), served.directory(), Some(&eab)).await.unwrap();
    (meta, eab, account, credentials)
}

async fn contact_of(pool: &PgPool, account: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT contact FROM acme_server_accounts WHERE id = $1")
        .bind(account)
        .fetch_one(pool)
        .await
        .unwrap()
}

fn problem_type(error: &instant_acme::Error) -> String {
    match error {
        instant_acme::Error::Api(problem) => problem.r#type.clone().unwrap_or_default(),
        other => panic!("expected a problem document, got {other}"),
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_account_made_with_eab_belongs_to_the_keys_owner_and_can_be_found_updated_and_deactivated(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (meta, created) = served.person_with_key("Pat").await;
    let owner = meta.caller.as_ref().unwrap().user_id;
    let eab = ExternalAccountKey::new(created.key.key_id.clone(), &hmac_key(&created));
    let new_account = NewAccount {
        contact: &["mailto:ops@example.test"],
        terms_of_service_agreed: true,
        only_return_existing: false,
    };
    let (account, credentials) = builder().create(&new_account, served.directory(), Some(&eab)).await.unwrap();
    let prefix = format!("{}/acme/{ISSUER}/account/", served.base);
    let id: Uuid = account.id().strip_prefix(&prefix).expect("an account URL of this directory").parse().unwrap();

    let (owner_id, key_id, thumbprint, status, contact): (Uuid, Uuid, String, String, Vec<String>) = sqlx::query_as(
        "SELECT owner_id, account_key_id, jwk_thumbprint, status, contact FROM acme_server_accounts WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((owner_id, key_id), (owner, created.key.id), "bound to the person's key");
    assert_eq!(thumbprint, account.key_thumbprint(), "RFC 7638 thumbprint as the client computes it");
    assert_eq!((status.as_str(), contact), ("valid", vec!["mailto:ops@example.test".to_owned()]));
    let audit = served.acme_audit().await;
    assert!(
        audit.contains(&("acme_account.created".into(), format!("user:{owner}"), format!("acme_account:{id}"))),
        "{audit:?}"
    );
    let listed = certdesk::acme_server::account_keys::list(&served.state, &meta).await.unwrap();
    assert_eq!(listed[0].accounts, 1);
    assert!(listed[0].last_used_at.is_some(), "the key's use is recorded");

    // The same key again with onlyReturnExisting: the same account, nothing new stored.
    let pkcs8 = credentials.private_key().clone_key();
    let key = Key::from_pkcs8_der(pkcs8.clone_key()).unwrap();
    let (found, _) =
        builder().from_key((key, PrivateKeyDer::Pkcs8(pkcs8.clone_key())), served.directory()).await.unwrap();
    assert_eq!(found.id(), account.id());
    assert_eq!(served.count("acme_server_accounts").await, 1);

    // A key without an account, onlyReturnExisting: accountDoesNotExist.
    let (other, other_der) = Key::generate_pkcs8().unwrap();
    let Err(error) = builder().from_key((other, PrivateKeyDer::Pkcs8(other_der)), served.directory()).await else {
        panic!("a key without an account must not find one")
    };
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:accountDoesNotExist");

    account.update_contacts(&["mailto:platform@example.test"]).await.unwrap();
    let contact: Vec<String> = sqlx::query_scalar("SELECT contact FROM acme_server_accounts WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(contact, vec!["mailto:platform@example.test".to_owned()]);

    account.deactivate().await.unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM acme_server_accounts WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "deactivated");
    let audit = served.acme_audit().await;
    assert!(
        audit.contains(&("acme_account.deactivated".into(), format!("user:{owner}"), format!("acme_account:{id}"))),
        "{audit:?}"
    );
    // A deactivated account's key is refused, whether it looks itself up or signs as the account.
    let key = Key::from_pkcs8_der(pkcs8.clone_key()).unwrap();
    let Err(error) = builder().from_key((key, PrivateKeyDer::Pkcs8(pkcs8.clone_key())), served.directory()).await
    else {
        panic!("a deactivated account must not be returned")
    };
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:unauthorized");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn without_eab_a_directory_that_requires_it_refuses_and_one_that_does_not_creates_an_unowned_account(
    pool: PgPool,
) {
    let served = Served::start(&pool, true).await;
    let new_account = NewAccount { contact: &[], terms_of_service_agreed: true, only_return_existing: false };
    let Err(error) = builder().create(&new_account, served.directory(), None).await else { panic!("EAB is required") };
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:externalAccountRequired");
    assert_eq!(served.count("acme_server_accounts").await, 0);

    let open = Served::start(&pool, false).await;
    let (account, _) = builder().create(&new_account, open.directory(), None).await.unwrap();
    let owner: Option<Uuid> =
        sqlx::query_scalar("SELECT owner_id FROM acme_server_accounts").fetch_one(&pool).await.unwrap();
    assert_eq!(owner, None);
    assert!(account.id().starts_with(&open.base));
    assert_eq!(open.acme_audit().await[0].1, "anonymous");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn off_boarding_a_person_revokes_their_acme_account_keys_and_deactivates_their_accounts(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (meta, _, account, credentials) = bound_account(&served, "Pat").await;
    let pat = meta.caller.as_ref().unwrap().user_id;

    let admin = super::fresh(crate::support::person(&pool, "Ada", app::model::Role::Admin).await);
    let caller = admin.caller.clone().unwrap();
    let reason = app::model::RevocationReason::AffiliationChanged;
    certdesk::revocation::offboarding::offboard(&served.state, &admin, &caller, pat, reason).await.unwrap();

    let status: String = sqlx::query_scalar("SELECT status FROM acme_server_accounts").fetch_one(&pool).await.unwrap();
    assert_eq!(status, "deactivated");
    let audit = served.acme_audit().await;
    let by_admin: Vec<&str> = audit
        .iter()
        .filter(|(_, actor, _)| *actor == format!("user:{}", caller.user_id))
        .map(|(action, ..)| action.as_str())
        .collect();
    assert_eq!(by_admin, ["acme_account_key.revoked", "acme_account.deactivated"], "{audit:?}");
    let pkcs8 = credentials.private_key().clone_key();
    let key = Key::from_pkcs8_der(pkcs8.clone_key()).unwrap();
    let Err(error) = builder().from_key((key, PrivateKeyDer::Pkcs8(pkcs8)), served.directory()).await else {
        panic!("an off-boarded person's account must be refused")
    };
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:unauthorized");
    drop(account);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_account_acts_only_while_its_owner_still_has_access(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (meta, eab, account, _) = bound_account(&served, "Pat").await;
    let new_account = no_contact();
    account.update_contacts(&["mailto:pat@example.test"]).await.unwrap();

    // Disabled by any path (not only off-boarding, which also deactivates the accounts): refused from then on.
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(meta.caller.as_ref().unwrap().user_id)
        .execute(&pool)
        .await
        .unwrap();
    let error = account.update_contacts(&["mailto:other@example.test"]).await.unwrap_err();
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:unauthorized");
    let Err(error) = builder().create(&new_account, served.directory(), Some(&eab)).await else {
        panic!("a disabled person's ACME account key must not bind a new account")
    };
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:unauthorized");
    assert_eq!(served.count("acme_server_accounts").await, 1);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn key_change_rolls_the_account_over_to_the_new_key_and_the_old_key_no_longer_finds_it(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (meta, _, mut account, old) = bound_account(&served, "Kai").await;
    let owner = meta.caller.as_ref().unwrap().user_id;
    let old_thumbprint = account.key_thumbprint().to_owned();

    let new = account.update_key().await.unwrap();
    assert_ne!(new.private_key().secret_pkcs8_der(), old.private_key().secret_pkcs8_der());
    assert_ne!(account.key_thumbprint(), old_thumbprint);
    let stored: String =
        sqlx::query_scalar("SELECT jwk_thumbprint FROM acme_server_accounts").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, account.key_thumbprint(), "the account now has the new key");
    account.update_contacts(&["mailto:new-key@example.test"]).await.unwrap();
    let audit = served.acme_audit().await;
    assert!(
        audit
            .iter()
            .any(|(action, actor, _)| action == "acme_account.key_changed" && *actor == format!("user:{owner}"))
    );

    let pkcs8 = old.private_key().clone_key();
    let key = Key::from_pkcs8_der(pkcs8.clone_key()).unwrap();
    let Err(error) = builder().from_key((key, PrivateKeyDer::Pkcs8(pkcs8)), served.directory()).await else {
        panic!("the old key has no account any more")
    };
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:accountDoesNotExist");
    assert_eq!(served.count("acme_server_accounts").await, 1);
}

/// A replica remembers the key of an account it served (`acme_server::known_keys`), but the account as stored
/// decides: once the key changed elsewhere (another replica's keyChange, done here on the row itself), the old key
/// this replica remembers is refused and changes nothing, and the new key is served.
#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_key_this_replica_remembers_is_refused_once_the_account_has_another(pool: PgPool) {
    let served = Served::start(&pool, true).await;
    let (_, eab, account, _) = bound_account(&served, "Rae").await;
    let id = Uuid::parse_str(account.id().rsplit('/').next().unwrap()).unwrap();
    account.update_contacts(&["mailto:rae@example.test"]).await.unwrap();
    assert!(served.state.acme_account_keys.get(id).is_some(), "the replica remembers the key it verified");

    // A second key, made by a second account that then gives it to the first, as keyChange on another replica would.
    let (other, other_credentials) = builder().create(&no_contact(), served.directory(), Some(&eab)).await.unwrap();
    let other_id = Uuid::parse_str(other.id().rsplit('/').next().unwrap()).unwrap();
    let (jwk, thumbprint): (serde_json::Value, String) =
        sqlx::query_as("DELETE FROM acme_server_accounts WHERE id = $1 RETURNING jwk, jwk_thumbprint")
            .bind(other_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("UPDATE acme_server_accounts SET jwk = $2, jwk_thumbprint = $3 WHERE id = $1")
        .bind(id)
        .bind(jwk)
        .bind(thumbprint)
        .execute(&pool)
        .await
        .unwrap();

    let error = account.update_contacts(&["mailto:old-key@example.test"]).await.unwrap_err();
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:malformed", "{error}");
    assert_eq!(contact_of(&pool, id).await, ["mailto:rae@example.test"], "the old key changed nothing");

    // The account's URL with the key it has now.
    let mut credentials = serde_json::to_value(&other_credentials).unwrap();
    credentials["id"] = account.id().into();
    let credentials = serde_json::from_value(credentials).unwrap();
    let current = builder().from_credentials(credentials).await.unwrap();
    current.update_contacts(&["mailto:new-key@example.test"]).await.unwrap();
    let error = account.update_contacts(&["mailto:old-key-again@example.test"]).await.unwrap_err();
    assert_eq!(problem_type(&error), "urn:ietf:params:acme:error:malformed", "{error}");
    assert_eq!(contact_of(&pool, id).await, ["mailto:new-key@example.test"]);
}
