//! certbot and lego, the real ACME clients the toolchain installs, against certdesk's ACME server on a real
//! listener, issuing through the stack's OpenBao and validating for real: HTTP-01 answered by the clients' own
//! standalone responders on a test port, DNS-01 published by their RFC 2136 plugins in the stack's BIND, certdesk
//! resolving every name through that BIND. Each client registers with External Account Binding, gets a
//! certificate, renews it, and revokes it with a reason; the revoked serial then shows in certdesk's served CRL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::Served;
use crate::support::{eventually, free_port, stack};
use app::model::CreatedAcmeAccountKey;

/// A client binary on PATH, or a failure saying how to install it.
fn client(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed: run `end2end/stack.sh install` (the toolchain installs it)")
    })
}

/// Runs a client to its end (at most two minutes), failing with its output when it fails.
async fn run(program: &Path, args: &[String], envs: &[(&str, String)]) -> String {
    let mut command = tokio::process::Command::new(program);
    command.args(args).kill_on_drop(true);
    // The environment may point `requests` at another CA bundle; certdesk's test directory is plain HTTP.
    command.env_remove("REQUESTS_CA_BUNDLE");
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("{} {args:?} took over two minutes", program.display()))
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{} {args:?} failed:\n{text}", program.display());
    text
}

/// certdesk resolving through the stack's BIND, fetching HTTP-01 answers from `http01_port`.
async fn served(pool: &PgPool, http01_port: u16) -> Served {
    served_validating(pool, &format!("http01_port = {http01_port}")).await
}

/// certdesk resolving through the stack's BIND, with these `[acme_validation]` ports.
async fn served_validating(pool: &PgPool, ports: &str) -> Served {
    let stack = stack();
    let validation =
        format!("[acme_validation]\nresolver = \"{}\"\n{ports}\ntimeout_seconds = 10\n", stack.read("bind/address"));
    let served = Served::issuing_with(pool, &stack.read("openbao/addr"), &validation).await;
    certdesk::crl::refresher::spawn_all(&served.state);
    served
}

/// The certificate certdesk holds with this serial (colon hex): its status, reason, owner and ACME account key.
async fn stored(pool: &PgPool, leaf_pem: &str) -> (String, Option<String>, Uuid, Option<String>) {
    let der = pem::parse(leaf_pem).unwrap().into_contents();
    let serial = certdesk::bundle::certificate_facts(&der).unwrap().serial_colon();
    let id: Uuid = sqlx::query_scalar("SELECT id FROM certificates WHERE serial = $1")
        .bind(&serial)
        .fetch_one(pool)
        .await
        .unwrap();
    let record = certdesk::db::certificates::find_visible(pool, id, None).await.unwrap().unwrap();
    (record.status, record.revocation_reason, record.owner_id, record.acme_account)
}

/// Waits until certdesk's served CRL lists the serial of `leaf_pem`.
async fn listed_in_served_crl(served: &Served, leaf_pem: &str) {
    let der = pem::parse(leaf_pem).unwrap().into_contents();
    let serial = certdesk::bundle::certificate_facts(&der).unwrap().serial_colon().replace(':', "").to_uppercase();
    let url = format!("{}/crl/private.crl", served.base);
    eventually("the served CRL to list the revoked serial", Duration::from_secs(30), || async {
        let body = reqwest::get(&url).await.ok()?.bytes().await.ok()?;
        let (_, crl) = x509_parser::parse_x509_crl(&body).ok()?;
        crl.iter_revoked_certificates()
            .any(|revoked| {
                hex::encode_upper(revoked.raw_serial()).trim_start_matches('0') == serial.trim_start_matches('0')
            })
            .then_some(())
    })
    .await;
}

/// lego's arguments for an account bound to `created` by EAB, its state in `path`, ordering `domain`.
fn lego_account_args(served: &Served, path: &str, created: &CreatedAcmeAccountKey, domain: &str) -> Vec<String> {
    [
        "--accept-tos",
        "--email",
        "lego@example.test",
        "--server",
        &served.directory(),
        "--path",
        path,
        "--eab",
        "--kid",
        &created.key.key_id,
        "--hmac",
        &created.hmac_key,
        "--key-type",
        "ec256",
        "-d",
        domain,
    ]
    .iter()
    .map(|arg| arg.to_string())
    .collect()
}

