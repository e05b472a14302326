//! certdesk's own TOTP second factor (`auth.local_totp`) behind a provider that proves no MFA, through the real
//! router and database: enrolment, recovery codes, replay refusal, lockout, CSRF, the sealed secret at rest, and
//! the audit trail. The stand-in provider of `oidc_tokens` mints the password-only ID tokens.

use axum::body::Body;
use http::{Request, StatusCode};
use sqlx::PgPool;
use totp_rs::{Algorithm, Secret, TOTP};
use tower::ServiceExt;

use crate::oidc_tokens::{Claims, Portal, StandIn, sign, start_stand_in};

const ORIGIN: &str = "http://127.0.0.1:3999";
const ENCRYPTION: &str = "local_totp = true\n[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\n\
                          key = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n";

struct Page {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
}

async fn read(response: http::Response<Body>) -> Page {
    let status = response.status();
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    let location = header("location");
    let cookie = header("set-cookie").map(|cookie| cookie.split(';').next().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    Page { status, location, cookie, body: String::from_utf8_lossy(&body).into_owned() }
}

async fn post_code(portal: &Portal, cookie: &str, csrf: &str, code: &str) -> Page {
    let body = format!("csrf_token={csrf}&code={}", code.replace(' ', "+"));
    let request = Request::post("/signin/second-factor")
        .header("cookie", cookie)
        .header("origin", ORIGIN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    read(portal.router.clone().oneshot(request).await.unwrap()).await
}

/// Signs in at the provider with a password only; returns the session cookie waiting for the second factor.
async fn password_sign_in(portal: &Portal, stand_in: &StandIn) -> String {
    let (cookie, state, nonce) = portal.begin_at("/auth/login?next=/certificates").await;
    let claims = Claims {
        issuer: stand_in.issuer.clone(),
        audience: "certdesk".into(),
        nonce,
        expires_in: 300,
        amr: vec!["pwd"],
        auth_time: None,
    };
    *stand_in.token.lock().unwrap() = sign(&claims, &stand_in.key);
    let page = read(portal.get(&format!("/auth/callback?code=c&state={state}"), Some(&cookie)).await).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/signin/second-factor"));
    let rotated = page.cookie.expect("the session id is rotated once the provider has answered");
    assert_ne!(rotated, cookie, "the pre-login session id must not survive");
    rotated
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("{start:?} not in page:\n{text}")) + start.len();
    &text[from..from + text[from..].find(end).unwrap()]
}

fn csrf_of(page: &Page) -> String {
    between(&page.body, r#"name="csrf_token" value=""#, "\"").to_owned()
}

fn code_at(secret_base32: &str, unix: u64) -> String {
    let secret = Secret::Encoded(secret_base32.to_owned()).to_bytes().unwrap();
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, secret, None, String::new()).generate(unix)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A six-digit code that is valid for none of the steps around now.
fn wrong_code(secret_base32: &str) -> String {
    let now = now_unix();
    let valid: Vec<String> = [now - 30, now, now + 30].iter().map(|t| code_at(secret_base32, *t)).collect();
    (0..).map(|n| format!("{:06}", n * 7919 % 1_000_000)).find(|code| !valid.contains(code)).unwrap()
}

async fn audit_actions(pool: &PgPool) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT action, outcome, details->>'reason' FROM audit_events WHERE action LIKE 'mfa.%' OR action = 'auth.signed_in'
         ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_password_only_sign_in_enrols_then_verifies_certdesk_totp(pool: PgPool) {
    let stand_in = start_stand_in().await;
    let portal = Portal::with_config(&pool, &stand_in.issuer, ENCRYPTION).await;

    // Without a provider sign-in first, there is nothing to enrol.
    let page = read(portal.get("/signin/second-factor", None).await).await;
    assert_eq!(page.location.as_deref(), Some("/auth/login"));

    // Enrolment: a QR code and the key for typing in; no session yet.
    let cookie = password_sign_in(&portal, &stand_in).await;
    let enrol = read(portal.get("/signin/second-factor", Some(&cookie)).await).await;
    assert_eq!(enrol.status, StatusCode::OK);
    assert!(enrol.body.contains("<svg") && enrol.body.contains("Set up your second factor"));
    let secret = between(&enrol.body, "data-totp-secret aria-labelledby=\"secret-label\">", "<").to_owned();
    assert_eq!(secret.len(), 32, "160-bit secret in base32");
    let csrf = csrf_of(&enrol);
    assert_eq!(read(portal.get("/", Some(&cookie)).await).await.status, StatusCode::SEE_OTHER, "no session yet");
    let again = read(portal.get("/signin/second-factor", Some(&cookie)).await).await;
    assert!(again.body.contains(&secret), "a reload shows the same secret until it is confirmed");

    // The secret is sealed at rest: neither its base32 nor its bytes are in the row.
    let (key_id, ciphertext): (String, Vec<u8>) =
        sqlx::query_as("SELECT secret_key_id, secret_ciphertext FROM local_totp").fetch_one(&pool).await.unwrap();
    let raw = Secret::Encoded(secret.clone()).to_bytes().unwrap();
    assert_eq!(key_id, "k1");
    assert!(!ciphertext.windows(raw.len()).any(|window| window == raw.as_slice()));
    assert!(!String::from_utf8_lossy(&ciphertext).contains(&secret));

    // Bad inputs: a form from elsewhere, a malformed code, a wrong code.
    let forged = post_code(&portal, &cookie, "not-the-token", &code_at(&secret, now_unix())).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let malformed = post_code(&portal, &cookie, &csrf, "12ab").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.body.contains("6-digit code"), "{}", malformed.body);
    let wrong = post_code(&portal, &cookie, &csrf, &wrong_code(&secret)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("not right") && wrong.body.contains("4 attempts left"), "{}", wrong.body);

    // The right code confirms the enrolment, shows the recovery codes once, and opens the session.
    let code = code_at(&secret, now_unix());
    let done = post_code(&portal, &cookie, &csrf, &code).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let recovery: Vec<String> =
        done.body.split("<li><code>").skip(1).map(|item| item.split('<').next().unwrap().to_owned()).collect();
    assert_eq!(recovery.len(), 10);
    assert!(done.body.contains(r#"href="/certificates""#), "continues to the page asked for");
    let session = done.cookie.expect("a new session id once signed in");
    assert_eq!(read(portal.get("/certificates", Some(&session)).await).await.status, StatusCode::OK);
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT code_hash FROM local_totp_recovery_codes").fetch_all(&pool).await.unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|hash| hash.len() == 32), "only hashes are stored");

    // Next sign-in: the same code again is a replay; a recovery code works once.
    let cookie = password_sign_in(&portal, &stand_in).await;
    let verify = read(portal.get("/signin/second-factor", Some(&cookie)).await).await;
    assert!(verify.body.contains("Enter your code") && !verify.body.contains("data-totp-secret"));
    let csrf = csrf_of(&verify);
    let replay = post_code(&portal, &cookie, &csrf, &code).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.body.contains("already used"), "{}", replay.body);
    let admitted = post_code(&portal, &cookie, &csrf, &recovery[0].to_uppercase()).await;
    assert_eq!(admitted.status, StatusCode::SEE_OTHER, "{}", admitted.body);
    assert_eq!(admitted.location.as_deref(), Some("/certificates"));

    let cookie = password_sign_in(&portal, &stand_in).await;
    let verify = read(portal.get("/signin/second-factor", Some(&cookie)).await).await;
    let reused = post_code(&portal, &cookie, &csrf_of(&verify), &recovery[0]).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST, "a recovery code works once");

    let actions = audit_actions(&pool).await;
    let expected = [
        ("mfa.failed", "denied", Some("csrf token mismatch")),
        ("mfa.failed", "denied", Some("wrong code")),
        ("mfa.enrolled", "success", None),
        ("auth.signed_in", "success", None),
        ("mfa.failed", "denied", Some("code already used")),
        ("mfa.verified", "success", None),
        ("auth.signed_in", "success", None),
        ("mfa.failed", "denied", Some("wrong code")),
    ];
    let actual: Vec<(&str, &str, Option<&str>)> =
        actions.iter().map(|(a, o, r)| (a.as_str(), o.as_str(), r.as_deref())).collect();
    assert_eq!(actual, expected);
    let second_factor: Vec<String> = sqlx::query_scalar(
        "SELECT details->>'method' FROM audit_events WHERE action = 'auth.signed_in' AND outcome = 'success' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(second_factor, ["enrolment", "recovery code"]);
}

/// A fresh person signed in at the provider with a password, on the enrolment page of the second factor.
struct Enrolling {
    portal: Portal,
    cookie: String,
    secret: String,
    csrf: String,
}

async fn enrolling(pool: &PgPool) -> Enrolling {
    let stand_in = start_stand_in().await;
    let portal = Portal::with_config(pool, &stand_in.issuer, ENCRYPTION).await;
    let cookie = password_sign_in(&portal, &stand_in).await;
    let enrol = read(portal.get("/signin/second-factor", Some(&cookie)).await).await;
    let secret = between(&enrol.body, "data-totp-secret aria-labelledby=\"secret-label\">", "<").to_owned();
    let csrf = csrf_of(&enrol);
    Enrolling { portal, cookie, secret, csrf }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn five_wrong_codes_lock_the_factor_even_against_the_right_code(pool: PgPool) {
    let Enrolling { portal, cookie, secret, csrf } = enrolling(&pool).await;
    for attempt in 1..=4 {
        let page = post_code(&portal, &cookie, &csrf, &wrong_code(&secret)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "attempt {attempt}");
    }
    let locked = post_code(&portal, &cookie, &csrf, &wrong_code(&secret)).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("Too many wrong codes"));
    let right = post_code(&portal, &cookie, &csrf, &code_at(&secret, now_unix())).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "locked means locked");
    assert!(right.cookie.is_none(), "no session while locked");
    let locked_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'mfa.failed' AND (details->>'locked')::boolean",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(locked_events, 1);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn parallel_guesses_cannot_outrun_the_lock(pool: PgPool) {
    let Enrolling { portal, cookie, secret, csrf } = enrolling(&pool).await;
    let wrong = wrong_code(&secret);
    let started = time::OffsetDateTime::now_utc();

    // Twenty wrong codes at once: only five may be checked, however the requests interleave.
    let pages = futures_util::future::join_all((0..20).map(|_| post_code(&portal, &cookie, &csrf, &wrong))).await;
    let statuses: Vec<StatusCode> = pages.iter().map(|page| page.status).collect();
    let retried = statuses.iter().filter(|status| **status == StatusCode::BAD_REQUEST).count();
    let locked = statuses.iter().filter(|status| **status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((retried, locked), (4, 16), "four retries, then the lock for the rest: {statuses:?}");
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'mfa.failed'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(failed, 5, "only five codes were checked");
    let (failures, until): (i32, time::OffsetDateTime) =
        sqlx::query_as("SELECT failed_attempts, locked_until FROM local_totp").fetch_one(&pool).await.unwrap();
    assert_eq!(failures, 5);
    let lock = until - started;
    assert!(lock > time::Duration::minutes(14) && lock <= time::Duration::minutes(16), "locked for 15 minutes: {lock}");

    let right = post_code(&portal, &cookie, &csrf, &code_at(&secret, now_unix())).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "still locked");
}
