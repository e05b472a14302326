//! How RFC 9773 names a certificate to its CA, for renewal information and for the `replaces` of a renewal order.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use instant_acme::CertificateIdentifier;

/// The identifier RFC 9773 §4.1 gives a certificate: its authority key identifier and DER serial, base64url.
pub fn identifier_of(leaf_pem: &str) -> Option<CertificateIdentifier<'static>> {
    let der = pem::parse(leaf_pem).ok()?.into_contents();
    let key_identifier = crate::bundle::authority_key_identifier(&der)?;
    let (_, certificate) = x509_parser::parse_x509_certificate(&der).ok()?;
    Some(CertificateIdentifier {
        authority_key_identifier: Cow::Owned(URL_SAFE_NO_PAD.encode(key_identifier)),
        serial: Cow::Owned(URL_SAFE_NO_PAD.encode(certificate.tbs_certificate.raw_serial())),
    })
}
