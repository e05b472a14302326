//! RFC 8737 §3's requirements on the certificate a tls-alpn-01 responder presents: self-signed, exactly one
//! subjectAltName, a dNSName equal to the identifier, and the critical acmeIdentifier extension holding an OCTET
//! STRING of SHA-256(key authorization).

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::super::{ValidationFailure, escaped, key_authorization_digest};

/// id-pe-acmeIdentifier (RFC 8737 §6.1).
const ACME_IDENTIFIER: &str = "1.3.6.1.5.5.7.1.31";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";
/// DER header of a 32-byte OCTET STRING: tag 4, length 32.
const DIGEST_HEADER: [u8; 2] = [0x04, 0x20];

/// `Ok` when `der` proves control of `identifier` for `key_authorization`. `from` names where it came from.
pub(super) fn check(
    der: &[u8],
    identifier: &str,
    key_authorization: &str,
    from: &str,
) -> Result<(), ValidationFailure> {
    let certificate = match X509Certificate::from_der(der) {
        Ok(([], certificate)) => certificate,
        _ => return Err(ValidationFailure::tls(format!("{from}: the certificate presented cannot be parsed"))),
    };
    let incorrect = |what: String| {
        ValidationFailure::incorrect_response(format!(
            "Incorrect validation certificate for tls-alpn-01 challenge from {from}: {what}"
        ))
    };
    let names = subject_alt_names(&certificate).map_err(incorrect)?;
    if names.len() != 1 || !names[0].eq_ignore_ascii_case(&format!("dns:{identifier}")) {
        return Err(incorrect(format!(
            "it must name exactly one subjectAltName, the dNSName {identifier}; it names [{}]",
            escaped(names.join(", ").as_bytes(), 256)
        )));
    }
    let mut acme_identifiers =
        certificate.extensions().iter().filter(|extension| extension.oid.to_id_string() == ACME_IDENTIFIER);
    let Some(acme_identifier) = acme_identifiers.next() else {
        return Err(ValidationFailure::unauthorized(format!(
            "{from}: the certificate has no acmeIdentifier extension ({ACME_IDENTIFIER})"
        )));
    };
    if acme_identifiers.next().is_some() {
        return Err(incorrect("it has more than one acmeIdentifier extension".into()));
    }
    if !acme_identifier.critical {
        return Err(incorrect("its acmeIdentifier extension is not marked critical".into()));
    }
    let digest = key_authorization_digest(key_authorization);
    let expected: Vec<u8> = DIGEST_HEADER.iter().chain(digest.iter()).copied().collect();
    if acme_identifier.value != expected.as_slice() {
        let found = acme_identifier.value.strip_prefix(&DIGEST_HEADER[..]).unwrap_or(acme_identifier.value);
        return Err(incorrect(format!(
            "expected the acmeIdentifier SHA-256 {} but got {}{}",
            hex::encode(digest),
            hex::encode(found.get(..64).unwrap_or(found)),
            if found.len() > 64 { "…" } else { "" }
        )));
    }
    if certificate.issuer().as_raw() != certificate.subject().as_raw() || certificate.verify_signature(None).is_err() {
        return Err(incorrect("it is not self-signed".into()));
    }
    Ok(())
}

