//! SQL for key-encryption-key rotation: every sealed secret at rest (local TOTP secrets, server-generated private
//! keys, webhook signing secrets, ACME account keys, EAB HMAC keys of certdesk's ACME server), counted per key id,
//! read in batches of rows under another key than the active one, and re-written only while the row still holds
//! the ciphertext that was read.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::sealing::Sealed;

/// The tables holding sealed secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedTable {
    /// `local_totp`: one TOTP secret per person, keyed by user id.
    LocalTotp,
    /// `certificates`: the private key of a certificate certdesk generated, keyed by certificate id.
    Certificates,
    /// `notification_settings`: a person's webhook signing secret, keyed by user id.
    WebhookSecrets,
    /// `acme_accounts`: an ACME issuer's account credentials (its private key), keyed by issuer id.
    AcmeAccounts,
    /// `acme_account_keys`: the HMAC key of a person's EAB credentials for certdesk's ACME server, keyed by its id.
    EabKeys,
}

/// The row a sealed secret lives in: most tables are keyed by a UUID, ACME accounts by their issuer's id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowId {
    Uuid(Uuid),
    Issuer(String),
}

impl RowId {
    fn uuid(&self) -> Option<Uuid> {
        match self {
            Self::Uuid(id) => Some(*id),
            Self::Issuer(_) => None,
        }
    }

    fn issuer(&self) -> Option<&str> {
        match self {
            Self::Uuid(_) => None,
            Self::Issuer(id) => Some(id),
        }
    }
}

impl From<Uuid> for RowId {
    fn from(id: Uuid) -> Self {
        Self::Uuid(id)
    }
}

impl std::fmt::Display for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Uuid(id) => write!(f, "{id}"),
            Self::Issuer(id) => f.write_str(id),
        }
    }
}

impl SealedTable {
    pub const ALL: [Self; 5] =
        [Self::LocalTotp, Self::Certificates, Self::WebhookSecrets, Self::AcmeAccounts, Self::EabKeys];

    /// What one sealed secret of this table is, for people.
    pub fn noun(self, count: u64) -> &'static str {
        match (self, count == 1) {
            (Self::LocalTotp, true) => "TOTP secret",
            (Self::LocalTotp, false) => "TOTP secrets",
            (Self::Certificates, true) => "private key",
            (Self::Certificates, false) => "private keys",
            (Self::WebhookSecrets, true) => "webhook signing secret",
            (Self::WebhookSecrets, false) => "webhook signing secrets",
            (Self::AcmeAccounts, true) => "ACME account key",
            (Self::AcmeAccounts, false) => "ACME account keys",
            (Self::EabKeys, true) => "EAB HMAC key",
            (Self::EabKeys, false) => "EAB HMAC keys",
        }
    }
}

/// How many secrets of `table` are sealed under each key id, by key id.
pub async fn count_by_key(pool: &PgPool, table: SealedTable) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = match table {
        SealedTable::LocalTotp => sqlx::query!(
            "SELECT secret_key_id AS key_id, count(*) AS \"count!\"
                 FROM local_totp GROUP BY secret_key_id ORDER BY secret_key_id"
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| (row.key_id, row.count))
        .collect(),
        SealedTable::Certificates => {
            // Certificates from a CSR hold no key: the key id is NULL exactly when there is no sealed key.
            sqlx::query!(
                "SELECT key_encryption_key_id AS \"key_id!\", count(*) AS \"count!\"
                 FROM certificates WHERE key_encryption_key_id IS NOT NULL
                 GROUP BY key_encryption_key_id ORDER BY key_encryption_key_id"
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| (row.key_id, row.count))
            .collect()
        }
        SealedTable::WebhookSecrets => sqlx::query!(
            "SELECT webhook_secret_key_id AS \"key_id!\", count(*) AS \"count!\"
             FROM notification_settings WHERE webhook_secret_key_id IS NOT NULL
             GROUP BY webhook_secret_key_id ORDER BY webhook_secret_key_id"
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| (row.key_id, row.count))
        .collect(),
        SealedTable::AcmeAccounts => sqlx::query!(
            "SELECT credentials_key_id AS key_id, count(*) AS \"count!\"
             FROM acme_accounts GROUP BY credentials_key_id ORDER BY credentials_key_id"
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| (row.key_id, row.count))
        .collect(),
        SealedTable::EabKeys => sqlx::query_as(
            "SELECT hmac_key_key_id, count(*) FROM acme_account_keys GROUP BY hmac_key_key_id ORDER BY hmac_key_key_id",
        )
        .fetch_all(pool)
        .await?,
    };
    Ok(rows)
}

