//! Account public keys as JSON Web Keys (RFC 7517/7518): the key types and algorithms certdesk accepts, their
//! RFC 7638 thumbprint, and signature verification with aws-lc-rs (no curve math here).

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `alg` values an account may sign with, as the `badSignatureAlgorithm` problem lists them.
pub const SUPPORTED_ALGORITHMS: [&str; 5] = ["ES256", "ES384", "RS256", "PS256", "EdDSA"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Es256,
    Es384,
    Rs256,
    Ps256,
    EdDsa,
}

impl Algorithm {
    /// `None` for anything certdesk refuses (`none`, the HMAC algorithms, unknown names).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "ES384" => Some(Self::Es384),
            "RS256" => Some(Self::Rs256),
            "PS256" => Some(Self::Ps256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }
}

/// A public key from a JWK, with the members its thumbprint covers (as sent, base64url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicJwk {
    Ec { curve: Curve, x: String, y: String, point: Vec<u8> },
    Rsa { n: String, e: String, modulus: Vec<u8>, exponent: Vec<u8> },
    Ed25519 { x: String, key: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

impl Curve {
    fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }

    fn coordinate_bytes(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }
}

/// Why a JWK is refused, said to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwkError(pub String);

fn member<'a>(jwk: &'a Value, name: &str) -> Result<&'a str, JwkError> {
    jwk.get(name).and_then(Value::as_str).ok_or_else(|| JwkError(format!("the JWK has no string member `{name}`")))
}

fn decoded(jwk: &Value, name: &str) -> Result<(String, Vec<u8>), JwkError> {
    let text = member(jwk, name)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JwkError(format!("the JWK member `{name}` is not base64url without padding")))?;
    Ok((text.to_owned(), bytes))
}

impl PublicJwk {
    /// Only public keys of the supported types; a JWK carrying a private member (`d`) is refused so that nobody
    /// registers their private key by mistake.
    pub fn parse(jwk: &Value) -> Result<Self, JwkError> {
        if !jwk.is_object() {
            return Err(JwkError("the JWK is not a JSON object".into()));
        }
        if jwk.get("d").is_some() {
            return Err(JwkError("the JWK holds a private key (`d`); send only the public key".into()));
        }
        match member(jwk, "kty")? {
            "EC" => {
                let curve = match member(jwk, "crv")? {
                    "P-256" => Curve::P256,
                    "P-384" => Curve::P384,
                    other => return Err(JwkError(format!("EC curve `{other}` is not supported; use P-256 or P-384"))),
                };
                let ((x, x_bytes), (y, y_bytes)) = (decoded(jwk, "x")?, decoded(jwk, "y")?);
                let size = curve.coordinate_bytes();
                if x_bytes.len() != size || y_bytes.len() != size {
                    return Err(JwkError(format!("{} coordinates are {size} bytes each", curve.name())));
                }
                let point = [&[4_u8][..], &x_bytes, &y_bytes].concat();
                Ok(Self::Ec { curve, x, y, point })
            }
            "RSA" => {
                let ((n, modulus), (e, exponent)) = (decoded(jwk, "n")?, decoded(jwk, "e")?);
                if modulus.len() < 256 {
                    return Err(JwkError("RSA keys must be at least 2048 bits".into()));
                }
                Ok(Self::Rsa { n, e, modulus, exponent })
            }
            "OKP" => match member(jwk, "crv")? {
                "Ed25519" => {
                    let (x, key) = decoded(jwk, "x")?;
                    if key.len() != 32 {
                        return Err(JwkError("an Ed25519 key is 32 bytes".into()));
                    }
                    Ok(Self::Ed25519 { x, key })
                }
                other => Err(JwkError(format!("OKP curve `{other}` is not supported; use Ed25519"))),
            },
            other => Err(JwkError(format!("key type `{other}` is not supported; use EC, RSA or OKP (Ed25519)"))),
        }
    }

    /// Whether this is the public key of the certificate `der` (revokeCert signed with the certificate's key).
    pub fn is_key_of_certificate(&self, der: &[u8]) -> bool {
        use x509_parser::public_key::PublicKey;
        let Ok((_, certificate)) = x509_parser::parse_x509_certificate(der) else {
            return false;
        };
        let spki = certificate.public_key();
        match (self, spki.parsed()) {
            (Self::Ec { point, .. }, Ok(PublicKey::EC(ec))) => ec.data() == point.as_slice(),
            (Self::Rsa { modulus, exponent, .. }, Ok(PublicKey::RSA(rsa))) => {
                let trim = |bytes: &[u8]| bytes.iter().skip_while(|byte| **byte == 0).copied().collect::<Vec<u8>>();
                trim(rsa.modulus) == trim(modulus) && trim(rsa.exponent) == trim(exponent)
            }
            (Self::Ed25519 { key, .. }, _) => {
                spki.algorithm.algorithm.to_id_string() == "1.3.101.112" && spki.subject_public_key.data.as_ref() == key
            }
            _ => false,
        }
    }

