//! Building a CSR for a key certdesk generated.

use std::net::IpAddr;

use rcgen::string::Ia5String;
use rcgen::{CertificateParams, DistinguishedName, DnType, SanType};

use super::{KeyError, MAX_COMMON_NAME_LEN, PrivateKey};
use crate::names::DnsName;

/// Builds a PEM CSR signed by `key`, with the common name (when given) as the subject and the DNS names and
/// IP addresses as the requested subjectAltName.
pub fn build_csr(
    key: &PrivateKey,
    common_name: Option<&str>,
    dns_names: &[DnsName],
    ip_sans: &[IpAddr],
) -> Result<String, KeyError> {
    let common_name = common_name.map(str::trim).filter(|cn| !cn.is_empty());
    if common_name.is_none() && dns_names.is_empty() && ip_sans.is_empty() {
        return Err(KeyError::NoNames);
    }

    let mut params = CertificateParams::default();
    // The default subject is "rcgen self signed cert"; a CSR without a common name has an empty subject.
    params.distinguished_name = DistinguishedName::new();
    if let Some(cn) = common_name {
        let len = cn.chars().count();
        if len > MAX_COMMON_NAME_LEN {
            return Err(KeyError::CommonNameTooLong { len });
        }
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    for name in dns_names {
        let ia5 = Ia5String::try_from(name.as_str()).map_err(|e| KeyError::Csr(e.to_string()))?;
        params.subject_alt_names.push(SanType::DnsName(ia5));
    }
    params.subject_alt_names.extend(ip_sans.iter().map(|ip| SanType::IpAddress(*ip)));

    let key_pair = key.key_pair()?;
    let csr = params.serialize_request(&key_pair).map_err(|e| KeyError::Csr(e.to_string()))?;
    csr.pem().map_err(|e| KeyError::Csr(e.to_string()))
}
