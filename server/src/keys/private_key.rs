//! Private keys certdesk generates: PKCS#8 DER held in zeroizing memory, and the signing key pair built from it.

use std::fmt;

use rcgen::{KeyPair, SignatureAlgorithm};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use zeroize::Zeroizing;

use super::{KeyError, KeyType, encode_pem};

/// A private key as PKCS#8 DER. Debug output shows only the key type.
pub struct PrivateKey {
    key_type: KeyType,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl PrivateKey {
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// PEM with the `PRIVATE KEY` label, as nginx, Apache, HAProxy and Kubernetes expect.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        encode_pem("PRIVATE KEY", &self.pkcs8)
    }

    /// Loads a stored PKCS#8 key and works out which of the supported key types it is.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::InvalidPrivateKey { reason };
        let pair = KeyPair::try_from(der).map_err(|e| invalid(e.to_string()))?;
        let alg = pair.algorithm();
        let key_type = if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
            KeyType::EcP256
        } else if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
            KeyType::EcP384
        } else if alg == &rcgen::PKCS_ED25519 {
            KeyType::Ed25519
        } else if [&rcgen::PKCS_RSA_SHA256, &rcgen::PKCS_RSA_SHA384, &rcgen::PKCS_RSA_SHA512].contains(&alg) {
            let rsa = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|e| invalid(e.to_string()))?;
            match rsa.n().bits() {
                2048 => KeyType::Rsa2048,
                3072 => KeyType::Rsa3072,
                4096 => KeyType::Rsa4096,
                other => return Err(invalid(format!("RSA keys must be 2048, 3072 or 4096 bits, not {other}"))),
            }
        } else {
            return Err(invalid("unsupported algorithm".to_owned()));
        };
        Ok(Self { key_type, pkcs8: Zeroizing::new(der.to_vec()) })
    }

    /// The rcgen signing key. Its internal copy of the DER is not zeroized by rcgen, so keep it short-lived.
    pub(crate) fn key_pair(&self) -> Result<KeyPair, KeyError> {
        KeyPair::from_pkcs8_der_and_sign_algo(&self.pkcs8_der().into(), signature_algorithm(self.key_type))
            .map_err(|e| KeyError::InvalidPrivateKey { reason: e.to_string() })
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey").field("key_type", &self.key_type).finish_non_exhaustive()
    }
}

/// The signature algorithm a CSR made with this key uses: SHA-256 for RSA (universally accepted), the
/// curve's matching hash for ECDSA.
fn signature_algorithm(key_type: KeyType) -> &'static SignatureAlgorithm {
    match key_type {
        KeyType::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyType::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
        KeyType::Ed25519 => &rcgen::PKCS_ED25519,
    }
}

/// Generates a fresh key. RSA comes from the `rsa` crate because ring (rcgen's backend) cannot generate RSA
/// keys; EC and Ed25519 come from ring via rcgen.
pub fn generate(key_type: KeyType) -> Result<PrivateKey, KeyError> {
    let failed = |reason: String| KeyError::Generation { key_type: key_type.label(), reason };
    let pkcs8 = match key_type {
        KeyType::EcP256 | KeyType::EcP384 => {
            let pair = KeyPair::generate_for(signature_algorithm(key_type)).map_err(|e| failed(e.to_string()))?;
            Zeroizing::new(pair.serialize_der())
        }
        KeyType::Ed25519 => {
            let pair = KeyPair::generate_for(signature_algorithm(key_type)).map_err(|e| failed(e.to_string()))?;
            let v2 = Zeroizing::new(pair.serialize_der());
            ed25519_pkcs8_v1(&v2).ok_or_else(|| failed("unexpected PKCS#8 layout from ring".to_owned()))?
        }
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
            let bits = key_type.bits() as usize;
            let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).map_err(|e| failed(e.to_string()))?;
            key.to_pkcs8_der().map_err(|e| failed(e.to_string()))?.to_bytes()
        }
    };
    Ok(PrivateKey { key_type, pkcs8 })
}

/// ring writes Ed25519 keys as PKCS#8 v2 (RFC 5958, with the public key attached), which OpenSSL 3.0 refuses
/// to load ("unsupported"), and with it nginx, HAProxy and friends. Re-wrap the seed as plain PKCS#8 v1
/// (RFC 8410), the form `openssl genpkey -algorithm ed25519` writes.
fn ed25519_pkcs8_v1(v2: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    // SEQUENCE(81) { INTEGER 1, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) seed }, [1] pub }
    const V2_PREFIX: [u8; 16] =
        [0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    const V1_PREFIX: [u8; 16] =
        [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    let seed = v2.strip_prefix(&V2_PREFIX)?.get(..32)?;
    let mut v1 = Zeroizing::new(Vec::with_capacity(V1_PREFIX.len() + seed.len()));
    v1.extend_from_slice(&V1_PREFIX);
    v1.extend_from_slice(seed);
    Some(v1)
}
