//! certdesk as an ACME server, served on a real 127.0.0.1 listener against the test database: instant-acme as the
//! real client (`clients`), raw JWS requests that must each be refused with the right problem and nothing stored
//! (`refusals`), people's ACME account keys (`account_keys`), and the Machines page's accounts (`machines`). This
//! module holds the harness they share.

mod account_keys;
mod challenges;
mod clients;
mod database_restart;
mod machines;
mod orders;
mod real_clients;
mod refusals;
mod renewals;
mod revocations;

use std::net::SocketAddr;

use app::model::{CreatedAcmeAccountKey, NewAcmeAccountKey, Role};
use app::ssr::{Caller, RequestMeta};
use certdesk::config::Config;
use certdesk::state::AppState;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::support::{config_toml, database_url_of, person};

const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The issuer with the ACME server on, and one without it.
pub const ISSUER: &str = "private";
pub const OTHER_ISSUER: &str = "no-acme";

/// certdesk serving on its own port, its public URL that port.
pub struct Served {
    pub state: AppState,
    pub base: String,
    pub pool: PgPool,
}

impl Served {
    pub async fn start(pool: &PgPool, eab_required: bool) -> Self {
        let vault = "kind = \"vault\"\naddress = \"http://127.0.0.1:9\"\nmount = \"pki\"\nrole = \"r\"\n";
        let issuers = format!(
            "[[issuers]]\nid = \"{ISSUER}\"\n{vault}[issuers.acme_server]\nenabled = true\neab_required = {eab_required}\n\
             [[issuers]]\nid = \"{OTHER_ISSUER}\"\n{vault}"
        );
        Self::start_with(pool, &issuers).await
    }

    /// certdesk whose ACME issuer signs with the stack's OpenBao at `bao_address` (the stack's own, or a `Gate` in
    /// front of it): its policy lets everyone order names under `priv.example.test` and `cluster.local` (no
    /// wildcards, 30 days at most), and names under `svc.cluster.local` need no challenge for the group `platform`.
    pub async fn issuing(pool: &PgPool, bao_address: &str) -> Self {
        Self::issuing_with(pool, bao_address, "").await
    }

    /// `issuing`, with `extra` configuration after the issuers (e.g. `[acme_validation]`).
    pub async fn issuing_with(pool: &PgPool, bao_address: &str, extra: &str) -> Self {
        Self::issuing_configured(pool, bao_address, "", extra).await
    }

    /// `issuing_with`, with `server` settings in `[issuers.acme_server]` (e.g. `max_open_orders_per_account`).
    pub async fn issuing_configured(pool: &PgPool, bao_address: &str, server: &str, extra: &str) -> Self {
        let stack = crate::support::stack();
        let bao = format!("{stack}/openbao");
        let issuers = format!(
            "[[issuers]]\nid = \"{ISSUER}\"\nkind = \"vault\"\naddress = \"{bao_address}\"\nmount = \"pki_private_issuer\"\n\
             role = \"certdesk-demo\"\nrole_id_file = \"{bao}/role_id\"\nsecret_id_file = \"{bao}/secret_id\"\n\
             root_ca = \"{bao}/root_ca.pem\"\n\
             [issuers.acme_server]\nenabled = true\n{server}\n\
             [[issuers.acme_server.no_challenge]]\nnames = [\"*.svc.cluster.local\"]\ngroups = [\"platform\"]\n\
             [[issuers.policy]]\nname = \"machines\"\ngroups = [\"*\"]\ndomains = [\"priv.example.test\", \"cluster.local\", \"dns01.certdesk.test\"]\n\
             max_validity_days = 30\n{extra}"
        );
        Self::start_with(pool, &issuers).await
    }

    async fn start_with(pool: &PgPool, issuers: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = listener.local_addr().unwrap().to_string();
        let extra =
            format!("[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{KEK}\"\n{issuers}");
        let config = Config::from_toml_str(&config_toml(&database_url_of(pool), &listen, &extra)).unwrap();
        let state = certdesk::serve::build_state(config).unwrap();
        state.migrations.mark_applied();
        let state = state.with(|shared| shared.pool = pool.clone());
        let app = certdesk::http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { state, base: format!("http://{listen}"), pool: pool.clone() }
    }

    pub fn directory(&self) -> String {
        self.url("directory")
    }

    /// The URL of a resource of the ACME issuer, e.g. `new-account`.
    pub fn url(&self, resource: &str) -> String {
        format!("{}/acme/{ISSUER}/{resource}", self.base)
    }

    /// A new nonce from HEAD newNonce.
    pub async fn nonce(&self) -> String {
        let response = reqwest::Client::new().head(self.url("new-nonce")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.headers()["replay-nonce"].to_str().unwrap().to_owned()
    }

    /// A person with a second factor proven just now, and an ACME account key of theirs.
    pub async fn person_with_key(&self, name: &str) -> (RequestMeta, CreatedAcmeAccountKey) {
        let meta = fresh(person(&self.pool, name, Role::User).await);
        let input = NewAcmeAccountKey { name: "cluster".into(), expires_in_days: 30, allowed_names: vec![] };
        let created =
            certdesk::acme_server::account_keys::create(&self.state, &meta, &input, OffsetDateTime::now_utc())
                .await
                .unwrap();
        (meta, created)
    }

    /// How many rows `table` has (nothing stored by a refused request).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&self.pool).await.unwrap()
    }

    /// The audit actions about ACME accounts and account keys, in order.
    pub async fn acme_audit(&self) -> Vec<(String, String, String)> {
        sqlx::query_as("SELECT action, actor, object FROM audit_events WHERE action LIKE 'acme_account%' ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

/// The request of `caller` with a second factor proven now.
pub fn fresh(mut caller: Caller) -> RequestMeta {
    caller.mfa_at = OffsetDateTime::now_utc().unix_timestamp();
    RequestMeta { request_id: "test".into(), client_addr: "127.0.0.1".into(), caller: Some(caller) }
}

/// The raw HMAC key of a created ACME account key.
pub fn hmac_key(created: &CreatedAcmeAccountKey) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&created.hmac_key).unwrap()
}
