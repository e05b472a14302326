//! Producing the bytes of each download format from the certificate material.

use zeroize::Zeroizing;

use super::parts::{certificates_pem, held_key, intermediates_and_root, leaf_and_intermediates};
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
