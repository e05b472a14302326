//! A signed-in browser session for the page line: the session a sign-in leaves behind (the person, a fresh second
//! factor, a CSRF token), written into the scratch database through the session store certdesk itself uses. The
//! bench has no identity provider to sign in at; the server is not told anything it would not trust from a real
//! sign-in, and has no way in that a browser lacks.

use std::collections::HashMap;

use anyhow::{Context, Result};
use app::model::Role;
use certdesk::auth::session::{COOKIE_NAME, SIGNED_IN, SignedIn, random_token};
use sqlx::PgPool;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;
use tower_sessions_sqlx_store::PostgresStore;
use uuid::Uuid;

/// The `Cookie` header of a session signed in as `user_id` (a person with `role`), valid for an hour.
pub async fn signed_in_cookie(pool: &PgPool, user_id: Uuid, display_name: &str, role: Role) -> Result<String> {
    let now = OffsetDateTime::now_utc();
    let signed_in = SignedIn {
        user_id,
        display_name: display_name.to_owned(),
        role,
        login_at: now.unix_timestamp(),
        login_at_ms: (now.unix_timestamp_nanos() / 1_000_000) as i64,
        last_seen: now.unix_timestamp(),
        mfa_at: now.unix_timestamp(),
        id_token: String::new(),
        csrf_token: random_token(),
    };
    let data = HashMap::from([(SIGNED_IN.to_owned(), serde_json::to_value(&signed_in)?)]);
    let mut record = Record { id: Id::default(), data, expiry_date: now + time::Duration::hours(1) };
    PostgresStore::new(pool.clone()).create(&mut record).await.context("storing the benchmark's session")?;
    Ok(format!("Cookie: {COOKIE_NAME}={}", record.id))
}
