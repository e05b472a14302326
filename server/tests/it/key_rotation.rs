//! Key-encryption-key rotation against PostgreSQL: TOTP secrets, private keys, webhook signing secrets, ACME
//! account credentials and the EAB HMAC keys of certdesk's ACME server sealed under `old` are re-sealed
//! under the active `new` and still open to the same plaintext; a second run has nothing to do; a secret under an
//! unconfigured key is reported by key id while the others are still rotated; a secret rewritten meanwhile is
//! never overwritten; and `certdesk keys status` / `keys rotate` through the binary print counts, never secrets.

use base64::Engine;
use certdesk::config::Config;
use certdesk::db::sealed::{self, SealedTable};
use certdesk::notifications::webhook::secret_context as webhook_context;
use certdesk::sealing::rotation::{self, Unopened};
use certdesk::sealing::{
    SealError, Sealed, Sealer, acme_account_context, acme_account_key_context, private_key_context, totp_context,
};
use sqlx::PgPool;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::cli::certdesk;
use crate::support::{config_toml, database_url_of};

const TOTP_SECRET: &[u8] = b"JBSWY3DPEHPK3PXP-rotation";
const PRIVATE_KEY: &[u8] = b"pkcs8-private-key-bytes-for-rotation";
const WEBHOOK_SECRET: &[u8] = b"cdwh_webhook-signing-secret-for-rotation";
const ACME_CREDENTIALS: &[u8] = br#"{"id":"https://acme.example/acct/1","key_pkcs8":"rotation"}"#;
const EAB_HMAC_KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

fn key_bytes(id: &str) -> Zeroizing<Vec<u8>> {
    let byte = match id {
        "old" => 1,
        "new" => 2,
        _ => 3,
    };
    Zeroizing::new(vec![byte; 32])
}

/// A sealer with only `id`, active: how rows were sealed before the rotation.
fn sealer_of(id: &str) -> Sealer {
    Sealer::new(id, &[(id.to_owned(), key_bytes(id))]).unwrap()
}

/// The `[encryption]` section: `active` seals, every key in `keys` is configured.
fn encryption_toml(active: &str, keys: &[&str]) -> String {
    let mut toml = format!("[encryption]\nactive = \"{active}\"\n");
    for id in keys {
        let key = base64::engine::general_purpose::STANDARD.encode(key_bytes(id).as_slice());
        toml.push_str(&format!("[[encryption.keys]]\nid = \"{id}\"\nkey = \"{key}\"\n"));
    }
    toml
}

fn configured(pool: &PgPool, active: &str, keys: &[&str]) -> Sealer {
    let toml = config_toml(&database_url_of(pool), "127.0.0.1:3999", &encryption_toml(active, keys));
    Config::from_toml_str(&toml).unwrap().encryption.unwrap()
}

async fn user(pool: &PgPool) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, issuer, subject, display_name) VALUES ($1, 'https://idp', $2, 'Pat')")
        .bind(id)
        .bind(id.to_string())
        .execute(pool)
        .await
        .unwrap();
    id
}

async fn totp_row(pool: &PgPool, user_id: Uuid, key_id: &str) {
    let sealed = sealer_of(key_id).seal(TOTP_SECRET, &totp_context(user_id)).unwrap();
    sqlx::query(
        "INSERT INTO local_totp (user_id, secret_key_id, secret_nonce, secret_ciphertext, created_at)
         VALUES ($1, $2, $3, $4, now())",
    )
    .bind(user_id)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .execute(pool)
    .await
    .unwrap();
}

/// A certificate whose server-generated key is sealed under `key_id`.
async fn certificate_row(pool: &PgPool, owner: Uuid, key_id: &str) -> Uuid {
    let id = Uuid::new_v4();
    let sealed = sealer_of(key_id).seal(PRIVATE_KEY, &private_key_context(id)).unwrap();
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm,
                                   encrypted_private_key, key_encryption_key_id, private_key_nonce)
         VALUES ($1, $2, 'private', 'issued', 'app.cluster.local', 'ec-p256', $3, $4, $5)",
    )
    .bind(id)
    .bind(owner)
    .bind(&sealed.ciphertext)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// `user_id`'s webhook, its signing secret sealed under `key_id`.
async fn webhook_row(pool: &PgPool, user_id: Uuid, key_id: &str) {
    let sealed = sealer_of(key_id).seal(WEBHOOK_SECRET, &webhook_context(user_id)).unwrap();
    sqlx::query(
        "INSERT INTO notification_settings (user_id, webhook_url, webhook_secret, webhook_secret_nonce,
                                            webhook_secret_key_id, updated_at)
         VALUES ($1, 'https://hooks.example.com/certdesk', $2, $3, $4, now())",
    )
    .bind(user_id)
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(&sealed.key_id)
    .execute(pool)
    .await
    .unwrap();
}

