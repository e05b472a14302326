//! The `certdesk pki …` and `certdesk vault …` subcommands: flags, reading and writing files, and what is
//! printed. None of them reads certdesk's configuration file (the ceremony comes before it exists).

mod duration;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use reqwest::Url;
use secrecy::SecretString;

use super::bootstrap::{BootstrapError, BootstrapOptions, bootstrap};
use super::files::{self, FileError, PUBLIC_MODE};
use super::intermediate::{IntermediateError, IntermediateOptions, sign_intermediate};
use super::root::{RootError, RootOptions, fingerprint, init_root, write_root};
use super::root_crl::{OfflineRootCrlError, RootCrlOptions, parse_revocation, root_crl, write_crl};
use super::root_signer::{RootSigner, RootSignerError};

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create the offline root CA (EC P-384): root_ca.pem and root_ca.key (0600) in --out-dir.
    InitRoot(InitRootArgs),
    /// Sign an intermediate CA's CSR with the root: CA:TRUE pathlen:0, never valid beyond the root.
    SignIntermediate(SignIntermediateArgs),
    /// Sign the root's CRL. An --out ending in .pem gets PEM; any other gets DER plus a PEM copy at <out>.pem.
    RootCrl(RootCrlArgs),
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Set up a Vault/OpenBao PKI mount for certdesk: intermediate CA signed by the root, URLs, roles, policy,
    /// AppRole; writes role_id and secret_id into --out-dir. Safe to run again: it changes only what differs.
    Bootstrap(Box<BootstrapArgs>),
}

#[derive(Debug, Args)]
pub struct InitRootArgs {
    /// Directory for root_ca.pem and root_ca.key (created 0700 if missing; existing files are never replaced).
    #[arg(long)]
    pub out_dir: PathBuf,
    #[arg(long, default_value = "certdesk Offline Root CA")]
    pub common_name: String,
    #[arg(long)]
    pub organization: Option<String>,
    #[arg(long, default_value_t = 3650)]
    pub days: u32,
}

