//! Request rates (GCRA token buckets from `governor`, see `[limits]`): per client address for the anonymous
//! routes (sign-in, its callback, the second factor) and for refused requests (401/403: unknown tokens, forged
//! requests, ACME requests with a wrong binding MAC or signature), per person for `/api/v1` and `/rpc`. Over the limit: 429 with `Retry-After`, as JSON for the API
//! and server functions and as a page otherwise. Buckets live in this process; each replica limits on its own.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use app::AppError;
use app::ssr::{Caller, ClientAddr};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use http::{HeaderValue, StatusCode};
use uuid::Uuid;

use crate::auth::page;
use crate::config::Rate;

/// Forget idle buckets once this many keys are tracked, so a spray of addresses cannot grow memory for ever.
const PRUNE_ABOVE_KEYS: usize = 10_000;

#[derive(Clone)]
pub struct RateLimits {
    addresses: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    callers: Arc<DefaultKeyedRateLimiter<Uuid>>,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(anonymous: Rate, caller: Rate) -> Self {
        Self {
            addresses: Arc::new(DefaultKeyedRateLimiter::keyed(quota(anonymous))),
            callers: Arc::new(DefaultKeyedRateLimiter::keyed(quota(caller))),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when `key` has used its burst and must wait.
    fn check<K>(&self, limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration>
    where
        K: std::hash::Hash + Eq + Clone,
    {
        if limiter.len() > PRUNE_ABOVE_KEYS {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

fn quota(rate: Rate) -> Quota {
    let per_second = NonZeroU32::new(rate.per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(burst)
}

/// Sign-in and the second factor: reachable without any identity, so the address is all there is to limit.
fn is_anonymous_route(path: &str) -> bool {
    matches!(path, "/auth/login" | "/auth/callback") || path.starts_with("/signin/")
}

/// Outer layer (it needs the client address): anonymous routes spend from the address's bucket before they run,
/// refusals after; a refusal over the limit is answered 429 instead.
pub async fn limit_by_address(State(limits): State<RateLimits>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let request_id = request_id_of(&request);
    let address = request.extensions().get::<ClientAddr>().and_then(|addr| addr.0.parse::<IpAddr>().ok());
    let Some(address) = address else { return next.run(request).await };
    if is_anonymous_route(&path) {
        if let Err(wait) = limits.check(&limits.addresses, &address) {
            tracing::info!(client_addr = %address, "anonymous request rate over the limit");
            return too_many_requests(&path, &request_id, wait);
        }
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        && let Err(wait) = limits.check(&limits.addresses, &address)
    {
        tracing::info!(client_addr = %address, "refusals over the limit");
        let mut limited = too_many_requests(&path, &request_id, wait);
        // An ACME client retries with the nonce of the last answer (RFC 8555 §6.5): keep the refusal's.
        if let Some(nonce) = response.headers().get("replay-nonce") {
            limited.headers_mut().insert("replay-nonce", nonce.clone());
        }
        return limited;
    }
    response
}

/// Inner layer (it needs the caller the session gate or the API token established): one bucket per person.
pub async fn limit_by_caller(State(limits): State<RateLimits>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !(path.starts_with("/api/v1/") || path.starts_with("/rpc/")) {
        return next.run(request).await;
    }
    let Some(caller) = request.extensions().get::<Caller>() else { return next.run(request).await };
    if let Err(wait) = limits.check(&limits.callers, &caller.user_id) {
        tracing::info!(user_id = %caller.user_id, "request rate over the limit");
        return too_many_requests(path, &request_id_of(&request), wait);
    }
    next.run(request).await
}

fn request_id_of(request: &Request) -> String {
    request.extensions().get::<super::RequestId>().map(|id| id.0.clone()).unwrap_or_default()
}

fn too_many_requests(path: &str, request_id: &str, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = if path.starts_with("/rpc/") || path.starts_with("/api/") {
        crate::rest::ApiError::from(AppError::TooManyRequests { retry_after_secs: seconds }).into_response()
    } else if path.starts_with("/acme/") {
        // ACME clients read problem documents, not pages: `rateLimited` tells them to back off.
        let detail = format!("too many refused requests from your address: try again in {seconds} s");
        crate::acme_server::problem::AcmeError::RateLimited { detail, retry_after_secs: seconds }.into_response()
    } else {
        let message = format!("certdesk received too many requests from your address. Try again in {seconds} s.");
        page::problem(StatusCode::TOO_MANY_REQUESTS, "Too many requests", &message, request_id)
    };
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(http::header::RETRY_AFTER, value);
    }
    response
}
