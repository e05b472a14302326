//! Checking a CSR a user brings: the container (PEM or DER), the self-signature, the key, and the names.

mod input;
mod names;
mod signature;

use std::net::IpAddr;

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::{KeyDescription, MAX_COMMON_NAME_LEN, PublicKeyKind, encode_pem};
use crate::names::{DnsName, NameError};

pub use input::MAX_CSR_BYTES;

/// Why a CSR was refused, in words for the person who pasted it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    #[error("the certificate request is empty")]
    Empty,
    #[error("the certificate request is too large ({size} bytes; the limit is 64 KiB)")]
    TooLarge { size: usize },
    #[error("this is not a certificate request: expected PEM ('-----BEGIN CERTIFICATE REQUEST-----') or DER")]
    NotACsr,
    #[error("this is a {label}, not a certificate request")]
    WrongPemLabel { label: String },
    #[error("this is a private key, not a certificate request; never share a private key, paste the CSR instead")]
    PrivateKeyPasted,
    #[error("the input holds {count} PEM blocks; paste exactly one certificate request")]
    MultiplePemBlocks { count: usize },
    #[error("there is text before or after the PEM block; paste only the certificate request")]
    TextAroundPem,
    #[error("the PEM block is damaged (broken base64 or BEGIN/END lines)")]
    BadPem,
    #[error("the certificate request is malformed: {reason}")]
    Malformed { reason: String },
    #[error("the certificate request is followed by {bytes} bytes of unexpected data")]
    TrailingData { bytes: usize },
    #[error("RSA keys must be at least 2048 bits (this one has {bits})")]
    RsaTooSmall { bits: u32 },
    #[error("RSA keys larger than 8192 bits are not supported (this one has {bits})")]
    RsaTooLarge { bits: u32 },
    #[error("the RSA public exponent must be an odd number of at least 65537 (this one is {exponent})")]
    RsaExponent { exponent: String },
    #[error("EC keys on {curve} are not supported; use P-256 or P-384")]
    UnsupportedCurve { curve: String },
    #[error("{algorithm} keys are not supported; use RSA (2048 bits or more), EC P-256/P-384 or Ed25519")]
    UnsupportedKey { algorithm: String },
    #[error("the CSR is signed with an algorithm certdesk cannot check ({algorithm})")]
    UnsupportedSignatureAlgorithm { algorithm: String },
    #[error("the CSR is signed with {hash} ({algorithm}); sign it with SHA-256 or better")]
    WeakSignature { hash: &'static str, algorithm: &'static str },
    #[error("the CSR's signature does not verify")]
    BadSignature,
    #[error("the CSR asks for a {kind} name ({value}); only DNS names and IP addresses are supported")]
    UnsupportedSan { kind: &'static str, value: String },
    #[error(
        "the CSR's common name '{common_name}' is {len} characters long, and certificates allow at most 64: make \
        the CSR without a common name (the subjectAltName carries the names) or with a name of at most 64 \
        characters"
    )]
    CommonNameTooLong { common_name: String, len: usize },
    #[error("the CSR's {field} is not acceptable: {source}")]
    InvalidName {
        field: &'static str,
        #[source]
        source: NameError,
    },
    #[error("the CSR's names do not match the request: {}", names::describe_difference(extra, missing))]
    NamesDiffer { extra: Vec<String>, missing: Vec<String> },
}

/// A CSR that parsed, whose self-signature verifies and whose key is acceptable.
#[derive(Debug, Clone)]
pub struct CheckedCsr {
    der: Vec<u8>,
    common_name: Option<String>,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
    key: KeyDescription,
}

/// Parses and checks a CSR given as PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) or raw DER.
pub fn parse_csr(input: &[u8]) -> Result<CheckedCsr, CsrError> {
    let der = input::decode(input)?;
    CheckedCsr::from_der(der)
}

impl CheckedCsr {
    fn from_der(der: Vec<u8>) -> Result<Self, CsrError> {
        let (common_name, dns_names, ip_addresses, key) = inspect(&der)?;
        Ok(Self { der, common_name, dns_names, ip_addresses, key })
    }