/// Up to `limit` secrets of `table` sealed under another key than `active`, in row-id order after `after`.
/// Paging by id (not "the first stale rows") moves past rows that cannot be re-sealed instead of reading them again.
pub async fn stale_batch(
    conn: &mut PgConnection,
    table: SealedTable,
    active: &str,
    after: Option<&RowId>,
    limit: i64,
) -> Result<Vec<(RowId, Sealed)>, sqlx::Error> {
    let after_uuid = after.and_then(RowId::uuid);
    let rows = match table {
        SealedTable::LocalTotp => sqlx::query!(
            "SELECT user_id, secret_key_id, secret_nonce, secret_ciphertext FROM local_totp
             WHERE secret_key_id <> $1 AND ($2::uuid IS NULL OR user_id > $2)
             ORDER BY user_id LIMIT $3",
            active,
            after_uuid,
            limit,
        )
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| {
            let sealed =
                Sealed { key_id: row.secret_key_id, nonce: row.secret_nonce, ciphertext: row.secret_ciphertext };
            (row.user_id.into(), sealed)
        })
        .collect(),
        // The table's checks make the key id, nonce and ciphertext all present or all absent, so the non-NULL key
        // id filter makes the other two non-NULL as well.
        SealedTable::Certificates => sqlx::query!(
            "SELECT id, key_encryption_key_id AS \"key_id!\", private_key_nonce AS \"nonce!\",
                    encrypted_private_key AS \"ciphertext!\"
             FROM certificates
             WHERE key_encryption_key_id IS NOT NULL AND key_encryption_key_id <> $1
               AND ($2::uuid IS NULL OR id > $2)
             ORDER BY id LIMIT $3",
            active,
            after_uuid,
            limit,
        )
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| (row.id.into(), Sealed { key_id: row.key_id, nonce: row.nonce, ciphertext: row.ciphertext }))
        .collect(),
        // As for certificates, the table's checks make the three columns present or absent together.
        SealedTable::WebhookSecrets => sqlx::query!(
            "SELECT user_id, webhook_secret_key_id AS \"key_id!\", webhook_secret_nonce AS \"nonce!\",
                    webhook_secret AS \"ciphertext!\"
             FROM notification_settings
             WHERE webhook_secret_key_id IS NOT NULL AND webhook_secret_key_id <> $1
               AND ($2::uuid IS NULL OR user_id > $2)
             ORDER BY user_id LIMIT $3",
            active,
            after_uuid,
            limit,
        )
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| (row.user_id.into(), Sealed { key_id: row.key_id, nonce: row.nonce, ciphertext: row.ciphertext }))
        .collect(),
        SealedTable::AcmeAccounts => sqlx::query!(
            "SELECT issuer_id, credentials_key_id, credentials_nonce, encrypted_credentials FROM acme_accounts
             WHERE credentials_key_id <> $1 AND ($2::text IS NULL OR issuer_id > $2)
             ORDER BY issuer_id LIMIT $3",
            active,
            after.and_then(RowId::issuer),
            limit,
        )
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| {
            let sealed = Sealed {
                key_id: row.credentials_key_id,
                nonce: row.credentials_nonce,
                ciphertext: row.encrypted_credentials,
            };
            (RowId::Issuer(row.issuer_id), sealed)
        })
        .collect(),
        SealedTable::EabKeys => sqlx::query_as::<_, (Uuid, String, Vec<u8>, Vec<u8>)>(
            "SELECT id, hmac_key_key_id, hmac_key_nonce, hmac_key_ciphertext FROM acme_account_keys
             WHERE hmac_key_key_id <> $1 AND ($2::uuid IS NULL OR id > $2)
             ORDER BY id LIMIT $3",
        )
        .bind(active)
        .bind(after_uuid)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|(id, key_id, nonce, ciphertext)| (id.into(), Sealed { key_id, nonce, ciphertext }))
        .collect(),
    };
    Ok(rows)
}

