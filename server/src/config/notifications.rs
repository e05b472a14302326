//! `[smtp]` (how e-mail leaves certdesk) and `[notifications]` (when notices are sent, and to whom webhooks may go).

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::{ConfigError, SecretSource};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    host: String,
    port: Option<u16>,
    #[serde(default = "default_tls")]
    tls: String,
    username: Option<String>,
    password: Option<SecretString>,
    password_file: Option<PathBuf>,
    from: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotifications {
    thresholds_days: Option<Vec<i64>>,
    #[serde(default)]
    admin_digest: bool,
    #[serde(default)]
    webhook_allow_private: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on the same host or network.
    None,
    StartTls,
    /// Implicit TLS (SMTPS, usually port 465).
    Tls,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Username and password, when the relay wants them.
    pub credentials: Option<(String, SecretString)>,
    /// The From mailbox, e.g. `certdesk <certdesk@example.com>`.
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct NotificationsConfig {
    /// Days before expiry at which a notice goes out, largest first.
    pub thresholds_days: Vec<u32>,
    /// A daily e-mail to every admin: certificates expiring soon, and failures.
    pub admin_digest: bool,
    /// Lets webhooks point at loopback, private and link-local addresses (off: certdesk is not a proxy into the
    /// network it runs in).
    pub webhook_allow_private: bool,
}

pub(super) fn smtp(raw: RawSmtp) -> Result<SmtpConfig, ConfigError> {
    if raw.host.trim().is_empty() || raw.host.contains(['/', ' ', ':']) {
        return Err(ConfigError::invalid("smtp.host", "expected a host name or address, without port or scheme"));
    }
    let (tls, default_port) = match raw.tls.as_str() {
        "none" => (SmtpTls::None, 25),
        "starttls" => (SmtpTls::StartTls, 587),
        "tls" => (SmtpTls::Tls, 465),
        _ => return Err(ConfigError::invalid("smtp.tls", "expected none, starttls or tls")),
    };
    let port = raw.port.unwrap_or(default_port);
    if port == 0 {
        return Err(ConfigError::invalid("smtp.port", "must be between 1 and 65535"));
    }
    let credentials = match (raw.username, raw.password, raw.password_file) {
        (None, None, None) => None,
        (Some(username), inline, file) => {
            Some((username, SecretSource { key: "smtp.password", inline, file }.resolve()?))
        }
        (None, _, _) => return Err(ConfigError::invalid("smtp.username", "a password needs a username")),
    };
    if raw.from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::invalid("smtp.from", "expected a mailbox such as certdesk <certdesk@example.com>"));
    }
    Ok(SmtpConfig { host: raw.host, port, tls, credentials, from: raw.from })
}

pub(super) fn notifications(raw: Option<RawNotifications>) -> Result<NotificationsConfig, ConfigError> {
    let raw = raw.unwrap_or_default();
    let mut thresholds = Vec::new();
    for days in raw.thresholds_days.unwrap_or_else(|| vec![30, 14, 7, 1]) {
        let days = u32::try_from(days)
            .ok()
            .filter(|days| (1..=365).contains(days))
            .ok_or_else(|| ConfigError::invalid("notifications.thresholds_days", "each must be 1 to 365 days"))?;
        thresholds.push(days);
    }
    thresholds.sort_unstable_by(|a, b| b.cmp(a));
    thresholds.dedup();
    Ok(NotificationsConfig {
        thresholds_days: thresholds,
        admin_digest: raw.admin_digest,
        webhook_allow_private: raw.webhook_allow_private,
    })
}

fn default_tls() -> String {
    "starttls".into()
}
