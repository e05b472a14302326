//! Producing the bytes of each download format from the certificate material.

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use zeroize::Zeroizing;

use super::{BundleError, DownloadFormat, Material, RenderOptions, Rendered, kubernetes, pkcs12};
use crate::keys::encode_pem;

pub fn render(format: DownloadFormat, material: &Material, options: &RenderOptions) -> Result<Rendered, BundleError> {
    let bytes = match format {
        DownloadFormat::LeafPem => certificates_pem([material.leaf_der.as_slice()]),
        DownloadFormat::ChainPem => {
            if material.intermediates_der.is_empty() {
                return Err(BundleError::NoIntermediates);
            }
            certificates_pem(material.intermediates_der.iter().map(Vec::as_slice))
        }
        DownloadFormat::FullChainPem => certificates_pem(leaf_and_intermediates(material)),
        DownloadFormat::CaBundlePem => certificates_pem(intermediates_and_root(material)),
        DownloadFormat::PrivateKeyPem => {
            let key = held_key(material)?;
            Zeroizing::new(encode_pem("PRIVATE KEY", key).as_bytes().to_vec())
        }
        DownloadFormat::Pkcs12 => pkcs12::render(material, options.pkcs12_password.as_ref())?,
        DownloadFormat::KubernetesSecret => kubernetes::render(material, options)?,
    };
    Ok(Rendered { bytes, content_type: format.content_type(), file_name: format.file_name(&material.common_name) })
}

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
