//! The bootstrap's steps, each one "read, compare, change only what differs, report".

use serde_json::{Value, json};
use vaultrs::api::auth::approle::requests::SetAppRoleRequestBuilder;
use vaultrs::api::pki::requests::{GenerateIntermediateRequestBuilder, SetURLsRequestBuilder};
use vaultrs::api::sys::requests::{EnableEngineDataConfigBuilder, EnableEngineRequestBuilder};
use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

use super::{BootstrapError, BootstrapOptions, BootstrapReport};
use crate::ceremony::files::{self, PUBLIC_MODE, SECRET_MODE};
use crate::ceremony::intermediate::{IntermediateOptions, sign_intermediate};
use crate::ceremony::policy::certdesk_policy;
use crate::ceremony::roles::{self, RoleDefinition, RolePolicy};
use crate::ceremony::root_signer::RootSigner;
use crate::ceremony::vault::{Vault, VaultError};
use crate::ceremony::{ROOT_CERT_PATH, ROOT_CRL_PATH, mount_cert_path, mount_crl_path, public_link};

/// Token lifetimes of the AppRole: certdesk logs in again when its token expires.
const TOKEN_TTL_SECONDS: u64 = 3600;
const TOKEN_MAX_TTL_SECONDS: u64 = 86_400;

pub const ROLE_ID_FILE: &str = "role_id";
pub const SECRET_ID_FILE: &str = "secret_id";
pub const INTERMEDIATE_FILE: &str = "intermediate.pem";
pub const CA_CHAIN_FILE: &str = "ca_chain.pem";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    AlreadyPresent,
}

/// One line of the report: what, what happened, and a detail that is never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub what: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = match self.outcome {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::AlreadyPresent => "already present",
        };
        write!(f, "{}: {outcome}", self.what)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

pub struct Run<'a> {
    pub vault: &'a Vault,
    pub options: &'a BootstrapOptions,
    pub root: &'a RootSigner,
    pub report: BootstrapReport,
    pub progress: &'a mut dyn FnMut(&Step),
}

