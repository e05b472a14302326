//! How RFC 9773 names a certificate to its CA, for renewal information and for the `replaces` of a renewal order.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use instant_acme::CertificateIdentifier;
use x509_parser::extensions::ParsedExtension;

/// The identifier RFC 9773 §4.1 gives a certificate: its authority key identifier and DER serial, base64url.
pub fn identifier_of(leaf_pem: &str) -> Option<CertificateIdentifier<'static>> {
    let der = pem::parse(leaf_pem).ok()?.into_contents();
    let (_, certificate) = x509_parser::parse_x509_certificate(&der).ok()?;
    let key_identifier = certificate.iter_extensions().find_map(|extension| match extension.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.as_ref().map(|id| id.0.to_vec()),
        _ => None,
    })?;
    Some(CertificateIdentifier {
        authority_key_identifier: Cow::Owned(URL_SAFE_NO_PAD.encode(key_identifier)),
        serial: Cow::Owned(URL_SAFE_NO_PAD.encode(certificate.tbs_certificate.raw_serial())),
    })
}
