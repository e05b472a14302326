//! Turns the raw file into a `Config`, refusing anything that would fail later at run time.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;
use secrecy::ExposeSecret;

use super::{
    AppRoleCredentials, AuditConfig, AuthConfig, Config, ConfigError, DatabaseConfig, IssuerConfig, IssuerKindConfig,
    MetricsConfig, RawAuth, RawConfig, RawEncryption, RawIssuer, RawMetrics, SecretSource, ServerConfig,
};
use crate::sealing::{KEY_BYTES, Sealer};

/// An HMAC-SHA256 key shorter than its output weakens the chain for no benefit.
const MIN_CHAIN_KEY_BYTES: usize = 32;
/// `server.max_body_kib` at most 64 MiB: bodies are held in memory while a request is handled.
const MAX_BODY_KIB_CEILING: u64 = 64 * 1024;

pub(super) fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let listen: SocketAddr =
        raw.server.listen.parse().map_err(|_| {
            ConfigError::invalid("server.listen", "expected an address and port such as 127.0.0.1:3000")
        })?;
    let public_url = http_url("server.public_url", &raw.server.public_url)?;
    if public_url.path() != "/" || public_url.query().is_some() {
        return Err(ConfigError::invalid(
            "server.public_url",
            "must be an origin without a path, e.g. https://certdesk.example.com",
        ));
    }
    if !(1..=600).contains(&raw.server.request_timeout_secs) {
        return Err(ConfigError::invalid("server.request_timeout_secs", "must be between 1 and 600"));
    }
    if !(1..=MAX_BODY_KIB_CEILING).contains(&raw.server.max_body_kib) {
        return Err(ConfigError::invalid(
            "server.max_body_kib",
            format!("must be between 1 and {MAX_BODY_KIB_CEILING} (KiB)"),
        ));
    }
    let database_url =
        SecretSource { key: "database.url", inline: raw.database.url, file: raw.database.url_file }.resolve()?;
    if !database_url.expose_secret().starts_with("postgres://")
        && !database_url.expose_secret().starts_with("postgresql://")
    {
        return Err(ConfigError::invalid("database.url", "must be a postgres:// URL"));
    }
    if !(1..=500).contains(&raw.database.max_connections) {
        return Err(ConfigError::invalid("database.max_connections", "must be between 1 and 500"));
    }
    let chain_key =
        SecretSource { key: "audit.chain_key", inline: raw.audit.chain_key, file: raw.audit.chain_key_file }
            .resolve()?;
    if chain_key.expose_secret().len() < MIN_CHAIN_KEY_BYTES {
        return Err(ConfigError::invalid("audit.chain_key", format!("must be at least {MIN_CHAIN_KEY_BYTES} bytes")));
    }
    if tracing_subscriber::EnvFilter::try_new(&raw.log.level).is_err() {
        return Err(ConfigError::invalid("log.level", "expected a level such as info, debug or certdesk=debug,info"));
    }
    let issuers = issuers(raw.issuers, raw.encryption.is_some())?;
    let auth = auth(raw.auth)?;
    let encryption = raw.encryption.map(encryption).transpose()?;
    if auth.local_totp && encryption.is_none() {
        return Err(ConfigError::invalid(
            "encryption",
            "auth.local_totp keeps TOTP secrets encrypted: configure [encryption] with at least one key",
        ));
    }
    let dns_servers = super::dns::validate(raw.dns_servers)?;
    super::acme::check_dns_rules(&issuers, &dns_servers)?;
    Ok(Config {
        server: ServerConfig {
            listen,
            public_url,
            secure_cookies: raw.server.secure_cookies,
            request_timeout: Duration::from_secs(raw.server.request_timeout_secs),
            site_root: raw.server.site_root,
            // Bounded above by the check: 64 MiB fits any usize.
            max_body_bytes: usize::try_from(raw.server.max_body_kib * 1024).unwrap_or(usize::MAX),
            trusted_proxies: trusted_proxies(&raw.server.trusted_proxies)?,
        },
        database: DatabaseConfig {
            url: database_url,
            max_connections: raw.database.max_connections,
            migrate_on_start: raw.database.migrate_on_start,
        },
        audit: AuditConfig { chain_key },
        auth,
        log: raw.log,
        issuers,
        encryption,
        metrics: raw.metrics.map(metrics).transpose()?,
        acme: super::acme::acme(raw.acme)?,
        dns_servers,
        jobs: super::jobs::validate(raw.jobs)?,
        smtp: raw.smtp.map(super::notifications::smtp).transpose()?,
        notifications: super::notifications::notifications(raw.notifications)?,
        limits: super::limits::validate(raw.limits)?,
        acme_validation: super::acme_validation::validate(raw.acme_validation)?,
    })
}

