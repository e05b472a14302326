//! `[issuers.acme_server]`: an issuer that opts in gets an RFC 8555 directory at `/acme/{issuer}/directory`, so
//! machines (cert-manager, certbot, lego) reach it through certdesk. Off unless `enabled = true`; accounts must be
//! bound to a person's ACME account key (External Account Binding) unless `eab_required = false`. Certificates
//! last `validity_days` (at most what the owner's policy allows); an account has at most
//! `max_open_orders_per_account` orders in flight; names matching a `[[…no_challenge]]` rule are
//! authorized without a challenge for accounts whose owner is in one of its groups (off unless configured).

use serde::Deserialize;

use super::{ConfigError, IssuerKindConfig};
use crate::names::{DnsName, normalize_dns_name};
use crate::policy::MAX_VALIDITY_DAYS;

/// Let's Encrypt's validity: machines renew on their own, so short lives cost nothing.
const DEFAULT_VALIDITY_DAYS: u32 = 90;
/// Let's Encrypt's new orders per account in three hours: a cluster's renewals fit easily (an order lives seconds
/// when its client answers), a client stuck in a loop of abandoned orders does not fill the tables for a day.
const DEFAULT_MAX_OPEN_ORDERS: u32 = 300;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAcmeServer {
    #[serde(default)]
    enabled: bool,
    #[serde(default = "default_eab_required")]
    eab_required: bool,
    validity_days: Option<u32>,
    max_open_orders_per_account: Option<u32>,
    #[serde(default)]
    no_challenge: Vec<RawNoChallenge>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNoChallenge {
    names: Vec<String>,
    groups: Vec<String>,
}

/// The ACME server of one issuer, present only when the issuer opted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeServerConfig {
    /// newAccount must carry an External Account Binding to one of a person's ACME account keys.
    pub eab_required: bool,
    /// How long certificates ordered here last, unless the owner's policy allows less.
    pub validity_days: u32,
    /// Orders of one account not yet valid or invalid (and not expired); newOrder beyond it is `rateLimited`.
    pub max_open_orders_per_account: u32,
    pub no_challenge: Vec<NoChallengeRule>,
}

/// Names authorized without a challenge, for accounts whose owner is in one of `groups` (e.g. in-cluster names
/// nobody outside the cluster can reach to validate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoChallengeRule {
    /// Exact names, or `*.suffix`: any name below the suffix.
    pub names: Vec<DnsName>,
    pub groups: Vec<String>,
}

impl NoChallengeRule {
    /// Whether `name` (a wildcard's base name for a wildcard) needs no challenge for someone in `owner_groups`.
    pub fn exempts(&self, name: &DnsName, owner_groups: &[String]) -> bool {
        self.groups.iter().any(|group| owner_groups.contains(group))
            && self.names.iter().any(|pattern| match pattern.as_str().strip_prefix("*.") {
                Some(suffix) => name.as_str() != suffix && name.matches_suffix(suffix),
                None => pattern == name,
            })
    }
}

fn default_eab_required() -> bool {
    true
}

