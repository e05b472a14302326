//! `certdesk vault bootstrap` against the test stack's OpenBao, on a mount and AppRole of its own: run twice
//! (the second run changes nothing), then issue through the roles with the AppRole's credentials and check
//! what comes out, and what the AppRole may not do.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{certdesk, init_root, openssl, openssl_csr, path, stderr, stdout, temp_dir};
use crate::support::Stack;

const PUBLIC_URL: &str = "https://certdesk.example.test";
pub const DOMAIN: &str = "priv.example.test";

struct Bao {
    http: reqwest::Client,
    addr: String,
}

impl Bao {
    async fn call(&self, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}/v1/{path}", self.addr)).header("X-Vault-Token", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn bootstrap(stack: &Stack, dir: &Path, mount: &str, role: &str, approle: &str) -> std::process::Output {
    bootstrap_with(stack, dir, mount, role, approle, &[])
}

/// `vault bootstrap` of `mount` with the root in `dir/root` (see `init_root`), the roles allowing names under
/// `priv.example.test`, plus `extra` arguments; the AppRole's files land in `dir/out`.
pub fn bootstrap_with(
    stack: &Stack,
    dir: &Path,
    mount: &str,
    role: &str,
    approle: &str,
    extra: &[&str],
) -> std::process::Output {
    let addr = stack.read("openbao/addr");
    let token_file = format!("{stack}/openbao/root_token");
    let (root_cert, root_key) = (dir.join("root/root_ca.pem"), dir.join("root/root_ca.key"));
    certdesk(
        &[
            "vault",
            "bootstrap",
            "--address",
            &addr,
            "--token-file",
            &token_file,
            "--mount",
            mount,
            "--root-cert",
            path(&root_cert),
            "--root-key",
            path(&root_key),
            "--public-url",
            PUBLIC_URL,
            "--role",
            role,
            "--allowed-domain",
            DOMAIN,
            "--max-ttl",
            "720h",
            "--out-dir",
            path(&dir.join("out")),
            "--approle",
            approle,
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect::<Vec<_>>(),
    )
}

fn pem_der(pem_text: &str) -> Vec<u8> {
    pem::parse(pem_text).unwrap().into_contents()
}

/// keyUsage names, EKU names, CRL distribution point URIs and AIA caIssuers URIs of a leaf.
fn profile(der: &[u8]) -> (Vec<&'static str>, Vec<&'static str>, Vec<String>, Vec<String>) {
    let (_, cert) = X509Certificate::from_der(der).unwrap();
    let usage = cert.key_usage().unwrap().unwrap().value;
    let mut usages = Vec::new();
    for (set, name) in [
        (usage.digital_signature(), "digitalSignature"),
        (usage.key_encipherment(), "keyEncipherment"),
        (usage.key_agreement(), "keyAgreement"),
        (usage.data_encipherment(), "dataEncipherment"),
        (usage.key_cert_sign(), "keyCertSign"),
        (usage.non_repudiation(), "nonRepudiation"),
    ] {
        if set {
            usages.push(name);
        }
    }
    let mut ekus = Vec::new();
    if let Some(eku) = cert.extended_key_usage().unwrap() {
        assert!(eku.value.other.is_empty() && !eku.value.any);
        if eku.value.server_auth {
            ekus.push("serverAuth");
        }
        if eku.value.client_auth {
            ekus.push("clientAuth");
        }
    }
    let (mut crl, mut aia) = (Vec::new(), Vec::new());
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                        crl.extend(names.iter().filter_map(|name| match name {
                            GeneralName::URI(uri) => Some(uri.to_string()),
                            _ => None,
                        }));
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(access) => {
                aia.extend(access.accessdescs.iter().filter_map(|desc| match &desc.access_location {
                    GeneralName::URI(uri) => Some(uri.to_string()),
                    _ => None,
                }));
            }
            _ => {}
        }
    }
    (usages, ekus, crl, aia)
}