impl Run<'_> {
    fn step(&mut self, what: impl Into<String>, outcome: Outcome, detail: impl Into<String>) {
        let step = Step { what: what.into(), outcome, detail: detail.into() };
        (self.progress)(&step);
        self.report.steps.push(step);
    }

    fn mount_path(&self, path: &str) -> String {
        format!("{}/{path}", self.options.mount)
    }

    /// The PKI mount, with a max_lease_ttl that covers the intermediate's life and the roles' max_ttl.
    pub async fn mount(&mut self) -> Result<(), BootstrapError> {
        let mount = self.options.mount.clone();
        let required = (u64::from(self.options.intermediate_days) * 86_400).max(self.options.max_ttl_seconds);
        let mounts = self.vault.read("sys/mounts").await?.unwrap_or(Value::Null);
        let what = format!("PKI mount {mount}");
        match mounts.get(format!("{mount}/")) {
            Some(existing) => {
                let kind = existing.get("type").and_then(Value::as_str).unwrap_or_default();
                if kind != "pki" {
                    return Err(BootstrapError::NotPki { path: mount, kind: kind.to_owned() });
                }
                self.step(what, Outcome::AlreadyPresent, "");
            }
            None => {
                let mut config = EnableEngineDataConfigBuilder::default();
                config.max_lease_ttl(format!("{required}s"));
                let config = config.build().map_err(|error| invalid_request(&what, error))?;
                let mut request = EnableEngineRequestBuilder::default();
                request.description("certdesk: intermediate CA signed by the offline root").config(config);
                vaultrs::sys::mount::enable(&self.vault.client, &mount, "pki", Some(&mut request))
                    .await
                    .map_err(|error| self.vault.map(&format!("sys/mounts/{mount}"), error))?;
                self.step(what, Outcome::Created, "");
            }
        }
        let tune_path = format!("sys/mounts/{mount}/tune");
        let tune = self.vault.read(&tune_path).await?.unwrap_or(Value::Null);
        let current = tune.get("max_lease_ttl").and_then(Value::as_u64).unwrap_or(0);
        let what = format!("PKI mount {mount} max_lease_ttl");
        if current >= required {
            self.step(what, Outcome::AlreadyPresent, format!("{current}s"));
        } else {
            self.vault.write(&tune_path, &json!({ "max_lease_ttl": format!("{required}s") })).await?;
            self.step(what, Outcome::Updated, format!("{current}s -> {required}s"));
        }
        Ok(())
    }

    /// The intermediate CA: kept when the default issuer already chains to this root, otherwise generated
    /// inside the mount (EC P-384; the key never leaves it), signed offline and installed with the full chain.
    /// Returns the intermediate certificate, PEM.
    pub async fn intermediate(&mut self) -> Result<String, BootstrapError> {
        let what = format!("intermediate CA of {}", self.options.mount);
        if let Some(existing) = self.default_issuer().await? {
            if !chains_to(&existing, self.root) {
                return Err(BootstrapError::ForeignIssuer { mount: self.options.mount.clone() });
            }
            self.step(what, Outcome::AlreadyPresent, "default issuer chains to this root");
            return Ok(existing);
        }
        let mut request = GenerateIntermediateRequestBuilder::default();
        request.key_type("ec").key_bits(384u64);
        let generated = vaultrs::pki::cert::ca::int::generate(
            &self.vault.client,
            &self.options.mount,
            "internal",
            &self.options.intermediate_common_name,
            Some(&mut request),
        )
        .await
        .map_err(|error| self.vault.map(&self.mount_path("intermediate/generate/internal"), error))?;
        let public_url = &self.options.public_url;
        let signed = sign_intermediate(
            self.root,
            &generated.csr,
            &IntermediateOptions {
                days: self.options.intermediate_days,
                crl_url: Some(public_link(public_url, ROOT_CRL_PATH)),
                aia_url: Some(public_link(public_url, ROOT_CERT_PATH)),
            },
        )?;
        // With the root in the bundle, ca_chain (what clients are handed) is complete (cert-manager#6632).
        let chain = format!("{}{}", signed.cert_pem, self.root.cert_pem);
        let imported = vaultrs::pki::cert::ca::int::set_signed(&self.vault.client, &self.options.mount, &chain)
            .await
            .map_err(|error| self.vault.map(&self.mount_path("intermediate/set-signed"), error))?;
        if self.default_issuer().await?.is_none() {
            // A mount that already held issuers does not switch its default on import: point it at ours.
            let issuer = imported.imported_issuers.unwrap_or_default().into_iter().find(|id| !id.is_empty());
            let Some(issuer) = issuer else {
                return Err(VaultError::Response {
                    what: self.mount_path("intermediate/set-signed"),
                    reason: "no issuer was imported".into(),
                }
                .into());
            };
            self.vault.write(&self.mount_path("config/issuers"), &json!({ "default": issuer })).await?;
        }
        let detail = if signed.clamped {
            format!("EC P-384, valid until {} (cut to the root's notAfter)", signed.not_after.date())
        } else {
            format!("EC P-384, valid until {}", signed.not_after.date())
        };
        self.step(what, Outcome::Created, detail);
        Ok(signed.cert_pem)
    }

    /// The default issuer's certificate, PEM, if the mount has one.
    async fn default_issuer(&self) -> Result<Option<String>, BootstrapError> {
        let config = self.vault.read(&self.mount_path("config/issuers")).await?;
        let default = config.as_ref().and_then(|config| config.get("default")).and_then(Value::as_str).unwrap_or("");
        if default.is_empty() {
            return Ok(None);
        }
        let issuer = self.vault.read(&self.mount_path(&format!("issuer/{default}"))).await?;
        Ok(issuer.and_then(|issuer| issuer.get("certificate").and_then(Value::as_str).map(str::to_owned)))
    }

    /// AIA and CRL distribution point URLs written into every leaf: both served by certdesk.
    pub async fn urls(&mut self) -> Result<(), BootstrapError> {
        let public_url = &self.options.public_url;
        let issuing = vec![public_link(public_url, &mount_cert_path(&self.options.mount))];
        let crl = vec![public_link(public_url, &mount_crl_path(&self.options.mount))];
        let current = self.vault.read(&self.mount_path("config/urls")).await?.unwrap_or(Value::Null);
        let list = |key: &str| -> Vec<String> {
            current
                .get(key)
                .and_then(Value::as_array)
                .map(|values| values.iter().filter_map(|value| value.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let (current_issuing, current_crl) = (list("issuing_certificates"), list("crl_distribution_points"));
        let what = format!("{} URLs", self.mount_path("config/urls"));
        if current_issuing == issuing && current_crl == crl {
            self.step(what, Outcome::AlreadyPresent, "");
            return Ok(());
        }
        let mut request = SetURLsRequestBuilder::default();
        request.issuing_certificates(issuing.clone()).crl_distribution_points(crl.clone());
        vaultrs::pki::cert::urls::set(&self.vault.client, &self.options.mount, Some(&mut request))
            .await
            .map_err(|error| self.vault.map(&self.mount_path("config/urls"), error))?;
        let outcome =
            if current_issuing.is_empty() && current_crl.is_empty() { Outcome::Created } else { Outcome::Updated };
        self.step(what, outcome, format!("issuing {} ; CRL {}", issuing.join(", "), crl.join(", ")));
        Ok(())
    }

    /// The issuing roles (see `roles`), written when missing or different.
    pub async fn roles(&mut self) -> Result<Vec<RoleDefinition>, BootstrapError> {
        let policy = RolePolicy {
            allowed_domains: self.options.allowed_domains.clone(),
            allow_ip_sans: self.options.allow_ip_sans,
            max_ttl_seconds: self.options.max_ttl_seconds,
        };
        let definitions = roles::definitions(&self.options.role_base, &policy);
        for role in &definitions {
            let path = self.mount_path(&format!("roles/{}", role.name));
            let what = format!("role {path}");
            match self.vault.read(&path).await? {
                None => {
                    self.vault.write(&path, &role.body).await?;
                    self.step(what, Outcome::Created, "");
                }
                Some(current) => {
                    let differences = roles::differences(&role.body, &current);
                    if differences.is_empty() {
                        self.step(what, Outcome::AlreadyPresent, "");
                    } else {
                        self.vault.write(&path, &role.body).await?;
                        self.step(what, Outcome::Updated, differences.join(", "));
                    }
                }
            }
        }
        Ok(definitions)
    }

    /// The ACL policy named after the AppRole.
    pub async fn policy(&mut self, roles: &[RoleDefinition]) -> Result<(), BootstrapError> {
        let name = &self.options.approle;
        let text = certdesk_policy(&self.options.mount, roles);
        let path = format!("sys/policies/acl/{name}");
        let current = self.vault.read(&path).await?;
        let current_text = current.as_ref().and_then(|policy| policy.get("policy")).and_then(Value::as_str);
        let what = format!("policy {name}");
        if current_text == Some(text.as_str()) {
            self.step(what, Outcome::AlreadyPresent, "");
            return Ok(());
        }
        vaultrs::sys::policy::set(&self.vault.client, name, &text)
            .await
            .map_err(|error| self.vault.map(&path, error))?;
        self.step(what, if current.is_some() { Outcome::Updated } else { Outcome::Created }, "");
        Ok(())
    }

    /// AppRole auth enabled at `approle/`, and the AppRole role with the policy and token lifetimes.
    pub async fn approle(&mut self) -> Result<(), BootstrapError> {
        let auths = self.vault.read("sys/auth").await?.unwrap_or(Value::Null);
        match auths.get("approle/") {
            Some(_) => self.step("auth method approle/", Outcome::AlreadyPresent, ""),
            None => {
                vaultrs::sys::auth::enable(&self.vault.client, "approle", "approle", None)
                    .await
                    .map_err(|error| self.vault.map("sys/auth/approle", error))?;
                self.step("auth method approle/", Outcome::Created, "");
            }
        }
        let name = self.options.approle.clone();
        let path = format!("auth/approle/role/{name}");
        let what = format!("AppRole {name}");
        let wanted = json!({
            "token_policies": [name],
            "token_ttl": TOKEN_TTL_SECONDS,
            "token_max_ttl": TOKEN_MAX_TTL_SECONDS,
            "token_no_default_policy": true,
            "bind_secret_id": true,
            "secret_id_ttl": 0,
            "secret_id_num_uses": 0,
        });
        let current = self.vault.read(&path).await?;
        if let Some(current) = &current
            && roles::differences(&wanted, current).is_empty()
        {
            self.step(what, Outcome::AlreadyPresent, "");
            return Ok(());
        }
        let mut request = SetAppRoleRequestBuilder::default();
        request
            .token_policies(vec![name.clone()])
            .token_ttl(format!("{TOKEN_TTL_SECONDS}s"))
            .token_max_ttl(format!("{TOKEN_MAX_TTL_SECONDS}s"))
            .token_no_default_policy(true)
            .bind_secret_id(true)
            // certdesk logs in with the same secret_id for as long as it runs; rotate it by deleting the file
            // and the secret_id accessor, then running the bootstrap again.
            .secret_id_ttl("0s")
            .secret_id_num_uses(0u64);
        vaultrs::auth::approle::role::set(&self.vault.client, "approle", &name, Some(&mut request))
            .await
            .map_err(|error| self.vault.map(&path, error))?;
        self.step(
            what,
            if current.is_some() { Outcome::Updated } else { Outcome::Created },
            "token_ttl 1h, token_max_ttl 24h",
        );
        Ok(())
    }

    /// `role_id` (rewritten if it changed) and `secret_id` (minted only when its file is missing).
    pub async fn credentials(&mut self) -> Result<(), BootstrapError> {
        let name = self.options.approle.clone();
        let role_id = vaultrs::auth::approle::role::read_id(&self.vault.client, "approle", &name)
            .await
            .map_err(|error| self.vault.map(&format!("auth/approle/role/{name}/role-id"), error))?
            .role_id;
        let role_id_path = self.options.out_dir.join(ROLE_ID_FILE);
        let what = format!("{}", role_id_path.display());
        let current = std::fs::read_to_string(&role_id_path).ok();
        match current.as_deref().map(str::trim) {
            Some(existing) if existing == role_id => self.step(what, Outcome::AlreadyPresent, ""),
            existing => {
                files::replace(&role_id_path, format!("{role_id}\n").as_bytes(), SECRET_MODE)?;
                let outcome = if existing.is_some() { Outcome::Updated } else { Outcome::Created };
                self.step(what, outcome, "");
            }
        }
        let secret_id_path = self.options.out_dir.join(SECRET_ID_FILE);
        let what = format!("{}", secret_id_path.display());
        if secret_id_path.exists() {
            self.step(what, Outcome::AlreadyPresent, "kept; delete the file to mint a new secret_id");
            return Ok(());
        }
        let generated = vaultrs::auth::approle::role::secret::generate(&self.vault.client, "approle", &name, None)
            .await
            .map_err(|error| self.vault.map(&format!("auth/approle/role/{name}/secret-id"), error))?;
        let secret_id = Zeroizing::new(format!("{}\n", generated.secret_id));
        files::write_new(&secret_id_path, secret_id.as_bytes(), SECRET_MODE)?;
        self.step(what, Outcome::Created, "mode 0600");
        Ok(())
    }

    /// `intermediate.pem` and `ca_chain.pem` (intermediate + root) for certdesk and its clients.
    pub fn ca_files(&mut self, intermediate_pem: &str) -> Result<(), BootstrapError> {
        let intermediate = ensure_newline(intermediate_pem);
        let chain = format!("{intermediate}{}", ensure_newline(&self.root.cert_pem));
        for (file, content) in [(INTERMEDIATE_FILE, intermediate.clone()), (CA_CHAIN_FILE, chain)] {
            let path = self.options.out_dir.join(file);
            let what = format!("{}", path.display());
            match std::fs::read_to_string(&path) {
                Ok(existing) if existing == content => self.step(what, Outcome::AlreadyPresent, ""),
                existing => {
                    files::replace(&path, content.as_bytes(), PUBLIC_MODE)?;
                    self.step(what, if existing.is_ok() { Outcome::Updated } else { Outcome::Created }, "");
                }
            }
        }
        Ok(())
    }
}

/// True when `cert_pem` was issued by the root: same issuer name and a signature the root's key verifies.
fn chains_to(cert_pem: &str, root: &RootSigner) -> bool {
    let Ok(block) = pem::parse(cert_pem) else { return false };
    let Ok((_, cert)) = X509Certificate::from_der(block.contents()) else { return false };
    let Ok(root_cert) = root.certificate() else { return false };
    cert.issuer() == root_cert.subject() && cert.verify_signature(Some(root_cert.public_key())).is_ok()
}

fn ensure_newline(text: &str) -> String {
    if text.ends_with('\n') { text.to_owned() } else { format!("{text}\n") }
}

fn invalid_request(what: &str, error: impl std::fmt::Display) -> BootstrapError {
    BootstrapError::Invalid(format!("{what}: {error}"))
}