/// Addresses (`10.0.0.5`) or networks (`10.0.0.0/8`, `fd00::/8`).
fn trusted_proxies(entries: &[String]) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    entries
        .iter()
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::invalid(
                        "server.trusted_proxies",
                        format!("`{entry}` is neither an IP address nor a network such as 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

fn encryption(raw: RawEncryption) -> Result<Sealer, ConfigError> {
    use base64::Engine;
    let mut keys = Vec::with_capacity(raw.keys.len());
    let mut ids = HashSet::new();
    for (index, entry) in raw.keys.into_iter().enumerate() {
        let key_name = format!("encryption.keys[{index}].key");
        if entry.id.trim().is_empty() || entry.id.len() > 64 {
            return Err(ConfigError::invalid(format!("encryption.keys[{index}].id"), "must be 1 to 64 characters"));
        }
        if !ids.insert(entry.id.clone()) {
            return Err(ConfigError::invalid(format!("encryption.keys[{index}].id"), "is used twice"));
        }
        let encoded = SecretSource { key: &key_name, inline: entry.key, file: entry.key_file }.resolve()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.expose_secret())
            .map(zeroize::Zeroizing::new)
            .map_err(|_| {
                ConfigError::invalid(&key_name, "must be base64 (e.g. the output of `openssl rand -base64 32`)")
            })?;
        if bytes.len() != KEY_BYTES {
            return Err(ConfigError::invalid(&key_name, format!("must decode to exactly {KEY_BYTES} bytes")));
        }
        keys.push((entry.id, bytes));
    }
    Sealer::new(&raw.active, &keys)
        .ok_or_else(|| ConfigError::invalid("encryption.active", "must be the id of one of encryption.keys"))
}

fn issuers(raw: Vec<RawIssuer>, sealing_configured: bool) -> Result<Vec<IssuerConfig>, ConfigError> {
    let mut seen = HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(index, issuer)| {
            let key = format!("issuers[{index}]");
            let id_is_valid = !issuer.id.is_empty()
                && issuer.id.len() <= 32
                && issuer.id.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
            if !id_is_valid {
                return Err(ConfigError::invalid(format!("{key}.id"), "use 1 to 32 lowercase letters, digits or '-'"));
            }
            if !seen.insert(issuer.id.clone()) {
                return Err(ConfigError::invalid(format!("{key}.id"), format!("`{}` is used twice", issuer.id)));
            }
            let ca_bundle_pem = match &issuer.ca_bundle {
                Some(path) => Some(read_pem_bundle(&format!("{key}.ca_bundle"), path)?),
                None => None,
            };
            let kind = match issuer.kind.as_str() {
                "vault" => IssuerKindConfig::Vault {
                    address: http_url(&format!("{key}.address"), required(&key, "address", issuer.address)?.as_str())?,
                    mount: required(&key, "mount", issuer.mount)?,
                    role: required(&key, "role", issuer.role)?,
                    approle: approle(
                        &key,
                        issuer.role_id,
                        issuer.role_id_file,
                        issuer.secret_id,
                        issuer.secret_id_file,
                        issuer.approle_mount,
                    )?,
                    root_ca_der: match &issuer.root_ca {
                        Some(path) => Some(read_single_certificate(&format!("{key}.root_ca"), path)?),
                        None => None,
                    },
                },
                "acme" => IssuerKindConfig::Acme(super::acme::acme_issuer(
                    &key,
                    http_url(
                        &format!("{key}.directory_url"),
                        required(&key, "directory_url", issuer.directory_url)?.as_str(),
                    )?,
                    super::acme::RawAcmeIssuer {
                        contact_email: issuer.contact_email,
                        eab_key_id: issuer.eab_key_id,
                        eab_hmac_key: issuer.eab_hmac_key,
                        eab_hmac_key_file: issuer.eab_hmac_key_file,
                        challenges: issuer.challenges,
                        order_timeout_secs: issuer.order_timeout_secs,
                        root_ca: match &issuer.root_ca {
                            Some(path) => Some(read_single_certificate(&format!("{key}.root_ca"), path)?),
                            None => None,
                        },
                    },
                )?),
                other => {
                    return Err(ConfigError::invalid(
                        format!("{key}.kind"),
                        format!("unknown issuer kind `{other}`; expected `vault` or `acme`"),
                    ));
                }
            };
            let acme_server = super::acme_server::validate(&key, issuer.acme_server, &kind, sealing_configured)?;
            Ok(IssuerConfig {
                acme_server,
                display_name: issuer.display_name.unwrap_or_else(|| issuer.id.clone()),
                id: issuer.id,
                kind,
                ca_bundle_pem,
                ca_bundle_path: issuer.ca_bundle,
                policy: crate::policy::validate_rules(issuer.policy, &format!("{key}.policy"))?,
            })
        })
        .collect()
}

