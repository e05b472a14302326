//! One ACME issuer: its configuration, HTTP client and account. The account is created on first use, stored
//! sealed in PostgreSQL so every replica and every restart uses the same one, and created anew when the CA no
//! longer knows it (a test CA restarted) or the configured directory changed.

use std::sync::Arc;

use instant_acme::{Account, AccountCredentials, ExternalAccountKey, NewAccount};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use super::http_client::AcmeHttp;
use super::problem::{AcmeFailure, classify};
use crate::config::AcmeIssuerConfig;
use crate::db;
use crate::issuers::IssuerError;
use crate::sealing::{Sealer, acme_account_context};

pub struct AcmeIssuer {
    pub id: String,
    pub config: Arc<AcmeIssuerConfig>,
    pub http: AcmeHttp,
    pool: PgPool,
    sealer: Option<Sealer>,
    /// The account in use; the lock also keeps two first orders from creating two accounts.
    account: Mutex<Option<Account>>,
}

impl std::fmt::Debug for AcmeIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeIssuer")
            .field("id", &self.id)
            .field("directory", &self.config.directory_url.as_str())
            .finish()
    }
}

impl AcmeIssuer {
    pub fn new(
        id: &str,
        config: Arc<AcmeIssuerConfig>,
        client: reqwest::Client,
        pool: PgPool,
        sealer: Option<Sealer>,
    ) -> Self {
        Self { id: id.to_owned(), config, http: AcmeHttp::new(client), pool, sealer, account: Mutex::new(None) }
    }

    /// The account, loaded from the database or created at the CA.
    pub async fn account(&self) -> Result<Account, IssuerError> {
        let mut slot = self.account.lock().await;
        if let Some(account) = slot.as_ref() {
            return Ok(account.clone());
        }
        let sealer = self.sealer.as_ref().ok_or_else(|| IssuerError::NotConfigured {
            issuer: self.id.clone(),
            detail: "the ACME account key is kept encrypted: configure [encryption]".into(),
        })?;
        let directory = self.config.directory_url.as_str();
        let context = acme_account_context(&self.id);
        let stored = db::acme::find_account(&self.pool, &self.id).await.map_err(|error| self.unavailable(error))?;
        if let Some(stored) = stored.filter(|stored| stored.directory_url == directory) {
            let plaintext = sealer.open(&stored.credentials, &context).map_err(|error| IssuerError::NotConfigured {
                issuer: self.id.clone(),
                detail: format!("the stored ACME account does not open: {error}"),
            })?;
            // Re-sealed under the active key on first use after a key rotation, so the old key can be retired.
            if sealer.is_stale(&stored.credentials)
                && let Ok(resealed) = sealer.seal(&plaintext, &context)
            {
                let fresh = db::acme::StoredAccount { credentials: resealed, ..stored };
                if let Err(error) =
                    db::acme::store_account(&self.pool, &self.id, &fresh, OffsetDateTime::now_utc()).await
                {
                    tracing::warn!(issuer = %self.id, error = %error, "could not re-seal the ACME account under the active key");
                }
            }
            let credentials: AccountCredentials = serde_json::from_slice(&plaintext).map_err(|error| {
                IssuerError::BadAnswer { issuer: self.id.clone(), detail: format!("stored ACME account: {error}") }
            })?;
            let account = Account::builder_with_http(Box::new(self.http.clone()))
                .from_credentials(credentials)
                .await
                .map_err(|error| self.issuer_error(&error))?;
            *slot = Some(account.clone());
            return Ok(account);
        }
        let contact = self.config.contact_email.as_ref().map(|email| format!("mailto:{email}"));
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let external = self.config.external_account.as_ref().map(|binding| {
            let key = base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                binding.hmac_key.expose_secret().trim().trim_end_matches('='),
            )
            .unwrap_or_default();
            ExternalAccountKey::new(binding.key_id.clone(), &key)
        });
        let new_account = NewAccount { contact: &contacts, terms_of_service_agreed: true, only_return_existing: false };
        let (account, credentials) = Account::builder_with_http(Box::new(self.http.clone()))
            .create(&new_account, directory.to_owned(), external.as_ref())
            .await
            .map_err(|error| self.issuer_error(&error))?;
        let json = serde_json::to_vec(&credentials)
            .map_err(|error| IssuerError::BadAnswer { issuer: self.id.clone(), detail: error.to_string() })?;
        let sealed = sealer.seal(&json, &context).map_err(|error| IssuerError::NotConfigured {
            issuer: self.id.clone(),
            detail: format!("cannot seal the ACME account: {error}"),
        })?;
        let stored = db::acme::StoredAccount {
            directory_url: directory.to_owned(),
            account_url: account.id().to_owned(),
            credentials: sealed,
        };
        db::acme::store_account(&self.pool, &self.id, &stored, OffsetDateTime::now_utc())
            .await
            .map_err(|error| self.unavailable(error))?;
        tracing::info!(issuer = %self.id, account = %account.id(), "created the ACME account");
        *slot = Some(account.clone());
        Ok(account)
    }

    /// Drops the account in use (and the stored one) after the CA said it does not know it.
    pub async fn forget_account(&self) {
        let mut slot = self.account.lock().await;
        *slot = None;
        if let Err(error) = db::acme::forget_account(&self.pool, &self.id).await {
            tracing::warn!(issuer = %self.id, error = %error, "could not drop the stored ACME account");
        }
    }

    pub fn issuer_error(&self, error: &instant_acme::Error) -> IssuerError {
        match classify(error, self.http.take_retry_after()) {
            AcmeFailure::Transient { detail, .. } => IssuerError::Unavailable { issuer: self.id.clone(), detail },
            AcmeFailure::AccountGone(detail) | AcmeFailure::Final(detail) => {
                IssuerError::Refused { issuer: self.id.clone(), message: detail }
            }
        }
    }

    fn unavailable(&self, error: sqlx::Error) -> IssuerError {
        IssuerError::Unavailable { issuer: self.id.clone(), detail: format!("database: {error}") }
    }
}