#[derive(Debug, Args)]
pub struct SignIntermediateArgs {
    #[arg(long)]
    pub root_cert: PathBuf,
    #[arg(long)]
    pub root_key: PathBuf,
    /// The intermediate's CSR, PEM.
    #[arg(long)]
    pub csr: PathBuf,
    /// Where to write the intermediate certificate, PEM (never replaced).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1825)]
    pub days: u32,
    /// CRL distribution point: where the root's CRL is published, e.g. https://certdesk.example/crl/root.crl.
    #[arg(long)]
    pub crl_url: Option<String>,
    /// AIA caIssuers: where the root certificate is published, e.g. https://certdesk.example/ca/root.der.
    #[arg(long)]
    pub aia_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct RootCrlArgs {
    #[arg(long)]
    pub root_cert: PathBuf,
    #[arg(long)]
    pub root_key: PathBuf,
    /// Output file; replaced atomically, refused if it holds a CRL with a number not lower than --crl-number.
    #[arg(long)]
    pub out: PathBuf,
    /// Must grow with every CRL issued.
    #[arg(long)]
    pub crl_number: u64,
    #[arg(long, default_value_t = 30)]
    pub next_update_days: u32,
    /// SERIAL_HEX:REASON[:YYYY-MM-DD], repeatable. REASON: keyCompromise, cACompromise, affiliationChanged,
    /// superseded, cessationOfOperation. The date is the revocation date (default: now).
    #[arg(long = "revoke", value_name = "SERIAL_HEX:REASON")]
    pub revoke: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Vault/OpenBao address, e.g. https://vault.internal:8200.
    #[arg(long)]
    pub address: Url,
    /// File holding a token allowed to mount engines, write policies and AppRoles (root or an admin token).
    #[arg(long)]
    pub token_file: PathBuf,
    /// PEM bundle of CAs to trust for the Vault/OpenBao listener.
    #[arg(long)]
    pub ca_bundle: Option<PathBuf>,
    #[arg(long, default_value = "pki_private_issuer")]
    pub mount: String,
    #[arg(long)]
    pub root_cert: PathBuf,
    #[arg(long)]
    pub root_key: PathBuf,
    /// certdesk's public URL; the root CRL, the mount's CA certificate and its CRL are published under it.
    #[arg(long)]
    pub public_url: Url,
    /// Base name of the roles: BASE-ec, BASE-rsa, BASE-ed25519 and each with -client.
    #[arg(long = "role")]
    pub role: String,
    /// Domain the roles may issue for (itself and its subdomains); repeatable.
    #[arg(long = "allowed-domain", required = true)]
    pub allowed_domains: Vec<String>,
    #[arg(long)]
    pub allow_ip_sans: bool,
    /// Longest certificate lifetime the roles grant: 2160h, 90d, 3600s or seconds.
    #[arg(long, default_value = "2160h", value_parser = duration::parse_seconds)]
    pub max_ttl: u64,
    /// Directory for role_id, secret_id (0600), intermediate.pem and ca_chain.pem.
    #[arg(long)]
    pub out_dir: PathBuf,
    #[arg(long, default_value = "certdesk")]
    pub approle: String,
    #[arg(long, default_value = "certdesk Intermediate CA")]
    pub intermediate_common_name: String,
    #[arg(long, default_value_t = 1825)]
    pub intermediate_days: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    #[error(transparent)]
    Root(#[from] RootError),
    #[error(transparent)]
    RootSigner(#[from] RootSignerError),
    #[error(transparent)]
    Intermediate(#[from] IntermediateError),
    #[error(transparent)]
    Crl(#[from] OfflineRootCrlError),
    #[error(transparent)]
    Bootstrap(#[from] BootstrapError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs a `pki` subcommand.
pub fn run_pki(command: &PkiCommand) -> Result<(), CeremonyError> {
    match command {
        PkiCommand::InitRoot(args) => run_init_root(args),
        PkiCommand::SignIntermediate(args) => run_sign_intermediate(args),
        PkiCommand::RootCrl(args) => run_root_crl(args),
    }
}

/// Runs a `vault` subcommand.
pub fn run_vault(command: &VaultCommand) -> Result<(), CeremonyError> {
    let VaultCommand::Bootstrap(args) = command;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(CeremonyError::Runtime)?;
    runtime.block_on(run_bootstrap(args))
}

fn run_init_root(args: &InitRootArgs) -> Result<(), CeremonyError> {
    let root = init_root(&RootOptions {
        common_name: args.common_name.clone(),
        organization: args.organization.clone(),
        days: args.days,
    })?;
    let (cert_path, key_path) = write_root(&args.out_dir, &root)?;
    say(&format!("root CA certificate: {}", cert_path.display()));
    say(&format!("root CA private key: {} (mode 0600)", key_path.display()));
    say(&format!("valid until: {}", root.not_after.date()));
    say(&format!("SHA-256 fingerprint: {}", root.fingerprint_sha256));
    say(&format!(
        "IMPORTANT: move {} offline now (encrypted removable media in a safe, or an HSM) and delete it here; it is \
         needed only to sign intermediates and the root CRL.",
        key_path.display()
    ));
    Ok(())
}

fn load_root(cert: &Path, key: &Path) -> Result<RootSigner, CeremonyError> {
    let cert_pem = files::read_text(cert)?;
    let key_pem = files::read_text(key)?;
    Ok(RootSigner::from_pem(&cert_pem, &key_pem)?)
}

fn run_sign_intermediate(args: &SignIntermediateArgs) -> Result<(), CeremonyError> {
    let root = load_root(&args.root_cert, &args.root_key)?;
    let csr = files::read_bytes(&args.csr)?;
    let csr = String::from_utf8(csr).unwrap_or_default();
    let signed = sign_intermediate(
        &root,
        &csr,
        &IntermediateOptions { days: args.days, crl_url: args.crl_url.clone(), aia_url: args.aia_url.clone() },
    )?;
    files::write_new(&args.out, signed.cert_pem.as_bytes(), PUBLIC_MODE)?;
    say(&format!("intermediate CA certificate: {}", args.out.display()));
    if signed.clamped {
        say(&format!(
            "note: {} days would outlive the root; validity cut to the root's notAfter ({})",
            args.days,
            signed.not_after.date()
        ));
    }
    say(&format!("valid until: {}", signed.not_after.date()));
    let der = pem::parse(&signed.cert_pem).map(|block| block.into_contents()).unwrap_or_default();
    say(&format!("SHA-256 fingerprint: {}", fingerprint(&der)));
    Ok(())
}

fn run_root_crl(args: &RootCrlArgs) -> Result<(), CeremonyError> {
    let root = load_root(&args.root_cert, &args.root_key)?;
    let now = time::OffsetDateTime::now_utc();
    let revoked = args.revoke.iter().map(|spec| parse_revocation(spec, now)).collect::<Result<Vec<_>, _>>()?;
    let count = revoked.len();
    let crl = root_crl(
        &root,
        &RootCrlOptions { crl_number: args.crl_number, next_update_days: args.next_update_days, revoked },
    )?;
    let written = write_crl(&args.out, &crl, args.crl_number)?;
    for path in written {
        say(&format!("root CRL: {}", path.display()));
    }
    say(&format!(
        "CRL number {}, {count} revoked, next update in {} days: publish it before then",
        args.crl_number, args.next_update_days
    ));
    Ok(())
}

async fn run_bootstrap(args: &BootstrapArgs) -> Result<(), CeremonyError> {
    let token = files::read_text(&args.token_file)?;
    let options = BootstrapOptions {
        address: args.address.clone(),
        token: SecretString::from(token.trim().to_owned()),
        ca_bundle: args.ca_bundle.clone(),
        mount: args.mount.clone(),
        root_cert_pem: files::read_text(&args.root_cert)?.to_string(),
        root_key_pem: files::read_text(&args.root_key)?,
        public_url: args.public_url.clone(),
        role_base: args.role.clone(),
        allowed_domains: args.allowed_domains.clone(),
        allow_ip_sans: args.allow_ip_sans,
        max_ttl_seconds: args.max_ttl,
        out_dir: args.out_dir.clone(),
        approle: args.approle.clone(),
        intermediate_common_name: args.intermediate_common_name.clone(),
        intermediate_days: args.intermediate_days,
    };
    let report = bootstrap(&options, &mut |step| say(&step.to_string())).await?;
    say(if report.changed() { "bootstrap complete" } else { "bootstrap complete: nothing to change" });
    Ok(())
}

/// Command results go to stdout (errors go to stderr through main).
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
