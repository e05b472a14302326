//! `certdesk pki …` through the binary, verified with openssl.

use std::os::unix::fs::PermissionsExt;

use super::{certdesk, init_root, openssl, openssl_csr, path, stderr, stdout, temp_dir};

#[test]
fn init_root_makes_a_p384_ca_with_a_private_key_and_never_overwrites() {
    let dir = temp_dir("init-root");
    let (cert, key) = init_root(&dir);
    // OpenSSL 3 writes `CN = x`, 1.1 wrote `CN=x`.
    let text = stdout(&openssl(&["x509", "-in", path(&cert), "-text", "-noout"])).replace(" = ", "=");
    for expected in [
        "ecdsa-with-SHA384",
        "NIST CURVE: P-384",
        "Subject: CN=IT Root CA",
        "X509v3 Basic Constraints: critical",
        "CA:TRUE",
        "X509v3 Key Usage: critical",
        "Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("pathlen"), "{text}");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let key_text = std::fs::read_to_string(&key).unwrap();
    assert!(key_text.starts_with("-----BEGIN PRIVATE KEY-----"));
    let check = openssl(&["pkey", "-in", path(&key), "-noout"]);
    assert!(check.status.success(), "{}", stderr(&check));

    let before = std::fs::read(&cert).unwrap();
    let again = certdesk(&["pki", "init-root", "--out-dir", path(cert.parent().unwrap())]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("refusing to overwrite"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&cert).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_text);
}

#[test]
fn init_root_prints_the_fingerprint_and_the_offline_reminder() {
    let dir = temp_dir("init-root-out");
    let out = dir.join("root");
    let output = certdesk(&["pki", "init-root", "--out-dir", path(&out), "--organization", "Example Org"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let fingerprint =
        stdout(&openssl(&["x509", "-in", path(&out.join("root_ca.pem")), "-noout", "-fingerprint", "-sha256"]));
    let fingerprint = fingerprint.trim().split('=').nth(1).unwrap();
    assert!(printed.contains(fingerprint), "{printed}\n{fingerprint}");
    assert!(printed.contains("offline"), "{printed}");
    assert!(!printed.contains("PRIVATE KEY"), "{printed}");
}

#[test]
fn sign_intermediate_for_an_openssl_csr_verifies_to_the_root() {
    let dir = temp_dir("sign-intermediate");
    let (root_cert, root_key) = init_root(&dir);
    let csr = openssl_csr(
        &dir,
        "int",
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "/O=certdesk/CN=IT Intermediate",
        None,
    );
    let out = dir.join("intermediate.pem");
    let output = certdesk(&[
        "pki",
        "sign-intermediate",
        "--root-cert",
        path(&root_cert),
        "--root-key",
        path(&root_key),
        "--csr",
        path(&csr),
        "--out",
        path(&out),
        "--crl-url",
        "https://certdesk.example.test/crl/root.crl",
        "--aia-url",
        "https://certdesk.example.test/ca/root.der",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let verify = openssl(&["verify", "-CAfile", path(&root_cert), path(&out)]);
    assert!(verify.status.success(), "{}{}", stdout(&verify), stderr(&verify));
    let text = stdout(&openssl(&["x509", "-in", path(&out), "-text", "-noout"])).replace(" = ", "=");
    for expected in [
        "Subject: O=certdesk, CN=IT Intermediate",
        "Issuer: CN=IT Root CA",
        "CA:TRUE, pathlen:0",
        "X509v3 Key Usage: critical",
        "Certificate Sign, CRL Sign",
        "X509v3 Authority Key Identifier",
        "X509v3 Subject Key Identifier",
        "URI:https://certdesk.example.test/crl/root.crl",
        "CA Issuers - URI:https://certdesk.example.test/ca/root.der",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The root lives ten years: the intermediate's five are not cut.
    assert!(!stdout(&output).contains("cut to the root"), "{}", stdout(&output));
}

#[test]
fn sign_intermediate_refuses_bad_inputs_and_leaves_no_output() {
    let dir = temp_dir("sign-bad");
    let (root_cert, root_key) = init_root(&dir);
    let good = openssl_csr(&dir, "good", &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "/CN=IT Intermediate", None);

    let der = pem::parse(std::fs::read(&good).unwrap()).unwrap().into_contents();
    let mut corrupted = der.clone();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 0x01;
    let corrupted_path = dir.join("corrupted.csr");
    std::fs::write(&corrupted_path, pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", corrupted))).unwrap();
    let garbage = dir.join("garbage.csr");
    std::fs::write(&garbage, b"\x00\x01 definitely not a CSR").unwrap();
    let (other_root, other_key) = init_root(&dir.join("other"));

    let cases = [
        (corrupted_path.clone(), root_key.clone(), "self-signature does not verify"),
        (root_cert.clone(), root_key.clone(), "expected a PEM CERTIFICATE REQUEST, found a PEM CERTIFICATE"),
        (garbage.clone(), root_key.clone(), "not PEM"),
        (good.clone(), other_key.clone(), "does not match the root certificate"),
    ];
    for (csr, key, message) in cases {
        let out = dir.join("never.pem");
        let output = certdesk(&[
            "pki",
            "sign-intermediate",
            "--root-cert",
            path(&root_cert),
            "--root-key",
            path(&key),
            "--csr",
            path(&csr),
            "--out",
            path(&out),
        ]);
        assert_eq!(output.status.code(), Some(1), "{message}: {}", stderr(&output));
        assert!(stderr(&output).contains(message), "expected {message:?} in {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"));
        assert!(!out.exists(), "{message}: output left behind");
    }
    assert!(other_root.exists());
}

#[test]
fn sign_intermediate_never_outlives_the_root() {
    let dir = temp_dir("sign-clamp");
    let out = dir.join("root");
    let made = certdesk(&["pki", "init-root", "--out-dir", path(&out), "--days", "30"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let (root_cert, root_key) = (out.join("root_ca.pem"), out.join("root_ca.key"));
    let csr = openssl_csr(&dir, "int", &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "/CN=Short", None);
    let cert = dir.join("int.pem");
    let output = certdesk(&[
        "pki",
        "sign-intermediate",
        "--root-cert",
        path(&root_cert),
        "--root-key",
        path(&root_key),
        "--csr",
        path(&csr),
        "--out",
        path(&cert),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("cut to the root's notAfter"), "{}", stdout(&output));
    let end = |file: &std::path::Path| stdout(&openssl(&["x509", "-in", path(file), "-noout", "-enddate"]));
    assert_eq!(end(&cert), end(&root_cert));
}

#[test]
fn root_crl_lists_revoked_serials_with_reasons_and_verifies() {
    let dir = temp_dir("root-crl");
    let (root_cert, root_key) = init_root(&dir);
    let out = dir.join("root.crl");
    let crl = |number: &str| {
        certdesk(&[
            "pki",
            "root-crl",
            "--root-cert",
            path(&root_cert),
            "--root-key",
            path(&root_key),
            "--out",
            path(&out),
            "--crl-number",
            number,
            "--next-update-days",
            "7",
            "--revoke",
            "0a:1b:2c:keyCompromise",
            "--revoke",
            "7F00FF:cessationOfOperation:2026-01-15",
        ])
    };
    let output = crl("3");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = openssl(&["crl", "-inform", "DER", "-in", path(&out), "-text", "-noout"]);
    let text = stdout(&text).replace(" = ", "=");
    for expected in [
        "Serial Number: 0A1B2C",
        "Key Compromise",
        "Serial Number: 7F00FF",
        "Cessation Of Operation",
        "Jan 15 00:00:00 2026 GMT",
        "X509v3 CRL Number",
        "3",
        "X509v3 Authority Key Identifier",
        "Issuer: CN=IT Root CA",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    let verify = openssl(&["crl", "-inform", "DER", "-in", path(&out), "-CAfile", path(&root_cert), "-noout"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert!(stderr(&verify).contains("verify OK") || stdout(&verify).contains("verify OK"), "{}", stderr(&verify));
    let pem_copy = dir.join("root.crl.pem");
    assert!(std::fs::read_to_string(&pem_copy).unwrap().starts_with("-----BEGIN X509 CRL-----"));

    let again = crl("3");
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("must be greater"), "{}", stderr(&again));
    let bad = certdesk(&[
        "pki",
        "root-crl",
        "--root-cert",
        path(&root_cert),
        "--root-key",
        path(&root_key),
        "--out",
        path(&dir.join("x.crl")),
        "--crl-number",
        "1",
        "--revoke",
        "0a:unspecified",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("SERIAL_HEX:REASON"), "{}", stderr(&bad));
    assert!(!dir.join("x.crl").exists());
}
