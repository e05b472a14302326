//! ID-token verification at the callback, with tokens crafted under a test key: a stand-in provider (discovery,
//! JWKS and a token endpoint that returns the crafted token) in front of the real certdesk router and database.
//! The real provider never mints bad tokens, so these cases need one that does. A valid token signs in (proving
//! the harness), then each defect is refused with a 400 page and an audited reason.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use base64::Engine;
use http::{Request, StatusCode};
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{
    Audience, AuthenticationMethodReference, EmptyAdditionalClaims, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::support::{config_toml, database_url_of, test_issuer_url};

/// Makes the ID token for one case from the nonce of the sign-in under way.
type Craft<'a> = dyn Fn(&str) -> String + 'a;

pub struct StandIn {
    pub issuer: String,
    pub key: CoreRsaPrivateSigningKey,
    pub token: Arc<Mutex<String>>,
}

fn rsa_key(kid: &str) -> CoreRsaPrivateSigningKey {
    let output = std::process::Command::new("openssl").args(["genrsa", "-traditional", "2048"]).output().unwrap();
    assert!(output.status.success(), "openssl genrsa: {}", String::from_utf8_lossy(&output.stderr));
    CoreRsaPrivateSigningKey::from_pem(&String::from_utf8(output.stdout).unwrap(), Some(JsonWebKeyId::new(kid.into())))
        .unwrap()
}

pub async fn start_stand_in() -> StandIn {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let key = rsa_key("test-key");
    let jwks = serde_json::json!({ "keys": [key.as_verification_key()] });
    let discovery = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let token = Arc::new(Mutex::new(String::new()));
    let served = token.clone();
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { axum::Json(discovery) }))
        .route("/jwks", get(move || async move { axum::Json(jwks) }))
        .route(
            "/token",
            post(move || async move {
                let id_token = served.lock().unwrap().clone();
                axum::Json(serde_json::json!({
                    "access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": id_token,
                }))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    StandIn { issuer, key, token }
}

pub struct Claims {
    pub issuer: String,
    pub audience: String,
    pub nonce: String,
    pub expires_in: i64,
    pub amr: Vec<&'static str>,
    pub auth_time: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn sign(claims: &Claims, key: &CoreRsaPrivateSigningKey) -> String {
    let now = chrono_like_now();
    let id_claims = CoreIdTokenClaims::new(
        IssuerUrl::new(claims.issuer.clone()).unwrap(),
        vec![Audience::new(claims.audience.clone())],
        now + time_delta(claims.expires_in),
        now - time_delta(5),
        StandardClaims::new(SubjectIdentifier::new("crafted-subject".into())),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(claims.nonce.clone())))
    .set_auth_method_refs(Some(claims.amr.iter().map(|m| AuthenticationMethodReference::new(m.to_string())).collect()))
    .set_auth_time(claims.auth_time);
    CoreIdToken::new(id_claims, key, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None).unwrap().to_string()
}

// openidconnect's claims take chrono times.
fn chrono_like_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
fn time_delta(seconds: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(seconds)
}

fn unsigned(token: &str) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = token.split('.').nth(1).unwrap();
    format!("{}.{payload}.", engine.encode(br#"{"alg":"none","typ":"JWT"}"#))
}

pub struct Portal {
    pub router: Router,
}

impl Portal {
    pub async fn new(pool: &PgPool, issuer: &str) -> Self {
        Self::with_config(pool, issuer, "").await
    }

    /// With `extra` TOML appended after the `[auth]` keys.
    pub async fn with_config(pool: &PgPool, issuer: &str, extra: &str) -> Self {
        let toml = config_toml(&database_url_of(pool), "127.0.0.1:3999", extra).replace(&test_issuer_url(), issuer);
        let config = certdesk::config::Config::from_toml_str(&toml).unwrap();
        let state = certdesk::serve::build_state(config).unwrap();
        state.migrations.mark_applied();
        Self { router: certdesk::http::router(state.with(|shared| shared.pool = pool.clone())) }
    }

    pub async fn get(&self, uri: &str, cookie: Option<&str>) -> http::Response<Body> {
        let mut request = Request::get(uri);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        self.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
    }

    /// Starts a sign-in; returns the pre-login cookie, the state and the nonce the provider was sent.
    pub async fn begin(&self) -> (String, String, String) {
        self.begin_at("/auth/login").await
    }

    /// Signs the stand-in's person in through `login_path` with a second factor proven at `auth_time`; answers the
    /// session cookie.
    pub async fn sign_in(
        &self,
        stand_in: &StandIn,
        login_path: &str,
        auth_time: Option<chrono::DateTime<chrono::Utc>>,
    ) -> String {
        let (cookie, state, nonce) = self.begin_at(login_path).await;
        let claims = Claims {
            issuer: stand_in.issuer.clone(),
            audience: "certdesk".into(),
            nonce,
            expires_in: 300,
            amr: vec!["pwd", "otp"],
            auth_time,
        };
        *stand_in.token.lock().unwrap() = sign(&claims, &stand_in.key);
        let response = self.get(&format!("/auth/callback?code=c&state={state}"), Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "the sign-in completes");
        response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
    }

    /// Calls a server function as the browser would (same origin, JSON); answers status and body.
    pub async fn rpc(&self, name: &str, cookie: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
        let request = Request::post(format!("/rpc/{name}"))
            .header("cookie", cookie)
            .header("origin", "http://127.0.0.1:3999")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    pub async fn begin_at(&self, login_path: &str) -> (String, String, String) {
        let response = self.get(login_path, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        let param = |name: &str| location.query_pairs().find(|(key, _)| key == name).unwrap().1.into_owned();
        (cookie, param("state"), param("nonce"))
    }
}

async fn denial_reasons(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT details->>'reason' FROM audit_events WHERE action = 'auth.sign_in_denied' ORDER BY seq")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_valid_token_signs_in_and_each_defect_is_refused(pool: PgPool) {
    let stand_in = start_stand_in().await;
    let portal = Portal::new(&pool, &stand_in.issuer).await;
    let good = |nonce: &str| Claims {
        issuer: stand_in.issuer.clone(),
        audience: "certdesk".into(),
        nonce: nonce.into(),
        expires_in: 300,
        amr: vec!["pwd", "otp"],
        auth_time: None,
    };

    // Positive control: the harness can sign someone in, and the session id changes.
    let (cookie, state, nonce) = portal.begin().await;
    *stand_in.token.lock().unwrap() = sign(&good(&nonce), &stand_in.key);
    let response = portal.get(&format!("/auth/callback?code=c&state={state}"), Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/");
    let new_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(!new_cookie.starts_with(&cookie), "the session id is rotated at sign-in");

    let other_key = rsa_key("test-key");
    let cases: Vec<(&str, Box<Craft>)> = vec![
        (
            "wrong audience",
            Box::new(|nonce| sign(&Claims { audience: "someone-else".into(), ..good(nonce) }, &stand_in.key)),
        ),
        ("expired", Box::new(|nonce| sign(&Claims { expires_in: -120, ..good(nonce) }, &stand_in.key))),
        ("unknown signing key", Box::new(|nonce| sign(&good(nonce), &other_key))),
        ("alg none", Box::new(|nonce| unsigned(&sign(&good(nonce), &stand_in.key)))),
        (
            "wrong issuer",
            Box::new(|nonce| sign(&Claims { issuer: "http://127.0.0.1:1".into(), ..good(nonce) }, &stand_in.key)),
        ),
        ("wrong nonce", Box::new(|_| sign(&good("not-the-nonce"), &stand_in.key))),
    ];
    for (case, craft) in &cases {
        let (cookie, state, nonce) = portal.begin().await;
        *stand_in.token.lock().unwrap() = craft(&nonce);
        let response = portal.get(&format!("/auth/callback?code=c&state={state}"), Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("could not be verified"), "{case}");
    }
    // Anonymous refusals are audited at most once a minute per source and reason (a flood must not stall the audit
    // chain), so defects refused with the same words share one row.
    let reasons = denial_reasons(&pool).await;
    assert!((1..=cases.len()).contains(&reasons.len()), "{reasons:?}");
    assert!(reasons.iter().all(|reason| reason.starts_with("invalid ID token")), "{reasons:?}");

    // A valid token without a second factor gets no session.
    let (cookie, state, nonce) = portal.begin().await;
    *stand_in.token.lock().unwrap() = sign(&Claims { amr: vec!["pwd"], ..good(&nonce) }, &stand_in.key);
    let response = portal.get(&format!("/auth/callback?code=c&state={state}"), Some(&cookie)).await;
    assert_eq!(response.headers()["location"], "/signin/mfa-required");
    assert_eq!(denial_reasons(&pool).await.last().map(String::as_str), Some("mfa missing"));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn step_up_asks_the_provider_to_authenticate_again_and_checks_auth_time(pool: PgPool) {
    let stand_in = start_stand_in().await;
    let portal = Portal::new(&pool, &stand_in.issuer).await;
    let response = portal.get("/auth/login?step_up=1&next=/settings/tokens", None).await;
    let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!((query["prompt"].as_str(), query["max_age"].as_str()), ("login", "0"));

    let claims = |nonce: &str, auth_time| Claims {
        issuer: stand_in.issuer.clone(),
        audience: "certdesk".into(),
        nonce: nonce.into(),
        expires_in: 300,
        amr: vec!["pwd", "otp"],
        auth_time,
    };
    // A provider that did not re-authenticate (no auth_time, or an old one) does not count as step-up.
    for stale in [None, Some(chrono::Utc::now() - chrono::TimeDelta::hours(2))] {
        let (cookie, state, nonce) = portal.begin_at("/auth/login?step_up=1").await;
        *stand_in.token.lock().unwrap() = sign(&claims(&nonce, stale), &stand_in.key);
        let response = portal.get(&format!("/auth/callback?code=c&state={state}"), Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{stale:?}");
    }
    assert_eq!(denial_reasons(&pool).await, ["step-up without fresh authentication"; 2]);

    let (cookie, state, nonce) = portal.begin_at("/auth/login?step_up=1&next=/settings/tokens").await;
    *stand_in.token.lock().unwrap() = sign(&claims(&nonce, Some(chrono::Utc::now())), &stand_in.key);
    let response = portal.get(&format!("/auth/callback?code=c&state={state}"), Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/settings/tokens");
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'auth.stepped_up' AND outcome = 'success'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(recorded, 1);
}
