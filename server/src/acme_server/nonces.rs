//! Anti-replay nonces (RFC 8555 §6.5): random, stored in PostgreSQL so any replica accepts what another handed
//! out, each used once (`DELETE … RETURNING`), swept by the `acme_nonces` job once expired. Every ACME response but
//! the directory carries a fresh one, refusals included, so a client whose nonce was refused (badNonce) retries at
//! once.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderValue;
use rand::RngCore;
use time::OffsetDateTime;

use super::problem::AcmeError;
use crate::db;
use crate::jobs::{Job, JobError, JobReport};
use crate::state::AppState;

/// Long enough for a slow client between two requests, short enough that the table stays small.
pub const LIFETIME: time::Duration = time::Duration::hours(1);
pub const HEADER: &str = "replay-nonce";

/// 128 random bits, base64url: a nonce, or a challenge's token.
pub fn random_token() -> String {
    let mut bytes = [0_u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new nonce, stored until it is used or expires.
pub async fn issue(state: &AppState, now: OffsetDateTime) -> Result<String, sqlx::Error> {
    let nonce = random_token();
    db::acme_server::insert_nonce(&state.pool, &nonce, now + LIFETIME).await?;
    Ok(nonce)
}

/// Uses up the request's nonce; refused unless certdesk handed it out, unused and unexpired.
pub async fn consume(state: &AppState, nonce: Option<&str>, now: OffsetDateTime) -> Result<(), AcmeError> {
    let Some(nonce) = nonce else {
        return Err(AcmeError::BadNonce("the JWS protected header has no `nonce`; get one from newNonce".into()));
    };
    // Nonces certdesk hands out are 22 characters; anything far longer is not worth a database round trip.
    if nonce.len() > 64 || !db::acme_server::consume_nonce(&state.pool, nonce, now).await? {
        return Err(AcmeError::BadNonce(
            "the nonce is unknown, already used or expired; retry with the Replay-Nonce of this response".into(),
        ));
    }
    Ok(())
}

/// Puts a fresh `Replay-Nonce` on every response of an existing directory but the directory document itself,
/// refusals included, with `Cache-Control: no-store` (a nonce must never come from a cache) and the `index` link to
/// the directory. The directory needs no nonce (RFC 8555 §7.2 asks for one on POST answers and newNonce), and
/// clients fetch it often, so it costs no write. A path naming no directory gets no nonce: nobody can fill the
/// table by asking about issuers that do not exist.
pub async fn add_replay_nonce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let issuer = path.strip_prefix("/acme/").and_then(|rest| rest.split('/').next()).unwrap_or_default();
    let Ok(directory) = super::Directory::of(&state, issuer) else {
        return response;
    };
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if path.ends_with("/directory") {
        return response;
    }
    if let Some(link) = directory.index_link() {
        response.headers_mut().append(http::header::LINK, link);
    }
    match issue(&state, OffsetDateTime::now_utc()).await {
        Ok(nonce) => {
            if let Ok(value) = HeaderValue::from_str(&nonce) {
                response.headers_mut().insert(HEADER, value);
            }
        }
        // newNonce without a nonce would be a 200 that lies: the client is told to come back instead.
        Err(error) if path.ends_with("/new-nonce") => return AcmeError::Database(error).into_response(),
        // Any other answer still goes out: the client's next request is refused with badNonce and it asks newNonce.
        Err(error) => tracing::warn!(error = %error, "could not hand out an ACME nonce"),
    }
    response
}

/// Deletes expired nonces.
pub struct SweepNonces;

#[async_trait::async_trait]
impl Job for SweepNonces {
    fn name(&self) -> &'static str {
        "acme_nonces"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(600)
    }

    async fn run(&self, state: &AppState, now: OffsetDateTime) -> Result<JobReport, JobError> {
        let swept = db::acme_server::sweep_nonces(&state.pool, now).await?;
        if swept == 0 {
            return Ok(JobReport::idle());
        }
        Ok(JobReport::new(format!("{swept} expired ACME nonces deleted")))
    }
}