/// The ACME account of issuer `issuer_id`, its credentials sealed under `key_id`.
async fn acme_account_row(pool: &PgPool, issuer_id: &str, key_id: &str) {
    let sealed = sealer_of(key_id).seal(ACME_CREDENTIALS, &acme_account_context(issuer_id)).unwrap();
    sqlx::query(
        "INSERT INTO acme_accounts (issuer_id, directory_url, account_url, encrypted_credentials, credentials_key_id,
                                    credentials_nonce, created_at)
         VALUES ($1, 'https://acme.example/dir', 'https://acme.example/acct/1', $2, $3, $4, now())",
    )
    .bind(issuer_id)
    .bind(&sealed.ciphertext)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .execute(pool)
    .await
    .unwrap();
}

/// A person's ACME account key (EAB credentials of certdesk's ACME server), its HMAC key sealed under `key_id`.
async fn eab_key_row(pool: &PgPool, owner: Uuid, key_id: &str) -> Uuid {
    let id = Uuid::new_v4();
    let sealed = sealer_of(key_id).seal(EAB_HMAC_KEY, &acme_account_key_context(id)).unwrap();
    sqlx::query(
        "INSERT INTO acme_account_keys (id, owner_id, name, key_id, hmac_key_ciphertext, hmac_key_key_id,
                                        hmac_key_nonce, created_at, expires_at)
         VALUES ($1, $2, 'cluster', $3, $4, $5, $6, now(), now() + interval '1 day')",
    )
    .bind(id)
    .bind(owner)
    .bind(format!("cdk-eab-{id}"))
    .bind(&sealed.ciphertext)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// The sealed secret `sql` selects (key id, nonce, ciphertext) for the row `id`.
async fn stored<'q, Id>(pool: &PgPool, sql: &'q str, id: Id) -> Sealed
where
    Id: 'q + sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
{
    let (key_id, nonce, ciphertext) = sqlx::query_as(sql).bind(id).fetch_one(pool).await.unwrap();
    Sealed { key_id, nonce, ciphertext }
}

async fn stored_acme_account(pool: &PgPool, issuer_id: &str) -> Sealed {
    let sql = "SELECT credentials_key_id, credentials_nonce, encrypted_credentials FROM acme_accounts
                WHERE issuer_id = $1";
    stored(pool, sql, issuer_id).await
}

async fn stored_webhook_secret(pool: &PgPool, user_id: Uuid) -> Sealed {
    let sql = "SELECT webhook_secret_key_id, webhook_secret_nonce, webhook_secret FROM notification_settings
                WHERE user_id = $1";
    stored(pool, sql, user_id).await
}

async fn stored_totp(pool: &PgPool, user_id: Uuid) -> Sealed {
    let sql = "SELECT secret_key_id, secret_nonce, secret_ciphertext FROM local_totp WHERE user_id = $1";
    stored(pool, sql, user_id).await
}

