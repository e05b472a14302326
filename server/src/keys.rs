//! Private keys and certificate signing requests: generating keys of the supported types, building CSRs for
//! them, and checking CSRs that users bring (format, self-signature, key strength, names).

mod build;
mod csr;
mod key_type;
mod pem_text;
mod private_key;
mod public_key;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

pub use build::build_csr;
pub use csr::{CheckedCsr, CsrError, MAX_CSR_BYTES, parse_csr};
pub use key_type::{KeyFamily, KeyType, UnknownKeyType};
pub use private_key::{PrivateKey, generate};
pub use public_key::KeyDescription;

pub(crate) use pem_text::encode_pem;

/// X.520 ub-common-name: a subject common name has at most 64 characters, and CAs refuse longer ones. A longer DNS
/// name (a 63-character label under a zone, up to 253 characters in all) is legal and goes in the subjectAltName
/// only, as public CAs issue it.
pub const MAX_COMMON_NAME_LEN: usize = 64;
pub(crate) use public_key::PublicKeyKind;

/// Why a key or CSR could not be produced. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate the {key_type} key: {reason}")]
    Generation { key_type: &'static str, reason: String },
    #[error("the private key is not a usable PKCS#8 key of a supported type ({reason})")]
    InvalidPrivateKey { reason: String },
    #[error("a certificate request needs at least one name: a common name, a DNS name or an IP address")]
    NoNames,
    #[error("the common name is {len} characters long; certificates allow at most 64")]
    CommonNameTooLong { len: usize },
    #[error("could not build the certificate request: {0}")]
    Csr(String),
}
