//! The HTTP surface: the router (Leptos pages, server functions, health) and the middleware every request
//! passes through (request id and client address, tracing, timeout, security headers, panic guard, rate limits,
//! body limit).

mod body_limit;
mod client_addr;
mod context;
mod health;
mod plain_text;
pub mod rate_limit;
mod request_id;
mod security_headers;
pub mod single_flight;

use std::sync::Arc;

use app::ssr::SharedBackend;
use app::{App, shell};
use axum::Router;
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::auth;
use crate::backend::ServerBackend;
use crate::state::AppState;

pub use context::{RequestContext, meta_of};
pub use health::READINESS_FRESH_FOR;
pub use plain_text::plain_text;
pub use rate_limit::RateLimits;
pub use request_id::RequestId;
pub use single_flight::SingleFlight;

/// The whole application as one `Router`, ready to serve (tests drive it with `oneshot`).
pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(ServerBackend::new(state.clone()));
    let fallback_backend = backend.clone();
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let hsts = state.config.server.public_url.scheme() == "https";
    let timeout = state.config.server.request_timeout;
    let body_limit = body_limit::BodyLimit { max_bytes: state.config.server.max_body_bytes };
    let trusted_proxies = request_id::TrustedProxies(state.config.server.trusted_proxies.clone().into());
    let rate_limits = state.rate_limits.clone();
    let security = security_headers::SecurityHeaders { hsts, form_action: state.oidc.issuer_origin() };
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.pool.clone()))
        .with_name(auth::session::COOKIE_NAME)
        .with_secure(state.config.server.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(cookie_duration(state.config.auth.session_idle)));

    // Served the same to everyone (probes, CRLs and CA certificates for relying parties, HTTP-01 answers, the
    // scrape with its own token): outside the session, CSRF, gate, bearer and per-person layers, which they never
    // need, so a CRL costs what serving its bytes costs.
    let public = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(crate::crl::routes::routes())
        .merge(crate::metrics::routes::routes())
        .merge(crate::orders::responder::routes())
        .merge(crate::acme_server::routes(&state));
    let signed_in = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(backend.clone());
                security_headers::provide_request_nonce();
            },
            move || shell(leptos_options.clone()),
        )
        .merge(auth::routes::routes())
        .merge(auth::local_totp::routes::routes())
        .merge(crate::downloads::routes::routes())
        .merge(crate::audit_viewer::routes::routes())
        .merge(crate::rest::routes())
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || {
                provide_context(fallback_backend.clone());
                security_headers::provide_request_nonce();
            },
            shell,
        ))
        // Inner to outer: the gate needs the session; CSRF is checked before the gate so a forged request is
        // refused even for a signed-in victim. The per-person rate limit needs the caller both establish.
        .layer(axum::middleware::from_fn_with_state(rate_limits.clone(), rate_limit::limit_by_caller))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::bearer::require_token))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::gate::require_session))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::csrf::protect))
        .layer(sessions);

    public.merge(signed_in).with_state(state).layer(
        // Outermost first: every response, even a timeout or a caught panic, gets an id and the headers.
        ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(trusted_proxies, request_id::assign_request_id))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_id::span_for_request)
                    // One access-log line per request; a 5xx is worth a warning, not an error page in the logs.
                    .on_response(DefaultOnResponse::new().level(Level::INFO))
                    .on_failure(DefaultOnFailure::new().level(Level::WARN)),
            )
            .layer(axum::middleware::from_fn_with_state(security, security_headers::set_security_headers))
            .layer(CatchPanicLayer::custom(health::panic_response))
            .layer(TimeoutLayer::with_status_code(http::StatusCode::SERVICE_UNAVAILABLE, timeout))
            .layer(axum::middleware::from_fn_with_state(rate_limits, rate_limit::limit_by_address))
            .layer(axum::middleware::from_fn_with_state(body_limit, body_limit::limit_request_body))
            // Extractors (JSON, forms) get the same ceiling instead of axum's own 2 MiB.
            .layer(axum::extract::DefaultBodyLimit::max(body_limit.max_bytes)),
    )
}

fn cookie_duration(duration: std::time::Duration) -> tower_sessions::cookie::time::Duration {
    tower_sessions::cookie::time::Duration::seconds(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX))
}
