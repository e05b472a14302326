//! Issuance through a Vault/OpenBao PKI mount with `vaultrs`: AppRole login (role id + secret id), the token kept
//! and renewed before it expires, a fresh login when the server answers 403, and `{mount}/sign/{role}` with the
//! role made for the CSR's key family and purpose by `certdesk vault bootstrap`. Revocation is `{mount}/revoke`;
//! the CRL is rebuilt with `{mount}/crl/rotate` and read, with the issuing CA, from the mount's public endpoints.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::Url;
use secrecy::ExposeSecret;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use vaultrs::api::pki::requests::SignCertificateRequest;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;

use app::model::RevocationReason;

use super::authority::{CertificateAuthority, Issued, IssuerError, PublishedCrl, Signed, SigningRequest};
use crate::ceremony::role_name;
use crate::config::AppRoleCredentials;

/// Renew (or log in again) when less than this is left of the token's lease.
const RENEW_MARGIN: Duration = Duration::from_secs(120);
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

pub struct VaultIssuer {
    id: String,
    address: Url,
    mount: String,
    role_base: String,
    approle: Option<AppRoleCredentials>,
    ca_bundle: Option<PathBuf>,
    session: Mutex<Option<Session>>,
    /// For the unauthenticated CRL and CA endpoints.
    http: reqwest::Client,
}

impl std::fmt::Debug for VaultIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultIssuer").field("id", &self.id).field("mount", &self.mount).finish_non_exhaustive()
    }
}

/// A logged-in client and when its token runs out.
struct Session {
    client: std::sync::Arc<VaultClient>,
    expires_at: Instant,
    renewable: bool,
}

impl VaultIssuer {
    pub fn new(
        id: &str,
        address: &Url,
        mount: &str,
        role_base: &str,
        approle: Option<AppRoleCredentials>,
        ca_bundle: Option<PathBuf>,
        http: reqwest::Client,
    ) -> Self {
        Self {
            id: id.to_owned(),
            address: address.clone(),
            mount: mount.to_owned(),
            role_base: role_base.to_owned(),
            approle,
            ca_bundle,
            session: Mutex::new(None),
            http,
        }
    }

    fn client_with(&self, token: &str) -> Result<VaultClient, IssuerError> {
        let mut settings = VaultClientSettingsBuilder::default();
        settings.address(self.address.as_str()).token(token).timeout(Some(REQUEST_TIMEOUT)).verify(true);
        // Only the configured bundle: never VAULT_CACERT from the environment.
        settings.ca_certs(self.ca_bundle.iter().map(|path| path.to_string_lossy().into_owned()).collect());
        let settings = settings.build().map_err(|error| self.not_configured(error.to_string()))?;
        VaultClient::new(settings).map_err(|error| self.not_configured(error.to_string()))
    }

    fn not_configured(&self, detail: impl Into<String>) -> IssuerError {
        IssuerError::NotConfigured { issuer: self.id.clone(), detail: detail.into() }
    }

    /// A client with a live token: the cached one, renewed when close to expiry, or a fresh AppRole login.
    async fn client(&self) -> Result<std::sync::Arc<VaultClient>, IssuerError> {
        let mut session = self.session.lock().await;
        if let Some(current) = session.as_mut() {
            let left = current.expires_at.saturating_duration_since(Instant::now());
            if left > RENEW_MARGIN {
                return Ok(current.client.clone());
            }
            if current.renewable
                && let Ok(renewed) = vaultrs::token::renew_self(current.client.as_ref(), None).await
            {
                current.expires_at = Instant::now() + Duration::from_secs(renewed.lease_duration);
                // Renewal cannot go past the token's max TTL; once it stops extending, log in again.
                if renewed.lease_duration > RENEW_MARGIN.as_secs() {
                    return Ok(current.client.clone());
                }
            }
        }
        let fresh = self.login().await?;
        let client = fresh.client.clone();
        *session = Some(fresh);
        Ok(client)
    }

