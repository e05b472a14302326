//! Encryption of secrets at rest (local TOTP secrets, server-generated private keys): AES-256-GCM under a named
//! key-encryption key from configuration. Each ciphertext keeps the id of the key that sealed it, so keys can be
//! rotated: new secrets use the active key, old ones stay readable while their key is still configured.
//!
//! Every ciphertext is bound to a context (its purpose and owner, e.g. `totp:{user_id}`) as associated data, so
//! a ciphertext copied onto another row does not open.

pub mod rotation;

use std::collections::HashMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;
use uuid::Uuid;
use zeroize::Zeroizing;

/// AES-GCM's standard 96-bit nonce; random nonces are safe far beyond the number of secrets certdesk seals.
const NONCE_BYTES: usize = 12;
pub const KEY_BYTES: usize = 32;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the secret was sealed with key `{0}`, which is not configured (encryption.keys)")]
    UnknownKey(String),
    #[error("the sealed secret does not open: wrong key, wrong owner, or altered ciphertext")]
    Corrupt,
    #[error("the secret is too large to seal")]
    TooLarge,
}

/// Associated data of a local TOTP secret (`local_totp`): it opens only as this person's secret.
pub fn totp_context(user_id: Uuid) -> String {
    format!("totp:{user_id}")
}

/// Associated data of a server-generated private key (`certificates`): it opens only as this certificate's key.
pub fn private_key_context(certificate_id: Uuid) -> String {
    format!("key:{certificate_id}")
}

/// Associated data of an ACME account's credentials (`acme_accounts`): they open only as this issuer's account.
pub fn acme_account_context(issuer_id: &str) -> String {
    format!("acme-account:{issuer_id}")
}

/// Associated data of the HMAC key of a person's ACME account key (`acme_account_keys`, certdesk's ACME server):
/// it opens only as that key's.
pub fn acme_account_key_context(id: Uuid) -> String {
    format!("acme-eab:{id}")
}

/// A sealed secret as stored: the key id, the nonce, and ciphertext with its authentication tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

/// The configured key-encryption keys and which one seals new secrets.
#[derive(Clone)]
pub struct Sealer {
    active: String,
    active_key: Key<Aes256Gcm>,
    keys: HashMap<String, Key<Aes256Gcm>>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("Sealer").field("active", &self.active).field("key_ids", &ids).finish()
    }
}

impl Sealer {
    /// `keys` are (id, 32 raw bytes); `active` must be one of them (configuration validation guarantees it).
    pub fn new(active: &str, keys: &[(String, Zeroizing<Vec<u8>>)]) -> Option<Self> {
        let keys: HashMap<String, Key<Aes256Gcm>> = keys
            .iter()
            .filter(|(_, bytes)| bytes.len() == KEY_BYTES)
            .map(|(id, bytes)| (id.clone(), *Key::<Aes256Gcm>::from_slice(bytes)))
            .collect();
        let active_key = *keys.get(active)?;
        Some(Self { active: active.to_owned(), active_key, keys })
    }

    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// Whether secrets sealed under `key_id` can be opened (the key is configured).
    pub fn knows(&self, key_id: &str) -> bool {
        self.keys.contains_key(key_id)
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Sealed, SealError> {
        let mut nonce = [0_u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = Aes256Gcm::new(&self.active_key)
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| SealError::TooLarge)?;
        Ok(Sealed { key_id: self.active.clone(), nonce: nonce.to_vec(), ciphertext })
    }

    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let key = self.keys.get(&sealed.key_id).ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.nonce.len() != NONCE_BYTES {
            return Err(SealError::Corrupt);
        }
        Aes256Gcm::new(key)
            .decrypt(Nonce::from_slice(&sealed.nonce), Payload { msg: &sealed.ciphertext, aad: context.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| SealError::Corrupt)
    }

    /// Whether a sealed secret should be re-sealed under the active key (key rotation).
    pub fn is_stale(&self, sealed: &Sealed) -> bool {
        sealed.key_id != self.active
    }

    /// Opens with the old key and seals again with the active one.
    pub fn reseal(&self, sealed: &Sealed, context: &str) -> Result<Sealed, SealError> {
        let plaintext = self.open(sealed, context)?;
        self.seal(&plaintext, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(vec![byte; KEY_BYTES])
    }

    fn sealer(active: &str) -> Sealer {
        Sealer::new(active, &[("old".into(), key(1)), ("new".into(), key(2))]).unwrap()
    }

    #[test]
    fn sealed_secrets_open_only_in_their_context() {
        let sealer = sealer("new");
        let sealed = sealer.seal(b"JBSWY3DPEHPK3PXP", "totp:alice").unwrap();
        assert_eq!(sealed.key_id, "new");
        assert_ne!(sealed.ciphertext, b"JBSWY3DPEHPK3PXP");
        assert_eq!(sealer.open(&sealed, "totp:alice").unwrap().as_slice(), b"JBSWY3DPEHPK3PXP");
        assert_eq!(sealer.open(&sealed, "totp:mallory"), Err(SealError::Corrupt));
    }

    #[test]
    fn altered_ciphertext_does_not_open() {
        let sealer = sealer("new");
        let mut sealed = sealer.seal(b"secret", "ctx").unwrap();
        sealed.ciphertext[0] ^= 1;
        assert_eq!(sealer.open(&sealed, "ctx"), Err(SealError::Corrupt));
        sealed.nonce.truncate(3);
        assert_eq!(sealer.open(&sealed, "ctx"), Err(SealError::Corrupt));
    }

    #[test]
    fn rotation_keeps_old_secrets_readable_and_reseals_them_under_the_active_key() {
        let sealed_before = sealer("old").seal(b"secret", "ctx").unwrap();
        let rotated = sealer("new");
        assert!(rotated.is_stale(&sealed_before));
        assert_eq!(rotated.open(&sealed_before, "ctx").unwrap().as_slice(), b"secret");
        let resealed = rotated.reseal(&sealed_before, "ctx").unwrap();
        assert_eq!(resealed.key_id, "new");
        assert!(!rotated.is_stale(&resealed));
        let only_new = Sealer::new("new", &[("new".into(), key(2))]).unwrap();
        assert_eq!(only_new.open(&sealed_before, "ctx"), Err(SealError::UnknownKey("old".into())));
        assert_eq!(only_new.open(&resealed, "ctx").unwrap().as_slice(), b"secret");
    }

    #[test]
    fn nonces_are_fresh_and_keys_never_print() {
        let sealer = sealer("new");
        assert_ne!(sealer.seal(b"x", "c").unwrap().nonce, sealer.seal(b"x", "c").unwrap().nonce);
        let debug = format!("{sealer:?}");
        assert!(debug.contains("new") && !debug.contains("2, 2"), "{debug}");
        assert!(Sealer::new("missing", &[("new".into(), key(2))]).is_none());
    }
}
