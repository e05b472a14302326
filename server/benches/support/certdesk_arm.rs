//! The certdesk arm: the application state as the integration tests build it (the stack's OpenBao as issuer
//! `private`, a scratch database), a user in `platform-team` with a read-write API token, and one
//! `POST /api/v1/certificates` with a server-generated EC P-256 key through the router.

use anyhow::{Context, Result, bail, ensure};
use app::model::{NewApiToken, Role, TokenScope};
use app::ssr::{Caller, RequestMeta};
use axum::body::Body;
use base64::Engine;
use certdesk::auth::tokens;
use certdesk::state::AppState;
use http::{Request, StatusCode};
use rand::RngCore;
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

use super::stack::Stack;

pub struct Certdesk {
    pub router: axum::Router,
    /// The benchmark's person, and their API token.
    pub user_id: Uuid,
    pub token: String,
    pub pool: PgPool,
}

/// Configuration: the scratch database, fresh audit and encryption keys, and the stack's OpenBao as issuer
/// `private` (role base `certdesk-demo`, so EC keys are signed by `certdesk-demo-ec`, the peer's role); served on
/// `listen` when it runs as a server of its own. The per-person quotas and request rate are raised out of the way:
/// a benchmark issues thousands of certificates as one person, and measures issuance, not the limits.
pub fn config_toml(stack: &Stack, database_url: &str, listen: &str) -> Result<String> {
    config_toml_with(stack, database_url, listen, Extra::default())
}

/// What a benchmark adds to the configuration: `issuer` inside issuer `private`, after its policy (more policies,
/// `[issuers.acme_server]`), and `tail` after everything (`[acme_validation]`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Extra<'a> {
    pub issuer: &'a str,
    pub tail: &'a str,
}

/// `config_toml` with `extra` added.
pub fn config_toml_with(stack: &Stack, database_url: &str, listen: &str, extra: Extra<'_>) -> Result<String> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let kek = base64::engine::general_purpose::STANDARD.encode(bytes);
    rand::thread_rng().fill_bytes(&mut bytes);
    let chain_key = hex::encode(bytes);
    let path = |name: &str| stack.openbao_file(name).to_string_lossy().into_owned();
    let bao = stack.bao_address.as_str().trim_end_matches('/');
    ensure!(
        ![database_url, bao, &path("role_id")].iter().any(|text| text.contains('"') || text.contains('\\')),
        "the stack's paths and URLs must not contain quotes or backslashes"
    );
    Ok(format!(
        "[server]\nlisten = \"{listen}\"\npublic_url = \"http://{listen}\"\nsecure_cookies = false\n\
         [database]\nurl = \"{database_url}\"\n[audit]\nchain_key = \"{chain_key}\"\n[log]\nformat = \"json\"\n\
         [auth]\nissuer_url = \"http://127.0.0.1:9\"\nclient_id = \"certdesk\"\nclient_secret = \"bench\"\n\
         [encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{kek}\"\n\
         [[issuers]]\nid = \"private\"\nkind = \"vault\"\naddress = \"{bao}\"\nmount = \"pki_private_issuer\"\n\
         role = \"certdesk-demo\"\nrole_id_file = \"{role_id}\"\nsecret_id_file = \"{secret_id}\"\n\
         root_ca = \"{root_ca}\"\n\
         [[issuers.policy]]\nname = \"platform\"\ngroups = [\"platform-team\"]\ndomains = [\"cluster.local\"]\n\
         max_validity_days = 90\n{issuer_extra}\
         [limits]\ncertificates_per_day = 1000000\nlive_certificates = 1000000\n\
         caller_burst = 100000\ncaller_per_second = 100000\n{tail}",
        issuer_extra = extra.issuer,
        tail = extra.tail,
        role_id = path("role_id"),
        secret_id = path("secret_id"),
        root_ca = path("root_ca.pem"),
    ))
}

