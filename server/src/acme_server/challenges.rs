//! Challenges (RFC 8555 §7.5.1): read with POST-as-GET, answered by the client with `{}`. The answer moves the
//! challenge to `processing` under a lease and returns at once; the validation (`validation`) runs beside the
//! request, so a slow target never holds it, and its outcome — the challenge, its authorization and perhaps its
//! order moved on, with the audit row — is one transaction. A replica that dies while validating leaves a lease that
//! runs out; the `acme_server` job validates such challenges again. A wrong answer is final, as at public CAs: the
//! authorization and its order become invalid, the problem naming the name and what was found.

use app::ssr::RequestMeta;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Directory;
use super::authorizations::challenge_document;
use super::orders::owner_of;
use super::problem::{self, AcmeError};
use super::request::Posted;
use super::validation::{Challenge, ChallengeKind, ValidationFailure};
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::db::acme_server_orders::{ChallengeRow, ChallengeTarget};
use crate::state::AppState;

/// How long one validation may hold a challenge before the job takes it over: longer than the longest validation
/// timeout (`acme_validation.timeout_seconds` is at most 60).
pub const LEASE: time::Duration = time::Duration::seconds(90);

pub async fn challenge(
    State(state): State<AppState>,
    Path((issuer, id)): Path<(String, String)>,
    context: crate::http::RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let (account, jws) = posted.verify_account(&state, &directory, now).await?;
    owner_of(&account)?;
    let not_found = || AcmeError::NotFound(format!("this account has no challenge {id}"));
    let challenge_id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let target = db::acme_server_orders::challenge(&state.pool, &directory.issuer_id, account.id, challenge_id)
        .await?
        .ok_or_else(not_found)?;
    // `{}` asks for validation (older clients send their key authorization in it: it is recomputed, not read);
    // an empty payload only reads.
    if jws.json_payload()?.is_some()
        && target.status == "pending"
        && db::acme_server_orders::start_challenge(&state.pool, target.id, now, now + LEASE).await?
    {
        let (state, meta) = (state.clone(), context.meta.clone());
        tokio::spawn(async move { validate_and_record(&state, &meta, &target).await });
    }
    let row = db::acme_server_orders::challenge_row(&state.pool, challenge_id).await?.ok_or_else(not_found)?;
    respond(&directory, &row)
}

fn respond(directory: &Directory, row: &ChallengeRow) -> Result<Response, AcmeError> {
    let mut response = axum::Json(challenge_document(directory, row)).into_response();
    let up = format!("<{}>;rel=\"up\"", directory.authorization_url(row.authorization_id));
    if let Ok(link) = HeaderValue::from_str(&up) {
        response.headers_mut().append(http::header::LINK, link);
    }
    Ok(response)
}

/// Validates one challenge and records the outcome; certdesk's own failures (the database) are logged and left to
/// the lease, so the job tries again.
pub async fn validate_and_record(state: &AppState, meta: &RequestMeta, target: &ChallengeTarget) {
    let outcome = validate(state, target).await;
    if let Err(error) = record(state, meta, target, outcome).await {
        tracing::error!(challenge = %target.id, error = %error, "ACME validation not recorded; the acme_server job retries");
    }
}

async fn validate(state: &AppState, target: &ChallengeTarget) -> Result<(), ValidationFailure> {
    let Some(kind) = ChallengeKind::parse(&target.kind) else {
        return Err(ValidationFailure { problem: "malformed", detail: format!("unknown challenge {}", target.kind) });
    };
    let key_authorization = format!("{}.{}", target.token, target.jwk_thumbprint);
    let challenge =
        Challenge { kind, identifier: &target.identifier, token: &target.token, key_authorization: &key_authorization };
    state.acme_validator.validate(&challenge).await
}

async fn record(
    state: &AppState,
    meta: &RequestMeta,
    target: &ChallengeTarget,
    outcome: Result<(), ValidationFailure>,
) -> Result<(), AcmeError> {
    let now = OffsetDateTime::now_utc();
    let actor = match target.owner_id {
        Some(owner) => Actor::person(meta, owner),
        None => Actor::anonymous(meta),
    };
    let mut tx = state.pool.begin().await?;
    let (recorded, entry) = match &outcome {
        Ok(()) => {
            let recorded = db::acme_server_orders::challenge_valid(&mut tx, target, now).await?;
            let details = json!({ "name": target.identifier, "challenge": target.kind });
            (recorded, actor.did(Action::AcmeServerChallengeValidated).with(details))
        }
        Err(failure) => {
            let challenge_error = problem::document(failure.problem, &failure.detail);
            let order_error = json!({
                "type": "urn:ietf:params:acme:error:unauthorized",
                "detail": format!("{} could not be validated: {}", target.identifier, failure.detail),
                "subproblems": [{
                    "type": format!("urn:ietf:params:acme:error:{}", failure.problem),
                    "detail": failure.detail,
                    "identifier": { "type": "dns", "value": target.identifier },
                }],
            });
            let recorded =
                db::acme_server_orders::challenge_invalid(&mut tx, target, &challenge_error, &order_error, now).await?;
            let details = json!({ "name": target.identifier, "challenge": target.kind, "problem": failure.problem,
                                  "detail": failure.detail });
            (recorded, actor.did(Action::AcmeServerChallengeFailed).with(details))
        }
    };
    if recorded {
        audit::append(&mut tx, &state.chain_key, &entry.on(Object::AcmeOrder(target.order_id)), now).await?;
    }
    tx.commit().await?;
    Ok(())
}
