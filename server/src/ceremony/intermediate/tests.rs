//! Unit tests of the intermediate profile: extensions and their criticality, chaining to the root, validity
//! clamping, and refused inputs.

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use x509_parser::extensions::{DistributionPointName, GeneralName};
use x509_parser::prelude::*;
use zeroize::Zeroizing;

use super::*;
use crate::ceremony::root::{RootCa, RootOptions, init_root};
use crate::ceremony::root_signer::RootSignerError;

fn root(days: u32) -> RootCa {
    init_root(&RootOptions { common_name: "Unit Root".into(), organization: None, days }).unwrap()
}

fn signer(root: &RootCa) -> RootSigner {
    RootSigner::from_pem(&root.cert_pem, &root.key_pem).unwrap()
}

fn csr(alg: &'static rcgen::SignatureAlgorithm) -> String {
    let key = KeyPair::generate_for(alg).unwrap();
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::OrganizationName, "certdesk");
    subject.push(DnType::CommonName, "Unit Intermediate CA");
    params.distinguished_name = subject;
    params.serialize_request(&key).unwrap().pem().unwrap()
}

fn parse(pem_text: &str) -> Vec<u8> {
    ::pem::parse(pem_text).unwrap().into_contents()
}

#[test]
fn intermediate_profile() {
    let root = root(3650);
    let options = IntermediateOptions {
        days: 1825,
        crl_url: Some("https://certdesk.example.test/crl/root.crl".into()),
        aia_url: Some("https://certdesk.example.test/ca/root.der".into()),
    };
    let signed = sign_intermediate(&signer(&root), &csr(&rcgen::PKCS_ECDSA_P384_SHA384), &options).unwrap();
    assert!(!signed.clamped);
    let der = parse(&signed.cert_pem);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let root_der = parse(&root.cert_pem);
    let (_, root_cert) = X509Certificate::from_der(&root_der).unwrap();

    assert_eq!(cert.subject().to_string(), "O=certdesk, CN=Unit Intermediate CA");
    assert_eq!(cert.issuer(), root_cert.subject());
    cert.verify_signature(Some(root_cert.public_key())).unwrap();
    assert_eq!(cert.signature_algorithm.algorithm, x509_parser::oid_registry::OID_SIG_ECDSA_WITH_SHA384);

    let constraints = cert.basic_constraints().unwrap().unwrap();
    assert!(constraints.critical && constraints.value.ca);
    assert_eq!(constraints.value.path_len_constraint, Some(0));
    let usage = cert.key_usage().unwrap().unwrap();
    assert!(usage.critical && usage.value.key_cert_sign() && usage.value.crl_sign());
    assert!(!usage.value.key_encipherment() && !usage.value.key_agreement());

    let mut ski = None;
    let mut aki = None;
    let mut crl = Vec::new();
    let mut aia = Vec::new();
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => ski = Some(id.0.to_vec()),
            ParsedExtension::AuthorityKeyIdentifier(id) => aki = id.key_identifier.as_ref().map(|id| id.0.to_vec()),
            ParsedExtension::CRLDistributionPoints(points) => {
                assert!(!extension.critical);
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                        for name in names {
                            if let GeneralName::URI(uri) = name {
                                crl.push(uri.to_string());
                            }
                        }
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(access) => {
                assert!(!extension.critical);
                for description in &access.accessdescs {
                    assert_eq!(
                        description.access_method,
                        x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS
                    );
                    if let GeneralName::URI(uri) = &description.access_location {
                        aia.push(uri.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    assert!(ski.is_some());
    let root_ski = root_cert
        .extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        })
        .unwrap();
    assert_eq!(aki, Some(root_ski));
    assert_eq!(crl, ["https://certdesk.example.test/crl/root.crl"]);
    assert_eq!(aia, ["https://certdesk.example.test/ca/root.der"]);
    assert!(cert.raw_serial()[0] & 0x80 == 0);
    let days = (cert.validity().not_after.to_datetime() - OffsetDateTime::now_utc()).whole_days();
    assert!((1824..=1825).contains(&days), "{days}");
}

#[test]
fn other_key_types_keep_their_public_key() {
    let root = root(3650);
    for alg in [&rcgen::PKCS_ECDSA_P256_SHA256, &rcgen::PKCS_ED25519] {
        let request = csr(alg);
        let signed = sign_intermediate(&signer(&root), &request, &IntermediateOptions::default()).unwrap();
        let der = parse(&signed.cert_pem);
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        let csr_der = parse(&request);
        let (_, csr) = X509CertificationRequest::from_der(&csr_der).unwrap();
        assert_eq!(cert.public_key().raw, csr.certification_request_info.subject_pki.raw);
        assert!(cert.extensions().iter().all(|ext| !matches!(
            ext.parsed_extension(),
            ParsedExtension::CRLDistributionPoints(_) | ParsedExtension::AuthorityInfoAccess(_)
        )));
    }
}

#[test]
fn validity_is_clamped_to_the_root() {
    let root = root(30);
    let signer = signer(&root);
    let signed =
        sign_intermediate(&signer, &csr(&rcgen::PKCS_ECDSA_P256_SHA256), &IntermediateOptions::default()).unwrap();
    assert!(signed.clamped);
    let der = parse(&signed.cert_pem);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    assert_eq!(cert.validity().not_after.to_datetime(), signer.not_after);
}

#[test]
fn refuses_bad_inputs() {
    let root = root(3650);
    let signer = signer(&root);
    let options = IntermediateOptions::default();

    let good = csr(&rcgen::PKCS_ECDSA_P256_SHA256);
    let mut der = parse(&good);
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let corrupted = ::pem::encode(&::pem::Pem::new("CERTIFICATE REQUEST", der));
    assert!(matches!(sign_intermediate(&signer, &corrupted, &options), Err(IntermediateError::CsrSignature)));

    assert!(matches!(
        sign_intermediate(&signer, &root.cert_pem, &options),
        Err(IntermediateError::CsrWrongPem(tag)) if tag == "CERTIFICATE"
    ));
    assert!(matches!(sign_intermediate(&signer, "garbage", &options), Err(IntermediateError::CsrNotPem)));
    let bad_url = IntermediateOptions { crl_url: Some("ldap://x".into()), ..IntermediateOptions::default() };
    assert!(matches!(sign_intermediate(&signer, &good, &bad_url), Err(IntermediateError::Url { .. })));

    let other = init_root(&RootOptions { common_name: "Other".into(), organization: None, days: 10 }).unwrap();
    let mismatched = RootSigner::from_pem(&root.cert_pem, &Zeroizing::new(other.key_pem.to_string()));
    assert!(matches!(mismatched, Err(RootSignerError::KeyMismatch)));
}
