//! Tests for key generation, CSR building and CSR checking, cross-checked with the openssl CLI.

use std::net::IpAddr;

use super::test_support::{Scratch, openssl, openssl_ok};
use super::{CsrError, KeyFamily, KeyType, PrivateKey, build_csr, generate, parse_csr};
use crate::names::{DnsName, normalize_dns_name};

fn dns(names: &[&str]) -> Vec<DnsName> {
    names.iter().map(|n| normalize_dns_name(n).expect("valid name")).collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[test]
fn key_type_names() {
    for key_type in KeyType::ALL {
        assert_eq!(key_type.as_str().parse::<KeyType>(), Ok(key_type));
        let json = serde_json::to_string(&key_type).expect("serialises");
        assert_eq!(json, format!("\"{}\"", key_type.as_str()));
    }
    assert_eq!(KeyType::EcP256.label(), "EC P-256");
    assert_eq!(KeyType::Rsa3072.label(), "RSA 3072");
    assert_eq!(KeyType::Ed25519.label(), "Ed25519");
    assert_eq!(KeyType::Rsa4096.family(), KeyFamily::Rsa);
    let err = "dsa1024".parse::<KeyType>().expect_err("unknown");
    assert!(err.to_string().contains("ec-p256, ec-p384, rsa2048"), "{err}");
}

/// Every key type: generate, build a CSR, check it ourselves and with `openssl req -verify`. RSA 4096 is the
/// slow one in debug builds; it is generated here and nowhere else.
#[test]
fn every_key_type_round_trips_through_a_csr() {
    let scratch = Scratch::new("keys");
    for key_type in KeyType::ALL {
        let key = generate(key_type).expect("generate");
        assert_eq!(key.key_type(), key_type);
        let pem = key.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{key_type}");
        assert!(!format!("{key:?}").contains(&pem[30..60]), "Debug must not show key material");

        let reloaded = PrivateKey::from_pkcs8_der(key.pkcs8_der()).expect("reload");
        assert_eq!(reloaded.key_type(), key_type);

        let names = dns(&["www.example.com", "example.com"]);
        let csr_pem = build_csr(&key, Some("www.example.com"), &names, &[ip("192.0.2.7")]).expect("build");
        let csr = parse_csr(csr_pem.as_bytes()).expect("parse own CSR");
        assert_eq!(csr.key().key_type, Some(key_type), "{key_type}");
        assert_eq!(csr.key().label(), key_type.label());
        assert_eq!(csr.common_name().as_deref(), Some("www.example.com"));
        assert_eq!(csr.dns_names(), vec!["www.example.com", "example.com"]);
        assert_eq!(csr.ip_addresses(), vec![ip("192.0.2.7")]);
        csr.names_equal(names.first(), &names, &[ip("192.0.2.7")]).expect("names match");

        let file = format!("{}.csr", key_type.as_str());
        scratch.write(&file, csr.pem().as_bytes());
        let out = openssl_ok(&["req", "-in", &file, "-verify", "-noout"], scratch.dir());
        assert!(out.contains("verify OK") || out.contains("Certificate request self-signature verify OK"), "{out}");
        scratch.write("key.pem", pem.as_bytes());
        let key_text = openssl_ok(&["pkey", "-in", "key.pem", "-noout", "-text"], scratch.dir());
        assert!(!key_text.is_empty());
    }
}

#[test]
fn csr_without_names_is_refused() {
    let key = generate(KeyType::EcP256).expect("generate");
    assert!(build_csr(&key, None, &[], &[]).is_err());
    assert!(build_csr(&key, Some(&"a".repeat(65)), &[], &[]).unwrap_err().to_string().contains("at most 64"));
    let pem = build_csr(&key, None, &[], &[ip("2001:db8::1")]).expect("IP-only CSR");
    let csr = parse_csr(pem.as_bytes()).expect("parse");
    assert_eq!(csr.common_name(), None);
    assert_eq!(csr.ip_addresses(), vec![ip("2001:db8::1")]);
}

/// Makes a CSR with `openssl req -new -newkey <spec>` for www.example.com.
fn openssl_csr(scratch: &Scratch, newkey: &[&str]) -> Vec<u8> {
    let mut args =
        vec!["req", "-new", "-nodes", "-keyout", "key.pem", "-out", "req.pem", "-subj", "/CN=www.example.com"];
    args.extend_from_slice(&["-addext", "subjectAltName=DNS:www.example.com,DNS:Example.COM,IP:10.1.2.3"]);
    args.extend_from_slice(newkey);
    openssl_ok(&args, scratch.dir());
    scratch.read("req.pem")
}

#[test]
fn openssl_csrs_are_judged_by_their_keys() {
    let scratch = Scratch::new("openssl-csr");

    let weak = openssl_csr(&scratch, &["-newkey", "rsa:1024"]);
    let err = parse_csr(&weak).expect_err("RSA 1024");
    assert_eq!(err.to_string(), "RSA keys must be at least 2048 bits (this one has 1024)");

    let rsa = openssl_csr(&scratch, &["-newkey", "rsa:2048"]);
    let csr = parse_csr(&rsa).expect("RSA 2048");
    assert_eq!(csr.key().key_type, Some(KeyType::Rsa2048));
    assert_eq!(csr.dns_names(), vec!["www.example.com", "Example.COM"]);
    csr.names_equal(None, &dns(&["example.com", "www.example.com"]), &[ip("10.1.2.3")]).expect("same names");

    let p521 = openssl_csr(&scratch, &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"]);
    let err = parse_csr(&p521).expect_err("P-521");
    assert_eq!(err, CsrError::UnsupportedCurve { curve: "P-521".to_owned() });
    assert!(err.to_string().contains("P-521"), "{err}");

    let secp256k1 = openssl_csr(&scratch, &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"]);
    assert!(parse_csr(&secp256k1).expect_err("secp256k1").to_string().contains("secp256k1"));

    let p384 = openssl_csr(&scratch, &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]);
    assert_eq!(parse_csr(&p384).expect("P-384").key().key_type, Some(KeyType::EcP384));

    let ed = openssl_csr(&scratch, &["-newkey", "ed25519"]);
    assert_eq!(parse_csr(&ed).expect("Ed25519").key().family, KeyFamily::Ed25519);

    openssl_ok(
        &["genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-out", "dsa.pem"],
        scratch.dir(),
    );
    let dsa = openssl_csr(&scratch, &["-newkey", "dsa:dsa.pem"]);
    let err = parse_csr(&dsa).expect_err("DSA");
    assert!(matches!(err, CsrError::UnsupportedKey { .. }), "{err:?}");
    assert!(err.to_string().starts_with("DSA keys are not supported"), "{err}");

    // The exponent rule: openssl can make an RSA key with e = 3.
    let e3 = openssl_csr(&scratch, &["-newkey", "rsa:2048", "-pkeyopt", "rsa_keygen_pubexp:3"]);
    assert!(parse_csr(&e3).expect_err("e=3").to_string().contains("exponent"));
}

#[test]
fn a_flipped_signature_byte_is_refused() {
    let key = generate(KeyType::EcP256).expect("generate");
    let pem = build_csr(&key, Some("www.example.com"), &[], &[]).expect("build");
    let mut der = parse_csr(pem.as_bytes()).expect("parse").der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let err = parse_csr(&der).expect_err("tampered");
    assert_eq!(err.to_string(), "the CSR's signature does not verify");

    // Tampering with the signed part (the subject) must fail too.
    let mut der = parse_csr(pem.as_bytes()).expect("parse").der().to_vec();
    let at = der.windows(3).position(|w| w == b"www").expect("CN bytes");
    der[at] = b'x';
    assert_eq!(parse_csr(&der).expect_err("tampered"), CsrError::BadSignature);
}

#[test]
fn der_and_pem_forms() {
    let scratch = Scratch::new("der");
    let key = generate(KeyType::Ed25519).expect("generate");
    let pem = build_csr(&key, Some("der.example.com"), &dns(&["der.example.com"]), &[]).expect("build");
    let from_pem = parse_csr(pem.as_bytes()).expect("PEM");
    let from_der = parse_csr(from_pem.der()).expect("DER");
    assert_eq!(from_der.der(), from_pem.der());
    assert_eq!(from_der.pem(), from_pem.pem());

    // openssl's DER output is accepted as-is.
    scratch.write("req.pem", pem.as_bytes());
    openssl_ok(&["req", "-in", "req.pem", "-outform", "DER", "-out", "req.der"], scratch.dir());
    assert_eq!(parse_csr(&scratch.read("req.der")).expect("openssl DER").der(), from_pem.der());

    // The old Netscape label, CRLF line endings and surrounding whitespace are fine.
    let old = pem.replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST").replace('\n', "\r\n");
    assert!(parse_csr(format!("\n  {old}\n\n").as_bytes()).is_ok());

    let mut trailing = from_pem.der().to_vec();
    trailing.extend_from_slice(b"junk");
    assert_eq!(parse_csr(&trailing).expect_err("trailing"), CsrError::TrailingData { bytes: 4 });
    assert_eq!(parse_csr(format!("{pem}garbage").as_bytes()).expect_err("text after"), CsrError::TextAroundPem);
    assert_eq!(parse_csr(format!("Hello\n{pem}").as_bytes()).expect_err("text before"), CsrError::TextAroundPem);
    assert_eq!(parse_csr(format!("{pem}{pem}").as_bytes()).expect_err("two"), CsrError::MultiplePemBlocks { count: 2 });
}

#[test]
fn bad_inputs_say_what_is_wrong() {
    let huge = vec![b'A'; 64 * 1024 + 1];
    let err = parse_csr(&huge).expect_err("huge");
    assert!(err.to_string().contains("the limit is 64 KiB"), "{err}");
    assert_eq!(parse_csr(b"  \n").expect_err("empty"), CsrError::Empty);
    assert_eq!(parse_csr(b"hello world").expect_err("garbage"), CsrError::NotACsr);
    assert!(matches!(parse_csr(&[0x30, 0x82, 0x01]).expect_err("truncated DER"), CsrError::Malformed { .. }));

    let cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    assert_eq!(
        parse_csr(cert.as_bytes()).expect_err("cert").to_string(),
        "this is a CERTIFICATE, not a certificate request"
    );

    let key = generate(KeyType::EcP256).expect("generate");
    let err = parse_csr(key.to_pkcs8_pem().as_bytes()).expect_err("key");
    assert_eq!(err, CsrError::PrivateKeyPasted);

    let broken = "-----BEGIN CERTIFICATE REQUEST-----\n!!!not base64!!!\n-----END CERTIFICATE REQUEST-----\n";
    assert_eq!(parse_csr(broken.as_bytes()).expect_err("broken"), CsrError::BadPem);
}

#[test]
fn names_mismatch_lists_extra_and_missing() {
    let key = generate(KeyType::EcP256).expect("generate");
    let pem =
        build_csr(&key, Some("WWW.example.com"), &dns(&["www.example.com", "extra.example.com"]), &[ip("10.0.0.1")])
            .expect("build");
    let csr = parse_csr(pem.as_bytes()).expect("parse");

    // Order and case do not matter, and the CN counts as a DNS name.
    csr.names_equal(None, &dns(&["extra.example.com", "www.example.com"]), &[ip("10.0.0.1")]).expect("equal");

    let wanted = dns(&["www.example.com", "api.example.com"]);
    let err = csr.names_equal(wanted.first(), &wanted, &[ip("10.0.0.2")]).expect_err("different");
    assert_eq!(
        err.to_string(),
        "the CSR's names do not match the request: it also names 'extra.example.com', '10.0.0.1' (not requested); \
         it lacks 'api.example.com', '10.0.0.2' (requested)"
    );
    assert_eq!(
        err,
        CsrError::NamesDiffer {
            extra: vec!["extra.example.com".to_owned(), "10.0.0.1".to_owned()],
            missing: vec!["api.example.com".to_owned(), "10.0.0.2".to_owned()],
        }
    );
}

#[test]
fn csr_with_email_san_or_odd_cn_is_explained() {
    let scratch = Scratch::new("email");
    openssl_ok(
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "k.pem",
            "-out",
            "r.pem",
            "-subj",
            "/CN=My Server",
            "-addext",
            "subjectAltName=email:a@example.com",
        ],
        scratch.dir(),
    );
    let err = parse_csr(&scratch.read("r.pem")).expect_err("email SAN");
    assert!(err.to_string().contains("email name (a@example.com)"), "{err}");

    openssl_ok(
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "k.pem",
            "-out",
            "r.pem",
            "-subj",
            "/CN=My Server",
        ],
        scratch.dir(),
    );
    let csr = parse_csr(&scratch.read("r.pem")).expect("plain CN is parsed");
    let err = csr.names_equal(None, &dns(&["my.example.com"]), &[]).expect_err("CN not a DNS name");
    assert!(err.to_string().starts_with("the CSR's common name is not acceptable: 'My Server'"), "{err}");
    let _ = openssl(&["version"], scratch.dir());
}

