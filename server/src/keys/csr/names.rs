//! Comparing a CSR's names with the names a request asks for, and saying exactly how they differ.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::{CheckedCsr, CsrError};
use crate::names::{DnsName, NameError, normalize_dns_name, parse_ip_san};

pub(super) fn compare(
    csr: &CheckedCsr,
    common_name: Option<&DnsName>,
    dns: &[DnsName],
    ips: &[IpAddr],
) -> Result<(), CsrError> {
    let mut have_dns = BTreeSet::new();
    let mut have_ips = BTreeSet::new();
    if let Some(cn) = &csr.common_name {
        // Some tools put an IP address in the CN; it then counts as that IP address.
        match normalize_dns_name(cn) {
            Ok(name) => {
                have_dns.insert(name.as_str().to_owned());
            }
            Err(NameError::IpAddressLiteral(_)) => {
                let ip = parse_ip_san(cn).map_err(|source| CsrError::InvalidName { field: "common name", source })?;
                have_ips.insert(ip);
            }
            Err(source) => return Err(CsrError::InvalidName { field: "common name", source }),
        }
    }
    for name in &csr.dns_names {
        let name = normalize_dns_name(name).map_err(|source| CsrError::InvalidName { field: "DNS name", source })?;
        have_dns.insert(name.as_str().to_owned());
    }
    have_ips.extend(csr.ip_addresses.iter().copied());

    let want_dns: BTreeSet<String> = common_name.into_iter().chain(dns).map(|n| n.as_str().to_owned()).collect();
    let want_ips: BTreeSet<IpAddr> = ips.iter().copied().collect();

    let extra: Vec<String> =
        have_dns.difference(&want_dns).cloned().chain(have_ips.difference(&want_ips).map(IpAddr::to_string)).collect();
    let missing: Vec<String> =
        want_dns.difference(&have_dns).cloned().chain(want_ips.difference(&have_ips).map(IpAddr::to_string)).collect();
    if extra.is_empty() && missing.is_empty() { Ok(()) } else { Err(CsrError::NamesDiffer { extra, missing }) }
}

/// "it also names 'a', 'b' (not requested); it lacks 'c' (requested)".
pub(super) fn describe_difference(extra: &[String], missing: &[String]) -> String {
    let quote = |names: &[String]| names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if !extra.is_empty() {
        parts.push(format!("it also names {} (not requested)", quote(extra)));
    }
    if !missing.is_empty() {
        parts.push(format!("it lacks {} (requested)", quote(missing)));
    }
    parts.join("; ")
}