    async fn login(&self) -> Result<Session, IssuerError> {
        let Some(approle) = &self.approle else {
            return Err(self.not_configured("no AppRole credentials (issuers[].role_id_file, secret_id_file)"));
        };
        let anonymous = self.client_with("")?;
        let auth = vaultrs::auth::approle::login(
            &anonymous,
            &approle.mount,
            approle.role_id.expose_secret(),
            approle.secret_id.expose_secret(),
        )
        .await
        .map_err(|error| match classify(&self.id, error) {
            IssuerError::Refused { .. } => self.not_configured("the AppRole login was refused (role id / secret id)"),
            other => other,
        })?;
        Ok(Session {
            client: std::sync::Arc::new(self.client_with(&auth.client_token)?),
            expires_at: Instant::now() + Duration::from_secs(auth.lease_duration),
            renewable: auth.renewable,
        })
    }

    async fn forget_token(&self) {
        *self.session.lock().await = None;
    }
}

#[async_trait]
impl CertificateAuthority for VaultIssuer {
    /// OpenBao signs while the requester waits.
    async fn issue(&self, request: &SigningRequest<'_>) -> Result<Issued, IssuerError> {
        let role = role_name(&self.role_base, request.key_family, request.client_auth);
        let ttl = format!("{}s", request.validity.as_secs());
        let (mount, role, ttl) = (self.mount.as_str(), role.as_str(), ttl.as_str());
        let response = self
            .call(&format!("use role `{role}`"), |client| async move {
                let mut options = SignCertificateRequest::builder();
                options.ttl(ttl).format("pem").exclude_cn_from_sans(false);
                vaultrs::pki::cert::ca::sign(
                    client.as_ref(),
                    mount,
                    role,
                    request.csr_pem,
                    request.common_name.unwrap_or_default(),
                    Some(&mut options),
                )
                .await
            })
            .await?;
        let leaf_der = pem_to_der(&self.id, &response.certificate)?;
        let chain_pem = match response.ca_chain {
            Some(chain) if !chain.is_empty() => chain,
            _ => vec![response.issuing_ca],
        };
        let chain_der = chain_pem.iter().map(|pem| pem_to_der(&self.id, pem)).collect::<Result<_, _>>()?;
        Ok(Issued::Signed(Signed { leaf_der, chain_der }))
    }

    /// Walks the mount's stored certificates (OpenBao keeps every one it signs unless `no_store`) for one with
    /// this public key issued since `since`. Linear in the number of stored certificates: it only runs for
    /// requests interrupted by a crash.
    async fn find_signed(&self, public_key_der: &[u8], since: OffsetDateTime) -> Result<Option<Signed>, IssuerError> {
        let client = self.client().await?;
        let serials = match vaultrs::pki::cert::list(client.as_ref(), &self.mount).await {
            Ok(serials) => serials,
            Err(ClientError::APIError { code: 404, .. }) => return Ok(None),
            Err(error) => return Err(classify(&self.id, error)),
        };
        let since = since - time::Duration::minutes(5);
        for serial in serials {
            let stored = vaultrs::pki::cert::read(client.as_ref(), &self.mount, &serial)
                .await
                .map_err(|error| classify(&self.id, error))?;
            let Ok(leaf_der) = pem_to_der(&self.id, &stored.certificate) else { continue };
            let Ok((_, certificate)) = x509_parser::parse_x509_certificate(&leaf_der) else { continue };
            if certificate.is_ca() || certificate.validity().not_before.to_datetime() < since {
                continue;
            }
            if certificate.public_key().raw == public_key_der {
                let chain_der = self.ca_chain(client.as_ref()).await?;
                return Ok(Some(Signed { leaf_der, chain_der }));
            }
        }
        Ok(None)
    }

    async fn revoke(
        &self,
        serial: &str,
        _certificate_der: &[u8],
        _reason: RevocationReason,
    ) -> Result<Option<OffsetDateTime>, IssuerError> {
        // OpenBao's revoke takes no reason (its CRL entries carry none); certdesk keeps the reason itself.
        let mount = self.mount.as_str();
        let revoked = self
            .call("revoke certificates", |client| async move {
                vaultrs::pki::cert::revoke(client.as_ref(), mount, serial).await
            })
            .await?;
        Ok(i64::try_from(revoked.revocation_time)
            .ok()
            .filter(|seconds| *seconds > 0)
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok()))
    }

    async fn crl(&self, rebuild: bool) -> Result<Option<PublishedCrl>, IssuerError> {
        if rebuild {
            let mount = self.mount.as_str();
            self.call("rotate the CRL", |client| async move {
                vaultrs::pki::cert::crl::rotate(client.as_ref(), mount).await
            })
            .await?;
        }
        let crl_der = self.public_der("crl").await?;
        let signer_der = self.public_der("ca").await?;
        Ok(Some(PublishedCrl { crl_der, signer_der }))
    }
}

