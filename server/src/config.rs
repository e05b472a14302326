//! Configuration: one TOML file plus `CERTDESK_SECTION__KEY` environment overrides, validated into `Config`.
//! Every problem names the key and what is wrong; secrets are read from files or the environment and are only
//! ever held as `SecretString`, whose `Debug` is redacted, so a logged `Config` leaks nothing.

mod acme;
mod acme_server;
mod acme_validation;
mod dns;
mod jobs;
mod limits;
mod notifications;
mod secrets;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use reqwest::Url;
use secrecy::SecretString;
use serde::Deserialize;

pub use acme::{AcmeConfig, AcmeIssuerConfig, ChallengeKind, ChallengeRule, ExternalAccountBinding};
pub use acme_server::AcmeServerConfig;
pub use acme_validation::AcmeValidationConfig;
pub use dns::{DnsServerConfig, TsigAlgorithm};
pub use jobs::JobsConfig;
pub use limits::{LimitsConfig, Rate};
pub use notifications::{NotificationsConfig, SmtpConfig, SmtpTls};
pub use secrets::SecretSource;

use crate::sealing::Sealer;

/// Prefix of environment overrides: `CERTDESK_DATABASE__URL` sets `database.url`.
pub const ENV_PREFIX: &str = "CERTDESK_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration key `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

impl ConfigError {
    pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid { key: key.into(), reason: reason.into() }
    }
}

/// The file as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    server: RawServer,
    database: RawDatabase,
    audit: RawAudit,
    auth: RawAuth,
    #[serde(default)]
    log: LogConfig,
    #[serde(default)]
    issuers: Vec<RawIssuer>,
    encryption: Option<RawEncryption>,
    metrics: Option<RawMetrics>,
    acme: Option<acme::RawAcme>,
    #[serde(default)]
    dns_servers: Vec<dns::RawDnsServer>,
    jobs: Option<jobs::RawJobs>,
    smtp: Option<notifications::RawSmtp>,
    notifications: Option<notifications::RawNotifications>,
    limits: Option<limits::RawLimits>,
    acme_validation: Option<acme_validation::RawAcmeValidation>,
}

/// `/metrics`: on when the section exists; a bearer token keeps it to the monitoring system.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    bearer_token: Option<SecretString>,
    bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    expose_owners_without_token: bool,
}

/// Key-encryption keys for secrets at rest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEncryption {
    active: String,
    keys: Vec<RawEncryptionKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEncryptionKey {
    id: String,
    key: Option<SecretString>,
    key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: String,
    public_url: String,
    #[serde(default = "default_true")]
    secure_cookies: bool,
    #[serde(default = "default_request_timeout")]
    request_timeout_secs: u64,
    #[serde(default = "default_site_root")]
    site_root: PathBuf,
    #[serde(default = "default_max_body_kib")]
    max_body_kib: u64,
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<SecretString>,
    url_file: Option<PathBuf>,
    #[serde(default = "default_max_connections")]
    max_connections: u32,
    #[serde(default = "default_migrate_on_start")]
    migrate_on_start: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    chain_key: Option<SecretString>,
    chain_key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    issuer_url: String,
    client_id: String,
    client_secret: Option<SecretString>,
    client_secret_file: Option<PathBuf>,
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
    #[serde(default = "default_groups_claim")]
    groups_claim: String,
    #[serde(default)]
    admin_groups: Vec<String>,
    #[serde(default)]
    auditor_groups: Vec<String>,
    #[serde(default = "default_mfa_amr")]
    mfa_accepted_amr: Vec<String>,
    #[serde(default)]
    mfa_accepted_acr: Vec<String>,
    #[serde(default)]
    acr_values: Vec<String>,
    #[serde(default = "default_idle_minutes")]
    session_idle_minutes: u64,
    #[serde(default = "default_absolute_hours")]
    session_absolute_hours: u64,
    step_up_max_age_minutes: Option<u64>,
    /// Finer than minutes, for short windows (the test stack proves step-up with a one-minute window).
    step_up_max_age_seconds: Option<u64>,
    #[serde(default)]
    user_groups: Vec<String>,
    ca_bundle: Option<PathBuf>,
    #[serde(default)]
    local_totp: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default = "default_log_format")]
    pub format: LogFormat,
    #[serde(default = "default_log_level")]
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: default_log_format(), level: default_log_level() }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    id: String,
    kind: String,
    display_name: Option<String>,
    /// vault: the server's address, e.g. `https://vault.internal:8200`.
    address: Option<String>,
    mount: Option<String>,
    role: Option<String>,
    /// acme: the directory URL, e.g. Let's Encrypt's.
    directory_url: Option<String>,
    /// PEM file of CAs to trust when talking to the issuer (private Vault, Pebble).
    ca_bundle: Option<PathBuf>,
    /// vault: AppRole credentials (issuance needs them; without them the issuer is only probed).
    role_id: Option<SecretString>,
    role_id_file: Option<PathBuf>,
    secret_id: Option<SecretString>,
    secret_id_file: Option<PathBuf>,
    approle_mount: Option<String>,
    /// vault: the offline root's certificate; every issued chain must end at it. acme: the root that completes
    /// the chains the CA sends (they stop at the intermediate).
    root_ca: Option<PathBuf>,
    /// acme: contact address given to the CA for the account (expiry and policy mail).
    contact_email: Option<String>,
    /// acme: external account binding, for CAs that require one (ZeroSSL, Google, many enterprise CAs).
    eab_key_id: Option<String>,
    eab_hmac_key: Option<SecretString>,
    eab_hmac_key_file: Option<PathBuf>,
    /// acme: which challenge proves which names (HTTP-01 unless a rule says otherwise).
    #[serde(default)]
    challenges: Vec<acme::RawChallengeRule>,
    /// acme: an order still unfinished after this long is given up.
    order_timeout_secs: Option<u64>,
    /// Who may request what from this issuer.
    #[serde(default)]
    policy: Vec<crate::policy::RawPolicyRule>,
    /// certdesk's own ACME server in front of this issuer (off unless enabled).
    acme_server: Option<acme_server::RawAcmeServer>,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub audit: AuditConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub issuers: Vec<IssuerConfig>,
    /// Seals secrets at rest; required by local TOTP and by issuers (server-generated keys).
    pub encryption: Option<Sealer>,
    /// `None`: `/metrics` answers 404.
    pub metrics: Option<MetricsConfig>,
    pub acme: AcmeConfig,
    /// DNS servers for ACME DNS-01, changed by RFC 2136 updates (see `dns_update`).
    pub dns_servers: Vec<DnsServerConfig>,
    /// Background jobs and the leader election.
    pub jobs: JobsConfig,
    /// `None`: no e-mail is sent.
    pub smtp: Option<SmtpConfig>,
    pub notifications: NotificationsConfig,
    /// Request rates and per-person quotas.
    pub limits: LimitsConfig,
    /// How certdesk's ACME server validates challenges (resolver, ports, timeout).
    pub acme_validation: AcmeValidationConfig,
}