    /// Canonical PEM (re-encoded from the DER, LF line endings), whatever form the user pasted.
    pub fn pem(&self) -> String {
        encode_pem("CERTIFICATE REQUEST", &self.der).to_string()
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject's common name exactly as written in the CSR.
    pub fn common_name(&self) -> Option<String> {
        self.common_name.clone()
    }

    /// The DNS names of the requested subjectAltName extension, exactly as written in the CSR.
    pub fn dns_names(&self) -> Vec<String> {
        self.dns_names.clone()
    }

    pub fn ip_addresses(&self) -> Vec<IpAddr> {
        self.ip_addresses.clone()
    }

    pub fn key(&self) -> &KeyDescription {
        &self.key
    }

    /// Whether the CSR names exactly what was requested (the common name counts as a DNS name on both sides;
    /// case, order and duplicates do not matter). The error lists the extra and the missing names.
    pub fn names_equal(&self, common_name: Option<&DnsName>, dns: &[DnsName], ips: &[IpAddr]) -> Result<(), CsrError> {
        names::compare(self, common_name, dns, ips)
    }
}

type CsrParts = (Option<String>, Vec<String>, Vec<IpAddr>, KeyDescription);

fn inspect(der: &[u8]) -> Result<CsrParts, CsrError> {
    let (rest, csr) =
        X509CertificationRequest::from_der(der).map_err(|e| CsrError::Malformed { reason: malformed_reason(e) })?;
    if !rest.is_empty() {
        return Err(CsrError::TrailingData { bytes: rest.len() });
    }
    let info = &csr.certification_request_info;
    if info.version.0 != 0 {
        return Err(CsrError::Malformed { reason: format!("unknown version {}", info.version.0) });
    }

    // The key is judged before the signature: for a refused key type (P-521, DSA) the signature cannot be
    // checked at all, and "signature does not verify" would send the user looking in the wrong place.
    let key = PublicKeyKind::from_spki(&info.subject_pki).check()?;
    // Refused before verifying: x509-parser still verifies SHA-1 RSA signatures.
    if let Some(weak) = signature::weak(&csr.signature_algorithm.algorithm.to_id_string()) {
        return Err(CsrError::WeakSignature { hash: weak.hash, algorithm: weak.algorithm });
    }
    csr.verify_signature().map_err(|e| match e {
        X509Error::SignatureUnsupportedAlgorithm => {
            CsrError::UnsupportedSignatureAlgorithm { algorithm: csr.signature_algorithm.algorithm.to_id_string() }
        }
        _ => CsrError::BadSignature,
    })?;

    let mut common_names = info.subject.iter_common_name();
    let common_name = match common_names.next() {
        Some(cn) => Some(
            cn.as_str()
                .map_err(|_| CsrError::Malformed { reason: "the common name is not readable text".to_owned() })?
                .to_owned(),
        ),
        None => None,
    };
    if common_names.next().is_some() {
        return Err(CsrError::Malformed { reason: "the subject has more than one common name".to_owned() });
    }
    // X.520's upper bound: an issuer would either refuse it or sign a certificate that breaks RFC 5280, and the
    // CSR's own signature keeps certdesk from leaving it out.
    if let Some(common_name) = &common_name
        && common_name.chars().count() > MAX_COMMON_NAME_LEN
    {
        return Err(CsrError::CommonNameTooLong { common_name: common_name.clone(), len: common_name.chars().count() });
    }

    let (dns_names, ip_addresses) = requested_sans(&csr)?;
    Ok((common_name, dns_names, ip_addresses, key))
}

fn malformed_reason(e: x509_parser::nom::Err<X509Error>) -> String {
    match e {
        x509_parser::nom::Err::Incomplete(_) => "it is truncated".to_owned(),
        x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => e.to_string(),
    }
}

fn requested_sans(csr: &X509CertificationRequest<'_>) -> Result<(Vec<String>, Vec<IpAddr>), CsrError> {
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    let Some(extensions) = csr.requested_extensions() else {
        return Ok((dns, ips));
    };
    for extension in extensions {
        let ParsedExtension::SubjectAlternativeName(san) = extension else {
            if let ParsedExtension::ParseError { error } = extension {
                return Err(CsrError::Malformed { reason: format!("a requested extension is unreadable: {error}") });
            }
            continue;
        };
        for name in &san.general_names {
            match name {
                GeneralName::DNSName(name) => dns.push((*name).to_owned()),
                GeneralName::IPAddress(bytes) => ips.push(ip_from_bytes(bytes)?),
                GeneralName::RFC822Name(value) => {
                    return Err(CsrError::UnsupportedSan { kind: "email", value: (*value).to_owned() });
                }
                GeneralName::URI(value) => {
                    return Err(CsrError::UnsupportedSan { kind: "URI", value: (*value).to_owned() });
                }
                other => return Err(CsrError::UnsupportedSan { kind: "non-DNS", value: other.to_string() }),
            }
        }
    }
    Ok((dns, ips))
}

fn ip_from_bytes(bytes: &[u8]) -> Result<IpAddr, CsrError> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Ok(IpAddr::from(v4));
    }
    if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        return Ok(IpAddr::from(v6));
    }
    Err(CsrError::Malformed { reason: format!("an IP address SAN has {} bytes (expected 4 or 16)", bytes.len()) })
}
