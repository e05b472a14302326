//! certdesk as an ACME server (RFC 8555) for the issuers that opt in (`[issuers.acme_server]`): machines such as
//! cert-manager, certbot and lego get certificates through certdesk, their accounts bound to people by External
//! Account Binding. Part 1 of issue 17: the directory, nonces, accounts (with EAB), and people's ACME account keys;
//! orders, authorizations, challenges, finalize, certificates, revokeCert, keyChange and renewalInfo answer a
//! problem document saying they are not served yet.
//!
//! Files: `jws` and `jwk` (request signatures, pure), `request` (one signed request checked against the database),
//! `nonces`, `accounts` (newAccount and the account URL), `eab` (the binding), `account_keys` (the people's side),
//! `problem` (every refusal as a problem document). All state is in PostgreSQL: any replica answers any request.

pub mod account_keys;
mod accounts;
mod authorizations;
pub mod backstop;
mod certificates;
mod challenges;
mod eab;
pub mod finalize;
pub mod jwk;
pub mod jws;
mod key_change;
pub mod known_keys;
pub mod machines;
pub mod nonces;
pub mod orders;
pub mod problem;
mod renewal_info;
pub mod request;
mod revocation;
pub mod validation;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use http::{HeaderValue, Method, StatusCode};
use serde_json::json;

use crate::config::AcmeServerConfig;
use crate::state::AppState;
use problem::AcmeError;

/// The public routes, mounted outside the session and CSRF layers (a JWS is its own authentication).
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/acme/{issuer}/directory", get(directory))
        .route("/acme/{issuer}/new-nonce", get(new_nonce))
        .route("/acme/{issuer}/new-account", post(accounts::new_account))
        .route("/acme/{issuer}/account/{id}", post(accounts::account))
        .route("/acme/{issuer}/account/{id}/orders", post(orders::account_orders))
        .route("/acme/{issuer}/new-order", post(orders::new_order))
        .route("/acme/{issuer}/order/{id}", post(orders::order))
        .route("/acme/{issuer}/order/{id}/finalize", post(finalize::finalize))
        .route("/acme/{issuer}/authz/{id}", post(authorizations::authorization))
        .route("/acme/{issuer}/chall/{id}", post(challenges::challenge))
        .route("/acme/{issuer}/cert/{id}", post(certificates::certificate))
        .route("/acme/{issuer}/revoke-cert", post(revocation::revoke_cert))
        .route("/acme/{issuer}/key-change", post(key_change::key_change))
        .route("/acme/{issuer}/renewal-info/{id}", get(renewal_info::renewal_info))
        .route("/acme/{issuer}/{*rest}", any(unknown_resource))
        .layer(axum::middleware::from_fn_with_state(state.clone(), nonces::add_replay_nonce))
}

/// One issuer's ACME directory: where its resources are, built from `server.public_url`.
#[derive(Debug, Clone)]
pub struct Directory {
    pub issuer_id: String,
    base: String,
    pub eab_required: bool,
    pub server: AcmeServerConfig,
}

impl Directory {
    /// The directory of `issuer_id`, if that issuer exists and enabled certdesk's ACME server.
    pub fn of(state: &AppState, issuer_id: &str) -> Result<Self, AcmeError> {
        let issuer = state.config.issuers.iter().find(|issuer| issuer.id == issuer_id);
        let server = issuer
            .and_then(|issuer| issuer.acme_server.as_ref())
            .ok_or_else(|| AcmeError::NoDirectory(format!("/acme/{issuer_id}/directory")))?;
        let base = state.config.server.public_url.as_str().trim_end_matches('/').to_owned();
        Ok(Self { issuer_id: issuer_id.to_owned(), base, eab_required: server.eab_required, server: server.clone() })
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The URL of one of this directory's resources, e.g. `new-account`.
    pub fn resource(&self, name: &str) -> String {
        self.url(&format!("/acme/{}/{name}", self.issuer_id))
    }

    pub fn account_url(&self, id: uuid::Uuid) -> String {
        self.resource(&format!("account/{id}"))
    }

    pub fn order_url(&self, id: uuid::Uuid) -> String {
        self.resource(&format!("order/{id}"))
    }

    pub fn authorization_url(&self, id: uuid::Uuid) -> String {
        self.resource(&format!("authz/{id}"))
    }

    pub fn challenge_url(&self, id: uuid::Uuid) -> String {
        self.resource(&format!("chall/{id}"))
    }

    /// An order's certificate, named by the order (only its account may fetch it).
    pub fn certificate_url(&self, order_id: uuid::Uuid) -> String {
        self.resource(&format!("cert/{order_id}"))
    }

    /// `Link: <directory>;rel="index"`, put on every response but the directory's by `nonces::add_replay_nonce`.
    pub fn index_link(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!("<{}>;rel=\"index\"", self.resource("directory"))).ok()
    }
}

async fn directory(State(state): State<AppState>, Path(issuer): Path<String>) -> Result<Response, AcmeError> {
    let directory = Directory::of(&state, &issuer)?;
    let body = json!({
        "newNonce": directory.resource("new-nonce"),
        "newAccount": directory.resource("new-account"),
        "newOrder": directory.resource("new-order"),
        "revokeCert": directory.resource("revoke-cert"),
        "keyChange": directory.resource("key-change"),
        "renewalInfo": directory.resource("renewal-info"),
        "meta": {
            "externalAccountRequired": directory.eab_required,
            "website": state.config.server.public_url.as_str(),
        },
    });
    Ok(axum::Json(body).into_response())
}

/// HEAD answers 200 and GET 204 (RFC 8555 §7.2); the nonce itself is added by `nonces::add_replay_nonce`.
async fn new_nonce(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    method: Method,
) -> Result<Response, AcmeError> {
    Directory::of(&state, &issuer)?;
    Ok(if method == Method::HEAD { StatusCode::OK } else { StatusCode::NO_CONTENT }.into_response())
}

async fn unknown_resource(
    State(state): State<AppState>,
    Path((issuer, rest)): Path<(String, String)>,
) -> Result<Response, AcmeError> {
    Directory::of(&state, &issuer)?;
    Err(AcmeError::NotFound(format!("no ACME resource at /acme/{issuer}/{rest}; the directory lists them")))
}
