//! A certificate request as it arrives (form or API) turned into a checked one: names normalised (IDN to
//! punycode, lower case, trailing dot), IP SANs parsed, the key type or the CSR checked (signature, strength,
//! and names equal to the requested ones). Every refusal names its field.

use std::net::IpAddr;

use app::AppError;
use app::model::{CertificateRequest, KeyChoice};
use sha2::{Digest, Sha256};

use crate::keys::{self, CheckedCsr, KeyType};
use crate::names::{DnsName, normalize_dns_name, parse_ip_san};
use crate::policy::MAX_VALIDITY_DAYS;

/// More names than this is a mistake, not a certificate.
const MAX_NAMES: usize = 100;
/// Longest idempotency key, in the body or the `Idempotency-Key` header.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

pub enum CheckedKey {
    Generate(KeyType),
    Csr(Box<CheckedCsr>),
    /// A renewal keeping its predecessor's key (see `renewal`).
    Reuse(Box<super::reused_key::ReusedKey>),
}

pub struct CheckedRequest {
    pub issuer_id: String,
    /// The first DNS name: the certificate's name in certdesk, and its subject common name when it fits (see
    /// [`CheckedRequest::subject_common_name`]).
    pub common_name: DnsName,
    /// Every DNS name, the common name first.
    pub dns_names: Vec<DnsName>,
    pub ip_sans: Vec<IpAddr>,
    pub validity_days: u32,
    pub key: CheckedKey,
    pub key_type: KeyType,
    pub client_auth: bool,
    pub idempotency_key: Option<String>,
    /// SHA-256 over the request as understood: a reused idempotency key must come with the same request.
    pub fingerprint: Vec<u8>,
    pub renewal: super::renewal_settings::RenewalSettings,
}

