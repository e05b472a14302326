//! The facts about a certificate that certdesk stores (as JSON) and shows on its detail page.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::BundleError;
use super::dn::{common_name, rfc4514};
use crate::keys::PublicKeyKind;

const OID_OCSP: &str = "1.3.6.1.5.5.7.48.1";
const OID_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertificateFacts {
    /// RFC 4514, e.g. "CN=www.example.com,O=Example".
    pub subject: String,
    pub common_name: Option<String>,
    pub issuer: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    /// Lower-case hex without separators or leading zero bytes; see `serial_hex` / `serial_colon`.
    serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Upper-case hex pairs separated by ':', as `openssl x509 -fingerprint -sha256` prints it.
    pub sha256_fingerprint: String,
    /// "EC P-256", "RSA 2048", "Ed25519".
    pub key_algorithm: String,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
    pub crl_distribution_points: Vec<String>,
    pub ocsp_urls: Vec<String>,
    pub ca_issuer_urls: Vec<String>,
    pub is_ca: bool,
}

impl CertificateFacts {
    /// "3a0f01": the serial as one lower-case hex number.
    pub fn serial_hex(&self) -> &str {
        &self.serial
    }

    /// "3a:0f:01": the form OpenBao uses in `cert/{serial}` and `revoke`.
    pub fn serial_colon(&self) -> String {
        colon_separated(&self.serial)
    }
}

pub fn certificate_facts(der: &[u8]) -> Result<CertificateFacts, BundleError> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| BundleError::BadCertificate { reason: e.to_string() })?;
    if !rest.is_empty() {
        return Err(BundleError::BadCertificate {
            reason: format!("{} bytes of unexpected trailing data", rest.len()),
        });
    }
    let unreadable = |what: &str| BundleError::BadCertificate { reason: format!("its {what} extension is unreadable") };

    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Some(san) = cert.subject_alternative_name().map_err(|_| unreadable("subjectAltName"))? {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => dns_names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                        ip_addresses.push(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                        ip_addresses.push(IpAddr::from(v6));
                    }
                }
                _ => {}
            }
        }
    }

    let key_usage = match cert.key_usage().map_err(|_| unreadable("keyUsage"))? {
        Some(ku) => key_usage_names(ku.value.flags),
        None => Vec::new(),
    };
    let extended_key_usage = match cert.extended_key_usage().map_err(|_| unreadable("extendedKeyUsage"))? {
        Some(eku) => extended_key_usage_names(eku.value),
        None => Vec::new(),
    };

    let mut crl_distribution_points = Vec::new();
    let mut ocsp_urls = Vec::new();
    let mut ca_issuer_urls = Vec::new();
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                        crl_distribution_points.extend(uris(names));
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for access in &aia.accessdescs {
                    let GeneralName::URI(uri) = access.access_location else { continue };
                    match access.access_method.to_id_string().as_str() {
                        OID_OCSP => ocsp_urls.push(uri.to_owned()),
                        OID_CA_ISSUERS => ca_issuer_urls.push(uri.to_owned()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    Ok(CertificateFacts {
        subject: rfc4514(cert.subject()),
        common_name: common_name(cert.subject()),
        issuer: rfc4514(cert.issuer()),
        dns_names,
        ip_addresses,
        serial: serial_hex(cert.raw_serial()),
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        sha256_fingerprint: fingerprint(der),
        key_algorithm: PublicKeyKind::from_spki(cert.public_key()).label(),
        key_usage,
        extended_key_usage,
        crl_distribution_points,
        ocsp_urls,
        ca_issuer_urls,
        is_ca: cert.is_ca(),
    })
}

/// The `keyIdentifier` of a certificate's authority key identifier extension (RFC 5280 §4.2.1.1), which with the
/// serial names it to its CA (RFC 9773 §4.1).
pub fn authority_key_identifier(der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::extensions::ParsedExtension;
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    certificate.iter_extensions().find_map(|extension| match extension.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.as_ref().map(|id| id.0.to_vec()),
        _ => None,
    })
}

/// Leading zero bytes (DER's sign padding) are dropped, as OpenBao's serials have none.
/// "3a:0f:01" from a DER serial's octets (a leading zero octet of a positive serial is dropped).
pub fn serial_colon_of(raw: &[u8]) -> String {
    colon_separated(&serial_hex(raw))
}

fn colon_separated(hex: &str) -> String {
    hex.as_bytes().chunks(2).map(|pair| String::from_utf8_lossy(pair).into_owned()).collect::<Vec<_>>().join(":")
}

fn serial_hex(raw: &[u8]) -> String {
    let significant: Vec<u8> = raw.iter().copied().skip_while(|b| *b == 0).collect();
    if significant.is_empty() { "00".to_owned() } else { hex::encode(significant) }
}

pub(crate) fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn uris<'a>(names: &'a [GeneralName<'a>]) -> impl Iterator<Item = String> + 'a {
    names.iter().filter_map(|name| match name {
        GeneralName::URI(uri) => Some((*uri).to_owned()),
        _ => None,
    })
}

/// OpenSSL's names, in the bit order of RFC 5280 §4.2.1.3.
fn key_usage_names(flags: u16) -> Vec<String> {
    const NAMES: [&str; 9] = [
        "Digital Signature",
        "Non Repudiation",
        "Key Encipherment",
        "Data Encipherment",
        "Key Agreement",
        "Certificate Sign",
        "CRL Sign",
        "Encipher Only",
        "Decipher Only",
    ];
    NAMES.iter().enumerate().filter(|(bit, _)| flags & (1 << bit) != 0).map(|(_, name)| (*name).to_owned()).collect()
}

fn extended_key_usage_names(eku: &x509_parser::extensions::ExtendedKeyUsage<'_>) -> Vec<String> {
    let known = [
        (eku.server_auth, "TLS Web Server Authentication"),
        (eku.client_auth, "TLS Web Client Authentication"),
        (eku.code_signing, "Code Signing"),
        (eku.email_protection, "E-mail Protection"),
        (eku.time_stamping, "Time Stamping"),
        (eku.ocsp_signing, "OCSP Signing"),
        (eku.any, "Any Extended Key Usage"),
    ];
    known
        .into_iter()
        .filter(|(present, _)| *present)
        .map(|(_, name)| name.to_owned())
        .chain(eku.other.iter().map(|oid| oid.to_id_string()))
        .collect()
}
