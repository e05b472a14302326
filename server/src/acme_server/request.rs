//! One signed ACME request, checked in the order that touches the database least for bad input: content type,
//! size, JWS shape, algorithm, signer (a new `jwk` or an account URL `kid` of this issuer), signature, `url`
//! header against the request URL (built from `server.public_url`, never from `Host`), and last the nonce, used up
//! only by a request that is otherwise well-formed and genuinely signed. An account whose key this replica remembers
//! (`known_keys`) has its signature checked first, and its nonce used up and its row read in one round trip.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use time::OffsetDateTime;
use uuid::Uuid;

use super::jwk::PublicJwk;
use super::jws::{Flattened, Signer};
use super::problem::AcmeError;
use super::{Directory, nonces};
use crate::db;
use crate::db::acme_server::AccountRow;
use crate::state::AppState;

/// An ACME request is a small JWS; a CSR with many names still fits well within this.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How the request must be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// newAccount: by the new key itself.
    Jwk,
    /// Everything else: by an account of this issuer.
    Account,
    /// revokeCert: by an account, or by the key of the certificate it revokes.
    AccountOrKey,
}

/// A request whose signature, URL and nonce are good.
pub struct Verified {
    pub jws: Flattened,
    pub signer: VerifiedSigner,
}

pub enum VerifiedSigner {
    Key { key: PublicJwk, jwk: serde_json::Value },
    Account { account: AccountRow, url: String },
}

/// What the checks need of an ACME POST, taken whole from the request: its path, headers and (unread) body.
pub struct Posted {
    path: String,
    headers: HeaderMap,
    body: Body,
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        Ok(Self { path: parts.uri.path().to_owned(), headers: parts.headers, body })
    }
}

impl Posted {
    /// The request checked as a POST to `directory`, signed as `expect` says, at `now`.
    pub async fn verify(
        self,
        state: &AppState,
        directory: &Directory,
        expect: Expect,
        now: OffsetDateTime,
    ) -> Result<Verified, AcmeError> {
        verify(state, directory, &self.path, &self.headers, self.body, expect, now).await
    }

    /// The request checked as a POST signed by an account of `directory`: the account and the JWS.
    pub async fn verify_account(
        self,
        state: &AppState,
        directory: &Directory,
        now: OffsetDateTime,
    ) -> Result<(AccountRow, Flattened), AcmeError> {
        let verified = self.verify(state, directory, Expect::Account, now).await?;
        match verified.signer {
            VerifiedSigner::Account { account, .. } => Ok((account, verified.jws)),
            VerifiedSigner::Key { .. } => {
                Err(AcmeError::Internal("account request verified without an account".into()))
            }
        }
    }
}

async fn verify(
    state: &AppState,
    directory: &Directory,
    path: &str,
    headers: &HeaderMap,
    body: Body,
    expect: Expect,
    now: OffsetDateTime,
) -> Result<Verified, AcmeError> {
    require_jose_content_type(headers)?;
    let body = read_body(headers, body).await?;
    let jws = Flattened::parse(&body)?;
    jws.algorithm()?;
    let signer = match (jws.signer()?, expect) {
        (Signer::Jwk { key, jwk }, Expect::Jwk | Expect::AccountOrKey) => VerifiedSigner::Key { key, jwk },
        (Signer::Kid(kid), Expect::Account | Expect::AccountOrKey) => {
            let id = account_id_of(directory, &kid)?;
            if let Some(account) = with_known_key(state, directory, path, &jws, id, &kid, now).await? {
                return Ok(Verified { jws, signer: VerifiedSigner::Account { account, url: kid } });
            }
            let account = account_of(state, directory, id, &kid).await?;
            VerifiedSigner::Account { account, url: kid }
        }
        (Signer::Kid(_), Expect::Jwk) => {
            return Err(AcmeError::malformed("newAccount is signed with the new key as `jwk`, not with a `kid`"));
        }
        (Signer::Jwk { .. }, Expect::Account) => {
            return Err(AcmeError::malformed("this request is signed by an account: send its URL as `kid`"));
        }
    };
    let key = match &signer {
        VerifiedSigner::Key { key, .. } => key.clone(),
        VerifiedSigner::Account { account, .. } => stored_key(account)?,
    };
    jws.verify(&key)?;
    require_url(directory, path, &jws)?;
    nonces::consume(state, jws.header.nonce.as_deref(), now).await?;
    if let VerifiedSigner::Account { account, .. } = &signer {
        state.acme_account_keys.remember(account.id, account.jwk.clone(), key);
    }
    Ok(Verified { jws, signer })
}