#[test]
fn csrs_signed_with_md5_or_sha1_are_refused_naming_the_algorithm() {
    let scratch = Scratch::new("weak-csr");
    for (digest, key, message) in [
        ("-md5", &["-newkey", "rsa:2048"][..], "the CSR is signed with MD5 (md5WithRSAEncryption)"),
        ("-sha1", &["-newkey", "rsa:2048"][..], "the CSR is signed with SHA-1 (sha1WithRSAEncryption)"),
        (
            "-sha1",
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
            "the CSR is signed with SHA-1 (ecdsa-with-SHA1)",
        ),
    ] {
        let mut args = key.to_vec();
        args.push(digest);
        let csr = openssl_csr(&scratch, &args);
        let error = parse_csr(&csr).expect_err(digest);
        assert_eq!(error.to_string(), format!("{message}; sign it with SHA-256 or better"));
    }
    let mut sha256 = vec!["-newkey", "rsa:2048", "-sha256"];
    assert!(parse_csr(&openssl_csr(&scratch, &sha256)).is_ok());
    sha256[2] = "-sha384";
    assert!(parse_csr(&openssl_csr(&scratch, &sha256)).is_ok());
}

#[test]
fn a_csr_common_name_longer_than_64_characters_is_refused_naming_it() {
    // openssl refuses to write such a subject ("string too long ... maxsize=64"); other tools do not.
    let long = format!("{}.example.com", "a".repeat(63));
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec![long.clone()]).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, long.as_str());
    let pem = params.serialize_request(&key).expect("CSR").pem().expect("PEM");
    let error = parse_csr(pem.as_bytes()).expect_err("CN of 75 characters");
    assert!(matches!(error, CsrError::CommonNameTooLong { len: 75, .. }), "{error:?}");
    assert!(error.to_string().contains(&format!("'{long}' is 75 characters long")), "{error}");

    // Without a common name, the same long name in the SAN is a fine CSR (openssl makes this one).
    let scratch = Scratch::new("long-cn");
    let san = format!("subjectAltName=DNS:{long}");
    openssl_ok(
        &["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", "key.pem"]
            .into_iter()
            .chain(["-out", "nocn.pem", "-subj", "/", "-addext", &san])
            .collect::<Vec<_>>(),
        scratch.dir(),
    );
    let csr = parse_csr(&scratch.read("nocn.pem")).expect("SAN only");
    assert_eq!((csr.common_name(), csr.dns_names()), (None, vec![long]));
}
