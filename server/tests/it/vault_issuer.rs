//! The Vault/OpenBao issuer against the test stack's real OpenBao (mount `pki_private_issuer`, roles and AppRole
//! made by `certdesk vault bootstrap`): every key family signs and chains to the offline root, the role's
//! domain rules refuse a foreign name, bad credentials and an unreachable server are told apart.

use std::time::Duration;

use certdesk::config::AppRoleCredentials;
use certdesk::issuers::vault::VaultIssuer;
use certdesk::issuers::{CertificateAuthority, Issued, IssuerError, Signed, SigningRequest};
use certdesk::keys::{self, KeyType};
use certdesk::names::normalize_dns_name;
use secrecy::SecretString;

use crate::support::{Stack, stack};

fn credentials(stack: &Stack, secret_id: Option<&str>) -> AppRoleCredentials {
    let read = |name: &str| stack.read(&format!("openbao/{name}"));
    AppRoleCredentials {
        mount: "approle".into(),
        role_id: SecretString::from(read("role_id")),
        secret_id: SecretString::from(secret_id.map(str::to_owned).unwrap_or_else(|| read("secret_id"))),
    }
}

fn issuer(stack: &Stack, address: &reqwest::Url, secret_id: Option<&str>) -> VaultIssuer {
    VaultIssuer::new(
        "private",
        address,
        "pki_private_issuer",
        "certdesk-demo",
        Some(credentials(stack, secret_id)),
        None,
        reqwest::Client::new(),
    )
}

fn csr_for(key_type: KeyType, name: &str) -> String {
    let key = keys::generate(key_type).unwrap();
    keys::build_csr(&key, Some(name), &[normalize_dns_name(name).unwrap()], &[]).unwrap()
}

/// OpenBao signs at once: the certificate, or why not.
async fn signed(vault: &VaultIssuer, request: &SigningRequest<'_>) -> Result<Signed, IssuerError> {
    match vault.issue(request).await? {
        Issued::Signed(signed) => Ok(signed),
        Issued::Ordered => panic!("OpenBao signs while the requester waits"),
    }
}

fn request(csr: &str, key_type: KeyType, client_auth: bool) -> SigningRequest<'_> {
    SigningRequest {
        csr_pem: csr,
        common_name: None,
        key_family: key_type.family(),
        client_auth,
        validity: Duration::from_secs(24 * 3600),
    }
}

#[tokio::test]
async fn every_key_family_is_signed_and_chains_to_the_offline_root() {
    let stack = stack();
    let root_pem = std::fs::read(format!("{stack}/openbao/root_ca.pem")).unwrap();
    let root_der = pem::parse(&root_pem).unwrap().contents().to_vec();
    let vault = issuer(&stack, &stack.openbao_address(), None);
    for key_type in KeyType::ALL {
        let csr = csr_for(key_type, "app.cluster.local");
        let signed =
            signed(&vault, &request(&csr, key_type, false)).await.unwrap_or_else(|e| panic!("{key_type:?}: {e}"));
        let (intermediates, root) = signed.chain_der.split_at(signed.chain_der.len() - 1);
        assert_eq!(root[0], root_der, "the chain ends at the offline root");
        certdesk::bundle::verify_chain(&signed.leaf_der, intermediates, &root[0], time::OffsetDateTime::now_utc())
            .unwrap_or_else(|e| panic!("{key_type:?}: {e}"));
        let facts = certdesk::bundle::certificate_facts(&signed.leaf_der).unwrap();
        assert_eq!(facts.dns_names, ["app.cluster.local"]);
        let usage = facts.key_usage.join(",");
        let expected = if key_type.family() == keys::KeyFamily::Rsa {
            "Digital Signature,Key Encipherment"
        } else {
            "Digital Signature"
        };
        assert_eq!(usage.replace(", ", ","), expected, "{key_type:?} {facts:?}");
    }
    // The token is reused: a second signature needs no new login (and still works).
    let csr = csr_for(KeyType::EcP256, "again.priv.example.test");
    signed(&vault, &request(&csr, KeyType::EcP256, true)).await.unwrap();
}

#[tokio::test]
async fn refusals_bad_credentials_and_an_unreachable_server_are_told_apart() {
    let stack = stack();
    let vault = issuer(&stack, &stack.openbao_address(), None);
    let csr = csr_for(KeyType::EcP256, "www.example.com");
    match signed(&vault, &request(&csr, KeyType::EcP256, false)).await {
        Err(IssuerError::Refused { message, .. }) => assert!(message.contains("www.example.com"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let wrong_secret = issuer(&stack, &stack.openbao_address(), Some("00000000-0000-0000-0000-000000000000"));
    let csr = csr_for(KeyType::EcP256, "app.cluster.local");
    assert!(matches!(
        signed(&wrong_secret, &request(&csr, KeyType::EcP256, false)).await,
        Err(IssuerError::NotConfigured { .. })
    ));
    let nowhere = reqwest::Url::parse(&format!("http://127.0.0.1:{}", crate::support::free_port())).unwrap();
    let down = issuer(&stack, &nowhere, None);
    assert!(matches!(
        signed(&down, &request(&csr, KeyType::EcP256, false)).await,
        Err(IssuerError::Unavailable { .. })
    ));
}