/// An account's request checked with the key this replica remembers for the account: `None` when it remembers none
/// or the signature does not verify with it (the account may have a new key), and the account is read first. Else
/// the nonce is used up and the account read in one round trip, and the account as stored decides: a key it no
/// longer has (changed on another replica) is refused as any wrong key is.
async fn with_known_key(
    state: &AppState,
    directory: &Directory,
    path: &str,
    jws: &Flattened,
    id: Uuid,
    kid: &str,
    now: OffsetDateTime,
) -> Result<Option<AccountRow>, AcmeError> {
    let Some(known) = state.acme_account_keys.get(id) else { return Ok(None) };
    if jws.verify(&known.key).is_err() {
        return Ok(None);
    }
    require_url(directory, path, jws)?;
    let (nonce, expires_at) = nonces::check(state, jws.header.nonce.as_deref(), now)?;
    let (fresh, account) =
        db::acme_server::use_nonce_and_read_account(&state.pool, nonce, expires_at, &directory.issuer_id, id).await?;
    if !fresh {
        return Err(nonces::used());
    }
    let Some(account) = account else {
        state.acme_account_keys.forget(id);
        return Err(unknown_account(kid));
    };
    if account.jwk != known.jwk {
        state.acme_account_keys.forget(id);
        jws.verify(&stored_key(&account)?)?;
    }
    if let Err(refusal) = usable(state, &account) {
        state.acme_account_keys.forget(id);
        return Err(refusal);
    }
    Ok(Some(account))
}

/// The JWS `url` header must be the URL the request was sent to.
fn require_url(directory: &Directory, path: &str, jws: &Flattened) -> Result<(), AcmeError> {
    let expected_url = directory.url(path);
    if jws.header.url.as_deref() != Some(expected_url.as_str()) {
        return Err(AcmeError::unauthorized(format!(
            "the JWS `url` header ({}) is not the URL this request was sent to ({expected_url})",
            jws.header.url.as_deref().unwrap_or("missing")
        )));
    }
    Ok(())
}

fn require_jose_content_type(headers: &HeaderMap) -> Result<(), AcmeError> {
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if media_type.as_deref() == Some("application/jose+json") { Ok(()) } else { Err(AcmeError::UnsupportedMediaType) }
}

/// The body, refused before it is read when it declares more than the limit, and while it is read otherwise.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<bytes::Bytes, AcmeError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(AcmeError::TooLarge(MAX_BODY_BYTES / 1024));
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| AcmeError::TooLarge(MAX_BODY_BYTES / 1024))
}

/// The account id a `kid` names: one of this issuer's account URLs.
fn account_id_of(directory: &Directory, kid: &str) -> Result<Uuid, AcmeError> {
    kid.strip_prefix(&directory.url(&format!("/acme/{}/account/", directory.issuer_id)))
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| unknown_account(kid))
}

fn unknown_account(kid: &str) -> AcmeError {
    AcmeError::AccountDoesNotExist(format!("no account of this directory has the URL {kid}"))
}

/// The valid account `id` (the `kid` of the request).
async fn account_of(state: &AppState, directory: &Directory, id: Uuid, kid: &str) -> Result<AccountRow, AcmeError> {
    let account =
        db::acme_server::account(&state.pool, &directory.issuer_id, id).await?.ok_or_else(|| unknown_account(kid))?;
    usable(state, &account)?;
    Ok(account)
}

/// The account's key as stored; unreadable only if the database holds what certdesk never wrote.
pub fn stored_key(account: &AccountRow) -> Result<PublicJwk, AcmeError> {
    PublicJwk::parse(&account.jwk)
        .map_err(|error| AcmeError::Internal(format!("stored account key {} unreadable: {error}", account.id)))
}

/// An account acts only while it is valid and its owner (if any) still has access to certdesk, as they stand now:
/// off-boarded, or without a group that grants access, its requests are refused.
pub fn usable(state: &AppState, account: &AccountRow) -> Result<(), AcmeError> {
    if account.status != "valid" {
        return Err(AcmeError::unauthorized(format!("the account of this key is {}", account.status)));
    }
    let owner_without_access = account.owner_id.is_some()
        && (account.owner_disabled_at.is_some()
            || !crate::auth::roles::grants_access(
                account.owner_groups.as_deref().unwrap_or_default(),
                &state.config.auth,
            ));
    if owner_without_access {
        return Err(AcmeError::unauthorized(
            "the person this account belongs to was off-boarded or no longer has access to certdesk",
        ));
    }
    Ok(())
}
