//! What kind of public key a CSR or certificate carries, how to name it, and whether certdesk accepts it.

use x509_parser::prelude::FromDer;
use x509_parser::public_key::{PublicKey, RSAPublicKey};
use x509_parser::x509::SubjectPublicKeyInfo;

use super::{CsrError, KeyFamily, KeyType};

const MIN_RSA_BITS: u32 = 2048;
/// ring (behind signature verification here and in most Rust TLS stacks) stops at 8192.
const MAX_RSA_BITS: u32 = 8192;
const MIN_RSA_EXPONENT: u64 = 65537;

/// The accepted public key of a CSR. `key_type` is the matching generated key type, when there is one (an RSA
/// 2560-bit key is accepted but matches none).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyDescription {
    pub family: KeyFamily,
    pub bits: u32,
    pub curve: Option<&'static str>,
    pub key_type: Option<KeyType>,
}

impl KeyDescription {
    /// "EC P-256", "RSA 2048", "Ed25519".
    pub fn label(&self) -> String {
        match self.family {
            KeyFamily::Ec => format!("EC {}", self.curve.unwrap_or("unknown curve")),
            KeyFamily::Rsa => format!("RSA {}", self.bits),
            KeyFamily::Ed25519 => "Ed25519".to_owned(),
        }
    }
}

/// Every public key shape worth a specific message. Built from a SubjectPublicKeyInfo; never fails, so that
/// certificate facts can name keys that certdesk would not accept in a CSR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKeyKind {
    Rsa { bits: u32, exponent: Option<u64> },
    RsaPss { bits: u32 },
    Ec { curve: String },
    Ed25519,
    Ed448,
    Dsa { bits: u32 },
    Other { algorithm: String },
}

impl PublicKeyKind {
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Self {
        let algorithm = spki.algorithm.algorithm.to_id_string();
        match algorithm.as_str() {
            "1.2.840.113549.1.1.1" => match spki.parsed() {
                Ok(PublicKey::RSA(rsa)) => {
                    Self::Rsa { bits: bit_length(rsa.modulus), exponent: rsa.try_exponent().ok() }
                }
                _ => Self::Other { algorithm: "RSA (unreadable)".to_owned() },
            },
            "1.2.840.113549.1.1.10" => {
                let bits = match RSAPublicKey::from_der(&spki.subject_public_key.data) {
                    Ok((_, rsa)) => bit_length(rsa.modulus),
                    Err(_) => 0,
                };
                Self::RsaPss { bits }
            }
            "1.2.840.10045.2.1" => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|oid| curve_name(&oid.to_id_string()))
                    .unwrap_or_else(|| "unnamed curve".to_owned());
                Self::Ec { curve }
            }
            "1.3.101.112" => Self::Ed25519,
            "1.3.101.113" => Self::Ed448,
            "1.2.840.10040.4.1" => Self::Dsa { bits: spki.parsed().map(|k| k.key_size() as u32).unwrap_or(0) },
            _ => Self::Other { algorithm },
        }
    }

    /// "EC P-256", "RSA 2048", "Ed25519", also for keys certdesk would refuse ("EC P-521", "DSA").
    pub(crate) fn label(&self) -> String {
        match self {
            Self::Rsa { bits, .. } => format!("RSA {bits}"),
            Self::RsaPss { bits } => format!("RSA-PSS {bits}"),
            Self::Ec { curve } => format!("EC {curve}"),
            Self::Ed25519 => "Ed25519".to_owned(),
            Self::Ed448 => "Ed448".to_owned(),
            // x509-parser sizes DSA keys by their encoded integer (2056 for some 2048-bit keys): no size shown.
            Self::Dsa { .. } => "DSA".to_owned(),
            Self::Other { algorithm } => format!("unknown ({algorithm})"),
        }
    }

    /// The key policy for CSRs: RSA 2048–8192 with exponent ≥ 65537, EC P-256/P-384, Ed25519.
    pub(crate) fn check(&self) -> Result<KeyDescription, CsrError> {
        match self {
            Self::Rsa { bits, exponent } => {
                let bits = *bits;
                if bits < MIN_RSA_BITS {
                    return Err(CsrError::RsaTooSmall { bits });
                }
                if bits > MAX_RSA_BITS {
                    return Err(CsrError::RsaTooLarge { bits });
                }
                match exponent {
                    Some(e) if *e >= MIN_RSA_EXPONENT && e % 2 == 1 => {}
                    Some(e) => return Err(CsrError::RsaExponent { exponent: e.to_string() }),
                    None => return Err(CsrError::RsaExponent { exponent: "larger than 64 bits".to_owned() }),
                }
                let key_type = match bits {
                    2048 => Some(KeyType::Rsa2048),
                    3072 => Some(KeyType::Rsa3072),
                    4096 => Some(KeyType::Rsa4096),
                    _ => None,
                };
                Ok(KeyDescription { family: KeyFamily::Rsa, bits, curve: None, key_type })
            }
            Self::Ec { curve } => match curve.as_str() {
                "P-256" => Ok(KeyDescription {
                    family: KeyFamily::Ec,
                    bits: 256,
                    curve: Some("P-256"),
                    key_type: Some(KeyType::EcP256),
                }),
                "P-384" => Ok(KeyDescription {
                    family: KeyFamily::Ec,
                    bits: 384,
                    curve: Some("P-384"),
                    key_type: Some(KeyType::EcP384),
                }),
                other => Err(CsrError::UnsupportedCurve { curve: other.to_owned() }),
            },
            Self::Ed25519 => Ok(KeyDescription {
                family: KeyFamily::Ed25519,
                bits: 256,
                curve: None,
                key_type: Some(KeyType::Ed25519),
            }),
            other => Err(CsrError::UnsupportedKey { algorithm: other.label() }),
        }
    }
}

/// Significant bits of a big-endian unsigned integer (DER integers may carry a leading zero byte).
fn bit_length(be: &[u8]) -> u32 {
    let mut digits = be.iter().skip_while(|b| **b == 0);
    match digits.next() {
        Some(first) => (8 - first.leading_zeros()) + 8 * digits.count() as u32,
        None => 0,
    }
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.132.0.33" => "P-224",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        other => return format!("curve {other}"),
    }
    .to_owned()
}