#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// When set, scrapers must send it as `Authorization: Bearer`.
    pub bearer_token: Option<SecretString>,
    /// Serve the per-certificate expiry series (names, serials, owners' e-mail) even without a token.
    pub expose_owners_without_token: bool,
}

impl MetricsConfig {
    /// Whether a scrape carries one series per certificate, labelled with its owner: only behind the token, or
    /// when the operator said so explicitly. Otherwise counts only.
    pub fn per_certificate_series(&self) -> bool {
        self.bearer_token.is_some() || self.expose_owners_without_token
    }
}

/// Sign-in through an OpenID Connect provider.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub issuer_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    /// The ID-token claim holding the user's groups (`groups` for most providers, `roles` for Entra app roles).
    pub groups_claim: String,
    pub admin_groups: Vec<String>,
    pub auditor_groups: Vec<String>,
    /// Groups whose members may use certdesk at all (besides admins and auditors); empty: anyone the provider
    /// signs in. An off-boarded person is let back in only by a sign-in whose groups still grant access.
    pub user_groups: Vec<String>,
    /// `amr` values that prove a second factor; any one of them is enough.
    pub mfa_accepted_amr: Vec<String>,
    /// `acr` values that prove a second factor.
    pub mfa_accepted_acr: Vec<String>,
    /// Sent as `acr_values` in the authorization request, asking the provider for MFA.
    pub acr_values: Vec<String>,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// Sensitive actions need a second factor at most this old; older means signing in again first.
    pub step_up_max_age: Duration,
    pub ca_bundle_pem: Option<Vec<u8>>,
    /// For providers that cannot assert MFA: certdesk asks for its own TOTP second factor instead of refusing.
    pub local_totp: bool,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub public_url: Url,
    pub secure_cookies: bool,
    pub request_timeout: Duration,
    pub site_root: PathBuf,
    /// Larger request bodies are refused with 413 before any handler reads them.
    pub max_body_bytes: usize,
    /// Peers whose `X-Forwarded-For` names the client (see `http::client_addr`); nobody's by default.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: u32,
    /// `serve` applies the migrations this binary has and the database lacks; off, it waits for `certdesk migrate`
    /// (a deployment whose server role may not change the schema).
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// HMAC key of the audit hash chain; without it an edited event cannot be re-sealed.
    pub chain_key: SecretString,
}

#[derive(Debug, Clone)]
pub struct IssuerConfig {
    pub id: String,
    pub display_name: String,
    pub kind: IssuerKindConfig,
    pub ca_bundle_pem: Option<Vec<u8>>,
    pub ca_bundle_path: Option<PathBuf>,
    /// Issuance rules; none means nobody may request from this issuer.
    pub policy: Vec<crate::policy::PolicyRule>,
    /// `Some` when the issuer opted in to certdesk's ACME server (`/acme/{id}/directory`).
    pub acme_server: Option<AcmeServerConfig>,
}

