//! The `certdesk` binary's command line: configuration errors exit 2 naming the key, `--help`, `migrate`,
//! `audit verify` on a good and a tampered chain.

use std::path::Path;
use std::process::{Command, Output};

use sqlx::PgPool;

use crate::support::{config_toml, database_url_of};

pub fn certdesk(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certdesk"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("CERTDESK_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn write_config(dir: &Path, toml: &str) -> std::path::PathBuf {
    let path = dir.join("certdesk.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("certdesk-it-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn help_lists_the_subcommands() {
    let output = Command::new(env!("CARGO_BIN_EXE_certdesk")).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for subcommand in ["serve", "migrate", "audit", "keys", "config"] {
        assert!(help.contains(subcommand), "{help}");
    }
}

#[test]
fn invalid_configuration_exits_2_naming_the_key() {
    let dir = temp_dir("bad-config");
    let valid = config_toml("postgres://u:p@127.0.0.1:1/db", "127.0.0.1:3999", "");
    let cases = [
        (valid.replace("127.0.0.1:3999\"\npublic", "not-an-address\"\npublic"), "server.listen"),
        (valid.replace("[log]", "[log]\nlevle = \"info\""), "levle"),
        (valid.replace("chain_key = ", "chain_key_file = \"/nonexistent/key\"\n#"), "audit.chain_key_file"),
        (valid.replace("postgres://u:p@127.0.0.1:1/db", "mysql://x"), "database.url"),
        (format!("{valid}[[issuers]]\nid = \"p\"\nkind = \"vault\"\n"), "issuers[0].address"),
        ("this is not toml".to_owned(), "configuration"),
    ];
    for (toml, named) in cases {
        let output = certdesk(&write_config(&dir, &toml), &["config", "check"]);
        assert_eq!(output.status.code(), Some(2), "{named}: {}", stderr(&output));
        assert!(stderr(&output).contains(named), "expected {named} in: {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
}

#[test]
fn a_missing_configuration_file_exits_2() {
    let output = certdesk(Path::new("/nonexistent/certdesk.toml"), &["serve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/certdesk.toml"), "{}", stderr(&output));
}

#[test]
fn config_check_prints_a_summary_without_secrets() {
    let dir = temp_dir("check");
    let toml = config_toml("postgres://certdesk:pw-do-not-print@127.0.0.1:1/db", "127.0.0.1:3999", "");
    let output = certdesk(&write_config(&dir, &toml), &["config", "check"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(!stdout.contains("pw-do-not-print") && !stdout.contains(crate::support::CHAIN_KEY), "{stdout}");
}

#[sqlx::test(migrations = false)]
async fn migrate_then_audit_verify_reports_a_broken_chain(pool: PgPool) {
    let dir = temp_dir("verify");
    let config = write_config(&dir, &config_toml(&database_url_of(&pool), "127.0.0.1:3999", ""));
    let migrated = certdesk(&config, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));

    // Two events written through the library with the same key the binary reads from the config.
    let key = certdesk::audit::ChainKey::new(secrecy::SecretString::from(crate::support::CHAIN_KEY.to_owned()));
    for action in ["user.login", "certificate.issue"] {
        let mut tx = pool.begin().await.unwrap();
        let entry = certdesk::audit::AuditEntry::from(certdesk::audit::RawEntry {
            actor: "user:1".into(),
            action: action.into(),
            object: String::new(),
            outcome: certdesk::audit::Outcome::Success,
            request_id: "r".into(),
            client_addr: String::new(),
            details: serde_json::json!({}),
        });
        certdesk::audit::append(&mut tx, &key, &entry, time::OffsetDateTime::now_utc()).await.unwrap();
        tx.commit().await.unwrap();
    }
    let verified = certdesk(&config, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(String::from_utf8_lossy(&verified.stdout).contains("verified through event 2"));

    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER USER").execute(&pool).await.unwrap();
    sqlx::query("UPDATE audit_events SET action = 'user.logout' WHERE seq = 1").execute(&pool).await.unwrap();
    let broken = certdesk(&config, &["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stderr(&broken).contains("event 1 was altered"), "{}", stderr(&broken));
}
