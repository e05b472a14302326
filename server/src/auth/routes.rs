//! `/auth/login`, `/auth/callback` and `/auth/logout`. Every refusal is audited with its reason and shown as a
//! clear page; a successful sign-in upserts the person, records the event, and rotates the session id.

use app::ssr::RequestMeta;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use tower_sessions::Session;

use super::oidc::{OidcError, VerifiedLogin};
use super::session::{PENDING_LOGIN, PendingLogin, SIGNED_IN, SignedIn, random_token};
use super::{local_totp, mfa, page, roles, step_up};
use crate::audit::{self, Action, Actor, AuditEntry};
use crate::db;
use crate::http::RequestContext;
use crate::state::AppState;
use app::model::Role;

/// A login left unfinished longer than this must start again.
const LOGIN_DEADLINE_SECS: i64 = 600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    /// `1` to re-authenticate for a sensitive action.
    step_up: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    context: RequestContext,
    query: Query<LoginQuery>,
) -> Response {
    let next = same_site_path(query.next.as_deref());
    let step_up = query.step_up.as_deref() == Some("1");
    match state.oidc.begin(next, OffsetDateTime::now_utc().unix_timestamp(), step_up).await {
        Ok((url, pending)) => match session.insert(PENDING_LOGIN, pending).await {
            Ok(()) => Redirect::to(url.as_str()).into_response(),
            Err(error) => {
                tracing::warn!(request_id = %context.meta.request_id, error = %error, "session store unavailable");
                unavailable(&context.meta)
            }
        },
        Err(error) => {
            tracing::warn!(request_id = %context.meta.request_id, error = %error, "cannot start sign-in");
            unavailable(&context.meta)
        }
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    session: Session,
    context: RequestContext,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let meta = &context.meta;
    let now = OffsetDateTime::now_utc();
    // Taken out of the session at once: a replayed callback finds nothing.
    let pending = match session.remove::<PendingLogin>(PENDING_LOGIN).await {
        Ok(pending) => pending,
        Err(_) => return unavailable(meta),
    };
    let Some(pending) = pending else {
        return refuse(
            &state,
            meta,
            &Actor::anonymous(meta),
            "no pre-login session",
            "This sign-in has expired or was already completed. Please start again.",
        )
        .await;
    };
    if let Some(error) = query.error {
        let reason = format!("identity provider error: {}", error.chars().take(64).collect::<String>());
        return refuse(&state, meta, &Actor::anonymous(meta), &reason, "Your identity provider did not sign you in.")
            .await;
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return refuse(
            &state,
            meta,
            &Actor::anonymous(meta),
            "callback without code or state",
            "The sign-in response was incomplete.",
        )
        .await;
    };
    if !bool::from(returned_state.as_bytes().ct_eq(pending.state.as_bytes())) {
        return refuse(
            &state,
            meta,
            &Actor::anonymous(meta),
            "state mismatch",
            "The sign-in response did not belong to this browser session.",
        )
        .await;
    }
    if now.unix_timestamp() - pending.started_at > LOGIN_DEADLINE_SECS {
        return refuse(
            &state,
            meta,
            &Actor::anonymous(meta),
            "sign-in took too long",
            "The sign-in took too long. Please start again.",
        )
        .await;
    }
    let login = match state.oidc.finish(&pending, code).await {
        Ok(login) => login,
        Err(OidcError::Unavailable(detail)) => {
            tracing::warn!(request_id = %meta.request_id, detail = %detail, "identity provider unavailable at callback");
            return unavailable(meta);
        }
        Err(OidcError::CodeRejected(detail)) => {
            return refuse(
                &state,
                meta,
                &Actor::anonymous(meta),
                &format!("authorization code rejected: {detail}"),
                "The identity provider refused this sign-in (the link may have been used already).",
            )
            .await;
        }
        Err(OidcError::InvalidIdToken(detail)) => {
            return refuse(
                &state,
                meta,
                &Actor::anonymous(meta),
                &format!("invalid ID token: {detail}"),
                "The identity provider's answer could not be verified.",
            )
            .await;
        }
    };
    let identity = Actor::provider_identity(meta, &login.issuer, &login.subject);
    if pending.step_up && !step_up::is_fresh_authentication(login.auth_time, pending.started_at) {
        return refuse(
            &state,
            meta,
            &identity,
            "step-up without fresh authentication",
            "Your identity provider did not ask for your credentials again, so this cannot confirm it's you.",
        )
        .await;
    }
    if !roles::grants_access(&login.groups, &state.config.auth) {
        return refuse(
            &state,
            meta,
            &identity,
            "no group grants access",
            "Your account is not in a group that may use certdesk. Ask your administrator for access.",
        )
        .await;
    }
    if !mfa::proves_mfa(&login.amr, login.acr.as_deref(), &state.config.auth) {
        if state.config.auth.local_totp {
            return match local_totp::routes::begin(&state, &session, meta, &login, &pending, now).await {
                Ok(()) => Redirect::to(local_totp::routes::PATH).into_response(),
                Err(()) => unavailable(meta),
            };
        }
        let entry = identity
            .did(Action::AuthSignInDenied)
            .with(json!({ "reason": "mfa missing", "amr": login.amr, "acr": login.acr }));
        if audit::record(&state.pool, &state.chain_key, &entry, now).await.is_err() {
            return unavailable(meta);
        }
        return Redirect::to("/signin/mfa-required").into_response();
    }
    let role = roles::role_for(&login.groups, &state.config.auth);
    let details = json!({ "role": role.as_str(), "amr": login.amr, "acr": login.acr, "issuer": login.issuer });
    let recorded = async {
        let mut tx = state.pool.begin().await?;
        let user_id = upsert_person(&mut tx, &login, role, now).await?;
        audit::append(&mut tx, &state.chain_key, &sign_in_event(meta, user_id, pending.step_up, details), now).await?;
        tx.commit().await?;
        Ok::<_, crate::error::ServerError>(user_id)
    }
    .await;
    let Ok(user_id) = recorded
        .map_err(|error| tracing::error!(request_id = %meta.request_id, error = %error, "cannot record sign-in"))
    else {
        return unavailable(meta);
    };
    // The second factor is as fresh as the provider's authentication, never the moment of this callback: a silent
    // single-sign-on round trip proves nothing new. Without `auth_time` nothing counts as fresh.
    let mfa_at = provider_mfa_time(login.auth_time, now);
    match open_session(&session, user_id, &login.display_name, role, &login.id_token, now, mfa_at).await {
        Ok(()) => Redirect::to(&pending.next).into_response(),
        Err(()) => unavailable(meta),
    }
}

/// Creates the person or refreshes their name, e-mail and role (roles follow the provider's groups at every
/// sign-in).
pub(super) async fn upsert_person(
    tx: &mut sqlx::PgConnection,
    login: &VerifiedLogin,
    role: Role,
    now: OffsetDateTime,
) -> Result<uuid::Uuid, sqlx::Error> {
    let user = db::users::UserUpsert {
        issuer: &login.issuer,
        subject: &login.subject,
        display_name: &login.display_name,
        email: login.email.as_deref(),
        role: role.as_str(),
        groups: &login.groups,
    };
    db::users::upsert_at_login(tx, &user, now).await
}

/// The audit event of a completed sign-in (or step-up re-authentication).
pub(super) fn sign_in_event(
    meta: &RequestMeta,
    user_id: uuid::Uuid,
    is_step_up: bool,
    details: serde_json::Value,
) -> AuditEntry {
    let action = if is_step_up { Action::AuthSteppedUp } else { Action::AuthSignedIn };
    Actor::person(meta, user_id).did(action).with(details)
}

pub fn unix_millis(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// When the provider last proved the person's second factor: its `auth_time`, unless absent or in the future
/// (beyond clock skew), which counts as never (0).
pub fn provider_mfa_time(auth_time: Option<i64>, now: OffsetDateTime) -> i64 {
    const CLOCK_SKEW_SECS: i64 = 30;
    auth_time.filter(|time| *time > 0 && *time <= now.unix_timestamp() + CLOCK_SKEW_SECS).unwrap_or(0)
}

/// Rotates the session id (so a session id planted before sign-in is worthless) and stores the signed-in state;
/// `mfa_at` is when the second factor was last proven (Unix seconds), which step-up actions look at.
pub(super) async fn open_session(
    session: &Session,
    user_id: uuid::Uuid,
    display_name: &str,
    role: Role,
    id_token: &str,
    now: OffsetDateTime,
    mfa_at: i64,
) -> Result<(), ()> {
    session.cycle_id().await.map_err(|_| ())?;
    let signed_in = SignedIn {
        user_id,
        display_name: display_name.to_owned(),
        role,
        login_at: now.unix_timestamp(),
        login_at_ms: unix_millis(now),
        last_seen: now.unix_timestamp(),
        mfa_at,
        id_token: id_token.to_owned(),
        csrf_token: random_token(),
    };
    session.insert(SIGNED_IN, signed_in).await.map_err(|_| ())
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

async fn logout(
    State(state): State<AppState>,
    session: Session,
    context: RequestContext,
    axum::Form(form): axum::Form<LogoutForm>,
) -> Response {
    let meta = &context.meta;
    let Some(caller) = &meta.caller else { return Redirect::to("/").into_response() };
    let now = OffsetDateTime::now_utc();
    let actor = Actor::caller(meta, caller);
    if !bool::from(form.csrf_token.as_bytes().ct_eq(caller.csrf_token.as_bytes())) {
        let entry = actor.did(Action::AuthSignOutDenied).with(json!({ "reason": "csrf token mismatch" }));
        let _ = audit::record(&state.pool, &state.chain_key, &entry, now).await;
        return page::problem(
            StatusCode::FORBIDDEN,
            "Sign-out refused",
            "This sign-out request did not come from a certdesk page.",
            &meta.request_id,
        );
    }
    let id_token = match session.get::<SignedIn>(SIGNED_IN).await {
        Ok(Some(signed_in)) => signed_in.id_token,
        _ => String::new(),
    };
    let entry = actor.did(Action::AuthSignedOut);
    if audit::record(&state.pool, &state.chain_key, &entry, now).await.is_err() {
        return unavailable(meta);
    }
    if session.flush().await.is_err() {
        return unavailable(meta);
    }
    Redirect::to(state.oidc.logout_url(&id_token).await.as_str()).into_response()
}

async fn refuse(state: &AppState, meta: &RequestMeta, actor: &Actor, reason: &str, message: &str) -> Response {
    tracing::info!(request_id = %meta.request_id, reason, "sign-in refused");
    let mut details = json!({ "reason": reason });
    if actor.is_anonymous() {
        // Anyone can call the callback with rubbish: counted always, audited once a minute per source and reason.
        let Some(unaudited) = super::anonymous_refusal(state, meta, Action::AuthSignInDenied, reason) else {
            return page::problem(StatusCode::BAD_REQUEST, "Sign-in refused", message, &meta.request_id);
        };
        details["unaudited_before"] = unaudited.into();
    }
    let entry = actor.did(Action::AuthSignInDenied).with(details);
    if audit::record(&state.pool, &state.chain_key, &entry, OffsetDateTime::now_utc()).await.is_err() {
        return unavailable(meta);
    }
    page::problem(StatusCode::BAD_REQUEST, "Sign-in refused", message, &meta.request_id)
}

pub(super) fn unavailable(meta: &RequestMeta) -> Response {
    page::problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is unavailable",
        "certdesk could not reach the identity provider or its own database. Please try again in a minute.",
        &meta.request_id,
    )
}

/// Only same-site absolute paths; anything else (other hosts, `//host`, backslashes, the auth routes) → `/`.
pub fn same_site_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.starts_with("/auth/")
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{provider_mfa_time, same_site_path};
    use time::OffsetDateTime;

    #[test]
    fn the_second_factor_is_as_old_as_the_providers_authentication() {
        let now = OffsetDateTime::from_unix_timestamp(100_000).unwrap();
        assert_eq!(provider_mfa_time(Some(90_000), now), 90_000, "an old provider login stays old");
        assert_eq!(provider_mfa_time(None, now), 0, "no auth_time: never fresh");
        assert_eq!(provider_mfa_time(Some(100_020), now), 100_020, "within clock skew");
        assert_eq!(provider_mfa_time(Some(200_000), now), 0, "from the future: never fresh");
    }

    #[test]
    fn next_accepts_only_same_site_paths() {
        assert_eq!(same_site_path(Some("/certificates?status=issued")), "/certificates?status=issued");
        for hostile in ["https://evil.example/", "//evil.example", "/\\evil.example", "evil", "/auth/logout", "/a\r\nb"]
        {
            assert_eq!(same_site_path(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(same_site_path(None), "/");
    }
}
