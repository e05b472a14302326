//! A throwaway three-tier PKI (root → intermediate → leaf) built with rcgen, for the bundle tests.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::keys::test_support::{Scratch, openssl_ok};
use crate::keys::{KeyFamily, KeyType, PrivateKey, generate};

pub(super) const CRL_URL: &str = "http://pki.example.test/intermediate.crl";
pub(super) const OCSP_URL: &str = "http://ocsp.example.test";
pub(super) const CA_ISSUERS_URL: &str = "http://pki.example.test/intermediate.der";

/// RSA keys come from `openssl genpkey`: the `rsa` crate is far too slow for many keys in a debug build.
pub(super) fn key(key_type: KeyType) -> PrivateKey {
    if key_type.family() != KeyFamily::Rsa {
        return generate(key_type).expect("generate");
    }
    let scratch = Scratch::new("rsa");
    let bits = format!("rsa_keygen_bits:{}", key_type.bits());
    // PEM, because `genpkey -outform DER` writes PKCS#1 for RSA while its PEM output is PKCS#8.
    openssl_ok(&["genpkey", "-algorithm", "RSA", "-pkeyopt", &bits, "-out", "k.pem"], scratch.dir());
    let pem = pem::parse(scratch.read("k.pem")).expect("PEM");
    assert_eq!(pem.tag(), "PRIVATE KEY");
    PrivateKey::from_pkcs8_der(pem.contents()).expect("openssl key loads")
}

pub(super) struct Ca {
    pub(super) params: CertificateParams,
    pub(super) key: KeyPair,
    pub(super) der: Vec<u8>,
}

impl Ca {
    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Example Org, Inc.");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn ca_params(common_name: &str, path_len: Option<u8>, not_after: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    params.not_after = not_after;
    params
}

pub(super) fn root(key_type: KeyType, common_name: &str, path_len: Option<u8>) -> Ca {
    let key = key(key_type).key_pair().expect("key pair");
    let params = ca_params(common_name, path_len, OffsetDateTime::now_utc() + Duration::days(3650));
    let der = params.self_signed(&key).expect("root").der().to_vec();
    Ca { params, key, der }
}

pub(super) fn intermediate(parent: &Ca, key_type: KeyType, common_name: &str, not_after: OffsetDateTime) -> Ca {
    let key = key(key_type).key_pair().expect("key pair");
    let params = ca_params(common_name, Some(0), not_after);
    let der = params.signed_by(&key, &parent.issuer()).expect("intermediate").der().to_vec();
    Ca { params, key, der }
}

/// A non-CA certificate pretending to issue: for the "not a CA" test.
pub(super) fn not_a_ca(parent: &Ca, key_type: KeyType, common_name: &str) -> Ca {
    let key = key(key_type).key_pair().expect("key pair");
    let mut params = ca_params(common_name, None, OffsetDateTime::now_utc() + Duration::days(365));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let der = params.signed_by(&key, &parent.issuer()).expect("non-CA").der().to_vec();
    Ca { params, key, der }
}

pub(super) fn leaf(parent: &Ca, key: &PrivateKey, common_name: &str, dns: &[&str], ips: &[IpAddr]) -> Vec<u8> {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name);
    params.serial_number = Some(SerialNumber::from_slice(&[0x8a, 0x0f, 0x01, 0xff]));
    params.not_before = OffsetDateTime::now_utc() - Duration::hours(1);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(90);
    params.subject_alt_names = dns.iter().map(|d| SanType::DnsName((*d).try_into().expect("ia5"))).collect();
    params.subject_alt_names.extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if key.key_type().family() == KeyFamily::Rsa {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    params.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![CRL_URL.to_owned()] }];
    params.custom_extensions = vec![CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], aia())];
    params.use_authority_key_identifier_extension = true;
    let pair = key.key_pair().expect("key pair");
    params.signed_by(&pair, &parent.issuer()).expect("leaf").der().to_vec()
}

/// AuthorityInfoAccess with one OCSP and one caIssuers URI (rcgen has no builder for it).
fn aia() -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let len = u8::try_from(content.len()).expect("short");
        assert!(len < 128);
        [&[tag, len][..], content].concat()
    }
    let description = |last_arc: u8, uri: &str| {
        let oid = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, last_arc]);
        tlv(0x30, &[oid, tlv(0x86, uri.as_bytes())].concat())
    };
    tlv(0x30, &[description(1, OCSP_URL), description(2, CA_ISSUERS_URL)].concat())
}

/// Root, intermediate and leaf (with its key), every key of `key_type`.
pub(super) struct Pki {
    pub(super) root: Ca,
    pub(super) intermediate: Ca,
    pub(super) leaf: Vec<u8>,
    pub(super) leaf_key: PrivateKey,
}

pub(super) fn three_tier(key_type: KeyType) -> Pki {
    let root = root(key_type, "Test Root CA", Some(1));
    let intermediate =
        intermediate(&root, key_type, "Test Issuing CA", OffsetDateTime::now_utc() + Duration::days(1825));
    let leaf_key = key(key_type);
    let ips: [IpAddr; 1] = ["192.0.2.10".parse().expect("ip")];
    let leaf = leaf(&intermediate, &leaf_key, "www.example.com", &["www.example.com", "example.com"], &ips);
    Pki { root, intermediate, leaf, leaf_key }
}
