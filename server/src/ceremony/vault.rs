//! The Vault/OpenBao connection of the bootstrap: vaultrs for the endpoints it models, plain JSON requests with
//! the same token for the rest (role fields vaultrs lacks, tuning, reads compared field by field), and one
//! error vocabulary for both that tells an unreachable server, a sealed one and a refused token apart.

use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot reach Vault/OpenBao at {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("Vault/OpenBao at {address} is sealed: unseal it, then run this again")]
    Sealed { address: String },
    #[error("Vault/OpenBao at {address} is not initialised")]
    NotInitialized { address: String },
    #[error("the token was refused (HTTP 403): it is invalid, expired or revoked")]
    BadToken,
    #[error("permission denied (HTTP 403) for {what}: the token's policies do not allow it")]
    Forbidden { what: String },
    #[error("{what}: HTTP {status}: {message}")]
    Api { what: String, status: u16, message: String },
    #[error("{what}: unexpected response: {reason}")]
    Response { what: String, reason: String },
    #[error("the token file is empty or holds characters a token cannot have")]
    TokenFormat,
    #[error("--ca-bundle: {0}")]
    CaBundle(String),
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// An authenticated connection.
pub struct Vault {
    pub(crate) client: VaultClient,
    http: reqwest::Client,
    address: Url,
    token: SecretString,
}

impl Vault {
    pub fn connect(address: &Url, token: SecretString, ca_bundle: Option<&Path>) -> Result<Self, VaultError> {
        let exposed = token.expose_secret();
        // vaultrs puts the token into a header value and panics on one it cannot encode.
        if exposed.is_empty() || !exposed.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(VaultError::TokenFormat);
        }
        let ca_pem = ca_bundle
            .map(|path| {
                std::fs::read(path).map_err(|error| VaultError::CaBundle(format!("{}: {error}", path.display())))
            })
            .transpose()?;
        let builder =
            crate::config::trusting(reqwest::Client::builder().timeout(TIMEOUT), ca_pem.as_deref(), "--ca-bundle")
                .map_err(|error| VaultError::CaBundle(error.to_string()))?;
        let http = builder.build().map_err(|error| VaultError::Client(error.to_string()))?;
        let settings = VaultClientSettingsBuilder::default()
            .address(address.as_str())
            .token(exposed)
            .ca_certs(ca_bundle.map(|path| vec![path.display().to_string()]).unwrap_or_default())
            .timeout(Some(TIMEOUT))
            .build()
            .map_err(|error| VaultError::Client(error.to_string()))?;
        let client = VaultClient::new(settings).map_err(|error| VaultError::Client(error.to_string()))?;
        Ok(Self { client, http, address: address.clone(), token })
    }

    /// Fails with a precise error unless the server answers, is initialised and unsealed, and knows the token.
    pub async fn check_ready(&self) -> Result<(), VaultError> {
        let url = self.url("sys/health");
        let response = self.http.get(url).send().await.map_err(|error| self.unreachable(&error))?;
        match response.status().as_u16() {
            // 429: unsealed standby; 472/473: DR/performance standby. All answer API calls.
            200 | 429 | 472 | 473 => {}
            501 => return Err(VaultError::NotInitialized { address: self.address.to_string() }),
            503 => return Err(VaultError::Sealed { address: self.address.to_string() }),
            status => {
                return Err(VaultError::Api {
                    what: "sys/health".into(),
                    status,
                    message: "unexpected health status".into(),
                });
            }
        }
        match self.request(Method::GET, "auth/token/lookup-self", None).await {
            Err(VaultError::Forbidden { .. }) => Err(VaultError::BadToken),
            other => other.map(|_| ()),
        }
    }

    /// `data` of a GET, or `None` when the path does not exist (404).
    pub async fn read(&self, path: &str) -> Result<Option<Value>, VaultError> {
        match self.request(Method::GET, path, None).await {
            Ok(body) => Ok(Some(body.get("data").cloned().unwrap_or(Value::Null))),
            Err(VaultError::Api { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// POST with a JSON body; returns the response body (may be `Null` for 204).
    pub async fn write(&self, path: &str, body: &Value) -> Result<Value, VaultError> {
        self.request(Method::POST, path, Some(body)).await
    }

    async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, VaultError> {
        let mut request = self.http.request(method, self.url(path)).header("X-Vault-Token", self.token.expose_secret());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| self.unreachable(&error))?;
        let status = response.status();
        let text = response.text().await.map_err(|error| self.unreachable(&error))?;
        if status.is_success() {
            if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text)
                .map_err(|error| VaultError::Response { what: path.to_owned(), reason: error.to_string() });
        }
        let errors = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|body| body.get("errors").and_then(Value::as_array).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|error| error.as_str().map(str::to_owned))
            .collect::<Vec<_>>();
        Err(self.status_error(path, status.as_u16(), errors))
    }

    /// Maps a vaultrs failure of `what` into the same vocabulary as the plain requests.
    pub fn map(&self, what: &str, error: ClientError) -> VaultError {
        match error {
            ClientError::APIError { code, errors } => self.status_error(what, code, errors),
            // rustify (vaultrs's HTTP layer) is not a dependency of ours, so its variants are told apart by their
            // message: only a failure to send means the server could not be reached.
            ClientError::RestClientError { source } if source.to_string().starts_with("Error sending HTTP request") => {
                VaultError::Unreachable { address: self.address.to_string(), reason: describe(&source) }
            }
            other => VaultError::Response { what: what.to_owned(), reason: describe(&other) },
        }
    }

    fn status_error(&self, what: &str, status: u16, errors: Vec<String>) -> VaultError {
        match status {
            403 => VaultError::Forbidden { what: what.to_owned() },
            503 if errors.iter().any(|error| error.contains("sealed")) => {
                VaultError::Sealed { address: self.address.to_string() }
            }
            _ => VaultError::Api { what: what.to_owned(), status, message: errors.join("; ") },
        }
    }

    fn unreachable(&self, error: &reqwest::Error) -> VaultError {
        VaultError::Unreachable { address: self.address.to_string(), reason: describe(error) }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.address.as_str().trim_end_matches('/'))
    }
}

/// The error and its causes on one line (reqwest's own message is only "error sending request").
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}