/// A fresh folder for one client's state (account, keys, certificates, logs).
fn folder_for(client: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("certdesk-{client}-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The stack's BIND as the RFC 2136 plugins need it: address, port, key name and secret.
struct Bind {
    host: String,
    port: String,
    key_name: String,
    secret: String,
}

fn bind() -> Bind {
    let stack = stack();
    let address = stack.read("bind/address");
    let (host, port) = address.rsplit_once(':').unwrap();
    Bind {
        host: host.into(),
        port: port.into(),
        key_name: stack.read("bind/key_name"),
        secret: stack.read("bind/tsig.secret"),
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn certbot_registers_with_eab_gets_renews_and_revokes_over_http_01_and_dns_01(pool: PgPool) {
    let certbot = client("certbot");
    let http01_port = free_port();
    let served = served(&pool, http01_port).await;
    let (meta, created) = served.person_with_key("Cert Bot").await;
    let owner = meta.caller.as_ref().unwrap().user_id;
    let dir = folder_for("certbot");
    let folder = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let common = |mut args: Vec<String>| {
        args.extend(
            ["--non-interactive", "--config-dir", &folder("config"), "--work-dir", &folder("work")]
                .iter()
                .chain(&["--logs-dir", &folder("logs")])
                .map(|arg| arg.to_string()),
        );
        args
    };
    let eab = created.key.key_id.clone();
    let hmac = created.hmac_key.clone();
    let directory = served.directory();

    // HTTP-01 through certbot's standalone responder on the test port.
    let args = common(vec![
        "certonly".into(),
        "--agree-tos".into(),
        "--register-unsafely-without-email".into(),
        "--server".into(),
        directory.clone(),
        "--eab-kid".into(),
        eab,
        "--eab-hmac-key".into(),
        hmac,
        "--standalone".into(),
        "--http-01-address".into(),
        "127.0.0.1".into(),
        "--http-01-port".into(),
        http01_port.to_string(),
        "--key-type".into(),
        "ecdsa".into(),
        "--cert-name".into(),
        "web".into(),
        "-d".into(),
        "web.priv.example.test".into(),
    ]);
    run(&certbot, &args, &[]).await;
    let live = dir.join("config/live/web");
    let first = std::fs::read_to_string(live.join("cert.pem")).unwrap();
    let (status, _, cert_owner, account) = stored(&pool, &first).await;
    assert_eq!((status.as_str(), cert_owner, account.as_deref()), ("issued", owner, Some("cluster")));
    let fullchain = std::fs::read_to_string(live.join("fullchain.pem")).unwrap();
    assert_eq!(pem::parse_many(&fullchain).unwrap().len(), 2, "leaf and intermediate");

    // Renewal: certbot orders again with the stored settings (and `replaces`, from certdesk's renewal information).
    let args = common(vec![
        "renew".into(),
        "--cert-name".into(),
        "web".into(),
        "--force-renewal".into(),
        "--no-random-sleep-on-renew".into(),
    ]);
    run(&certbot, &args, &[]).await;
    let renewed = std::fs::read_to_string(live.join("cert.pem")).unwrap();
    assert_ne!(renewed, first, "a new certificate");
    assert_eq!(stored(&pool, &renewed).await.0, "issued");

    // DNS-01 through the RFC 2136 plugin: certbot writes the TXT record into BIND, certdesk reads it there.
    let bind = bind();
    let credentials = dir.join("rfc2136.ini");
    std::fs::write(
        &credentials,
        format!(
            "dns_rfc2136_server = {}\ndns_rfc2136_port = {}\ndns_rfc2136_name = {}\ndns_rfc2136_secret = {}\n\
             dns_rfc2136_algorithm = HMAC-SHA256\n",
            bind.host, bind.port, bind.key_name, bind.secret
        ),
    )
    .unwrap();
    std::fs::set_permissions(&credentials, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let args = common(vec![
        "certonly".into(),
        "--server".into(),
        directory.clone(),
        "--dns-rfc2136".into(),
        "--dns-rfc2136-credentials".into(),
        credentials.to_string_lossy().into_owned(),
        "--dns-rfc2136-propagation-seconds".into(),
        "1".into(),
        "--cert-name".into(),
        "dns".into(),
        "-d".into(),
        "api.dns01.certdesk.test".into(),
    ]);
    run(&certbot, &args, &[]).await;
    let by_dns = std::fs::read_to_string(dir.join("config/live/dns/cert.pem")).unwrap();
    assert_eq!(stored(&pool, &by_dns).await.0, "issued");

    // Revocation with a reason: recorded, and in the CRL certdesk serves.
    let args = common(vec![
        "revoke".into(),
        "--server".into(),
        directory,
        "--cert-path".into(),
        live.join("cert.pem").to_string_lossy().into_owned(),
        "--reason".into(),
        "keycompromise".into(),
        "--no-delete-after-revoke".into(),
    ]);
    run(&certbot, &args, &[]).await;
    let (status, reason, ..) = stored(&pool, &renewed).await;
    assert_eq!((status.as_str(), reason.as_deref()), ("revoked", Some("keyCompromise")));
    listed_in_served_crl(&served, &renewed).await;
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn lego_registers_with_eab_gets_renews_and_revokes_over_http_01_and_dns_01(pool: PgPool) {
    let lego = client("lego");
    let http01_port = free_port();
    let served = served(&pool, http01_port).await;
    let (meta, created) = served.person_with_key("Le Go").await;
    let owner = meta.caller.as_ref().unwrap().user_id;
    let dir = folder_for("lego");
    let path = dir.to_string_lossy().into_owned();
    let base = |domain: &str| lego_account_args(&served, &path, &created, domain);
    let http = |domain: &str, command: &[&str]| {
        let mut args = base(domain);
        args.extend(["--http", "--http.port", &format!("127.0.0.1:{http01_port}")].map(str::to_owned));
        args.extend(command.iter().map(|arg| arg.to_string()));
        args
    };

    run(&lego, &http("lego.priv.example.test", &["run"]), &[]).await;
    let certificate = |domain: &str| std::fs::read_to_string(dir.join(format!("certificates/{domain}.crt"))).unwrap();
    let first = certificate("lego.priv.example.test");
    let leaf = pem::parse_many(&first).unwrap().remove(0);
    let leaf_pem = pem::encode(&leaf);
    let (status, _, cert_owner, account) = stored(&pool, &leaf_pem).await;
    assert_eq!((status.as_str(), cert_owner, account.as_deref()), ("issued", owner, Some("cluster")));

    run(&lego, &http("lego.priv.example.test", &["renew", "--days", "90", "--no-random-sleep"]), &[]).await;
    let renewed = pem::encode(&pem::parse_many(certificate("lego.priv.example.test")).unwrap().remove(0));
    assert_ne!(renewed, leaf_pem, "a new certificate");

    let bind = bind();
    let mut dns = base("lego.dns01.certdesk.test");
    // lego's propagation check would ask the zone's name server by name through the machine's resolver, which
    // knows no test zone: certdesk's own lookup, through the same BIND, is the check that counts.
    let resolver = format!("{}:{}", bind.host, bind.port);
    dns.extend(["--dns", "rfc2136", "--dns.resolvers", &resolver, "--dns.disable-cp", "run"].map(str::to_owned));
    let envs = [
        ("RFC2136_NAMESERVER", format!("{}:{}", bind.host, bind.port)),
        ("RFC2136_TSIG_KEY", bind.key_name.clone()),
        ("RFC2136_TSIG_SECRET", bind.secret.clone()),
        ("RFC2136_TSIG_ALGORITHM", "hmac-sha256.".into()),
        ("RFC2136_PROPAGATION_TIMEOUT", "30".into()),
        ("RFC2136_POLLING_INTERVAL", "1".into()),
    ];
    run(&lego, &dns, &envs).await;
    let by_dns = pem::encode(&pem::parse_many(certificate("lego.dns01.certdesk.test")).unwrap().remove(0));
    assert_eq!(stored(&pool, &by_dns).await.0, "issued");

    run(&lego, &http("lego.priv.example.test", &["revoke", "--reason", "4"]), &[]).await;
    let (status, reason, ..) = stored(&pool, &renewed).await;
    assert_eq!((status.as_str(), reason.as_deref()), ("revoked", Some("superseded")));
    listed_in_served_crl(&served, &renewed).await;
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn lego_gets_a_certificate_over_tls_alpn_01(pool: PgPool) {
    let lego = client("lego");
    let tls_port = free_port();
    let served = served_validating(&pool, &format!("tls_alpn01_port = {tls_port}")).await;
    let (meta, created) = served.person_with_key("Tee Ls").await;
    let owner = meta.caller.as_ref().unwrap().user_id;
    let dir = folder_for("lego-tls");
    let domain = "alpn.priv.example.test";
    let mut args = lego_account_args(&served, &dir.to_string_lossy(), &created, domain);
    // lego answers on its own TLS listener with the RFC 8737 certificate; certdesk connects there with the
    // acme-tls/1 protocol and checks the acmeIdentifier extension.
    args.extend(["--tls", "--tls.port", &format!("127.0.0.1:{tls_port}"), "run"].map(str::to_owned));
    run(&lego, &args, &[]).await;
    let chain = std::fs::read_to_string(dir.join(format!("certificates/{domain}.crt"))).unwrap();
    let leaf_pem = pem::encode(&pem::parse_many(&chain).unwrap().remove(0));
    let (status, _, cert_owner, account) = stored(&pool, &leaf_pem).await;
    assert_eq!((status.as_str(), cert_owner, account.as_deref()), ("issued", owner, Some("cluster")));
    let validated: String = sqlx::query_scalar("SELECT c.kind FROM acme_server_challenges c WHERE c.status = 'valid'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(validated, "tls-alpn-01", "the challenge lego answered is the one certdesk validated");
}