/// Writes `new` over the secret of row `id`, only if the row still holds `old` (same key id and nonce, and the
/// nonce is random per sealing): a secret rewritten meanwhile (a restarted TOTP enrolment) is left as written.
/// Returns whether the row was updated.
pub async fn replace(
    conn: &mut PgConnection,
    table: SealedTable,
    id: &RowId,
    old: &Sealed,
    new: &Sealed,
) -> Result<bool, sqlx::Error> {
    let uuid = id.uuid();
    let updated = match table {
        SealedTable::LocalTotp => {
            sqlx::query!(
                "UPDATE local_totp SET secret_key_id = $4, secret_nonce = $5, secret_ciphertext = $6
             WHERE user_id = $1 AND secret_key_id = $2 AND secret_nonce = $3",
                uuid,
                old.key_id,
                old.nonce,
                new.key_id,
                new.nonce,
                new.ciphertext,
            )
            .execute(conn)
            .await?
        }
        // updated_at is left alone: re-sealing changes how the key is stored, not the certificate.
        SealedTable::Certificates => {
            sqlx::query!(
                "UPDATE certificates
             SET key_encryption_key_id = $4, private_key_nonce = $5, encrypted_private_key = $6
             WHERE id = $1 AND key_encryption_key_id = $2 AND private_key_nonce = $3",
                uuid,
                old.key_id,
                old.nonce,
                new.key_id,
                new.nonce,
                new.ciphertext,
            )
            .execute(conn)
            .await?
        }
        SealedTable::AcmeAccounts => {
            sqlx::query!(
                "UPDATE acme_accounts
             SET credentials_key_id = $4, credentials_nonce = $5, encrypted_credentials = $6
             WHERE issuer_id = $1 AND credentials_key_id = $2 AND credentials_nonce = $3",
                id.issuer(),
                old.key_id,
                old.nonce,
                new.key_id,
                new.nonce,
                new.ciphertext,
            )
            .execute(conn)
            .await?
        }
        SealedTable::EabKeys => {
            sqlx::query(
                "UPDATE acme_account_keys SET hmac_key_key_id = $4, hmac_key_nonce = $5, hmac_key_ciphertext = $6
                 WHERE id = $1 AND hmac_key_key_id = $2 AND hmac_key_nonce = $3",
            )
            .bind(uuid)
            .bind(&old.key_id)
            .bind(&old.nonce)
            .bind(&new.key_id)
            .bind(&new.nonce)
            .bind(&new.ciphertext)
            .execute(conn)
            .await?
        }
        // updated_at is left alone too: the person changed nothing.
        SealedTable::WebhookSecrets => {
            sqlx::query!(
                "UPDATE notification_settings
             SET webhook_secret_key_id = $4, webhook_secret_nonce = $5, webhook_secret = $6
             WHERE user_id = $1 AND webhook_secret_key_id = $2 AND webhook_secret_nonce = $3",
                uuid,
                old.key_id,
                old.nonce,
                new.key_id,
                new.nonce,
                new.ciphertext,
            )
            .execute(conn)
            .await?
        }
    };
    Ok(updated.rows_affected() == 1)
}