    /// RFC 7638: SHA-256 over the required members in lexicographic order, without whitespace, base64url.
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            Self::Ec { curve, x, y, .. } => {
                format!(r#"{{"crv":"{}","kty":"EC","x":"{x}","y":"{y}"}}"#, curve.name())
            }
            Self::Rsa { n, e, .. } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            Self::Ed25519 { x, .. } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// Whether `signature` by this key over `message` verifies under `algorithm`; an algorithm that does not fit
    /// the key type (ES256 with an RSA key) never verifies.
    pub fn verifies(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match (self, algorithm) {
            (Self::Ec { curve: Curve::P256, point, .. }, Algorithm::Es256) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(message, signature).is_ok()
            }
            (Self::Ec { curve: Curve::P384, point, .. }, Algorithm::Es384) => {
                UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point).verify(message, signature).is_ok()
            }
            (Self::Rsa { modulus, exponent, .. }, Algorithm::Rs256 | Algorithm::Ps256) => {
                let parameters = if algorithm == Algorithm::Rs256 {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                } else {
                    &signature::RSA_PSS_2048_8192_SHA256
                };
                RsaPublicKeyComponents { n: modulus, e: exponent }.verify(parameters, message, signature).is_ok()
            }
            (Self::Ed25519 { key, .. }, Algorithm::EdDsa) => {
                UnparsedPublicKey::new(&signature::ED25519, key).verify(message, signature).is_ok()
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 7638 §3.1's example key and thumbprint.
    #[test]
    fn the_thumbprint_of_rfc_7638s_example_key() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let key = PublicJwk::parse(&jwk).unwrap();
        assert_eq!(key.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn an_ec_signature_verifies_only_with_its_algorithm_and_message() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = json!({ "kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                          "y": URL_SAFE_NO_PAD.encode(&point[33..]) });
        let key = PublicJwk::parse(&jwk).unwrap();
        let signature = pair.sign(&rng, b"message").unwrap();
        assert!(key.verifies(Algorithm::Es256, b"message", signature.as_ref()));
        assert!(!key.verifies(Algorithm::Es256, b"another message", signature.as_ref()));
        assert!(!key.verifies(Algorithm::Es384, b"message", signature.as_ref()));
        assert!(!key.verifies(Algorithm::Rs256, b"message", signature.as_ref()));
    }

    #[test]
    fn every_supported_algorithm_verifies_with_its_own_key_type_only() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::rsa::KeySize;
        use aws_lc_rs::signature::{
            ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
            RsaKeyPair,
        };
        let rng = SystemRandom::new();
        let message = b"protected.payload";

        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
        let p384 = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = p384.public_key().as_ref();
        let jwk = json!({ "kty": "EC", "crv": "P-384", "x": URL_SAFE_NO_PAD.encode(&point[1..49]),
                          "y": URL_SAFE_NO_PAD.encode(&point[49..]) });
        let key = PublicJwk::parse(&jwk).unwrap();
        let signature = p384.sign(&rng, message).unwrap();
        assert!(key.verifies(Algorithm::Es384, message, signature.as_ref()));
        assert!(!key.verifies(Algorithm::Es256, message, signature.as_ref()));

        let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = rsa.public_key();
        let jwk = json!({ "kty": "RSA",
                          "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                          "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()) });
        let key = PublicJwk::parse(&jwk).unwrap();
        let mut pkcs1 = vec![0_u8; rsa.public_modulus_len()];
        rsa.sign(&RSA_PKCS1_SHA256, &rng, message, &mut pkcs1).unwrap();
        let mut pss = vec![0_u8; rsa.public_modulus_len()];
        rsa.sign(&RSA_PSS_SHA256, &rng, message, &mut pss).unwrap();
        assert!(key.verifies(Algorithm::Rs256, message, &pkcs1));
        assert!(key.verifies(Algorithm::Ps256, message, &pss));
        assert!(!key.verifies(Algorithm::Rs256, message, &pss), "PSS is not PKCS#1 v1.5");
        assert!(!key.verifies(Algorithm::Es256, message, &pkcs1));

        let ed25519 = Ed25519KeyPair::generate().unwrap();
        let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(ed25519.public_key().as_ref()) });
        let key = PublicJwk::parse(&jwk).unwrap();
        let signature = ed25519.sign(message);
        assert!(key.verifies(Algorithm::EdDsa, message, signature.as_ref()));
        assert!(!key.verifies(Algorithm::EdDsa, b"another message", signature.as_ref()));
        assert_eq!(key.thumbprint().len(), 43, "SHA-256, base64url without padding");
    }

    #[test]
    fn unsupported_or_private_or_mis_sized_keys_are_refused() {
        let refused = |jwk: Value| PublicJwk::parse(&jwk).unwrap_err().0;
        assert!(refused(json!({ "kty": "oct", "k": "AAAA" })).contains("`oct`"));
        assert!(refused(json!({ "kty": "EC", "crv": "P-521", "x": "AA", "y": "AA" })).contains("P-521"));
        assert!(refused(json!({ "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA" })).contains("32 bytes"));
        assert!(refused(json!({ "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA" })).contains("private"));
        assert!(refused(json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB" })).contains("2048"));
        assert!(refused(json!("a string")).contains("object"));
        assert!(refused(json!({ "kty": "EC", "crv": "P-256", "x": "not base64!", "y": "AA" })).contains("base64url"));
        assert_eq!(Algorithm::parse("none"), None);
        assert_eq!(Algorithm::parse("HS256"), None);
        assert_eq!(Algorithm::parse("ES256"), Some(Algorithm::Es256));
    }
}