/// AppRole credentials: none at all (probe only), or both ids.
fn approle(
    key: &str,
    role_id: Option<secrecy::SecretString>,
    role_id_file: Option<std::path::PathBuf>,
    secret_id: Option<secrecy::SecretString>,
    secret_id_file: Option<std::path::PathBuf>,
    mount: Option<String>,
) -> Result<Option<AppRoleCredentials>, ConfigError> {
    if role_id.is_none() && role_id_file.is_none() && secret_id.is_none() && secret_id_file.is_none() {
        return Ok(None);
    }
    let role_id = SecretSource { key: &format!("{key}.role_id"), inline: role_id, file: role_id_file }.resolve()?;
    let secret_id =
        SecretSource { key: &format!("{key}.secret_id"), inline: secret_id, file: secret_id_file }.resolve()?;
    let mount = mount.unwrap_or_else(|| "approle".to_owned());
    if mount.is_empty() || mount.contains(['?', '#', ' ']) {
        return Err(ConfigError::invalid(format!("{key}.approle_mount"), "must be a mount path such as `approle`"));
    }
    Ok(Some(AppRoleCredentials { mount, role_id, secret_id }))
}

/// The DER of the one certificate in a PEM file.
fn read_single_certificate(key: &str, path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    let text = std::fs::read(path)
        .map_err(|error| ConfigError::invalid(key, format!("cannot read {}: {error}", path.display())))?;
    match pem::parse_many(&text) {
        Ok(blocks) if blocks.len() == 1 && blocks[0].tag() == "CERTIFICATE" => Ok(blocks[0].contents().to_vec()),
        _ => Err(ConfigError::invalid(key, format!("{} must hold exactly one PEM certificate", path.display()))),
    }
}