impl VaultIssuer {
    /// Runs one API call with a live token; after a 403 (token revoked, or expired early by a server restart)
    /// it logs in again and retries once. `what` completes "the AppRole may not …" when the retry fails too.
    async fn call<T, F, Fut>(&self, what: &str, operation: F) -> Result<T, IssuerError>
    where
        F: Fn(std::sync::Arc<VaultClient>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let mut retried = false;
        loop {
            match operation(self.client().await?).await {
                Err(ClientError::APIError { code: 403, .. }) if !retried => {
                    retried = true;
                    self.forget_token().await;
                }
                Err(ClientError::APIError { code: 403, .. }) => {
                    return Err(self.not_configured(format!("the AppRole may not {what} (403)")));
                }
                other => return other.map_err(|error| classify(&self.id, error)),
            }
        }
    }

    /// `GET /v1/{mount}/{path}` without a token: the CRL and the CA certificate are public, as DER.
    async fn public_der(&self, path: &str) -> Result<Vec<u8>, IssuerError> {
        let unavailable = |detail: String| IssuerError::Unavailable { issuer: self.id.clone(), detail };
        let url = self
            .address
            .join(&format!("v1/{}/{path}", self.mount))
            .map_err(|error| self.not_configured(format!("address: {error}")))?;
        let response = self.http.get(url).send().await.map_err(|_| unavailable("cannot reach the server".into()))?;
        let status = response.status();
        if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            let body = response.text().await.unwrap_or_default();
            if body.to_ascii_lowercase().contains("sealed") {
                return Err(IssuerError::Sealed { issuer: self.id.clone() });
            }
            return Err(unavailable(format!("{path}: HTTP 503")));
        }
        if !status.is_success() {
            return Err(unavailable(format!("{path}: HTTP {}", status.as_u16())));
        }
        let body = response.bytes().await.map_err(|error| unavailable(format!("{path}: {error}")))?;
        Ok(body.to_vec())
    }
    /// The mount's chain (intermediate, then root, as installed by `set-signed`).
    async fn ca_chain(&self, client: &VaultClient) -> Result<Vec<Vec<u8>>, IssuerError> {
        let chain = vaultrs::pki::cert::read(client, &self.mount, "ca_chain")
            .await
            .map_err(|error| classify(&self.id, error))?;
        let text = chain.ca_chain.unwrap_or(chain.certificate);
        let blocks = pem::parse_many(text.as_bytes()).map_err(|error| IssuerError::BadAnswer {
            issuer: self.id.clone(),
            detail: format!("ca_chain: {error}"),
        })?;
        Ok(blocks.into_iter().map(|block| block.contents().to_vec()).collect())
    }
}

fn pem_to_der(issuer: &str, text: &str) -> Result<Vec<u8>, IssuerError> {
    pem::parse(text)
        .ok()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(|block| block.contents().to_vec())
        .ok_or_else(|| IssuerError::BadAnswer { issuer: issuer.to_owned(), detail: "not a PEM certificate".into() })
}

/// vaultrs errors → what the requester and the operator need to know.
fn classify(issuer: &str, error: ClientError) -> IssuerError {
    let issuer = issuer.to_owned();
    match error {
        ClientError::APIError { code, errors } => {
            let message = errors.join("; ");
            match code {
                503 if message.to_ascii_lowercase().contains("sealed") => IssuerError::Sealed { issuer },
                400 | 422 => IssuerError::Refused { issuer, message },
                403 => IssuerError::NotConfigured { issuer, detail: "permission denied (403)".into() },
                _ => IssuerError::Unavailable { issuer, detail: format!("HTTP {code}: {message}") },
            }
        }
        ClientError::RestClientError { .. } | ClientError::ResponseEmptyError | ClientError::ResponseDataEmptyError => {
            IssuerError::Unavailable { issuer, detail: "cannot reach the server".into() }
        }
        other => IssuerError::BadAnswer { issuer, detail: other.to_string() },
    }
}