impl CheckedRequest {
    /// The subject common name to ask for: the first DNS name, or none when it is longer than a common name may
    /// be; every name is in the subjectAltName either way.
    pub fn subject_common_name(&self) -> Option<&str> {
        Some(self.common_name.as_str()).filter(|name| name.chars().count() <= keys::MAX_COMMON_NAME_LEN)
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::invalid(field, message)
}

/// `renewal_floor`: the soonest after issuance automatic renewal may be asked to happen
/// (`limits.renewal_floor_minutes`).
pub fn check(input: CertificateRequest, renewal_floor: std::time::Duration) -> Result<CheckedRequest, AppError> {
    if input.issuer_id.trim().is_empty() {
        return Err(invalid("issuer_id", "choose an issuer"));
    }
    if input.dns_names.len() + input.ip_sans.len() > MAX_NAMES {
        return Err(invalid("dns_names", format!("at most {MAX_NAMES} names per certificate")));
    }
    let mut dns_names: Vec<DnsName> = Vec::new();
    let common_name = match input.common_name.trim() {
        "" => None,
        given => Some(normalize_dns_name(given).map_err(|error| invalid("common_name", error.to_string()))?),
    };
    for name in common_name.iter().cloned().chain(
        input
            .dns_names
            .iter()
            .filter(|name| !name.trim().is_empty())
            .map(|name| normalize_dns_name(name).map_err(|error| invalid("dns_names", error.to_string())))
            .collect::<Result<Vec<_>, _>>()?,
    ) {
        if !dns_names.contains(&name) {
            dns_names.push(name);
        }
    }
    let Some(common_name) = dns_names.first().cloned() else {
        return Err(invalid("dns_names", "give at least one DNS name"));
    };
    let mut ip_sans: Vec<IpAddr> = Vec::new();
    for text in input.ip_sans.iter().filter(|ip| !ip.trim().is_empty()) {
        let ip = parse_ip_san(text).map_err(|error| invalid("ip_sans", error.to_string()))?;
        if !ip_sans.contains(&ip) {
            ip_sans.push(ip);
        }
    }
    if !(1..=MAX_VALIDITY_DAYS).contains(&input.validity_days) {
        return Err(invalid("validity_days", format!("choose between 1 and {MAX_VALIDITY_DAYS} days")));
    }
    let idempotency_key = match input.idempotency_key.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(key) if key.len() > MAX_IDEMPOTENCY_KEY || key.chars().any(char::is_control) => {
            return Err(invalid("idempotency_key", format!("at most {MAX_IDEMPOTENCY_KEY} printable characters")));
        }
        Some(key) => Some(key.to_owned()),
    };
    let (key, key_type, key_text) = match input.key {
        KeyChoice::Generate { key_type } => {
            let parsed: KeyType =
                key_type.parse().map_err(|error: keys::UnknownKeyType| invalid("key_type", error.to_string()))?;
            (CheckedKey::Generate(parsed), parsed, format!("generate:{}", parsed.as_str()))
        }
        KeyChoice::Csr { csr_pem } => {
            let csr = keys::parse_csr(csr_pem.as_bytes()).map_err(|error| invalid("csr", error.to_string()))?;
            // The CSR's names (its CN counted as a DNS name) must be exactly the requested ones.
            csr.names_equal(Some(&common_name), &dns_names, &ip_sans)
                .map_err(|error| invalid("csr", error.to_string()))?;
            let key_type = csr
                .key()
                .key_type
                .ok_or_else(|| invalid("csr", format!("certdesk does not issue for {} keys", csr.key().label())))?;
            let text = format!("csr:{}", hex::encode(Sha256::digest(csr.der())));
            (CheckedKey::Csr(Box::new(csr)), key_type, text)
        }
    };
    let renewal = super::renewal_settings::check(
        input.renewal.as_ref(),
        matches!(key, CheckedKey::Csr(_)),
        input.validity_days,
        renewal_floor,
    )?;
    let fingerprint = {
        let mut hash = Sha256::new();
        for part in [input.issuer_id.as_str(), &key_text, &input.validity_days.to_string(), &renewal.fingerprint()] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        for name in &dns_names {
            hash.update(name.as_str().as_bytes());
            hash.update([0]);
        }
        for ip in &ip_sans {
            hash.update(ip.to_string().as_bytes());
            hash.update([0]);
        }
        hash.update([u8::from(input.client_auth)]);
        hash.finalize().to_vec()
    };
    Ok(CheckedRequest {
        issuer_id: input.issuer_id,
        common_name,
        dns_names,
        ip_sans,
        validity_days: input.validity_days,
        key,
        key_type,
        client_auth: input.client_auth,
        idempotency_key,
        fingerprint,
        renewal,
    })
}

/// Lower-case text the inventory search matches against.
pub fn search_text(names: &[String], serial: Option<&str>, fingerprint: Option<&str>) -> String {
    let mut parts: Vec<String> = names.iter().map(|name| name.to_ascii_lowercase()).collect();
    parts.extend(serial.map(str::to_ascii_lowercase));
    parts.extend(fingerprint.map(|fingerprint| fingerprint.replace(':', "").to_ascii_lowercase()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use app::model::{CertificateRequest, KeyChoice};

    use super::check;

    const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

    fn request(names: &[String]) -> CertificateRequest {
        CertificateRequest {
            issuer_id: "private".into(),
            common_name: String::new(),
            dns_names: names.to_vec(),
            ip_sans: vec![],
            validity_days: 30,
            key: KeyChoice::Generate { key_type: "ec-p256".into() },
            client_auth: false,
            idempotency_key: None,
            renewal: None,
        }
    }

    #[test]
    fn the_first_name_is_the_subject_common_name_only_when_it_fits_in_64_characters() {
        let fits = format!("{}.example.test", "a".repeat(64 - ".example.test".len()));
        let too_long = format!("{}.example.test", "a".repeat(63));
        let checked = check(request(&[fits.clone(), "b.example.test".into()]), HOUR).unwrap();
        assert_eq!(checked.subject_common_name(), Some(fits.as_str()));
        let checked = check(request(&[too_long.clone(), "b.example.test".into()]), HOUR).unwrap();
        assert_eq!(checked.common_name.as_str(), too_long, "still the certificate's name in certdesk");
        assert_eq!(checked.subject_common_name(), None, "left out, not replaced by another name");
    }
}