fn auth(raw: RawAuth) -> Result<AuthConfig, ConfigError> {
    let issuer_url = http_url("auth.issuer_url", &raw.issuer_url)?;
    if raw.client_id.trim().is_empty() {
        return Err(ConfigError::invalid("auth.client_id", "is empty"));
    }
    let client_secret =
        SecretSource { key: "auth.client_secret", inline: raw.client_secret, file: raw.client_secret_file }
            .resolve()?;
    if !raw.scopes.iter().any(|scope| scope == "openid") {
        return Err(ConfigError::invalid("auth.scopes", "must include `openid`"));
    }
    if raw.mfa_accepted_amr.is_empty() && raw.mfa_accepted_acr.is_empty() {
        return Err(ConfigError::invalid(
            "auth.mfa_accepted_amr",
            "name at least one amr or acr value that proves MFA; certdesk refuses sign-ins without it",
        ));
    }
    if !(1..=24 * 60).contains(&raw.session_idle_minutes) {
        return Err(ConfigError::invalid("auth.session_idle_minutes", "must be between 1 and 1440"));
    }
    if !(1..=24 * 30).contains(&raw.session_absolute_hours) {
        return Err(ConfigError::invalid("auth.session_absolute_hours", "must be between 1 and 720"));
    }
    let step_up_max_age = match (raw.step_up_max_age_minutes, raw.step_up_max_age_seconds) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                "auth.step_up_max_age_seconds",
                "set either step_up_max_age_minutes or step_up_max_age_seconds, not both",
            ));
        }
        (_, Some(seconds)) if !(10..=24 * 3600).contains(&seconds) => {
            return Err(ConfigError::invalid("auth.step_up_max_age_seconds", "must be between 10 and 86400"));
        }
        (_, Some(seconds)) => Duration::from_secs(seconds),
        (Some(minutes), None) if !(1..=24 * 60).contains(&minutes) => {
            return Err(ConfigError::invalid("auth.step_up_max_age_minutes", "must be between 1 and 1440"));
        }
        (minutes, None) => Duration::from_secs(minutes.unwrap_or(super::DEFAULT_STEP_UP_MINUTES) * 60),
    };
    let ca_bundle_pem = match &raw.ca_bundle {
        Some(path) => Some(read_pem_bundle("auth.ca_bundle", path)?),
        None => None,
    };
    Ok(AuthConfig {
        issuer_url,
        client_id: raw.client_id,
        client_secret,
        scopes: raw.scopes,
        groups_claim: raw.groups_claim,
        admin_groups: raw.admin_groups,
        auditor_groups: raw.auditor_groups,
        user_groups: raw.user_groups,
        mfa_accepted_amr: raw.mfa_accepted_amr,
        mfa_accepted_acr: raw.mfa_accepted_acr,
        acr_values: raw.acr_values,
        session_idle: Duration::from_secs(raw.session_idle_minutes * 60),
        session_absolute: Duration::from_secs(raw.session_absolute_hours * 3600),
        step_up_max_age,
        ca_bundle_pem,
        local_totp: raw.local_totp,
    })
}

fn required(key: &str, field: &str, value: Option<String>) -> Result<String, ConfigError> {
    match value {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::invalid(format!("{key}.{field}"), "missing")),
    }
}