/// `key` is the issuer's (`issuers[0]`); `sealing_configured` says whether `[encryption]` exists (the HMAC keys of
/// ACME account keys are sealed at rest under it).
pub(super) fn validate(
    key: &str,
    raw: Option<RawAcmeServer>,
    kind: &IssuerKindConfig,
    sealing_configured: bool,
) -> Result<Option<AcmeServerConfig>, ConfigError> {
    let Some(raw) = raw.filter(|raw| raw.enabled) else {
        return Ok(None);
    };
    let key = format!("{key}.acme_server.enabled");
    if !matches!(kind, IssuerKindConfig::Vault { .. }) {
        return Err(ConfigError::invalid(
            key,
            "certdesk's ACME server fronts its private issuers (kind = \"vault\"); an ACME issuer is a CA of its own",
        ));
    }
    if !sealing_configured {
        return Err(ConfigError::invalid(
            key,
            "the HMAC keys of ACME account keys are kept encrypted: configure [encryption] with at least one key",
        ));
    }
    let validity_days = raw.validity_days.unwrap_or(DEFAULT_VALIDITY_DAYS);
    if !(1..=MAX_VALIDITY_DAYS).contains(&validity_days) {
        return Err(ConfigError::invalid(
            key.replace(".enabled", ".validity_days"),
            format!("between 1 and {MAX_VALIDITY_DAYS} days"),
        ));
    }
    let max_open_orders_per_account = raw.max_open_orders_per_account.unwrap_or(DEFAULT_MAX_OPEN_ORDERS);
    if max_open_orders_per_account == 0 {
        return Err(ConfigError::invalid(
            key.replace(".enabled", ".max_open_orders_per_account"),
            "at least 1 (an account that may have no open order can get no certificate)",
        ));
    }
    let mut no_challenge = Vec::new();
    for (index, rule) in raw.no_challenge.into_iter().enumerate() {
        let rule_key = key.replace(".enabled", &format!(".no_challenge[{index}]"));
        if rule.groups.is_empty() || rule.groups.iter().any(|group| group.trim().is_empty() || group == "*") {
            return Err(ConfigError::invalid(
                format!("{rule_key}.groups"),
                "name the groups whose accounts skip the challenge (not everyone: `*` is refused)",
            ));
        }
        let names = rule
            .names
            .iter()
            .map(|name| normalize_dns_name(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| ConfigError::invalid(format!("{rule_key}.names"), error.to_string()))?;
        if names.is_empty() {
            return Err(ConfigError::invalid(format!("{rule_key}.names"), "list at least one name or *.suffix"));
        }
        no_challenge.push(NoChallengeRule { names, groups: rule.groups });
    }
    Ok(Some(AcmeServerConfig {
        eab_required: raw.eab_required,
        validity_days,
        max_open_orders_per_account,
        no_challenge,
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn config(encryption: bool, issuer: &str) -> Result<Config, ConfigError> {
        let encryption = if encryption {
            format!("[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{KEK}\"\n")
        } else {
            String::new()
        };
        Config::from_toml_str(&format!(
            "[server]\nlisten = \"127.0.0.1:3000\"\npublic_url = \"http://127.0.0.1:3000\"\n\
             [database]\nurl = \"postgres://u:p@127.0.0.1/db\"\n[audit]\nchain_key = \"0123456789abcdef0123456789abcdef\"\n\
             [auth]\nissuer_url = \"http://127.0.0.1:9\"\nclient_id = \"certdesk\"\nclient_secret = \"s\"\n\
             {encryption}[[issuers]]\nid = \"private\"\n{issuer}"
        ))
    }

    const VAULT: &str = "kind = \"vault\"\naddress = \"http://127.0.0.1:8200\"\nmount = \"pki\"\nrole = \"r\"\n";

    #[test]
    fn off_by_default_and_eab_required_by_default_when_on() {
        assert_eq!(config(true, VAULT).unwrap().issuers[0].acme_server, None);
        let off = config(true, &format!("{VAULT}[issuers.acme_server]\nenabled = false\n")).unwrap();
        assert_eq!(off.issuers[0].acme_server, None);
        let on = config(true, &format!("{VAULT}[issuers.acme_server]\nenabled = true\n")).unwrap();
        let on = on.issuers[0].acme_server.clone().unwrap();
        assert!(on.eab_required);
        assert_eq!((on.validity_days, on.no_challenge.len()), (90, 0), "90 days and every name challenged");
        assert_eq!(on.max_open_orders_per_account, 300);
        let open = config(true, &format!("{VAULT}[issuers.acme_server]\nenabled = true\neab_required = false\n"));
        assert!(!open.unwrap().issuers[0].acme_server.clone().unwrap().eab_required);
    }

    #[test]
    fn names_without_a_challenge_are_explicit_per_group_and_match_below_a_wildcard_suffix() {
        let on = "[issuers.acme_server]\nenabled = true\nvalidity_days = 30\n\
                  [[issuers.acme_server.no_challenge]]\nnames = [\"*.svc.cluster.local\", \"exact.test\"]\n\
                  groups = [\"platform\"]\n";
        let server = config(true, &format!("{VAULT}{on}")).unwrap().issuers[0].acme_server.clone().unwrap();
        assert_eq!(server.validity_days, 30);
        let rule = &server.no_challenge[0];
        let name = |text: &str| crate::names::normalize_dns_name(text).unwrap();
        let platform = ["platform".to_owned()];
        assert!(rule.exempts(&name("api.ns.svc.cluster.local"), &platform));
        assert!(rule.exempts(&name("exact.test"), &platform));
        assert!(!rule.exempts(&name("svc.cluster.local"), &platform), "the suffix itself is not below it");
        assert!(!rule.exempts(&name("other.exact.test"), &platform));
        assert!(!rule.exempts(&name("api.ns.svc.cluster.local"), &["dev".to_owned()]), "another group");
        let everyone = on.replace("\"platform\"", "\"*\"");
        assert!(config(true, &format!("{VAULT}{everyone}")).is_err(), "`*` is refused");
        let long = on.replace("validity_days = 30", "validity_days = 400");
        assert!(config(true, &format!("{VAULT}{long}")).is_err());
        let no_orders = on.replace("validity_days = 30", "max_open_orders_per_account = 0");
        assert!(config(true, &format!("{VAULT}{no_orders}")).is_err());
    }

    #[test]
    fn refused_without_encryption_on_an_acme_issuer_and_for_unknown_keys() {
        let key_of = |result: Result<Config, ConfigError>| match result {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        };
        let on = "[issuers.acme_server]\nenabled = true\n";
        assert_eq!(key_of(config(false, &format!("{VAULT}{on}"))), "issuers[0].acme_server.enabled");
        let acme = format!("kind = \"acme\"\ndirectory_url = \"https://127.0.0.1:14000/dir\"\n{on}");
        assert_eq!(key_of(config(true, &acme)), "issuers[0].acme_server.enabled");
        let Err(ConfigError::Parse(message)) = config(true, &format!("{VAULT}{on}eab = true\n")) else {
            panic!("an unknown key is a parse error")
        };
        assert!(message.contains("eab"), "{message}");
    }
}
