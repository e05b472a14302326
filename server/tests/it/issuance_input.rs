//! Requests that used to end in a 500 or slip through, against the test stack's real OpenBao and PostgreSQL: a first
//! DNS name longer than a common name may be (issued with the names in the subjectAltName only, from a server key
//! and from CSRs with and without a common name), CSRs with a too-long common name or signed with SHA-1 (400s that
//! name the value), and IP SANs judged against the policy's ranges.

use http::{Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::ceremony::bootstrap::{DOMAIN, bootstrap_with};
use crate::issuance::{Api, api_with, extra, openssl, openssl_csr, server_key, temp_file, with_csr};
use crate::support::{Stack, stack};

/// `a…a.b…b.c…c.d…d.cluster.local` of exactly `len` characters, labels of at most 63.
fn long_name(len: usize) -> String {
    let suffix = ".cluster.local";
    let mut labels: Vec<String> = Vec::new();
    let mut left = len - suffix.len();
    for letter in ['a', 'b', 'c', 'd', 'e'] {
        if left == 0 {
            break;
        }
        let label = left.min(63);
        labels.push(letter.to_string().repeat(label));
        // A dot before the next label.
        left = left.saturating_sub(label + 1);
    }
    let name = labels.join(".") + suffix;
    assert_eq!(name.len(), len, "{name}");
    name
}

/// The issued leaf of certificate `id`, as `openssl x509 -text` prints it.
async fn leaf_text(api: &Api, id: &str) -> String {
    let (status, leaf) = api.download(id, "leaf-pem", None).await;
    assert_eq!(status, StatusCode::OK);
    let (ok, text) = openssl(&["x509", "-in", temp_file("leaf.pem", &leaf).to_str().unwrap(), "-noout", "-text"]);
    assert!(ok, "{text}");
    text
}

async fn detail(api: &Api, id: &str) -> Value {
    let (status, body) = api.send(Request::get(format!("/api/v1/certificates/{id}")), axum::body::Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice(&body).unwrap()
}

fn scratch() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("certdesk-input-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_first_name_longer_than_a_common_name_is_issued_in_the_san_only(pool: PgPool) {
    let stack = stack();
    let api = api_with(&pool, &extra(&stack, None), &["platform-team"]).await;
    // A 63-character label under the zone (77 characters), and the longest DNS name there is (253).
    let label = long_name(63 + ".cluster.local".len());
    let longest = long_name(253);
    for (names, key_type) in
        [(vec![label.as_str(), "short.cluster.local"], "ec-p256"), (vec![longest.as_str()], "rsa2048")]
    {
        let (status, created) = api.request(server_key(&names, key_type, 30), None).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["common_name"], names[0], "listed under its first name");
        let id = created["id"].as_str().unwrap();
        let text = leaf_text(&api, id).await;
        assert!(!text.contains("Subject: CN"), "no common name in the subject: {text}");
        for name in &names {
            assert!(text.contains(&format!("DNS:{name}")), "{name} in the SAN: {text}");
        }
        let detail = detail(&api, id).await;
        let note = detail["common_name_note"].as_str().unwrap_or_default();
        assert!(note.contains("no common name") && note.contains(names[0]), "{detail}");
    }

    // A name that fits is still the common name, and the page says nothing about it.
    let (status, created) = api.request(server_key(&["fits.cluster.local"], "ec-p256", 30), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(leaf_text(&api, id).await.contains("Subject: CN = fits.cluster.local"));
    assert_eq!(detail(&api, id).await["common_name_note"], Value::Null);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn csrs_for_long_names_are_issued_without_a_common_name_or_refused_naming_it(pool: PgPool) {
    let stack = stack();
    let api = api_with(&pool, &extra(&stack, None), &["platform-team"]).await;
    let dir = scratch();
    let label = long_name(77);

    // A CSR without a common name (as a browser or a careful tool makes it for a long name) is issued as it is.
    let csr = openssl_csr(&dir, "/", &[&label], "-sha256");
    let (status, created) = api.request(with_csr(&csr, &[&label]), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let text = leaf_text(&api, created["id"].as_str().unwrap()).await;
    assert!(!text.contains("Subject: CN") && text.contains(&format!("DNS:{label}")), "{text}");

    // A CSR whose common name is too long cannot be signed as it is: a 400 naming the common name. (openssl will
    // not write such a subject; rcgen, like other tools, does.)
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![label.clone()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, label.as_str());
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let (status, body) = api.request(with_csr(&csr, &[&label]), None).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("csr")), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(&label) && message.contains("77 characters") && message.contains("64"), "{message}");

    // A CSR without a common name for a short name gets it as its common name, as before.
    let csr = openssl_csr(&dir, "/", &["nocn.cluster.local"], "-sha256");
    let (status, created) = api.request(with_csr(&csr, &["nocn.cluster.local"]), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let text = leaf_text(&api, created["id"].as_str().unwrap()).await;
    assert!(text.contains("Subject: CN = nocn.cluster.local"), "{text}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_csr_signed_with_sha1_is_refused_naming_the_algorithm(pool: PgPool) {
    let stack = stack();
    let api = api_with(&pool, &extra(&stack, None), &["platform-team"]).await;
    let dir = scratch();
    let csr = openssl_csr(&dir, "/CN=legacy.cluster.local", &["legacy.cluster.local"], "-sha1");
    let (status, body) = api.request(with_csr(&csr, &["legacy.cluster.local"]), None).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("csr")), "{body}");
    assert_eq!(
        body["message"], "the CSR is signed with SHA-1 (sha1WithRSAEncryption); sign it with SHA-256 or better",
        "{body}"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates").fetch_one(&pool).await.unwrap();
    assert_eq!(rows, 0, "nothing stored, no issuer called");
}

/// A mount of this test's own whose roles allow IP SANs (the stack's demo roles may not), removed afterwards.
struct IpMount {
    dir: std::path::PathBuf,
    mount: String,
    role: String,
    approle: String,
    addr: String,
    root_token: String,
}

impl IpMount {
    fn new(stack: &Stack) -> Self {
        let suffix = format!("{:08x}", rand::random::<u32>());
        let (mount, role, approle) =
            (format!("pki_ip_{suffix}"), format!("ip{suffix}"), format!("certdesk_ip_{suffix}"));
        let dir = scratch();
        crate::ceremony::init_root(&dir);
        let output = bootstrap_with(stack, &dir, &mount, &role, &approle, &["--allow-ip-sans"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let addr = stack.read("openbao/addr");
        let root_token = stack.read("openbao/root_token");
        Self { dir, mount, role, approle, addr, root_token }
    }

    /// Configuration: the mount as issuer `private`, one rule allowing `ip_ranges` under `priv.example.test`.
    fn config(&self, ip_ranges: &str) -> String {
        let out = self.dir.join("out");
        let out = out.to_str().unwrap();
        let root = self.dir.join("root/root_ca.pem");
        format!(
            "[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n\
             [[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"{addr}\"\nmount = \"{mount}\"\nrole = \"{role}\"\n\
             role_id_file = \"{out}/role_id\"\nsecret_id_file = \"{out}/secret_id\"\nroot_ca = \"{root}\"\n\
             [[issuers.policy]]\nname = \"devices\"\ngroups = [\"iot\"]\ndomains = [\"{DOMAIN}\"]\n\
             ip_ranges = {ip_ranges}\nmax_validity_days = 30\n",
            addr = self.addr,
            mount = self.mount,
            role = self.role,
            root = root.to_str().unwrap(),
        )
    }

    async fn remove(&self) {
        let http = reqwest::Client::new();
        for path in [
            format!("sys/mounts/{}", self.mount),
            format!("sys/policies/acl/{}", self.approle),
            format!("auth/approle/role/{}", self.approle),
        ] {
            let response = http
                .delete(format!("{}/v1/{path}", self.addr))
                .header("X-Vault-Token", &self.root_token)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "{path}: {}", response.status());
        }
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn ip_sans_are_issued_inside_the_policy_ranges_and_refused_outside_naming_them(pool: PgPool) {
    let stack = stack();
    let mount = IpMount::new(&stack);
    let api = api_with(&pool, &mount.config(r#"["10.20.0.0/16", "fd00:20::/32"]"#), &["iot"]).await;
    let request = |ips: &[&str]| {
        json!({ "issuer_id": "private", "dns_names": [format!("sensor.{DOMAIN}")], "ip_sans": ips,
                "validity_days": 7, "key": { "source": "generate", "key_type": "ec-p256" } })
    };

    let (status, created) = api.request(request(&["10.20.3.4", "fd00:20::7"]), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let text = leaf_text(&api, created["id"].as_str().unwrap()).await;
    assert!(text.contains("IP Address:10.20.3.4") && text.contains("IP Address:FD00:20:0:0:0:0:0:7"), "{text}");

    for (ips, refused) in [(vec!["10.20.3.4", "10.21.0.1"], "10.21.0.1"), (vec!["fd00:21::1"], "fd00:21::1")] {
        let (status, body) = api.request(request(&ips), None).await;
        assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("ip_sans")), "{body}");
        assert_eq!(
            body["message"],
            format!(
                "the IP address {refused} is outside the ranges the issuance policy 'devices' allows: 10.20.0.0/16 \
                 or fd00:20::/32"
            ),
            "{body}"
        );
    }
    let issued: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates").fetch_one(&pool).await.unwrap();
    assert_eq!(issued, 1, "refusals never reach the issuer");
    mount.remove().await;
}
