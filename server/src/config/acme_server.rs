//! `[issuers.acme_server]`: an issuer that opts in gets an RFC 8555 directory at `/acme/{issuer}/directory`, so
//! machines (cert-manager, certbot, lego) reach it through certdesk. Off unless `enabled = true`; accounts must be
//! bound to a person's ACME account key (External Account Binding) unless `eab_required = false`.

use serde::Deserialize;

use super::{ConfigError, IssuerKindConfig};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAcmeServer {
    #[serde(default)]
    enabled: bool,
    #[serde(default = "default_eab_required")]
    eab_required: bool,
}

/// The ACME server of one issuer, present only when the issuer opted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcmeServerConfig {
    /// newAccount must carry an External Account Binding to one of a person's ACME account keys.
    pub eab_required: bool,
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
    Ok(Some(AcmeServerConfig { eab_required: raw.eab_required }))
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
        assert_eq!(on.issuers[0].acme_server, Some(super::AcmeServerConfig { eab_required: true }));
        let open = config(true, &format!("{VAULT}[issuers.acme_server]\nenabled = true\neab_required = false\n"));
        assert_eq!(open.unwrap().issuers[0].acme_server, Some(super::AcmeServerConfig { eab_required: false }));
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