impl Certdesk {
    /// Builds the state over the (empty) scratch database, migrates it, and makes the benchmark's user and token.
    pub async fn prepare(stack: &Stack, database_url: &str) -> Result<Self> {
        Self::prepare_with_state(stack, database_url).await.map(|(certdesk, _)| certdesk)
    }

    /// `prepare`, also answering the application state (to start background tasks such as the CRL refresher).
    pub async fn prepare_with_state(stack: &Stack, database_url: &str) -> Result<(Self, AppState)> {
        Self::prepare_on(stack, database_url, "127.0.0.1:3999", Extra::default()).await
    }

    /// `prepare_with_state` for a certdesk whose public URL is `http://{listen}`, with `extra` configuration (the
    /// caller serves the router on `listen`).
    pub async fn prepare_on(
        stack: &Stack,
        database_url: &str,
        listen: &str,
        extra: Extra<'_>,
    ) -> Result<(Self, AppState)> {
        let config = certdesk::config::Config::from_toml_str(&config_toml_with(stack, database_url, listen, extra)?)
            .map_err(|error| anyhow::anyhow!("benchmark configuration: {error}"))?;
        let state = certdesk::serve::build_state(config).map_err(|error| anyhow::anyhow!("state: {error}"))?;
        certdesk::db::MIGRATOR.run(&state.pool).await.context("migrating the scratch database")?;
        state.migrations.mark_applied();
        let (user_id, token) = person_with_token(&state).await?;
        let router = certdesk::http::router(state.clone());
        Ok((Self { pool: state.pool.clone(), router, user_id, token }, state))
    }

    /// One certificate for `name`: 201 with status `issued`, or an error saying what came back.
    pub async fn issue(&self, name: &str) -> Result<()> {
        self.issue_answer(name).await.map(|_| ())
    }

    /// `issue`, answering certdesk's JSON (id, serial…).
    pub async fn issue_answer(&self, name: &str) -> Result<Value> {
        let body = json!({ "issuer_id": "private", "dns_names": [name], "validity_days": 1,
                           "key": { "source": "generate", "key_type": "ec-p256" } });
        let request = Request::post("/api/v1/certificates")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::from(body.to_string()))?;
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status != StatusCode::CREATED || answer["status"] != "issued" {
            bail!("certdesk answered {status} for {name}: {}", String::from_utf8_lossy(&bytes));
        }
        Ok(answer)
    }
}

/// A user in `platform-team` (allowed `*.cluster.local` by the policy above) and a read-write API token of theirs.
async fn person_with_token(state: &AppState) -> Result<(Uuid, String)> {
    let user_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, issuer, subject, display_name, role, groups) \
         VALUES ($1, 'https://idp', $2, 'Bench', 'user', $3)",
    )
    .bind(user_id)
    .bind(user_id.to_string())
    .bind(vec!["platform-team".to_owned()])
    .execute(&state.pool)
    .await
    .context("inserting the benchmark user")?;
    let now = OffsetDateTime::now_utc();
    let meta = signed_in(user_id, now);
    let new =
        NewApiToken { name: "bench".into(), scope: TokenScope::ReadWrite, expires_in_days: 1, private_keys: false };
    let created = tokens::create(&state.pool, &state.chain_key, &meta, &new, std::time::Duration::from_secs(600), now)
        .await
        .map_err(|error| anyhow::anyhow!("creating the API token: {error}"))?;
    Ok((user_id, created.secret))
}

/// A request of the benchmark's person, signed in with a second factor proven at `now` (what creating a token or an
/// ACME account key asks for).
pub fn signed_in(user_id: Uuid, now: OffsetDateTime) -> RequestMeta {
    let caller = Caller {
        user_id,
        display_name: "Bench".into(),
        role: Role::User,
        csrf_token: String::new(),
        mfa_at: now.unix_timestamp(),
        credential: app::ssr::Credential::Session,
    };
    RequestMeta { request_id: "bench".into(), client_addr: "127.0.0.1".into(), caller: Some(caller) }
}
