//! Tests for chains, facts and every download format, cross-checked with openssl, keytool and YAML parsing.

mod pki;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::{
    BundleError, ChainError, DownloadFormat, Material, RenderOptions, certificate_facts, render, verify_chain,
};
use crate::keys::test_support::{Scratch, openssl, openssl_ok, run};
use crate::keys::{KeyType, encode_pem};

const PASSWORD: &str = "correct horse";

fn material(pki: &pki::Pki) -> Material {
    Material {
        leaf_der: pki.leaf.clone(),
        intermediates_der: vec![pki.intermediate.der.clone()],
        root_der: pki.root.der.clone(),
        private_key_pkcs8: Some(Zeroizing::new(pki.leaf_key.pkcs8_der().to_vec())),
        common_name: "www.example.com".to_owned(),
    }
}

fn options() -> RenderOptions {
    RenderOptions { pkcs12_password: Some(SecretString::from(PASSWORD)), ..RenderOptions::default() }
}

fn write_render(scratch: &Scratch, format: DownloadFormat, material: &Material, options: &RenderOptions) -> String {
    let rendered = render(format, material, options).unwrap_or_else(|e| panic!("{format}: {e}"));
    assert_eq!(rendered.content_type, format.content_type());
    assert_eq!(rendered.file_name, format.file_name("www.example.com"));
    scratch.write(&rendered.file_name, &rendered.bytes);
    rendered.file_name
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The public key openssl derives from a private key file equals the one in a certificate file.
fn assert_key_matches(scratch: &Scratch, key_file: &str, cert_file: &str) {
    let from_key = openssl_ok(&["pkey", "-in", key_file, "-pubout"], scratch.dir());
    let from_cert = openssl_ok(&["x509", "-in", cert_file, "-noout", "-pubkey"], scratch.dir());
    assert_eq!(from_key, from_cert, "{key_file} does not match {cert_file}");
}

#[test]
fn every_key_type_and_format_is_readable_by_independent_tools() {
    for key_type in KeyType::ALL {
        let pki = pki::three_tier(key_type);
        let material = material(&pki);
        let scratch = Scratch::new("bundle");
        let dir = scratch.dir();
        verify_chain(&pki.leaf, &material.intermediates_der, &pki.root.der, OffsetDateTime::now_utc())
            .unwrap_or_else(|e| panic!("{key_type}: {e}"));
        assert_eq!(certificate_facts(&pki.leaf).expect("facts").key_algorithm, key_type.label());
        scratch.write("root.pem", encode_pem("CERTIFICATE", &pki.root.der).as_bytes());

        let leaf = write_render(&scratch, DownloadFormat::LeafPem, &material, &options());
        let subject = openssl_ok(&["x509", "-in", &leaf, "-noout", "-subject"], dir);
        assert!(subject.contains("www.example.com"), "{subject}");
        let chain = write_render(&scratch, DownloadFormat::ChainPem, &material, &options());
        let verified = openssl_ok(&["verify", "-CAfile", "root.pem", "-untrusted", &chain, &leaf], dir);
        assert!(verified.contains(": OK"), "{key_type}: {verified}");

        let full = write_render(&scratch, DownloadFormat::FullChainPem, &material, &options());
        let full_text = String::from_utf8(scratch.read(&full)).expect("utf8");
        assert_eq!(count(&full_text, "BEGIN CERTIFICATE"), 2);
        assert!(full_text.starts_with(&*encode_pem("CERTIFICATE", &pki.leaf)), "leaf comes first");
        let verified = openssl_ok(&["verify", "-CAfile", "root.pem", "-untrusted", &full, &full], dir);
        assert!(verified.contains(": OK"), "{verified}");

        let bundle = write_render(&scratch, DownloadFormat::CaBundlePem, &material, &options());
        let bundle_text = String::from_utf8(scratch.read(&bundle)).expect("utf8");
        assert_eq!(count(&bundle_text, "BEGIN CERTIFICATE"), 2);
        assert!(bundle_text.ends_with(&*encode_pem("CERTIFICATE", &pki.root.der)), "root comes last");

        let key = write_render(&scratch, DownloadFormat::PrivateKeyPem, &material, &options());
        assert!(String::from_utf8(scratch.read(&key)).expect("utf8").starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_key_matches(&scratch, &key, &leaf);

        check_pkcs12(&scratch, &material, key_type);
        check_kubernetes_secret(&scratch, &material, key_type);
    }
}

fn check_pkcs12(scratch: &Scratch, material: &Material, key_type: KeyType) {
    let dir = scratch.dir();
    let p12 = write_render(scratch, DownloadFormat::Pkcs12, material, &options());
    let pass = format!("pass:{PASSWORD}");
    let info = openssl_ok(&["pkcs12", "-in", &p12, "-info", "-nodes", "-passin", &pass], dir);
    assert!(info.contains("MAC: sha256"), "{key_type}: {info}");
    assert!(info.contains("PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC"), "{info}");
    assert!(info.contains("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC"), "{info}");
    assert!(count(&info, "PRF hmacWithSHA256") >= 2, "{info}");
    assert_eq!(count(&info, "BEGIN CERTIFICATE"), 3, "leaf, intermediate and root: {info}");
    assert_eq!(count(&info, "BEGIN PRIVATE KEY"), 1, "{info}");
    assert!(info.contains("friendlyName: www.example.com"), "{info}");
    assert!(info.contains("localKeyID:"), "{info}");

    // The key in the file belongs to the leaf in the file.
    openssl_ok(&["pkcs12", "-in", &p12, "-nocerts", "-nodes", "-passin", &pass, "-out", "p12-key.pem"], dir);
    openssl_ok(&["pkcs12", "-in", &p12, "-clcerts", "-nokeys", "-passin", &pass, "-out", "p12-leaf.pem"], dir);
    assert_key_matches(scratch, "p12-key.pem", "p12-leaf.pem");

    let wrong = openssl(&["pkcs12", "-in", &p12, "-info", "-nodes", "-passin", "pass:wrong password"], dir);
    assert!(!wrong.ok, "a wrong password must not open the file");

    let listed =
        run("keytool", &["-list", "-v", "-storetype", "PKCS12", "-keystore", &p12, "-storepass", PASSWORD], dir);
    assert!(listed.ok, "{key_type}: keytool failed:\n{}", listed.output);
    assert!(listed.output.contains("Alias name: www.example.com"), "{}", listed.output);
    assert!(listed.output.contains("PrivateKeyEntry"), "{}", listed.output);
    assert!(listed.output.contains("Certificate chain length: 3"), "{}", listed.output);
    let wrong =
        run("keytool", &["-list", "-storetype", "PKCS12", "-keystore", &p12, "-storepass", "wrong password"], dir);
    assert!(!wrong.ok, "keytool must refuse a wrong password");
}

fn check_kubernetes_secret(scratch: &Scratch, material: &Material, key_type: KeyType) {
    let dir = scratch.dir();
    let options = RenderOptions {
        secret_name: Some("web-tls".to_owned()),
        namespace: Some("shop".to_owned()),
        ..RenderOptions::default()
    };
    let file = write_render(scratch, DownloadFormat::KubernetesSecret, material, &options);
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&scratch.read(&file)).expect("valid YAML");
    assert_eq!(yaml["apiVersion"].as_str(), Some("v1"));
    assert_eq!(yaml["kind"].as_str(), Some("Secret"));
    assert_eq!(yaml["type"].as_str(), Some("kubernetes.io/tls"));
    assert_eq!(yaml["metadata"]["name"].as_str(), Some("web-tls"));
    assert_eq!(yaml["metadata"]["namespace"].as_str(), Some("shop"));
    for (field, out) in [("tls.crt", "tls.crt"), ("tls.key", "tls.key"), ("ca.crt", "ca.crt")] {
        let encoded = yaml["data"][field].as_str().unwrap_or_else(|| panic!("{field} missing"));
        scratch.write(out, &STANDARD.decode(encoded).expect("base64"));
    }
    let tls_crt = String::from_utf8(scratch.read("tls.crt")).expect("utf8");
    assert_eq!(count(&tls_crt, "BEGIN CERTIFICATE"), 2, "leaf + intermediate");
    let ca_crt = String::from_utf8(scratch.read("ca.crt")).expect("utf8");
    assert_eq!(count(&ca_crt, "BEGIN CERTIFICATE"), 2, "intermediate + root");
    let verified = openssl_ok(&["verify", "-CAfile", "ca.crt", "tls.crt"], dir);
    assert!(verified.contains("tls.crt: OK"), "{key_type}: {verified}");
    assert_key_matches(scratch, "tls.key", "tls.crt");
}

#[test]
fn facts_describe_the_certificate_like_openssl_does() {
    let pki = pki::three_tier(KeyType::EcP256);
    let scratch = Scratch::new("facts");
    scratch.write("leaf.pem", encode_pem("CERTIFICATE", &pki.leaf).as_bytes());
    let facts = certificate_facts(&pki.leaf).expect("facts");

    let subject = openssl_ok(&["x509", "-in", "leaf.pem", "-noout", "-subject", "-nameopt", "RFC2253"], scratch.dir());
    assert_eq!(subject.trim(), format!("subject={}", facts.subject));
    assert_eq!(facts.subject, "CN=www.example.com,O=Example Org\\, Inc.");
    assert_eq!(facts.issuer, "CN=Test Issuing CA,O=Example Org\\, Inc.");
    assert_eq!(facts.common_name.as_deref(), Some("www.example.com"));
    assert_eq!(facts.dns_names, vec!["www.example.com", "example.com"]);
    assert_eq!(facts.ip_addresses, vec!["192.0.2.10".parse::<std::net::IpAddr>().expect("ip")]);

    let fingerprint = openssl_ok(&["x509", "-in", "leaf.pem", "-noout", "-fingerprint", "-sha256"], scratch.dir());
    assert_eq!(fingerprint.trim(), format!("sha256 Fingerprint={}", facts.sha256_fingerprint));
    let serial = openssl_ok(&["x509", "-in", "leaf.pem", "-noout", "-serial"], scratch.dir());
    assert_eq!(serial.trim().to_lowercase(), format!("serial={}", facts.serial_hex()));
    assert_eq!(facts.serial_hex(), "8a0f01ff");
    assert_eq!(facts.serial_colon(), "8a:0f:01:ff");

    assert_eq!(facts.key_algorithm, "EC P-256");
    assert_eq!(facts.key_usage, vec!["Digital Signature"]);
    assert_eq!(facts.extended_key_usage, vec!["TLS Web Server Authentication", "TLS Web Client Authentication"]);
    assert_eq!(facts.crl_distribution_points, vec![pki::CRL_URL]);
    assert_eq!(facts.ocsp_urls, vec![pki::OCSP_URL]);
    assert_eq!(facts.ca_issuer_urls, vec![pki::CA_ISSUERS_URL]);
    assert!(!facts.is_ca);
    assert!(facts.not_before < OffsetDateTime::now_utc() && facts.not_after > OffsetDateTime::now_utc());

    let root_facts = certificate_facts(&pki.root.der).expect("root facts");
    assert!(root_facts.is_ca);
    assert_eq!(root_facts.key_usage, vec!["Certificate Sign", "CRL Sign"]);

    // Stored as JSON: the round trip must be lossless.
    let json = serde_json::to_string(&facts).expect("json");
    assert_eq!(serde_json::from_str::<super::CertificateFacts>(&json).expect("parse"), facts);
    assert!(certificate_facts(b"not a certificate").is_err());
}

#[test]
fn broken_chains_name_the_broken_link() {
    let now = OffsetDateTime::now_utc();
    let later = now + Duration::days(1825);
    let key_type = KeyType::EcP256;
    let root = pki::root(key_type, "Test Root CA", Some(1));
    let intermediate = pki::intermediate(&root, key_type, "Test Issuing CA", later);
    let leaf_key = pki::key(key_type);

    // Same issuer name, different key: only the signature tells them apart.
    let impostor = pki::intermediate(&root, key_type, "Test Issuing CA", later);
    let leaf = pki::leaf(&impostor, &leaf_key, "www.example.com", &["www.example.com"], &[]);
    let err = verify_chain(&leaf, std::slice::from_ref(&intermediate.der), &root.der, now).expect_err("wrong signer");
    assert_eq!(
        err.to_string(),
        "the signature on the leaf certificate 'www.example.com' does not verify with the key of the intermediate \
         1 'Test Issuing CA'"
    );

    let other = pki::intermediate(&root, key_type, "Other CA", later);
    let leaf = pki::leaf(&other, &leaf_key, "www.example.com", &["www.example.com"], &[]);
    let err = verify_chain(&leaf, std::slice::from_ref(&intermediate.der), &root.der, now).expect_err("wrong issuer");
    assert!(matches!(err, ChainError::IssuerMismatch { .. }), "{err}");
    assert!(err.to_string().contains("names its issuer 'CN=Other CA,O=Example Org\\, Inc.'"), "{err}");

    let expired = pki::intermediate(&root, key_type, "Test Issuing CA", now - Duration::hours(1));
    let leaf = pki::leaf(&expired, &leaf_key, "www.example.com", &["www.example.com"], &[]);
    let err = verify_chain(&leaf, std::slice::from_ref(&expired.der), &root.der, now).expect_err("expired");
    assert!(err.to_string().starts_with("the intermediate 1 'Test Issuing CA' expired at "), "{err}");

    let good = pki::leaf(&intermediate, &leaf_key, "www.example.com", &["www.example.com"], &[]);
    let err = verify_chain(&good, std::slice::from_ref(&intermediate.der), &root.der, now - Duration::days(30))
        .expect_err("early");
    assert!(matches!(err, ChainError::NotYetValid { .. }), "{err}");

    let non_ca = pki::not_a_ca(&root, key_type, "Web Server Pretending");
    let leaf = pki::leaf(&non_ca, &leaf_key, "www.example.com", &["www.example.com"], &[]);
    let err = verify_chain(&leaf, std::slice::from_ref(&non_ca.der), &root.der, now).expect_err("not a CA");
    assert!(err.to_string().starts_with("the intermediate 1 'Web Server Pretending' is not a CA certificate"), "{err}");

    let strict_root = pki::root(key_type, "Strict Root", Some(0));
    let first = pki::intermediate(&strict_root, key_type, "First CA", later);
    let second = pki::intermediate(&first, key_type, "Second CA", later);
    let leaf = pki::leaf(&second, &leaf_key, "www.example.com", &["www.example.com"], &[]);
    let err = verify_chain(&leaf, &[second.der.clone(), first.der.clone()], &strict_root.der, now).expect_err("depth");
    // The first intermediate (pathlen 0) already forbids the second one below it.
    assert!(matches!(err, ChainError::PathLength { limit: 0, below: 1, .. }), "{err}");

    let err = verify_chain(&good, std::slice::from_ref(&root.der), &intermediate.der, now).expect_err("order");
    assert!(matches!(err, ChainError::IssuerMismatch { .. }), "{err}");
    let err = verify_chain(&good, &[], &intermediate.der, now).expect_err("intermediate as root");
    assert_eq!(err, ChainError::RootNotSelfSigned { which: "root 'Test Issuing CA'".to_owned() });
    verify_chain(&good, std::slice::from_ref(&intermediate.der), &root.der, now).expect("the good chain verifies");
}

#[test]
fn a_ca_chain_verified_once_still_has_every_leaf_and_every_other_chain_checked() {
    let now = OffsetDateTime::now_utc();
    let later = now + Duration::days(1825);
    let key_type = KeyType::EcP384;
    let root = pki::root(key_type, "Remembered Root", Some(1));
    let intermediate = pki::intermediate(&root, key_type, "Remembered CA", later);
    let leaf_key = pki::key(KeyType::EcP256);
    let good = pki::leaf(&intermediate, &leaf_key, "a.example.com", &["a.example.com"], &[]);
    let chain = std::slice::from_ref(&intermediate.der);
    verify_chain(&good, chain, &root.der, now).expect("first: every signature checked");
    verify_chain(&good, chain, &root.der, now).expect("again: the CA part remembered");

    // The CA part is remembered; a leaf its intermediate did not sign is still refused.
    let impostor = pki::intermediate(&root, key_type, "Remembered CA", later);
    let forged = pki::leaf(&impostor, &leaf_key, "a.example.com", &["a.example.com"], &[]);
    let err = verify_chain(&forged, chain, &root.der, now).expect_err("forged leaf");
    assert!(matches!(err, ChainError::BadSignature { .. }), "{err}");

    // Another root with the same name signing the same-named intermediate: other bytes, checked in full.
    let twin_root = pki::root(key_type, "Remembered Root", Some(1));
    let err = verify_chain(&good, chain, &twin_root.der, now).expect_err("twin root");
    assert!(matches!(err, ChainError::BadSignature { .. }), "{err}");

    // Validity is checked every time, remembered or not.
    let err = verify_chain(&good, chain, &root.der, now + Duration::days(4000)).expect_err("expired later");
    assert!(matches!(err, ChainError::Expired { .. }), "{err}");
}

#[test]
fn bad_download_requests_are_explained() {
    let pki = pki::three_tier(KeyType::Ed25519);
    let good = material(&pki);

    let no_password = RenderOptions::default();
    assert_eq!(render(DownloadFormat::Pkcs12, &good, &no_password).unwrap_err(), BundleError::Pkcs12PasswordMissing);
    let short = RenderOptions { pkcs12_password: Some(SecretString::from("short")), ..RenderOptions::default() };
    let err = render(DownloadFormat::Pkcs12, &good, &short).unwrap_err();
    assert_eq!(err.to_string(), "the PKCS#12 password must be at least 8 characters long (this one has 5)");
    let umlaut =
        RenderOptions { pkcs12_password: Some(SecretString::from("pässwörter")), ..RenderOptions::default() };
    assert_eq!(render(DownloadFormat::Pkcs12, &good, &umlaut).unwrap_err(), BundleError::Pkcs12PasswordCharset);

    // Keys are never in the error messages, passwords never in Debug output.
    assert!(!format!("{:?}", options()).contains(PASSWORD));
    assert!(!format!("{good:?}").contains("PRIVATE"));

    let csr_based = Material { private_key_pkcs8: None, ..good.clone() };
    for format in DownloadFormat::ALL {
        let result = render(format, &csr_based, &options());
        assert_eq!(result.is_err(), format.needs_private_key(), "{format}");
    }
    assert_eq!(render(DownloadFormat::PrivateKeyPem, &csr_based, &options()).unwrap_err(), BundleError::KeyNotHeld);
    let err = render(DownloadFormat::KubernetesSecret, &csr_based, &options()).unwrap_err();
    assert!(err.to_string().contains("kubectl create secret tls"), "{err}");

    let other_key = pki::key(KeyType::Ed25519);
    let mismatched =
        Material { private_key_pkcs8: Some(Zeroizing::new(other_key.pkcs8_der().to_vec())), ..good.clone() };
    assert_eq!(render(DownloadFormat::Pkcs12, &mismatched, &options()).unwrap_err(), BundleError::KeyMismatch);

    let root_issued = Material { intermediates_der: vec![], ..good.clone() };
    assert_eq!(render(DownloadFormat::ChainPem, &root_issued, &options()).unwrap_err(), BundleError::NoIntermediates);

    for bad in ["Web_TLS", "-web", "web-", "a..b", ".web", &"a".repeat(254)] {
        let options = RenderOptions { secret_name: Some(bad.to_owned()), ..RenderOptions::default() };
        let err = render(DownloadFormat::KubernetesSecret, &good, &options).unwrap_err();
        assert!(matches!(err, BundleError::InvalidSecretName { .. }), "{bad}: {err}");
    }
    for bad in ["kube.system", "Shop", "-shop", &"a".repeat(64)] {
        let options = RenderOptions { namespace: Some(bad.to_owned()), ..RenderOptions::default() };
        let err = render(DownloadFormat::KubernetesSecret, &good, &options).unwrap_err();
        assert!(err.to_string().starts_with(&format!("'{bad}' is not a valid Kubernetes namespace")), "{err}");
    }

    let err = "zip".parse::<DownloadFormat>().unwrap_err();
    assert!(err.to_string().contains("leaf-pem, chain-pem, fullchain-pem"), "{err}");
}

#[test]
fn secret_names_are_derived_from_the_common_name() {
    let cases = [
        ("www.example.com", "www.example.com"),
        ("*.Example.com", "wildcard.example.com"),
        ("My Server (prod)", "my-server--prod"),
        ("-a-.-b-", "a.b"),
        ("***", "wildcardwildcardwildcard"),
        ("", "certificate"),
        ("änderung.example", "nderung.example"),
    ];
    for (common_name, expected) in cases {
        assert_eq!(super::kubernetes::secret_name_from(common_name), expected, "{common_name:?}");
    }
    assert!(super::kubernetes::secret_name_from(&"x".repeat(300)).len() <= 253);
}

#[test]
fn download_format_names() {
    for format in DownloadFormat::ALL {
        assert_eq!(format.as_str().parse::<DownloadFormat>(), Ok(format));
        assert_eq!(serde_json::to_string(&format).expect("json"), format!("\"{}\"", format.as_str()));
    }
    assert_eq!(DownloadFormat::FullChainPem.file_name("*.Example.com"), "wildcard.example.com.fullchain.pem");
    assert_eq!(DownloadFormat::Pkcs12.file_name("../etc/passwd"), "etc_passwd.p12");
    assert_eq!(DownloadFormat::KubernetesSecret.file_name(""), "certificate.secret.yaml");
    assert_eq!(DownloadFormat::Pkcs12.content_type(), "application/x-pkcs12");
    assert!(DownloadFormat::PrivateKeyPem.needs_private_key());
    assert!(!DownloadFormat::CaBundlePem.needs_private_key());
}