#[tokio::test]
async fn bootstrap_twice_then_issue_through_the_roles_with_the_approle() {
    let stack = crate::support::stack();
    let suffix = format!("{:08x}", rand::random::<u32>());
    let (mount, role, approle) = (format!("pki_it_{suffix}"), format!("it{suffix}"), format!("certdesk_it_{suffix}"));
    let dir = temp_dir("bootstrap");
    init_root(&dir);

    let first = bootstrap(&stack, &dir, &mount, &role, &approle);
    assert!(first.status.success(), "{}", stderr(&first));
    let first_out = stdout(&first);
    assert!(first_out.contains(&format!("PKI mount {mount}: created")), "{first_out}");
    assert!(first_out.contains(&format!("intermediate CA of {mount}: created")), "{first_out}");
    assert!(first_out.contains(&format!("role {mount}/roles/{role}-rsa-client: created")), "{first_out}");
    assert!(first_out.contains("secret_id: created"), "{first_out}");

    let second = bootstrap(&stack, &dir, &mount, &role, &approle);
    assert!(second.status.success(), "{}", stderr(&second));
    let second_out = stdout(&second);
    assert!(second_out.contains("nothing to change"), "{second_out}");
    assert!(!second_out.contains(": created") && !second_out.contains(": updated"), "{second_out}");

    let out = dir.join("out");
    let role_id = std::fs::read_to_string(out.join("role_id")).unwrap();
    let secret_id = std::fs::read_to_string(out.join("secret_id")).unwrap();
    // The credentials never reach the terminal.
    for printed in [&first_out, &second_out, &stderr(&first), &stderr(&second)] {
        assert!(!printed.contains(secret_id.trim()) && !printed.contains(role_id.trim()));
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(out.join("secret_id")).unwrap().permissions().mode() & 0o777, 0o600);

    let bao = Bao { http: reqwest::Client::new(), addr: stack.read("openbao/addr") };
    let root_token = stack.read("openbao/root_token");
    let (status, login) = bao
        .call(
            "",
            reqwest::Method::POST,
            "auth/approle/login",
            Some(json!({"role_id": role_id.trim(), "secret_id": secret_id.trim()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["auth"]["client_token"].as_str().unwrap().to_owned();
    assert_eq!(login["auth"]["lease_duration"], json!(3600));

    let root_cert = dir.join("root/root_ca.pem");
    let intermediate = out.join("intermediate.pem");
    let chain = std::fs::read_to_string(out.join("ca_chain.pem")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);

    let ec_csr = openssl_csr(
        &dir,
        "ec",
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        &format!("/CN=ec.{DOMAIN}"),
        Some(&format!("DNS:ec.{DOMAIN}")),
    );
    let rsa_csr =
        openssl_csr(&dir, "rsa", &["rsa:2048"], &format!("/CN=rsa.{DOMAIN}"), Some(&format!("DNS:rsa.{DOMAIN}")));
    let ed_csr = openssl_csr(&dir, "ed", &["ed25519"], &format!("/CN=ed.{DOMAIN}"), None);
    let cases = [
        (format!("{role}-ec"), &ec_csr, vec!["digitalSignature"], vec!["serverAuth"]),
        (format!("{role}-ec-client"), &ec_csr, vec!["digitalSignature"], vec!["serverAuth", "clientAuth"]),
        (format!("{role}-rsa"), &rsa_csr, vec!["digitalSignature", "keyEncipherment"], vec!["serverAuth"]),
        (
            format!("{role}-rsa-client"),
            &rsa_csr,
            vec!["digitalSignature", "keyEncipherment"],
            vec!["serverAuth", "clientAuth"],
        ),
        (format!("{role}-ed25519"), &ed_csr, vec!["digitalSignature"], vec!["serverAuth"]),
    ];
    for (role_name, csr, usages, ekus) in cases {
        let csr_pem = std::fs::read_to_string(csr).unwrap();
        let (status, body) = bao
            .call(
                &token,
                reqwest::Method::POST,
                &format!("{mount}/sign/{role_name}"),
                Some(json!({"csr": csr_pem, "ttl": "24h"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{role_name}: {body}");
        let leaf_pem = body["data"]["certificate"].as_str().unwrap();
        let leaf = dir.join(format!("{role_name}.pem"));
        std::fs::write(&leaf, leaf_pem).unwrap();
        let verify = openssl(&["verify", "-CAfile", path(&root_cert), "-untrusted", path(&intermediate), path(&leaf)]);
        assert!(verify.status.success(), "{role_name}: {}{}", stdout(&verify), stderr(&verify));
        let (got_usages, got_ekus, crl, aia) = profile(&pem_der(leaf_pem));
        assert_eq!(got_usages, usages, "{role_name}");
        assert_eq!(got_ekus, ekus, "{role_name}");
        assert_eq!(crl, [format!("{PUBLIC_URL}/crl/{mount}.crl")], "{role_name}");
        assert_eq!(aia, [format!("{PUBLIC_URL}/ca/{mount}.der")], "{role_name}");
    }

    // An EC CSR on the RSA role is refused by key type; a name outside allowed_domains by the role.
    let ec_pem = std::fs::read_to_string(&ec_csr).unwrap();
    let (status, _) = bao
        .call(&token, reqwest::Method::POST, &format!("{mount}/sign/{role}-rsa"), Some(json!({"csr": ec_pem})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let outside =
        openssl_csr(&dir, "outside", &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "/CN=www.example.com", None);
    let outside_pem = std::fs::read_to_string(&outside).unwrap();
    let (status, body) = bao
        .call(&token, reqwest::Method::POST, &format!("{mount}/sign/{role}-ec"), Some(json!({"csr": outside_pem})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Least privilege: no sys/, no roles outside the policy, no issue/ (keys are never made by OpenBao), no
    // role administration.
    for (method, path, body) in [
        (reqwest::Method::GET, "sys/mounts".to_owned(), None),
        (reqwest::Method::POST, format!("{mount}/sign/{role}-other"), Some(json!({"csr": ec_pem}))),
        (
            reqwest::Method::POST,
            format!("{mount}/issue/{role}-ec"),
            Some(json!({"common_name": format!("x.{DOMAIN}")})),
        ),
        (reqwest::Method::POST, format!("{mount}/roles/{role}-ec"), Some(json!({"allow_any_name": true}))),
        (reqwest::Method::POST, "pki_private_issuer/sign/certdesk-demo".to_owned(), Some(json!({"csr": ec_pem}))),
    ] {
        let (status, _) = bao.call(&token, method, &path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    // What certdesk does need is allowed.
    for path in [format!("{mount}/cert/ca_chain"), format!("{mount}/crl/rotate"), "auth/token/lookup-self".to_owned()] {
        let (status, body) = bao.call(&token, reqwest::Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }

    // Clean up what this test made in the shared OpenBao.
    for path in
        [format!("sys/mounts/{mount}"), format!("sys/policies/acl/{approle}"), format!("auth/approle/role/{approle}")]
    {
        let (status, body) = bao.call(&root_token, reqwest::Method::DELETE, &path, None).await;
        assert!(status.is_success(), "{path}: {body}");
    }
}

#[tokio::test]
async fn bootstrap_refuses_a_bad_token_and_an_unreachable_address() {
    let stack = crate::support::stack();
    let dir = temp_dir("bootstrap-errors");
    init_root(&dir);
    let (root_cert, root_key) = (dir.join("root/root_ca.pem"), dir.join("root/root_ca.key"));
    let bad_token = dir.join("token");
    std::fs::write(&bad_token, "s.not-a-real-token\n").unwrap();
    let addr = stack.read("openbao/addr");
    let run = |address: &str, token: &Path| {
        certdesk(&[
            "vault",
            "bootstrap",
            "--address",
            address,
            "--token-file",
            path(token),
            "--mount",
            "pki_it_never",
            "--root-cert",
            path(&root_cert),
            "--root-key",
            path(&root_key),
            "--public-url",
            PUBLIC_URL,
            "--role",
            "it",
            "--allowed-domain",
            DOMAIN,
            "--out-dir",
            path(&dir.join("out")),
        ])
    };
    let refused = run(&addr, &bad_token);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("token was refused (HTTP 403)"), "{}", stderr(&refused));
    assert!(!stderr(&refused).contains("not-a-real-token"));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = run(&format!("http://127.0.0.1:{port}"), &bad_token);
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(stderr(&unreachable).contains("cannot reach Vault/OpenBao"), "{}", stderr(&unreachable));
    assert!(!dir.join("out/role_id").exists());
}

/// A sealed server answers every request with 503 "Vault is sealed"; sealing the shared stack would break other
/// tests, so a one-line HTTP server plays it.
#[test]
fn bootstrap_says_so_when_the_server_is_sealed() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let body = r#"{"errors":["Vault is sealed"]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = temp_dir("bootstrap-sealed");
    init_root(&dir);
    let token = dir.join("token");
    std::fs::write(&token, "s.whatever\n").unwrap();
    let output = certdesk(&[
        "vault",
        "bootstrap",
        "--address",
        &format!("http://127.0.0.1:{port}"),
        "--token-file",
        path(&token),
        "--root-cert",
        path(&dir.join("root/root_ca.pem")),
        "--root-key",
        path(&dir.join("root/root_ca.key")),
        "--public-url",
        PUBLIC_URL,
        "--role",
        "it",
        "--allowed-domain",
        DOMAIN,
        "--out-dir",
        path(&dir.join("out")),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("is sealed: unseal it"), "{}", stderr(&output));
}
