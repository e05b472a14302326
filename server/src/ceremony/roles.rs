//! The PKI roles certdesk issues through (`{mount}/sign/{role}`, always with a CSR), one per key family and
//! purpose, so every leaf gets the key usage its key type calls for (RFC 5280 §4.2.1.3, CA/B Forum BR 7.1.2.7):
//!
//! | role                    | key_type | CSR keys accepted             | keyUsage                           | EKU                   |
//! |-------------------------|----------|-------------------------------|------------------------------------|-----------------------|
//! | `{base}-ec`             | ec       | P-256, P-384, P-521           | digitalSignature                   | serverAuth            |
//! | `{base}-rsa`            | rsa      | RSA ≥ 2048                    | digitalSignature, keyEncipherment  | serverAuth            |
//! | `{base}-ed25519`        | ed25519  | Ed25519                       | digitalSignature                   | serverAuth            |
//! | `…-client` of each      |          |                               | same                               | serverAuth+clientAuth |
//!
//! Vault/OpenBao's `key_usage` default is DigitalSignature+KeyAgreement+KeyEncipherment whatever the key type
//! (verified on OpenBao 2.7.2), wrong for both EC and RSA leaves, hence explicit usages. A `key_type: ec` role
//! refuses Ed25519 CSRs ("role requires keys of type ec"), hence the separate Ed25519 role; `key_bits` of an EC
//! role is a minimum (256 accepts P-256, P-384 and P-521).

use serde_json::{Value, json};

pub use crate::keys::KeyFamily;

/// The OpenBao/Vault `key_type` of a family's role, also the role-name suffix.
fn vault_key_type(family: KeyFamily) -> &'static str {
    match family {
        KeyFamily::Ec => "ec",
        KeyFamily::Rsa => "rsa",
        KeyFamily::Ed25519 => "ed25519",
    }
}

/// Minimum key size the role enforces (0: fixed by the algorithm).
fn key_bits(family: KeyFamily) -> u32 {
    match family {
        KeyFamily::Ec => 256,
        KeyFamily::Rsa => 2048,
        KeyFamily::Ed25519 => 0,
    }
}

/// keyEncipherment only where the key can encrypt (RSA key transport); never keyAgreement on a leaf that signs
/// TLS handshakes.
fn key_usage(family: KeyFamily) -> &'static [&'static str] {
    match family {
        KeyFamily::Rsa => &["DigitalSignature", "KeyEncipherment"],
        KeyFamily::Ec | KeyFamily::Ed25519 => &["DigitalSignature"],
    }
}

/// The role to sign a CSR of `family` with: `{base}-ec`, `{base}-rsa-client`, …
pub fn role_name(base: &str, family: KeyFamily, client_auth: bool) -> String {
    let client = if client_auth { "-client" } else { "" };
    format!("{base}-{}{client}", vault_key_type(family))
}

/// What every role shares, from the bootstrap's options.
#[derive(Debug, Clone)]
pub struct RolePolicy {
    pub allowed_domains: Vec<String>,
    pub allow_ip_sans: bool,
    pub max_ttl_seconds: u64,
}

/// One role: its name and the body written to `{mount}/roles/{name}`.
#[derive(Debug, Clone)]
pub struct RoleDefinition {
    pub name: String,
    pub body: Value,
}

/// All roles for `base`: every family, with and without clientAuth.
pub fn definitions(base: &str, policy: &RolePolicy) -> Vec<RoleDefinition> {
    KeyFamily::ALL
        .into_iter()
        .flat_map(|family| [false, true].map(|client_auth| (family, client_auth)))
        .map(|(family, client_auth)| RoleDefinition {
            name: role_name(base, family, client_auth),
            body: body(family, client_auth, policy),
        })
        .collect()
}

fn body(family: KeyFamily, client_auth: bool, policy: &RolePolicy) -> Value {
    json!({
        "issuer_ref": "default",
        "key_type": vault_key_type(family),
        "key_bits": key_bits(family),
        "key_usage": key_usage(family),
        "ext_key_usage": [],
        "server_flag": true,
        "client_flag": client_auth,
        "code_signing_flag": false,
        "email_protection_flag": false,
        "allowed_domains": policy.allowed_domains,
        "allow_subdomains": true,
        "allow_bare_domains": true,
        // certdesk's own policy decides who may have a wildcard; the role must not stand in the way.
        "allow_wildcard_certificates": true,
        "allow_glob_domains": false,
        "allow_any_name": false,
        "allow_localhost": false,
        "allow_ip_sans": policy.allow_ip_sans,
        "enforce_hostnames": true,
        "use_csr_common_name": true,
        "use_csr_sans": true,
        "require_cn": false,
        "max_ttl": policy.max_ttl_seconds,
        // Revocation needs the stored certificate; a lease per certificate would only clutter the lease table.
        "no_store": false,
        "generate_lease": false,
        "not_before_duration": 30,
    })
}

/// The fields of `wanted` that `current` (a role as read back) does not match; empty means up to date.
pub fn differences(wanted: &Value, current: &Value) -> Vec<String> {
    let Some(wanted) = wanted.as_object() else { return vec!["(role body)".into()] };
    wanted.iter().filter(|(key, value)| current.get(key.as_str()) != Some(value)).map(|(key, _)| key.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(role_name("certdesk", KeyFamily::Ec, false), "certdesk-ec");
        assert_eq!(role_name("certdesk", KeyFamily::Rsa, true), "certdesk-rsa-client");
        assert_eq!(role_name("c", KeyFamily::Ed25519, true), "c-ed25519-client");
    }

    #[test]
    fn six_roles_with_the_right_usages() {
        let policy = RolePolicy { allowed_domains: vec!["a.test".into()], allow_ip_sans: false, max_ttl_seconds: 60 };
        let roles = definitions("b", &policy);
        assert_eq!(roles.len(), 6);
        let rsa = roles.iter().find(|role| role.name == "b-rsa").unwrap();
        assert_eq!(rsa.body["key_usage"], json!(["DigitalSignature", "KeyEncipherment"]));
        assert_eq!(rsa.body["client_flag"], json!(false));
        let ec_client = roles.iter().find(|role| role.name == "b-ec-client").unwrap();
        assert_eq!(ec_client.body["key_usage"], json!(["DigitalSignature"]));
        assert_eq!(ec_client.body["client_flag"], json!(true));
        let mut current = rsa.body.clone();
        assert!(differences(&rsa.body, &current).is_empty());
        current["max_ttl"] = json!(61);
        assert_eq!(differences(&rsa.body, &current), ["max_ttl"]);
    }
}
