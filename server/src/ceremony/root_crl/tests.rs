//! Unit tests of the root CRL: signature, number, nextUpdate, AKI, entries with reasons, and `--revoke` parsing.

use x509_parser::prelude::*;

use super::*;
use crate::ceremony::root::{RootOptions, init_root};

#[test]
fn crl_profile() {
    let root = init_root(&RootOptions { common_name: "CRL Root".into(), organization: None, days: 100 }).unwrap();
    let signer = RootSigner::from_pem(&root.cert_pem, &root.key_pem).unwrap();
    let now = OffsetDateTime::now_utc();
    let revoked = vec![
        parse_revocation("7f:97:01:keyCompromise", now).unwrap(),
        parse_revocation("00ABCDEF:superseded:2025-01-02", now).unwrap(),
    ];
    let signed = root_crl(&signer, &RootCrlOptions { crl_number: 42, next_update_days: 30, revoked }).unwrap();
    assert!(signed.pem.starts_with("-----BEGIN X509 CRL-----"));
    let (_, crl) = CertificateRevocationList::from_der(&signed.der).unwrap();
    let root_der = ::pem::parse(&root.cert_pem).unwrap().into_contents();
    let (_, root_cert) = X509Certificate::from_der(&root_der).unwrap();
    crl.verify_signature(root_cert.public_key()).unwrap();
    assert_eq!(crl.issuer(), root_cert.subject());
    assert_eq!(crl.crl_number().unwrap().to_string(), "42");
    let next = crl.next_update().unwrap().to_datetime();
    assert!(((next - crl.last_update().to_datetime()).whole_days()) == 30);

    let entries: Vec<_> = crl.iter_revoked_certificates().collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].raw_serial(), [0x7f, 0x97, 0x01]);
    assert_eq!(entries[0].reason_code().unwrap().1, x509_parser::x509::ReasonCode::KeyCompromise);
    assert_eq!(entries[1].raw_serial(), [0x00, 0xab, 0xcd, 0xef]);
    assert_eq!(entries[1].reason_code().unwrap().1, x509_parser::x509::ReasonCode::Superseded);
    assert_eq!(entries[1].revocation_date.to_datetime().date().to_string(), "2025-01-02");

    let root_ski = root_cert.extensions().iter().find_map(|ext| match ext.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
        _ => None,
    });
    let aki = crl.extensions().iter().find_map(|ext| match ext.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(id) => id.key_identifier.as_ref().map(|id| id.0.to_vec()),
        _ => None,
    });
    assert_eq!(aki, root_ski);
}

#[test]
fn revoke_specs() {
    let now = OffsetDateTime::now_utc();
    for bad in
        ["", "abc", "zz:keyCompromise", "01:unspecified", "01:keyCompromise:yesterday", ":superseded", "00:superseded"]
    {
        assert!(parse_revocation(bad, now).is_err(), "{bad}");
    }
    let entry = parse_revocation("abc:cACompromise", now).unwrap();
    assert_eq!((entry.serial, entry.reason, entry.revoked_at), (vec![0x0a, 0xbc], RevocationReason::CaCompromise, now));
    let too_long = format!("{}:superseded", "11".repeat(21));
    assert!(parse_revocation(&too_long, now).is_err());
}

#[test]
fn crl_numbers_must_grow() {
    let root = init_root(&RootOptions { common_name: "CRL Root".into(), organization: None, days: 100 }).unwrap();
    let signer = RootSigner::from_pem(&root.cert_pem, &root.key_pem).unwrap();
    let dir = std::env::temp_dir().join(format!("certdesk-crl-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("root.crl");
    let options = |crl_number| RootCrlOptions { crl_number, next_update_days: 7, revoked: vec![] };
    let written = write_crl(&out, &root_crl(&signer, &options(5)).unwrap(), 5).unwrap();
    assert_eq!(written, [out.clone(), dir.join("root.crl.pem")]);
    assert!(matches!(
        write_crl(&out, &root_crl(&signer, &options(5)).unwrap(), 5),
        Err(OfflineRootCrlError::NumberNotIncreasing { .. })
    ));
    write_crl(&out, &root_crl(&signer, &options(6)).unwrap(), 6).unwrap();
}
