//! Anti-replay nonces (RFC 8555 §6.5). A nonce is made without the database: the time it was made, random bits,
//! and a MAC under a key every replica derives from the audit chain key, so any replica accepts what another handed
//! out. Using one is a single write: its row in PostgreSQL, unique, so it is accepted once across all replicas
//! (`INSERT … ON CONFLICT DO NOTHING`); the `acme_nonces` job sweeps rows whose nonce has expired anyway. Every ACME
//! response but the directory carries a fresh one, refusals included, so a client whose nonce was refused (badNonce)
//! retries at once. (Before, nonces were stored when handed out and deleted when used: two writes per request.)

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
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

/// The nonce format's version, its first byte: a nonce of another version is simply unknown (badNonce).
const VERSION: u8 = 1;
const RANDOM_BYTES: usize = 8;
const MAC_BYTES: usize = 16;
const NONCE_BYTES: usize = 1 + 8 + RANDOM_BYTES + MAC_BYTES;
/// Replicas' clocks may differ a little: a nonce made "later" than this replica's now by up to this is fine.
const CLOCK_SKEW: time::Duration = time::Duration::seconds(60);
/// What the nonce key is derived for (`ChainKey::derive`).
pub const KEY_PURPOSE: &str = "acme-server nonces v1";

/// A new nonce: version, the second it was made, random bits and their MAC, base64url (44 characters).
pub fn issue(key: &[u8; 32], now: OffsetDateTime) -> String {
    let mut bytes = Vec::with_capacity(NONCE_BYTES);
    bytes.push(VERSION);
    bytes.extend_from_slice(&now.unix_timestamp().to_be_bytes());
    let mut random = [0_u8; RANDOM_BYTES];
    rand::thread_rng().fill_bytes(&mut random);
    bytes.extend_from_slice(&random);
    let mac = mac_of(key, &bytes);
    bytes.extend_from_slice(&mac[..MAC_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// When `nonce` was made, if certdesk made it (its MAC holds) and it has not expired at `now`.
fn made_at(key: &[u8; 32], nonce: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let bytes = URL_SAFE_NO_PAD.decode(nonce).ok()?;
    if bytes.len() != NONCE_BYTES || bytes[0] != VERSION {
        return None;
    }
    let (signed, mac) = bytes.split_at(NONCE_BYTES - MAC_BYTES);
    let expected = mac_of(key, signed);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..MAC_BYTES], mac)) {
        return None;
    }
    let seconds = i64::from_be_bytes(signed[1..9].try_into().ok()?);
    let made = OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    (made <= now + CLOCK_SKEW && made + LIFETIME > now).then_some(made)
}

fn mac_of(key: &[u8; 32], bytes: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(bytes);
    mac.finalize().into_bytes().into()
}

/// Uses up the request's nonce; refused unless certdesk made it, it is unexpired, and no request used it before.
pub async fn consume(state: &AppState, nonce: Option<&str>, now: OffsetDateTime) -> Result<(), AcmeError> {
    let (nonce, expires_at) = check(state, nonce, now)?;
    if !db::acme_server::use_nonce(&state.pool, nonce, expires_at).await? {
        return Err(used());
    }
    Ok(())
}

/// The request's nonce and when it expires, if certdesk made it and it has not expired; whether it was used before
/// is for the database to say (`consume`, or a statement that uses it up with other work, then `used`). Checked
/// before any database round trip: only a nonce certdesk made can cost a write.
pub fn check<'n>(
    state: &AppState,
    nonce: Option<&'n str>,
    now: OffsetDateTime,
) -> Result<(&'n str, OffsetDateTime), AcmeError> {
    let Some(nonce) = nonce else {
        return Err(AcmeError::BadNonce("the JWS protected header has no `nonce`; get one from newNonce".into()));
    };
    let made = made_at(&state.acme_nonce_key, nonce, now).ok_or_else(used)?;
    Ok((nonce, made + LIFETIME))
}

/// The refusal of a nonce certdesk did not make, or that expired or was used already.
pub fn used() -> AcmeError {
    AcmeError::BadNonce(
        "the nonce is unknown, already used or expired; retry with the Replay-Nonce of this response".into(),
    )
}

/// Puts a fresh `Replay-Nonce` on every response of an existing directory but the directory document itself,
/// refusals included, with `Cache-Control: no-store` (a nonce must never come from a cache) and the `index` link to
/// the directory. The directory needs no nonce (RFC 8555 §7.2 asks for one on POST answers and newNonce). A path
/// naming no directory gets no nonce.
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
    if let Ok(value) = HeaderValue::from_str(&issue(&state.acme_nonce_key, OffsetDateTime::now_utc())) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// Deletes the rows of used nonces that have expired since: they would be refused as expired anyway.
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
        // A replica whose clock is up to CLOCK_SKEW behind this one still takes a nonce that long after it expired
        // here: its row stays until then, or that replica would accept it a second time.
        let swept = db::acme_server::sweep_nonces(&state.pool, now - CLOCK_SKEW).await?;
        if swept == 0 {
            return Ok(JobReport::idle());
        }
        Ok(JobReport::new(format!("{swept} used ACME nonces deleted, expired anyway")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
    }

    #[test]
    fn a_nonce_is_valid_for_its_lifetime_on_any_replica_with_the_key_and_nowhere_else() {
        let nonce = issue(&KEY, at(0));
        assert_eq!(nonce.len(), 44);
        assert_eq!(made_at(&KEY, &nonce, at(0)), Some(at(0)));
        assert_eq!(made_at(&KEY, &nonce, at(LIFETIME.whole_seconds() - 1)), Some(at(0)));
        assert_eq!(made_at(&KEY, &nonce, at(LIFETIME.whole_seconds())), None, "expired");
        // Another replica's clock a little behind still takes it; a nonce from far in the future is not one of ours.
        assert_eq!(made_at(&KEY, &nonce, at(-30)), Some(at(0)));
        assert_eq!(made_at(&KEY, &nonce, at(-120)), None);
        assert_eq!(made_at(&[8; 32], &nonce, at(0)), None, "another key");
        assert_ne!(issue(&KEY, at(0)), nonce, "random bits make each one unique");
    }
}
