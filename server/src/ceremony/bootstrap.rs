//! `vault bootstrap`: turns an empty (or half-done) Vault/OpenBao into what certdesk needs — a PKI mount whose
//! intermediate CA is signed by the offline root, its URLs, the issuing roles, a least-privilege policy and an
//! AppRole — and writes the AppRole credentials. Every step reads first and changes only what differs, so
//! running it again is safe and reports "already present".

mod steps;

use std::path::PathBuf;

use reqwest::Url;
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::files::FileError;
use super::intermediate::IntermediateError;
use super::root_signer::{RootSigner, RootSignerError};
use super::vault::{Vault, VaultError};

pub use steps::{Outcome, Step};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Root(#[from] RootSignerError),
    #[error("intermediate CA: {0}")]
    Intermediate(#[from] IntermediateError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "mount {mount} already has a default issuer that does not chain to this root; refusing to replace it \
         (use another --mount, or retire that issuer by hand)"
    )]
    ForeignIssuer { mount: String },
    #[error("{path} is mounted but is a {kind} engine, not pki")]
    NotPki { path: String, kind: String },
}

/// Everything the bootstrap needs; see `certdesk vault bootstrap --help` for each flag.
pub struct BootstrapOptions {
    pub address: Url,
    pub token: SecretString,
    pub ca_bundle: Option<PathBuf>,
    pub mount: String,
    pub root_cert_pem: String,
    pub root_key_pem: Zeroizing<String>,
    /// certdesk's public URL: the root CRL, the mount's CA certificate and CRL are published under it.
    pub public_url: Url,
    pub role_base: String,
    pub allowed_domains: Vec<String>,
    pub allow_ip_sans: bool,
    pub max_ttl_seconds: u64,
    pub out_dir: PathBuf,
    pub approle: String,
    pub intermediate_common_name: String,
    pub intermediate_days: u32,
}

impl std::fmt::Debug for BootstrapOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapOptions")
            .field("address", &self.address.as_str())
            .field("mount", &self.mount)
            .field("role_base", &self.role_base)
            .field("approle", &self.approle)
            .finish_non_exhaustive()
    }
}

/// What the run did, step by step.
#[derive(Debug, Clone, Default)]
pub struct BootstrapReport {
    pub steps: Vec<Step>,
}

impl BootstrapReport {
    /// True when some step created or updated something.
    pub fn changed(&self) -> bool {
        self.steps.iter().any(|step| step.outcome != Outcome::AlreadyPresent)
    }
}

/// Runs the bootstrap; `progress` sees each step as it completes (so an operator sees how far a failed run got).
pub async fn bootstrap(
    options: &BootstrapOptions,
    progress: &mut dyn FnMut(&Step),
) -> Result<BootstrapReport, BootstrapError> {
    validate(options)?;
    let root = RootSigner::from_pem(&options.root_cert_pem, &options.root_key_pem)?;
    super::files::ensure_private_dir(&options.out_dir)?;
    let vault = Vault::connect(&options.address, options.token.clone(), options.ca_bundle.as_deref())?;
    vault.check_ready().await?;
    let mut run = steps::Run { vault: &vault, options, root: &root, report: BootstrapReport::default(), progress };
    run.mount().await?;
    let intermediate_pem = run.intermediate().await?;
    run.urls().await?;
    let roles = run.roles().await?;
    run.policy(&roles).await?;
    run.approle().await?;
    run.credentials().await?;
    run.ca_files(&intermediate_pem)?;
    Ok(run.report)
}

fn validate(options: &BootstrapOptions) -> Result<(), BootstrapError> {
    let path_like = |value: &str| {
        !value.is_empty()
            && !value.starts_with('/')
            && !value.ends_with('/')
            && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'))
    };
    let name_like =
        |value: &str| !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !path_like(&options.mount) {
        return Err(BootstrapError::Invalid(format!("--mount {:?}: letters, digits, -, _ and inner /", options.mount)));
    }
    if !name_like(&options.role_base) || !name_like(&options.approle) {
        return Err(BootstrapError::Invalid("--role and --approle: letters, digits, - and _ only".into()));
    }
    if options.allowed_domains.is_empty() {
        return Err(BootstrapError::Invalid("give at least one --allowed-domain".into()));
    }
    for domain in &options.allowed_domains {
        let valid = !domain.is_empty()
            && !domain.starts_with('.')
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
        if !valid {
            return Err(BootstrapError::Invalid(format!(
                "--allowed-domain {domain:?}: a DNS name (A-labels; no wildcards, subdomains are allowed anyway)"
            )));
        }
    }
    if options.max_ttl_seconds == 0 {
        return Err(BootstrapError::Invalid("--max-ttl must be positive".into()));
    }
    if !matches!(options.public_url.scheme(), "http" | "https") {
        return Err(BootstrapError::Invalid("--public-url must be an http(s) URL".into()));
    }
    if !(1..=36500).contains(&options.intermediate_days) {
        return Err(BootstrapError::Invalid("--intermediate-days must be between 1 and 36500".into()));
    }
    Ok(())
}