/// Every subjectAltName entry as `dns:…`, `ip:…` or its kind; an error when the extension is missing, repeated or
/// unreadable.
fn subject_alt_names(certificate: &X509Certificate<'_>) -> Result<Vec<String>, String> {
    let mut extensions =
        certificate.extensions().iter().filter(|extension| extension.oid.to_id_string() == SUBJECT_ALT_NAME);
    let (Some(extension), None) = (extensions.next(), extensions.next()) else {
        return Err("it must carry exactly one subjectAltName extension".into());
    };
    let ParsedExtension::SubjectAlternativeName(names) = extension.parsed_extension() else {
        return Err("its subjectAltName extension cannot be read".into());
    };
    Ok(names
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(dns) => format!("dns:{dns}"),
            GeneralName::IPAddress(bytes) => format!("ip:{}", hex::encode(bytes)),
            other => format!("{other:?}").split('(').next().unwrap_or("other").to_owned(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, CustomExtension, Issuer, KeyPair, SanType};

    use super::*;

    const NAME: &str = "www.example.test";
    const KEY_AUTHORIZATION: &str = "token.thumbprint";

    fn params(sans: &[&str], extension: Option<CustomExtension>) -> CertificateParams {
        let mut params = CertificateParams::new(sans.iter().map(|san| (*san).to_owned()).collect::<Vec<_>>()).unwrap();
        params.custom_extensions.extend(extension);
        params
    }

    fn acme(key_authorization: &str) -> CustomExtension {
        CustomExtension::new_acme_identifier(&key_authorization_digest(key_authorization))
    }

    fn self_signed(params: &CertificateParams) -> Vec<u8> {
        params.self_signed(&KeyPair::generate().unwrap()).unwrap().der().to_vec()
    }

    fn outcome(der: &[u8]) -> Result<(), &'static str> {
        check(der, NAME, KEY_AUTHORIZATION, "127.0.0.1:443").map_err(|failure| failure.problem)
    }

    #[test]
    fn the_rfc_8737_certificate_proves_control() {
        assert_eq!(outcome(&self_signed(&params(&[NAME], Some(acme(KEY_AUTHORIZATION))))), Ok(()));
    }

    #[test]
    fn every_departure_from_rfc_8737_is_refused() {
        assert_eq!(outcome(&self_signed(&params(&[NAME], Some(acme("token.other"))))), Err("incorrectResponse"));
        assert_eq!(outcome(&self_signed(&params(&[NAME], None))), Err("unauthorized"));
        let mut non_critical = acme(KEY_AUTHORIZATION);
        non_critical.set_criticality(false);
        assert_eq!(outcome(&self_signed(&params(&[NAME], Some(non_critical)))), Err("incorrectResponse"));
        let two = params(&[NAME, "other.example.test"], Some(acme(KEY_AUTHORIZATION)));
        assert_eq!(outcome(&self_signed(&two)), Err("incorrectResponse"));
        let other = params(&["other.example.test"], Some(acme(KEY_AUTHORIZATION)));
        assert_eq!(outcome(&self_signed(&other)), Err("incorrectResponse"));
        let mut with_ip = params(&[NAME], Some(acme(KEY_AUTHORIZATION)));
        with_ip.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        assert_eq!(outcome(&self_signed(&with_ip)), Err("incorrectResponse"));
        // The right digest cut to 31 bytes, in a well-formed OCTET STRING.
        let mut short = vec![0x04, 31];
        short.extend_from_slice(&key_authorization_digest(KEY_AUTHORIZATION)[..31]);
        let mut short = CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 31], short);
        short.set_criticality(true);
        assert_eq!(outcome(&self_signed(&params(&[NAME], Some(short)))), Err("incorrectResponse"));
        assert_eq!(outcome(b"not a certificate"), Err("tls"));
        assert_eq!(outcome(&[]), Err("tls"));
    }

    #[test]
    fn a_certificate_signed_by_another_key_is_refused() {
        let ca_key = KeyPair::generate().unwrap();
        let issuer = Issuer::new(params(&["ca.example.test"], None), ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = params(&[NAME], Some(acme(KEY_AUTHORIZATION))).signed_by(&leaf_key, &issuer).unwrap();
        let failure = check(leaf.der(), NAME, KEY_AUTHORIZATION, "127.0.0.1:443").unwrap_err();
        assert_eq!(failure.problem, "incorrectResponse");
        assert!(failure.detail.contains("self-signed"), "{}", failure.detail);
    }

    #[test]
    fn the_wrong_digest_is_shown_next_to_the_expected_one() {
        let der = self_signed(&params(&[NAME], Some(acme("token.other"))));
        let detail = check(&der, NAME, KEY_AUTHORIZATION, "127.0.0.1:443").unwrap_err().detail;
        assert!(detail.contains(&hex::encode(key_authorization_digest(KEY_AUTHORIZATION))), "{detail}");
        assert!(detail.contains(&hex::encode(key_authorization_digest("token.other"))), "{detail}");
    }
}
