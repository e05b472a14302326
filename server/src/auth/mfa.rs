//! Did the provider prove a second factor? Fail closed: a token without `amr`/`acr` proves nothing.

use crate::config::AuthConfig;

pub fn proves_mfa(amr: &[String], acr: Option<&str>, config: &AuthConfig) -> bool {
    let by_amr = amr.iter().any(|method| config.mfa_accepted_amr.iter().any(|accepted| accepted == method));
    let by_acr = acr.is_some_and(|acr| config.mfa_accepted_acr.iter().any(|accepted| accepted == acr));
    by_amr || by_acr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(amr: &str, acr: &str) -> AuthConfig {
        Config::from_toml_str(&format!(
            "[server]\nlisten = \"127.0.0.1:1\"\npublic_url = \"http://x\"\n[database]\nurl = \"postgres://x\"\n\
             [audit]\nchain_key = \"0123456789abcdef0123456789abcdef\"\n[auth]\nissuer_url = \"http://idp\"\n\
             client_id = \"c\"\nclient_secret = \"s\"\nmfa_accepted_amr = [{amr}]\nmfa_accepted_acr = [{acr}]\n"
        ))
        .unwrap()
        .auth
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn an_accepted_amr_value_proves_mfa() {
        let config = config("\"otp\", \"hwk\"", "");
        assert!(proves_mfa(&strings(&["pwd", "otp"]), None, &config));
        assert!(!proves_mfa(&strings(&["pwd"]), None, &config));
    }

    #[test]
    fn provider_specific_names_are_configuration() {
        // glewlwyd says "password"/"otp"; Entra says "mfa"; only what is configured counts.
        let config = config("\"mfa\"", "");
        assert!(!proves_mfa(&strings(&["password", "otp"]), None, &config));
        assert!(proves_mfa(&strings(&["pwd", "mfa"]), None, &config));
    }

    #[test]
    fn an_accepted_acr_proves_mfa_and_absence_fails_closed() {
        let config = config("", "\"urn:certdesk:mfa\"");
        assert!(proves_mfa(&[], Some("urn:certdesk:mfa"), &config));
        assert!(!proves_mfa(&[], Some("urn:certdesk:pwd"), &config));
        assert!(!proves_mfa(&[], None, &config));
    }
}
