//! The DNS name rules: trimming, the one allowed trailing dot, wildcards, IDNA (UTS 46) to A-labels, LDH
//! labels and lengths.

use std::net::IpAddr;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use super::{DnsName, NameError};

/// RFC 1035: 255 octets on the wire, which is 253 characters in dotted text form.
const MAX_NAME_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Normalises a DNS name for a certificate: trims whitespace, lowercases, strips one trailing dot, converts
/// Unicode labels to A-labels (`Bücher.example` → `xn--bcher-kva.example`) and enforces hostname rules.
/// A wildcard is allowed only as the whole leftmost label (`*.example.com`).
pub fn normalize_dns_name(input: &str) -> Result<DnsName, NameError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let invalid = |reason: String| NameError::Invalid { name: name.to_owned(), reason };

    if looks_like_ip(name) {
        return Err(NameError::IpAddressLiteral(name.to_owned()));
    }
    // One trailing dot is the fully-qualified spelling of the same name; certificates never carry it.
    let without_dot = name.strip_suffix('.').unwrap_or(name);
    if without_dot == "*" {
        return Err(invalid("a bare '*' matches nothing; write a wildcard as '*.example.com'".to_owned()));
    }
    let (wildcard, rest) = match without_dot.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, without_dot),
    };
    if rest.contains('*') {
        return Err(invalid("'*' is only allowed as the whole leftmost label, as in '*.example.com'".to_owned()));
    }
    if rest.is_empty() || rest.split('.').any(str::is_empty) {
        return Err(invalid("empty label".to_owned()));
    }

    // The ASCII deny list stays empty so that LDH violations reach `check_label`, which explains them better
    // than idna's error type can; idna still validates Unicode and any `xn--` label it is given.
    let ascii = Uts46::new()
        .to_ascii(rest.as_bytes(), AsciiDenyList::EMPTY, Hyphens::Allow, DnsLength::Ignore)
        .map_err(|_| invalid("it is not a valid internationalised domain name (IDNA)".to_owned()))?;

    let labels: Vec<&str> = ascii.split('.').collect();
    for label in &labels {
        check_label(label).map_err(invalid)?;
    }
    // A numeric top-level label is how `1.2.3.999`-style typos of IP addresses look; no real TLD is numeric.
    if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid(
            "the last label is all digits, which no DNS name has (IP addresses belong in the IP SANs)".to_owned(),
        ));
    }

    let normalized = if wildcard { format!("*.{ascii}") } else { ascii.into_owned() };
    if normalized.len() > MAX_NAME_LEN {
        return Err(invalid(format!("it is {} characters long; the limit is {MAX_NAME_LEN}", normalized.len())));
    }
    Ok(DnsName(normalized))
}

fn looks_like_ip(name: &str) -> bool {
    let bare = name.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(name);
    bare.parse::<IpAddr>().is_ok()
}

/// Letters, digits and hyphens (RFC 952/1123), no hyphen at either end, at most 63 characters.
fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("empty label".to_owned());
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(format!("the label '{label}' is {} characters long; the limit is {MAX_LABEL_LEN}", label.len()));
    }
    if let Some(bad) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
        return Err(format!("the label '{label}' contains '{bad}'; only letters, digits and hyphens are allowed"));
    }
    if label.starts_with('-') {
        return Err(format!("the label '{label}' starts with a hyphen"));
    }
    if label.ends_with('-') {
        return Err(format!("the label '{label}' ends with a hyphen"));
    }
    Ok(())
}