fn http_url(key: &str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|error| ConfigError::invalid(key, format!("not a URL: {error}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::invalid(key, "must be an http:// or https:// URL with a host"));
    }
    Ok(url)
}

fn read_pem_bundle(key: &str, path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    let pem = std::fs::read(path)
        .map_err(|error| ConfigError::invalid(key, format!("cannot read {}: {error}", path.display())))?;
    reqwest::Certificate::from_pem_bundle(&pem)
        .ok()
        .filter(|certificates| !certificates.is_empty())
        .ok_or_else(|| ConfigError::invalid(key, format!("{} holds no PEM certificate", path.display())))?;
    Ok(pem)
}

/// A token shorter than 16 characters is guessable; an empty section means "on, without a token".
fn metrics(raw: RawMetrics) -> Result<MetricsConfig, ConfigError> {
    const MIN_TOKEN: usize = 16;
    let bearer_token = match (raw.bearer_token, raw.bearer_token_file) {
        (None, None) => None,
        (inline, file) => Some(SecretSource { key: "metrics.bearer_token", inline, file }.resolve()?),
    };
    if bearer_token.as_ref().is_some_and(|token| token.expose_secret().len() < MIN_TOKEN) {
        return Err(ConfigError::invalid("metrics.bearer_token", format!("must be at least {MIN_TOKEN} characters")));
    }
    Ok(MetricsConfig { bearer_token, expose_owners_without_token: raw.expose_owners_without_token })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    const KEY: &str = "0123456789abcdef0123456789abcdef";
    const AUTH: &str = "[auth]\nissuer_url = \"http://127.0.0.1:9\"\nclient_id = \"certdesk\"\nclient_secret = \"s\"\n";

    fn config(extra: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(&format!(
            "[server]\nlisten = \"127.0.0.1:3000\"\npublic_url = \"http://127.0.0.1:3000\"\n\
             [database]\nurl = \"postgres://u:p@127.0.0.1/db\"\n[audit]\nchain_key = \"{KEY}\"\n{AUTH}{extra}"
        ))
    }

    fn invalid_key(result: Result<Config, ConfigError>) -> String {
        match result {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    /// The minimal configuration with `lines` added to `[server]`.
    fn with_server(lines: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(&format!(
            "[server]\nlisten = \"127.0.0.1:3000\"\npublic_url = \"http://127.0.0.1:3000\"\n{lines}\n\
             [database]\nurl = \"postgres://u:p@127.0.0.1/db\"\n[audit]\nchain_key = \"{KEY}\"\n{AUTH}"
        ))
    }

    #[test]
    fn limits_have_sane_defaults_and_name_the_bad_key() {
        let defaults = config("").unwrap();
        assert_eq!(defaults.server.max_body_bytes, 256 * 1024);
        assert!(defaults.server.trusted_proxies.is_empty(), "no proxy is trusted unless configured");
        assert_eq!((defaults.limits.anonymous.burst, defaults.limits.anonymous.per_second), (60, 5));
        let proxies = with_server("trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\", \"fd00::/8\"]").unwrap();
        assert_eq!(proxies.server.trusted_proxies.len(), 3);
        assert!(proxies.server.trusted_proxies[1].contains(&"192.0.2.7".parse::<std::net::IpAddr>().unwrap()));
        assert_eq!(invalid_key(with_server("trusted_proxies = [\"proxy.internal\"]")), "server.trusted_proxies");
        assert_eq!(invalid_key(with_server("max_body_kib = 0")), "server.max_body_kib");
        assert_eq!(invalid_key(config("[limits]\nanonymous_burst = 0\n")), "limits.anonymous_burst");
        assert_eq!(invalid_key(config("[limits]\ncaller_per_second = 0\n")), "limits.caller_per_second");
        let quotas = &defaults.limits;
        assert_eq!((quotas.certificates_per_day, quotas.live_certificates), (200, 1000));
        assert_eq!(quotas.renewal_floor, std::time::Duration::from_secs(3600));
        assert_eq!(invalid_key(config("[limits]\ncertificates_per_day = 0\n")), "limits.certificates_per_day");
        assert_eq!(invalid_key(config("[limits]\nlive_certificates = 0\n")), "limits.live_certificates");
        assert_eq!(invalid_key(config("[limits]\nrenewal_floor_minutes = 1441\n")), "limits.renewal_floor_minutes");
    }

    #[test]
    fn minimal_config_is_valid() {
        let config = config("").unwrap();
        assert_eq!(config.server.listen.port(), 3000);
        assert!(config.server.secure_cookies, "cookies are Secure unless switched off");
        assert!(config.issuers.is_empty());
    }

    #[test]
    fn issuers_are_validated_by_kind() {
        let ok = config(
            "[[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"http://127.0.0.1:8200\"\nmount = \"pki\"\nrole = \"r\"\n\
             [[issuers]]\nid = \"public\"\nkind = \"acme\"\ndirectory_url = \"https://127.0.0.1:14000/dir\"\n",
        )
        .unwrap();
        assert_eq!(ok.issuers.len(), 2);
        assert_eq!(invalid_key(config("[[issuers]]\nid = \"x\"\nkind = \"vault\"\n")), "issuers[0].address");
        assert_eq!(invalid_key(config("[[issuers]]\nid = \"x\"\nkind = \"smtp\"\n")), "issuers[0].kind");
        assert_eq!(invalid_key(config("[[issuers]]\nid = \"Bad Id\"\nkind = \"acme\"\n")), "issuers[0].id");
        let twice = "[[issuers]]\nid = \"a\"\nkind = \"acme\"\ndirectory_url = \"https://x/dir\"\n";
        assert_eq!(invalid_key(config(&format!("{twice}{twice}"))), "issuers[1].id");
    }

    #[test]
    fn a_policy_rule_may_grant_up_to_the_longest_validity_a_request_may_ask_for_and_no_more() {
        use crate::policy::MAX_VALIDITY_DAYS;
        let with_rule = |days: u32| {
            config(&format!(
                "[[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"http://127.0.0.1:8200\"\nmount = \"pki\"\n\
                 role = \"r\"\n[[issuers.policy]]\nname = \"long\"\ngroups = [\"*\"]\ndomains = [\"example.test\"]\n\
                 max_validity_days = {days}\n"
            ))
        };
        let at_the_limit = with_rule(MAX_VALIDITY_DAYS).unwrap();
        assert_eq!(at_the_limit.issuers[0].policy[0].max_validity_days, MAX_VALIDITY_DAYS);
        // A 500-day rule once passed `config check` while every request for more than the limit was refused.
        for days in [MAX_VALIDITY_DAYS + 1, 500] {
            match with_rule(days) {
                Err(ConfigError::Invalid { key, reason }) => {
                    assert_eq!(key, "issuers[0].policy[0].max_validity_days");
                    assert!(reason.contains(&format!("between 1 and {MAX_VALIDITY_DAYS} days")), "{reason}");
                }
                other => panic!("a {days}-day rule must be refused, got {other:?}"),
            }
        }
    }

    #[test]
    fn encryption_keys_are_32_bytes_of_base64_and_local_totp_needs_them() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let ok = config(&format!("[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{key}\"\n"))
            .unwrap();
        assert_eq!(ok.encryption.unwrap().active_key_id(), "k1");
        let short = "[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"c2hvcnQ=\"\n";
        assert_eq!(invalid_key(config(short)), "encryption.keys[0].key");
        let unknown_active =
            format!("[encryption]\nactive = \"k2\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{key}\"\n");
        assert_eq!(invalid_key(config(&unknown_active)), "encryption.active");
        let totp_without_keys = Config::from_toml_str(&format!(
            "[server]\nlisten = \"127.0.0.1:1\"\npublic_url = \"http://x\"\n[database]\nurl = \"postgres://x\"\n\
             [audit]\nchain_key = \"{KEY}\"\n{AUTH}local_totp = true\n"
        ));
        assert_eq!(invalid_key(totp_without_keys), "encryption");
        let debug = format!(
            "{ok:?}",
            ok = config(&format!("[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{key}\"\n"))
        );
        assert!(!debug.contains(key) && !debug.contains("[0, 1, 2"), "{debug}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let bad_listen = Config::from_toml_str(&format!(
            "[server]\nlisten = \"nowhere\"\npublic_url = \"http://x\"\n[database]\nurl = \"postgres://x\"\n[audit]\nchain_key = \"{KEY}\"\n{AUTH}"
        ));
        assert_eq!(invalid_key(bad_listen), "server.listen");
        let short_key = Config::from_toml_str(&format!(
            "[server]\nlisten = \"127.0.0.1:1\"\npublic_url = \"http://x\"\n[database]\nurl = \"postgres://x\"\n[audit]\nchain_key = \"short\"\n{AUTH}"
        ));
        assert_eq!(invalid_key(short_key), "audit.chain_key");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_parse_errors_naming_the_key() {
        let Err(ConfigError::Parse(message)) = config("[log]\nlevle = \"info\"\n") else {
            panic!("expected a parse error")
        };
        assert!(message.contains("levle"), "{message}");
        let Err(ConfigError::Parse(message)) = Config::from_toml_str(&format!(
            "[server]\nlisten = 5\npublic_url = \"http://x\"\n[database]\nurl = \"postgres://x\"\n[audit]\nchain_key_file = \"/k\"\n{AUTH}"
        )) else {
            panic!("expected a parse error")
        };
        assert!(message.contains("server.listen"), "{message}");
    }

    #[test]
    fn secret_values_never_appear_in_errors_or_debug() {
        let secret = "postgres://certdesk:hunter2-very-secret@db/certdesk";
        let config = Config::from_toml_str(&format!(
            "[server]\nlisten = \"127.0.0.1:3000\"\npublic_url = \"http://x\"\n[database]\nurl = \"{secret}\"\n[audit]\nchain_key = \"{KEY}\"\n{AUTH}"
        ))
        .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains(KEY), "{debug}");
        let Err(error) = Config::from_toml_str(&format!(
            "[server]\nlisten = \"127.0.0.1:3000\"\npublic_url = \"http://x\"\n[database]\nurl = [\"{secret}\"]\n[audit]\nchain_key = \"{KEY}\"\n{AUTH}"
        )) else {
            panic!("a list is not a URL")
        };
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
