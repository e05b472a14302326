//! The key types certdesk generates and accepts, by name.

use std::fmt;
use std::str::FromStr;

/// The broad algorithm family of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyFamily {
    Ec,
    Rsa,
    Ed25519,
}

impl KeyFamily {
    pub const ALL: [KeyFamily; 3] = [KeyFamily::Ec, KeyFamily::Rsa, KeyFamily::Ed25519];
}

/// A key type certdesk can generate, and the CSR key shapes it recognises by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyType {
    EcP256,
    EcP384,
    Rsa2048,
    Rsa3072,
    Rsa4096,
    Ed25519,
}

impl KeyType {
    pub const ALL: [KeyType; 6] =
        [KeyType::EcP256, KeyType::EcP384, KeyType::Rsa2048, KeyType::Rsa3072, KeyType::Rsa4096, KeyType::Ed25519];

    /// The name used in URLs, forms and JSON (same as serde).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::EcP256 => "ec-p256",
            KeyType::EcP384 => "ec-p384",
            KeyType::Rsa2048 => "rsa2048",
            KeyType::Rsa3072 => "rsa3072",
            KeyType::Rsa4096 => "rsa4096",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            KeyType::EcP256 => "EC P-256",
            KeyType::EcP384 => "EC P-384",
            KeyType::Rsa2048 => "RSA 2048",
            KeyType::Rsa3072 => "RSA 3072",
            KeyType::Rsa4096 => "RSA 4096",
            KeyType::Ed25519 => "Ed25519",
        }
    }

    pub fn family(self) -> KeyFamily {
        match self {
            KeyType::EcP256 | KeyType::EcP384 => KeyFamily::Ec,
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => KeyFamily::Rsa,
            KeyType::Ed25519 => KeyFamily::Ed25519,
        }
    }

    /// RSA modulus size or EC field size in bits; 256 for Ed25519 (its security level is ~128 like P-256).
    pub fn bits(self) -> u32 {
        match self {
            KeyType::EcP256 | KeyType::Ed25519 => 256,
            KeyType::EcP384 => 384,
            KeyType::Rsa2048 => 2048,
            KeyType::Rsa3072 => 3072,
            KeyType::Rsa4096 => 4096,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a key type; use one of: ec-p256, ec-p384, rsa2048, rsa3072, rsa4096, ed25519")]
pub struct UnknownKeyType(pub String);

impl FromStr for KeyType {
    type Err = UnknownKeyType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        KeyType::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownKeyType(wanted.to_owned()))
    }
}
