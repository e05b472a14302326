//! The session gate: every route except the public ones needs a live signed-in session. Pages redirect to
//! sign-in (and come back), server functions answer 401. Authenticated responses are never cached, so the back
//! button after sign-out cannot show a page. A session stands for the person as they are now: their role comes
//! from their current groups, and off-boarding ends it at its next request.

use app::AppError;
use app::ssr::{Caller, Credential};
use axum::Json;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::header::CACHE_CONTROL;
use http::{HeaderValue, Method, StatusCode};
use time::OffsetDateTime;
use tower_sessions::Session;

use super::roles;
use super::session::{SIGNED_IN, SessionState, SignedIn};
use crate::config::AuthConfig;
use crate::db;
use crate::state::AppState;

/// The site's static files: no session lookup, and their own caching headers. (Probes, CRLs, CA certificates and
/// HTTP-01 answers never reach the gate: `http::router` serves them outside the session layers.)
fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Reachable without a session.
fn is_public(path: &str) -> bool {
    const PREFIXES: [&str; 4] = ["/auth/", "/pkg/", "/signin/", "/api/v1/"];
    const EXACT: [&str; 2] = ["/favicon.svg", "/rpc/session"];
    EXACT.contains(&path) || PREFIXES.iter().any(|prefix| path.starts_with(prefix))
}

pub async fn require_session(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    // Static assets and probes never need the session: skip the store lookup.
    if is_static(request.uri().path()) {
        return next.run(request).await;
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signed_in = match session.get::<SignedIn>(SIGNED_IN).await {
        Ok(signed_in) => signed_in,
        Err(error) => {
            tracing::warn!(error = %error, "session store unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, Json(AppError::Unavailable { service: "sign-in".into() }))
                .into_response();
        }
    };
    let live = match signed_in {
        Some(mut signed_in) => {
            let auth = &state.config.auth;
            match signed_in.state_at(now, auth.session_idle, auth.session_absolute) {
                SessionState::Active { touch } => {
                    if touch {
                        signed_in.last_seen = now;
                        // A failed touch only shortens the session; the request itself may go on.
                        let _ = session.insert(SIGNED_IN, signed_in.clone()).await;
                    }
                    Some(signed_in)
                }
                SessionState::IdleExpired | SessionState::AbsoluteExpired => {
                    let _ = session.flush().await;
                    None
                }
            }
        }
        None => None,
    };
    let caller = match live {
        Some(signed_in) => match db::users::standing(&state.pool, signed_in.user_id).await {
            Ok(standing) => {
                let caller = standing.and_then(|standing| caller_now(signed_in, &standing, &state.config.auth));
                if caller.is_none() {
                    let _ = session.flush().await;
                }
                caller
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot read the signed-in person");
                return (StatusCode::SERVICE_UNAVAILABLE, Json(AppError::Unavailable { service: "sign-in".into() }))
                    .into_response();
            }
        },
        None => None,
    };
    let path = request.uri().path().to_owned();
    match caller {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            let mut response = next.run(request).await;
            response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        None if is_public(&path) => next.run(request).await,
        None if path.starts_with("/rpc/") || request.method() != Method::GET => {
            (StatusCode::UNAUTHORIZED, Json(AppError::Unauthenticated)).into_response()
        }
        None => {
            let wanted = request.uri().path_and_query().map(|target| target.as_str()).unwrap_or("/");
            let encoded: String = url_encode(wanted);
            Redirect::to(&format!("/auth/login?next={encoded}")).into_response()
        }
    }
}

/// The caller a session stands for now, or `None` when it no longer stands: the person was off-boarded, their
/// sessions were ended after this one began, or their groups no longer grant access.
fn caller_now(signed_in: SignedIn, standing: &db::users::Standing, auth: &AuthConfig) -> Option<Caller> {
    let ended =
        standing.sessions_valid_after.is_some_and(|after| signed_in.login_at_ms <= super::routes::unix_millis(after));
    if standing.disabled_at.is_some() || ended || !roles::grants_access(&standing.groups, auth) {
        return None;
    }
    Some(Caller {
        user_id: signed_in.user_id,
        display_name: standing.display_name.clone(),
        role: roles::role_for(&standing.groups, auth),
        csrf_token: signed_in.csrf_token,
        mfa_at: signed_in.mfa_at,
        credential: Credential::Session,
    })
}

fn url_encode(value: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", [("next", value)])
        .ok()
        .and_then(|url| url.query().map(|query| query.trim_start_matches("next=").to_owned()))
        .unwrap_or_else(|| "%2F".to_owned())
}
