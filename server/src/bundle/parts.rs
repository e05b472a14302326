//! The pieces every download format is made of: the chain in the order a format wants, PEM blocks, and the private
//! key checked against the leaf.

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use zeroize::Zeroizing;

use super::{BundleError, Material};
use crate::keys::encode_pem;

pub(super) fn leaf_and_intermediates(material: &Material) -> impl Iterator<Item = &[u8]> {
    std::iter::once(material.leaf_der.as_slice()).chain(material.intermediates_der.iter().map(Vec::as_slice))
}

pub(super) fn intermediates_and_root(material: &Material) -> impl Iterator<Item = &[u8]> {
    material.intermediates_der.iter().map(Vec::as_slice).chain(std::iter::once(material.root_der.as_slice()))
}

/// Concatenated `CERTIFICATE` PEM blocks, in the order given.
pub(super) fn certificates_pem<'a>(ders: impl IntoIterator<Item = &'a [u8]>) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    for der in ders {
        out.extend_from_slice(encode_pem("CERTIFICATE", der).as_bytes());
    }
    out
}

/// The private key, after checking it belongs to the leaf: a mismatched pair would only fail later, at the
/// user's TLS server, with a far less helpful message.
pub(super) fn held_key(material: &Material) -> Result<&[u8], BundleError> {
    let key = material.private_key_pkcs8.as_ref().ok_or(BundleError::KeyNotHeld)?;
    let pair = rcgen::KeyPair::try_from(key.as_slice()).map_err(|_| BundleError::BadPrivateKey)?;
    let (_, leaf) = X509Certificate::from_der(&material.leaf_der)
        .map_err(|e| BundleError::BadCertificate { reason: e.to_string() })?;
    if pair.public_key_raw() != leaf.public_key().subject_public_key.data.as_ref() {
        return Err(BundleError::KeyMismatch);
    }
    Ok(key)
}
