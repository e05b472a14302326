//! The OpenID Connect relying party: discovery (cached, retried when the provider was down), the authorization
//! request (code flow, PKCE S256, state, nonce, acr_values), and the code exchange with ID-token verification
//! (signature from the provider's JWKS, `iss`, `aud`/`azp`, expiry, nonce). Identity is (`iss`, `sub`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};
use reqwest::Url;
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::sync::RwLock;

use super::session::PendingLogin;
use crate::config::{AuthConfig, ConfigError};

/// Provider metadata and keys are refreshed this often, so key rotation at the provider is picked up.
const DISCOVERY_TTL: Duration = Duration::from_secs(600);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

type DiscoveredClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense: retrying later can work.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code (expired, replayed, wrong verifier…).
    #[error("the identity provider refused the authorization code: {0}")]
    CodeRejected(String),
    /// The ID token failed verification.
    #[error("invalid ID token: {0}")]
    InvalidIdToken(String),
}

/// What a verified ID token says about the person.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    pub issuer: String,
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    /// Unix seconds of the authentication, when the provider says.
    pub auth_time: Option<i64>,
    pub id_token: String,
}

struct Discovered {
    client: DiscoveredClient,
    end_session: Option<EndSessionUrl>,
    fetched_at: Instant,
}

pub struct OidcClient {
    config: AuthConfig,
    redirect_url: RedirectUrl,
    post_logout_url: PostLogoutRedirectUrl,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

impl OidcClient {
    pub fn new(config: &AuthConfig, public_url: &Url) -> Result<Self, ConfigError> {
        let callback = public_url
            .join("auth/callback")
            .map_err(|_| ConfigError::invalid("server.public_url", "cannot derive the /auth/callback URL from it"))?;
        let http = reqwest::Client::builder()
            // Following redirects from the token endpoint would open the client to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .user_agent("certdesk");
        let http = crate::config::trusting(http, config.ca_bundle_pem.as_deref(), "auth.ca_bundle")?;
        Ok(Self {
            config: config.clone(),
            redirect_url: RedirectUrl::from_url(callback),
            post_logout_url: PostLogoutRedirectUrl::from_url(public_url.clone()),
            http: http.build().map_err(|error| ConfigError::invalid("auth", format!("HTTP client: {error}")))?,
            discovered: RwLock::new(None),
        })
    }

    pub fn issuer_origin(&self) -> String {
        self.config.issuer_url.origin().ascii_serialization()
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        if let Some(current) = self.discovered.read().await.as_ref()
            && current.fetched_at.elapsed() < DISCOVERY_TTL
        {
            return Ok(current.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer_url.as_str().trim_end_matches('/').to_owned())
            .map_err(|error| OidcError::Unavailable(error.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|error| OidcError::Unavailable(format!("discovery failed: {error}")))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.expose_secret().to_owned())),
        )
        .set_redirect_uri(self.redirect_url.clone());
        let fresh = Arc::new(Discovered { client, end_session, fetched_at: Instant::now() });
        *self.discovered.write().await = Some(fresh.clone());
        Ok(fresh)
    }

    /// The provider's authorization URL and the state to keep in the pre-login session.
    pub async fn begin(&self, next: String, now: i64, step_up: bool) -> Result<(Url, PendingLogin), OidcError> {
        let discovered = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in self.config.scopes.iter().filter(|scope| *scope != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for acr in &self.config.acr_values {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
        if step_up {
            // Authenticate again even with a live session at the provider.
            request = request.add_prompt(CoreAuthPrompt::Login).set_max_age(Duration::ZERO);
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
            started_at: now,
            step_up,
        };
        Ok((url, pending))
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID token against the pending login's nonce.
    pub async fn finish(&self, pending: &PendingLogin, code: String) -> Result<VerifiedLogin, OidcError> {
        let discovered = self.discovered().await?;
        let response = discovered
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| OidcError::Unavailable(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|error| match error {
                openidconnect::RequestTokenError::ServerResponse(response) => {
                    OidcError::CodeRejected(response.error().to_string())
                }
                other => OidcError::Unavailable(other.to_string()),
            })?;
        let id_token = response.id_token().ok_or_else(|| OidcError::InvalidIdToken("no ID token returned".into()))?;
        let verifier = discovered.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map_err(|error| OidcError::InvalidIdToken(error.to_string()))?;
        let raw = id_token.to_string();
        // The signature is verified above; the extra claims (groups) are read from the same token's payload.
        let payload = raw_payload(&raw)?;
        let groups = payload
            .get(&self.config.groups_claim)
            .and_then(Value::as_array)
            .map(|groups| groups.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let display_name = claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.to_string())
            .or_else(|| claims.preferred_username().map(|name| name.to_string()))
            .or_else(|| claims.email().map(|email| email.to_string()))
            .unwrap_or_else(|| claims.subject().to_string());
        Ok(VerifiedLogin {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            display_name,
            email: claims.email().map(|email| email.to_string()),
            groups,
            amr: claims
                .auth_method_refs()
                .map(|methods| methods.iter().map(|method| method.to_string()).collect())
                .unwrap_or_default(),
            acr: claims.auth_context_ref().map(|acr| acr.to_string()),
            auth_time: claims.auth_time().map(|time| time.timestamp()),
            id_token: raw,
        })
    }

    /// Where to send the browser after the local session is gone: the provider's end-session endpoint when it
    /// has one (RP-initiated logout), else certdesk's own front page.
    pub async fn logout_url(&self, id_token: &str) -> Url {
        let fallback = self.post_logout_url.url().clone();
        let Ok(discovered) = self.discovered().await else { return fallback };
        let Some(end_session) = discovered.end_session.clone() else { return fallback };
        let mut request = LogoutRequest::from(end_session)
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(self.post_logout_url.clone());
        if let Ok(token) = id_token.parse::<openidconnect::core::CoreIdToken>() {
            request = request.set_id_token_hint(&token);
        }
        request.http_get_url()
    }
}

fn raw_payload(token: &str) -> Result<Value, OidcError> {
    let payload = token.split('.').nth(1).ok_or_else(|| OidcError::InvalidIdToken("not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| OidcError::InvalidIdToken("payload is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| OidcError::InvalidIdToken("payload is not JSON".into()))
}
