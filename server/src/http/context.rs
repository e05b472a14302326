//! `RequestContext`: the request id, client address and caller of a plain axum handler, in the same
//! `RequestMeta` shape the Leptos side reads.

use app::ssr::{Caller, ClientAddr, RequestMeta};
use axum::extract::FromRequestParts;
use http::request::Parts;

use super::RequestId;

pub struct RequestContext {
    pub meta: RequestMeta,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self { meta: meta_of(&parts.extensions) })
    }
}

/// Request id, client address and caller from a request's extensions (set by the middleware in front).
pub fn meta_of(extensions: &http::Extensions) -> RequestMeta {
    RequestMeta {
        request_id: extensions.get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default(),
        client_addr: extensions.get::<ClientAddr>().map(|addr| addr.0.clone()).unwrap_or_default(),
        caller: extensions.get::<Caller>().cloned(),
    }
}
