//! Inline validation of the request form against the issuer's policy for this person: quick, friendly feedback
//! before submitting. The server is the authority (it normalises international names and checks CSRs fully).

use std::collections::HashMap;

use crate::model::IssuerOption;

/// Whether `name` is `suffix` or ends with `.suffix` (label boundary: `evil-example.com` is not under
/// `example.com`).
fn under(name: &str, suffix: &str) -> bool {
    name == suffix || name.ends_with(&format!(".{suffix}"))
}

fn name_problem(issuer: &IssuerOption, raw: &str) -> Option<String> {
    let name = raw.trim_end_matches('.').to_ascii_lowercase();
    if !name.is_ascii() {
        // International names are converted to punycode by the server; it checks them.
        return None;
    }
    if name.split('.').any(|label| label.is_empty()) {
        return Some(format!("'{raw}' has an empty label (two dots in a row?)"));
    }
    if let Some(rest) = name.strip_prefix("*.") {
        if !issuer.wildcard_suffixes.iter().any(|suffix| under(rest, suffix)) {
            return Some(format!("wildcards like '{raw}' are not allowed for you here"));
        }
        return None;
    }
    if name.contains('*') {
        return Some(format!("'{raw}': a wildcard may only be the whole first label, as in *.example.com"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Some(format!("'{raw}' may only contain letters, digits, '-' and '.'"));
    }
    if !issuer.suffixes.iter().any(|suffix| under(&name, suffix)) {
        return Some(format!("'{raw}' is outside your policy: names must end in {}", issuer.suffixes.join(", ")));
    }
    None
}

#[allow(clippy::too_many_arguments)]
pub fn check(
    issuer: &IssuerOption,
    names: &[String],
    ips: &[String],
    validity: &str,
    key_source: &str,
    key_type: &str,
    csr: &str,
    client_auth: bool,
) -> HashMap<&'static str, String> {
    let mut problems = HashMap::new();
    if names.is_empty() {
        problems.insert("dns_names", "Enter at least one DNS name.".to_owned());
    } else if let Some(problem) = names.iter().find_map(|name| name_problem(issuer, name)) {
        problems.insert("dns_names", problem);
    }
    if !ips.is_empty() && !issuer.ip_sans {
        problems.insert("ip_sans", "IP addresses are not allowed for you here.".to_owned());
    }
    match validity.trim().parse::<u32>() {
        Ok(days) if days >= 1 && issuer.max_validity_days.is_none_or(|max| days <= max) => {}
        Ok(0) | Err(_) => {
            problems.insert("validity_days", "Enter a number of days.".to_owned());
        }
        Ok(days) => {
            let max = issuer.max_validity_days.unwrap_or_default();
            problems.insert("validity_days", format!("{days} days is longer than your policy allows ({max})."));
        }
    }
    if key_source == "csr" {
        if !csr.contains("-----BEGIN CERTIFICATE REQUEST-----")
            && !csr.contains("-----BEGIN NEW CERTIFICATE REQUEST-----")
        {
            problems.insert("csr", "Paste a PEM CSR (-----BEGIN CERTIFICATE REQUEST-----).".to_owned());
        }
    } else if !issuer.key_types.iter().any(|allowed| allowed == key_type) {
        problems.insert("key_type", "Your policy does not allow this key type here.".to_owned());
    }
    if client_auth && !issuer.client_auth {
        problems.insert("client_auth", "Client authentication is not allowed for you here.".to_owned());
    }
    problems
}

/// One sentence on what this issuer allows the person.
pub fn hint(issuer: &IssuerOption) -> String {
    if !issuer.can_request {
        return "No issuance policy of this issuer covers your groups.".to_owned();
    }
    let mut hint = format!("Names under {}", issuer.suffixes.join(", "));
    if !issuer.wildcard_suffixes.is_empty() {
        hint.push_str(&format!("; wildcards under {}", issuer.wildcard_suffixes.join(", ")));
    }
    if let Some(days) = issuer.max_validity_days {
        hint.push_str(&format!("; up to {days} days"));
    }
    hint.push('.');
    hint
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IssuerKind;

    fn issuer() -> IssuerOption {
        IssuerOption {
            id: "private".into(),
            display_name: "Private".into(),
            kind: IssuerKind::Vault,
            can_request: true,
            suffixes: vec!["cluster.local".into()],
            wildcard_suffixes: vec![],
            ip_sans: false,
            ip_ranges: vec![],
            client_auth: false,
            max_validity_days: Some(90),
            key_types: vec!["ec-p256".into()],
        }
    }

    fn problems(names: &[&str], validity: &str) -> HashMap<&'static str, String> {
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        check(&issuer(), &names, &[], validity, "generate", "ec-p256", "", false)
    }

    #[test]
    fn names_outside_the_policy_or_malformed_are_flagged_before_submitting() {
        assert!(problems(&["App.Cluster.Local."], "30").is_empty());
        assert!(problems(&["evil-cluster.local"], "30")["dns_names"].contains("outside your policy"));
        assert!(problems(&["*.cluster.local"], "30")["dns_names"].contains("wildcards"));
        assert!(problems(&["a..cluster.local"], "30")["dns_names"].contains("empty label"));
        assert!(problems(&[], "30")["dns_names"].contains("at least one"));
        assert!(problems(&["bücher.cluster.local"], "30").is_empty(), "left to the server");
    }

    #[test]
    fn validity_is_bounded_by_the_policy() {
        assert!(problems(&["a.cluster.local"], "91")["validity_days"].contains("(90)"));
        assert!(problems(&["a.cluster.local"], "x")["validity_days"].contains("number"));
        assert!(problems(&["a.cluster.local"], "90").is_empty());
    }
}