async fn stored_key(pool: &PgPool, id: Uuid) -> Sealed {
    let sql = "SELECT key_encryption_key_id, private_key_nonce, encrypted_private_key FROM certificates WHERE id = $1";
    stored(pool, sql, id).await
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn rotation_reseals_everything_under_the_active_key_once(pool: PgPool) {
    let owner = user(&pool).await;
    totp_row(&pool, owner, "old").await;
    webhook_row(&pool, owner, "old").await;
    acme_account_row(&pool, "public", "old").await;
    let eab_key = eab_key_row(&pool, owner, "old").await;
    let certificate = certificate_row(&pool, owner, "old").await;
    let already_new = certificate_row(&pool, owner, "new").await;
    // A certificate from a CSR has no sealed key and is not counted anywhere.
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, key_source)
         VALUES ($1, $2, 'private', 'issued', 'csr.cluster.local', 'ec-p256', 'csr')",
    )
    .bind(Uuid::new_v4())
    .bind(owner)
    .execute(&pool)
    .await
    .unwrap();

    let rotating = configured(&pool, "new", &["old", "new"]);
    let before = rotation::status(&pool, &rotating).await.unwrap();
    assert_eq!(before.stale(), 5);
    let report = rotation::rotate(&pool, &rotating).await.unwrap();
    let resealed = (
        report.totp.resealed,
        report.private_keys.resealed,
        report.webhook_secrets.resealed,
        report.acme_accounts.resealed,
        report.eab_keys.resealed,
    );
    assert_eq!(resealed, (1, 1, 1, 1, 1), "{report}");
    assert_eq!(
        report.to_string(),
        "re-sealed 1 TOTP secrets, 1 private keys, 1 webhook signing secrets, 1 ACME account keys, 1 EAB HMAC keys; \
         1 already under key 'new'"
    );
    assert!(report.unopened.is_empty() && report.problems().is_none());

    // Everything opens with `new` alone, to the same plaintext.
    let only_new = configured(&pool, "new", &["new"]);
    let totp = stored_totp(&pool, owner).await;
    assert_eq!(totp.key_id, "new");
    assert_eq!(only_new.open(&totp, &totp_context(owner)).unwrap().as_slice(), TOTP_SECRET);
    let webhook = stored_webhook_secret(&pool, owner).await;
    assert_eq!(webhook.key_id, "new");
    assert_eq!(only_new.open(&webhook, &webhook_context(owner)).unwrap().as_slice(), WEBHOOK_SECRET);
    let account = stored_acme_account(&pool, "public").await;
    assert_eq!(account.key_id, "new");
    assert_eq!(only_new.open(&account, &acme_account_context("public")).unwrap().as_slice(), ACME_CREDENTIALS);
    let sql = "SELECT hmac_key_key_id, hmac_key_nonce, hmac_key_ciphertext FROM acme_account_keys WHERE id = $1";
    let eab = stored(&pool, sql, eab_key).await;
    assert_eq!(eab.key_id, "new");
    assert_eq!(only_new.open(&eab, &acme_account_key_context(eab_key)).unwrap().as_slice(), EAB_HMAC_KEY);
    for id in [certificate, already_new] {
        let key = stored_key(&pool, id).await;
        assert_eq!(key.key_id, "new");
        assert_eq!(only_new.open(&key, &private_key_context(id)).unwrap().as_slice(), PRIVATE_KEY);
    }
    let after = rotation::status(&pool, &only_new).await.unwrap();
    assert_eq!(after.stale(), 0, "{:?}", after.lines());

    let again = rotation::rotate(&pool, &rotating).await.unwrap();
    assert_eq!((again.totp.resealed, again.private_keys.resealed), (0, 0));
    assert_eq!((again.totp.already_active, again.private_keys.already_active), (1, 2));
    assert_eq!((again.webhook_secrets.resealed, again.webhook_secrets.already_active), (0, 1));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_secret_under_an_unconfigured_key_is_reported_and_the_others_still_rotate(pool: PgPool) {
    let owner = user(&pool).await;
    totp_row(&pool, owner, "gone").await;
    let mut rotated = Vec::new();
    for _ in 0..3 {
        rotated.push(certificate_row(&pool, owner, "old").await);
    }
    let lost = certificate_row(&pool, owner, "gone").await;
    for _ in 0..3 {
        rotated.push(certificate_row(&pool, owner, "old").await);
    }

    // Batches of two: the unopenable rows are paged past, not read again forever.
    let rotating = configured(&pool, "new", &["old", "new"]);
    let report = rotation::rotate_in_batches(&pool, &rotating, 2).await.unwrap();
    assert_eq!((report.totp.resealed, report.private_keys.resealed), (0, 6), "{report}");
    let mut unopened = report.unopened.clone();
    unopened.sort_by_key(|row| row.id.clone());
    let mut expected = vec![
        Unopened { table: SealedTable::LocalTotp, id: owner.into(), error: SealError::UnknownKey("gone".into()) },
        Unopened { table: SealedTable::Certificates, id: lost.into(), error: SealError::UnknownKey("gone".into()) },
    ];
    expected.sort_by_key(|row| row.id.clone());
    assert_eq!(unopened, expected);
    let problems = report.problems().unwrap();
    assert!(problems.contains("key `gone`, which is not configured"), "{problems}");
    assert!(problems.contains("keep key `gone` in encryption.keys"), "{problems}");
    assert!(problems.contains(&lost.to_string()) && problems.contains(&owner.to_string()), "{problems}");

    for id in &rotated {
        assert_eq!(stored_key(&pool, *id).await.key_id, "new");
    }
    assert_eq!(stored_key(&pool, lost).await.key_id, "gone", "left as it was");
    assert_eq!(stored_totp(&pool, owner).await.key_id, "gone");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_secret_rewritten_meanwhile_is_not_overwritten(pool: PgPool) {
    let owner = user(&pool).await;
    totp_row(&pool, owner, "old").await;
    let read = stored_totp(&pool, owner).await;
    // Between rotation's read and its update, the person restarts enrolment: a new secret, still under `old`
    // (a server not yet restarted with the new active key).
    sqlx::query("DELETE FROM local_totp").execute(&pool).await.unwrap();
    totp_row(&pool, owner, "old").await;
    let rewritten = stored_totp(&pool, owner).await;

    let resealed = configured(&pool, "new", &["old", "new"]).reseal(&read, &totp_context(owner)).unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let replaced = sealed::replace(&mut conn, SealedTable::LocalTotp, &owner.into(), &read, &resealed).await.unwrap();
    assert!(!replaced, "the stale read must not overwrite the newer secret");
    assert_eq!(stored_totp(&pool, owner).await, rewritten);
    let replaced =
        sealed::replace(&mut conn, SealedTable::LocalTotp, &owner.into(), &rewritten, &resealed).await.unwrap();
    assert!(replaced);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_keys_subcommands_print_counts_and_exit_1_on_a_missing_key(pool: PgPool) {
    let owner = user(&pool).await;
    totp_row(&pool, owner, "old").await;
    let certificate = certificate_row(&pool, owner, "old").await;
    let dir = std::env::temp_dir().join(format!("certdesk-it-keys-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("certdesk.toml");
    let toml = config_toml(&database_url_of(&pool), "127.0.0.1:3999", &encryption_toml("new", &["old", "new"]));
    std::fs::write(&config, toml).unwrap();
    let stdout = |output: &std::process::Output| String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = |output: &std::process::Output| String::from_utf8_lossy(&output.stderr).into_owned();
    let secrets = [
        String::from_utf8_lossy(TOTP_SECRET).into_owned(),
        String::from_utf8_lossy(PRIVATE_KEY).into_owned(),
        base64::engine::general_purpose::STANDARD.encode(key_bytes("old").as_slice()),
        base64::engine::general_purpose::STANDARD.encode(key_bytes("new").as_slice()),
    ];
    let no_secrets = |output: &std::process::Output| {
        let all = format!("{}{}", stdout(output), stderr(output));
        for secret in &secrets {
            assert!(!all.contains(secret.as_str()), "a secret was printed: {all}");
        }
    };

    let status = certdesk(&config, &["keys", "status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let text = stdout(&status);
    assert!(text.contains("active key 'new'"), "{text}");
    assert!(text.contains("TOTP secrets: 'old' 1") && text.contains("private keys: 'old' 1"), "{text}");
    assert!(text.contains("2 sealed secrets are under other keys than 'new'"), "{text}");
    no_secrets(&status);

    let rotate = certdesk(&config, &["keys", "rotate"]);
    assert!(rotate.status.success(), "{}", stderr(&rotate));
    assert!(
        stdout(&rotate)
            .contains("re-sealed 1 TOTP secrets, 1 private keys, 0 webhook signing secrets, 0 ACME account keys, 0 EAB HMAC keys; 0 already under key 'new'"),
        "{}",
        stdout(&rotate)
    );
    no_secrets(&rotate);
    let status = certdesk(&config, &["keys", "status"]);
    let text = stdout(&status);
    assert!(text.contains("TOTP secrets: 'new' 1") && text.contains("private keys: 'new' 1"), "{text}");
    assert!(text.contains("every sealed secret is under the active key 'new'"), "{text}");
    assert_eq!(stored_key(&pool, certificate).await.key_id, "new");

    let lost = certificate_row(&pool, owner, "gone").await;
    let rotate = certdesk(&config, &["keys", "rotate"]);
    assert_eq!(rotate.status.code(), Some(1), "{}", stderr(&rotate));
    assert!(stdout(&rotate).contains(
        "re-sealed 0 TOTP secrets, 0 private keys, 0 webhook signing secrets, 0 ACME account keys, 0 EAB HMAC keys; 2 already under key 'new'"
    ));
    let text = stderr(&rotate);
    assert!(text.contains("`gone`") && text.contains("keep key `gone`") && text.contains(&lost.to_string()), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    no_secrets(&rotate);
    let status = certdesk(&config, &["keys", "status"]);
    assert!(stdout(&status).contains("'gone' 1 (not configured)"), "{}", stdout(&status));

    // Without [encryption] there is nothing to rotate: a configuration error (exit 2).
    let plain = dir.join("plain.toml");
    std::fs::write(&plain, config_toml(&database_url_of(&pool), "127.0.0.1:3999", "")).unwrap();
    let rotate = certdesk(&plain, &["keys", "rotate"]);
    assert_eq!(rotate.status.code(), Some(2), "{}", stderr(&rotate));
    assert!(stderr(&rotate).contains("encryption"), "{}", stderr(&rotate));
}
