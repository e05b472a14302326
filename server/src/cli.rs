//! The `certdesk` command line: subcommands, their output, and exit statuses (0 ok, 1 failed, 2 bad
//! configuration or usage).

mod keys;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::audit::{self, ChainKey};
use crate::ceremony::command::{CeremonyError, PkiCommand, VaultCommand};
use crate::config::{Config, ConfigError};
use crate::serve::ServeError;
use crate::{db, serve, telemetry};

pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "certdesk", version, about = "Self-service TLS certificates: private PKI (OpenBao/Vault) and ACME")]
pub struct Cli {
    /// Configuration file (TOML). Keys can be overridden with CERTDESK_SECTION__KEY environment variables.
    #[arg(long, short, global = true, env = "CERTDESK_CONFIG", default_value = "certdesk.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (applies database migrations first, retrying while the database is down).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Key-encryption keys: re-seal secrets at rest under the active key, count them per key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// CRL tools: publish the offline root's CRL (signed by `pki root-crl`) for the server to serve.
    Crl {
        #[command(subcommand)]
        command: CrlCommand,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Offline root CA tools: create the root, sign an intermediate, sign the root CRL (no configuration needed).
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Vault/OpenBao tools: bootstrap a PKI mount and certdesk's AppRole (no configuration needed).
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and report the first altered, inserted or deleted event (exit 1 when broken).
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seal every secret at rest that is not under the active key (exit 1 when some cannot be opened).
    Rotate,
    /// Count sealed secrets per key id and table, and show the active key.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum CrlCommand {
    /// Check the root CRL against the pinned root (issuers[].root_ca) and store it; served at /crl/root.crl.
    /// Refused if its CRL number is not greater than the one already published.
    Publish {
        /// The CRL file, DER or PEM, as written by `certdesk pki root-crl`.
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print a summary without secrets.
    Check,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("database: {0}")]
    Database(String),
    #[error("audit log: {0}")]
    Audit(#[from] audit::AuditError),
    #[error("the audit chain is broken: {0}")]
    ChainBroken(audit::ChainBreak),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Ceremony(#[from] CeremonyError),
    #[error("key rotation: {0}")]
    Rotation(#[from] crate::sealing::rotation::RotationError),
    #[error("key rotation is incomplete: {0}")]
    RotationIncomplete(String),
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("CRL: {0}")]
    Crl(#[from] crate::crl::CrlError),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Config(_) | Self::Serve(ServeError::Config(_)) => EXIT_CONFIG,
            _ => EXIT_FAILURE,
        })
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    // The PKI ceremony comes before any configuration exists: these commands never load it.
    match &cli.command {
        Command::Pki { command } => return Ok(crate::ceremony::command::run_pki(command)?),
        Command::Vault { command } => return Ok(crate::ceremony::command::run_vault(command)?),
        _ => {}
    }
    let config_is_explicit = std::env::var_os("CERTDESK_CONFIG").is_some()
        || std::env::args_os()
            .any(|arg| arg == "--config" || arg == "-c" || arg.to_string_lossy().starts_with("--config="));
    let config = Config::load(&cli.config, config_is_explicit)?;
    telemetry::init(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CliError::Runtime)?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve => Ok(serve::serve(config).await?),
            Command::Migrate => migrate(&config).await,
            Command::Audit { command: AuditCommand::Verify } => verify_audit(&config).await,
            Command::Keys { command } => keys::run(&config, &command).await,
            Command::Crl { command: CrlCommand::Publish { file } } => publish_crl(&config, &file).await,
            Command::Config { command: ConfigCommand::Check } => {
                say(&format!("configuration OK: {}", summary(&config)));
                Ok(())
            }
            // Handled before the configuration is loaded.
            Command::Pki { .. } | Command::Vault { .. } => Ok(()),
        }
    })
}

async fn migrate(config: &Config) -> Result<(), CliError> {
    let pool = db::lazy_pool(&config.database)?;
    db::migrations::apply(&pool).await.map_err(|error| CliError::Database(error.to_string()))?;
    say("migrations applied");
    Ok(())
}

async fn verify_audit(config: &Config) -> Result<(), CliError> {
    let pool = db::lazy_pool(&config.database)?;
    let key = ChainKey::new(config.audit.chain_key.clone());
    match audit::verify_chain(&pool, &key).await? {
        Ok(report) => {
            say(&format!(
                "audit chain verified: {} events, verified through event {}",
                report.events, report.verified_through
            ));
            Ok(())
        }
        Err(chain_break) => Err(CliError::ChainBroken(chain_break)),
    }
}

async fn publish_crl(config: &Config, file: &std::path::Path) -> Result<(), CliError> {
    let bytes =
        std::fs::read(file).map_err(|error| CliError::Read { path: file.to_owned(), reason: error.to_string() })?;
    let pool = db::lazy_pool(&config.database)?;
    db::migrations::apply(&pool).await.map_err(|error| CliError::Database(error.to_string()))?;
    let key = ChainKey::new(config.audit.chain_key.clone());
    let (crl, stored) = crate::crl::root::publish(config, &pool, &key, &bytes).await?;
    let what = match stored {
        crate::crl::store::Stored::Unchanged => "already published",
        crate::crl::store::Stored::Replaced { .. } => "published",
    };
    say(&format!(
        "root CRL {what}: number {}, {} revoked, next update {}; served at {}",
        crl.number,
        crl.entries.len(),
        crl.next_update.map(crate::crl::routes::http_date).unwrap_or_else(|| "none".into()),
        crate::ceremony::public_link(&config.server.public_url, crate::ceremony::ROOT_CRL_PATH),
    ));
    Ok(())
}

fn summary(config: &Config) -> String {
    let issuers: Vec<String> = config.issuers.iter().map(|issuer| issuer.id.clone()).collect();
    format!(
        "listen {}, public URL {}, secure cookies {}, issuers [{}]",
        config.server.listen,
        config.server.public_url,
        config.server.secure_cookies,
        issuers.join(", ")
    )
}

/// Command results go to stdout (logs go through tracing).
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
