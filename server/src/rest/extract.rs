//! What `/api/v1` handlers take from a request, checked once: ids in the path (a non-UUID is the same 404 as an
//! unknown id), the `Idempotency-Key` header, and JSON bodies; every refusal is an `ApiError`.

use std::marker::PhantomData;

use app::AppError;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
// The header's bound is the body's `idempotency_key` bound: one key, whichever way it is sent.
use crate::issuance::request::MAX_IDEMPOTENCY_KEY;

/// What a path id names, for the 404 that answers an id that is not a UUID.
pub trait Named: Send + Sync {
    const WHAT: &'static str;
}

/// The single `{id}` segment of a path, as a UUID of `K`.
#[derive(Debug, Clone, Copy)]
pub struct PathId<K> {
    pub id: uuid::Uuid,
    kind: PhantomData<K>,
}

#[derive(Debug, Clone, Copy)]
pub struct Certificate;
impl Named for Certificate {
    const WHAT: &'static str = "certificate";
}

#[derive(Debug, Clone, Copy)]
pub struct RevocationBatch;
impl Named for RevocationBatch {
    const WHAT: &'static str = "revocation batch";
}

#[derive(Debug, Clone, Copy)]
pub struct Person;
impl Named for Person {
    const WHAT: &'static str = "person";
}

pub type CertificateId = PathId<Certificate>;
pub type RevocationBatchId = PathId<RevocationBatch>;
pub type PersonId = PathId<Person>;

impl<S: Send + Sync, K: Named> FromRequestParts<S> for PathId<K> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Not a UUID: the same answer as an id that does not exist or belongs to someone else.
        let not_found = || ApiError::from(AppError::not_found(K::WHAT));
        let Path(text) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        let id = uuid::Uuid::parse_str(&text).map_err(|_| not_found())?;
        Ok(Self { id, kind: PhantomData })
    }
}

/// The `Idempotency-Key` header, if sent: printable ASCII, 1 to 128 characters once trimmed.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    pub const HEADER: &'static str = "idempotency-key";

    fn parse(value: &http::HeaderValue) -> Result<String, ApiError> {
        let refused = || {
            ApiError::from(AppError::invalid(
                "idempotency_key",
                format!("the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"),
            ))
        };
        let text = value.to_str().map_err(|_| refused())?.trim();
        let printable = text.bytes().all(|byte| byte == b' ' || byte.is_ascii_graphic());
        if text.is_empty() || text.len() > MAX_IDEMPOTENCY_KEY || !printable {
            return Err(refused());
        }
        Ok(text.to_owned())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.headers.get(Self::HEADER).map(Self::parse).transpose().map(Self)
    }
}

/// A JSON body; one that cannot be read is a 400 naming `body`, with what was wrong with it.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(AppError::invalid("body", rejection.body_text()).into()),
        }
    }
}

/// The query string; one that cannot be read is a 400 naming `query`.
#[derive(Debug, Clone)]
pub struct QueryOf<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(AppError::invalid("query", rejection.body_text()).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(value: &[u8]) -> Result<String, u16> {
        let value = http::HeaderValue::from_bytes(value).map_err(|_| 0u16)?;
        IdempotencyKey::parse(&value).map_err(|error| error.status().as_u16())
    }

    #[test]
    fn idempotency_keys_are_short_printable_ascii() {
        assert_eq!(key(b" run-42 "), Ok("run-42".to_owned()));
        assert_eq!(key(&[b'k'; MAX_IDEMPOTENCY_KEY]).map(|key| key.len()), Ok(MAX_IDEMPOTENCY_KEY));
        assert_eq!(key(&[b'k'; MAX_IDEMPOTENCY_KEY + 1]), Err(400));
        assert_eq!(key(b"   "), Err(400));
        assert_eq!(key("clé".as_bytes()), Err(400));
        assert_eq!(key(b"tab\there"), Err(400));
    }

    #[tokio::test]
    async fn a_path_id_that_is_not_a_uuid_is_not_found() {
        let (mut parts, ()) = http::Request::get("/x/not-a-uuid").body(()).unwrap().into_parts();
        // Without a matched route there is no path parameter at all: still the 404, never axum's plain text.
        let refused = CertificateId::from_request_parts(&mut parts, &()).await.unwrap_err();
        assert_eq!(refused.status(), http::StatusCode::NOT_FOUND);
    }
}