#[derive(Debug, Clone)]
pub struct AppRoleCredentials {
    /// Where the AppRole auth method is mounted (`approle`).
    pub mount: String,
    pub role_id: SecretString,
    pub secret_id: SecretString,
}

#[derive(Debug, Clone)]
pub enum IssuerKindConfig {
    Vault {
        address: Url,
        mount: String,
        /// Base name of the roles made by `certdesk vault bootstrap` (`{role}-ec`, `{role}-rsa-client`, …).
        role: String,
        approle: Option<AppRoleCredentials>,
        /// DER of the pinned root, when configured.
        root_ca_der: Option<Vec<u8>>,
    },
    Acme(AcmeIssuerConfig),
}

impl Config {
    /// Reads `path` (when it exists or was named explicitly) and the environment, then validates.
    pub fn load(path: &Path, path_is_explicit: bool) -> Result<Self, ConfigError> {
        if path_is_explicit && !path.is_file() {
            return Err(ConfigError::File { path: path.to_owned(), reason: "not found or not a file".into() });
        }
        let figment = Figment::new().merge(Toml::file(path)).merge(environment());
        Self::from_figment(figment)
    }

    /// Parses a TOML document plus the environment; used by tests and `load`.
    pub fn from_toml_str(toml: &str) -> Result<Self, ConfigError> {
        Self::from_figment(Figment::new().merge(Toml::string(toml)).merge(environment()))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let raw: RawConfig = figment.extract().map_err(|error| ConfigError::Parse(describe_figment_error(&error)))?;
        validate::validate(raw)
    }
}

/// An HTTP client builder that also trusts the CAs of a configured PEM bundle (a private Vault, Pebble, an
/// in-house identity provider); `key` names the setting in errors.
pub fn trusting(
    mut builder: reqwest::ClientBuilder,
    pem: Option<&[u8]>,
    key: &str,
) -> Result<reqwest::ClientBuilder, ConfigError> {
    if let Some(pem) = pem {
        let certificates =
            reqwest::Certificate::from_pem_bundle(pem).map_err(|_| ConfigError::invalid(key, "is not valid PEM"))?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    Ok(builder)
}

/// The smallest valid configuration plus `extra` (keys and sections after `[auth]`), for the unit tests of the
/// configuration's sections.
#[cfg(test)]
pub(crate) fn minimal_with(extra: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(&format!(
        "[server]\nlisten = \"127.0.0.1:3000\"\npublic_url = \"http://127.0.0.1:3000\"\n\
         [database]\nurl = \"postgres://u:p@127.0.0.1/db\"\n[audit]\nchain_key = \"0123456789abcdef0123456789abcdef\"\n\
         [auth]\nissuer_url = \"http://127.0.0.1:9\"\nclient_id = \"certdesk\"\nclient_secret = \"s\"\n{extra}"
    ))
}

/// `CERTDESK_A__B` → `a.b`. Variables without `__` (such as the stack's `CERTDESK_PORT`) are not config keys.
fn environment() -> Env {
    Env::prefixed(ENV_PREFIX).filter(|key| key.as_str().contains("__")).split("__")
}

/// figment's message plus the dotted key path, without ever echoing a value (it might be a secret).
fn describe_figment_error(error: &figment::Error) -> String {
    error
        .clone()
        .into_iter()
        .map(|error| {
            let key = if error.path.is_empty() { "(top level)".to_owned() } else { error.path.join(".") };
            let source =
                error.metadata.as_ref().map(|metadata| format!(" (from {})", metadata.name)).unwrap_or_default();
            format!("key `{key}`{source}: {}", describe_kind(&error.kind))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn describe_kind(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        // These variants quote the offending value; name only the expectation.
        Kind::InvalidType(_, expected) => format!("wrong type, expected {expected}"),
        Kind::InvalidValue(_, expected) => format!("invalid value, expected {expected}"),
        Kind::MissingField(field) => format!("missing required key `{field}`"),
        Kind::UnknownField(field, expected) => {
            format!("unknown key `{field}` (known keys: {})", expected.join(", "))
        }
        other => other.to_string(),
    }
}

fn default_true() -> bool {
    true
}
fn default_request_timeout() -> u64 {
    30
}
/// Far above any certdesk form or JSON request (a CSR is a few KiB), far below what could exhaust memory.
fn default_max_body_kib() -> u64 {
    256
}
fn default_site_root() -> PathBuf {
    PathBuf::from("target/site")
}
fn default_migrate_on_start() -> bool {
    true
}

fn default_max_connections() -> u32 {
    10
}
fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}
fn default_groups_claim() -> String {
    "groups".into()
}
/// RFC 8176 names for a second factor or a multi-factor login.
fn default_mfa_amr() -> Vec<String> {
    ["mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "sc"].map(String::from).to_vec()
}
fn default_idle_minutes() -> u64 {
    30
}
fn default_absolute_hours() -> u64 {
    12
}
const DEFAULT_STEP_UP_MINUTES: u64 = 10;
fn default_log_format() -> LogFormat {
    LogFormat::Json
}
fn default_log_level() -> String {
    "info".into()
}
