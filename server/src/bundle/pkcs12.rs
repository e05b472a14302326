//! PKCS#12 (.p12/.pfx) files: key, leaf, intermediates and root, encrypted with AES-256-CBC (PBES2,
//! PBKDF2-HMAC-SHA256) and protected by an HMAC-SHA256 MAC, readable by OpenSSL 3 and Java without legacy modes.

use p12_keystore::{Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKeyChain};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::parts::held_key;
use super::{BundleError, Material};

const MIN_PASSWORD_CHARS: usize = 8;
/// Java's default for new PKCS#12 keystores (keystore.pkcs12.*IterationCount), so files match what keytool
/// itself would write.
const ITERATIONS: u32 = 10_000;

pub(super) fn render(material: &Material, password: Option<&SecretString>) -> Result<Zeroizing<Vec<u8>>, BundleError> {
    let password = check_password(password)?;
    let key = held_key(material)?;
    let failed = |e: p12_keystore::error::Error| BundleError::Pkcs12 { reason: e.to_string() };

    let key = p12_keystore::PrivateKey::from_der(key).map_err(|_| BundleError::BadPrivateKey)?;
    let certificates = std::iter::once(&material.leaf_der)
        .chain(&material.intermediates_der)
        .chain(std::iter::once(&material.root_der))
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BundleError::BadCertificate { reason: e.to_string() })?;
    // The local key ID links the key bag to the leaf's cert bag; any unique bytes do, a digest of the leaf is
    // stable and what OpenSSL does too (with SHA-1).
    let local_key_id = Sha256::digest(&material.leaf_der).to_vec();
    let chain = PrivateKeyChain::new(local_key_id, key, certificates);

    // The alias becomes the key bag's friendly name, which keytool shows as the entry's alias.
    let alias = if material.common_name.trim().is_empty() { "certificate" } else { material.common_name.trim() };
    let mut store = KeyStore::new();
    store.add_entry(alias, KeyStoreEntry::PrivateKeyChain(chain));
    let bytes = store
        .writer(password)
        .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
        .encryption_iterations(ITERATIONS)
        .mac_algorithm(MacAlgorithm::HmacSha256)
        .mac_iterations(ITERATIONS)
        .write()
        .map_err(failed)?;
    Ok(Zeroizing::new(bytes))
}

fn check_password(password: Option<&SecretString>) -> Result<&str, BundleError> {
    let password = password.map(ExposeSecret::expose_secret).ok_or(BundleError::Pkcs12PasswordMissing)?;
    if password.is_empty() {
        return Err(BundleError::Pkcs12PasswordMissing);
    }
    // PKCS#12 turns passwords into BMPString; OpenSSL, Java and Windows disagreed on non-ASCII for years.
    if !password.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(BundleError::Pkcs12PasswordCharset);
    }
    let len = password.chars().count();
    if len < MIN_PASSWORD_CHARS {
        return Err(BundleError::Pkcs12PasswordTooShort { len });
    }
    Ok(password)
}
