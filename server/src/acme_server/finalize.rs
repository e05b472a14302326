//! finalize (RFC 8555 §7.4): the CSR is checked at once (names exactly the order's, key strength), then the order
//! goes `processing` with its CSR and is issued through the same pipeline as every other request — policy by the
//! owner's groups, quotas, intent and audit in one transaction, OpenBao, chain verified — as the owner, through
//! the account. The first attempt runs in the request; when the issuer is down or sealed, or the replica dies half-way,
//! the order stays `processing` and the `acme_server` job finishes it. Each attempt has its own idempotency key
//! (`acme-order:<order>:<attempt>`), counted up only once an attempt is known to have failed, so a retry after a
//! crash is answered with the certificate the crashed attempt issued, never a second one.

use app::AppError;
use app::model::{CertStatus, CertificateRequest, KeyChoice};
use app::ssr::RequestMeta;
use axum::extract::{Path, State};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde::Deserialize;
use time::OffsetDateTime;

use super::Directory;
use super::orders::{self, owner_of};
use super::problem::AcmeError;
use super::request::{Posted, usable};
use crate::audit::Actor;
use crate::db;
use crate::db::acme_server::AccountRow;
use crate::db::acme_server_orders::OrderRow;
use crate::error::ServerError;
use crate::http::RequestContext;
use crate::issuance::pipeline::{AcmeServerOrder, Requester, issue_for};
use crate::issuance::quota::QuotaUse;
use crate::issuance::request::{CheckedRequest, check};
use crate::policy::{self, PolicyRequest};
use crate::state::AppState;

/// How long one attempt may hold an order before the job takes it over (the issuer's own timeouts are shorter).
pub const LEASE: time::Duration = time::Duration::seconds(60);

#[derive(Debug, Deserialize)]
struct FinalizePayload {
    csr: String,
}

pub async fn finalize(
    State(state): State<AppState>,
    Path((issuer, id)): Path<(String, String)>,
    context: RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let (account, jws) = posted.verify_account(&state, &directory, now).await?;
    owner_of(&account)?;
    let found = orders::find(&state, &directory, &account, &id).await?;
    let order = &found.order;
    match order.status.as_str() {
        "ready" if order.expires_at > now => {}
        // A repeated finalize (a client retrying after a lost answer) is told where its order stands.
        "processing" | "valid" => return Ok(orders::respond_with(&directory, &found, StatusCode::OK)),
        "pending" => {
            return Err(AcmeError::OrderNotReady(
                "the order's authorizations are not all valid yet: answer their challenges first".into(),
            ));
        }
        "ready" => return Err(AcmeError::OrderNotReady("the order expired before it was finalized".into())),
        status => {
            return Err(AcmeError::OrderNotReady(format!("the order is {status} and can no longer be finalized")));
        }
    }
    let payload = jws.json_payload()?.ok_or_else(|| AcmeError::malformed("finalize needs a payload with the CSR"))?;
    let payload: FinalizePayload = serde_json::from_value(payload).map_err(|error| {
        AcmeError::malformed(format!("the finalize payload is {{\"csr\": <base64url DER>}}: {error}"))
    })?;
    let csr_der = URL_SAFE_NO_PAD.decode(payload.csr.trim_end_matches('=')).map_err(|_| {
        AcmeError::BadCsr("`csr` is not base64url (RFC 8555 §7.4: the DER of the CSR, base64url)".into())
    })?;
    // Refused here, before anything is stored: a CSR that is not the order's.
    let groups = account.owner_groups.clone().unwrap_or_default();
    request_of(&state, &directory, order, &csr_der, 0, &groups)?;
    if db::acme_server_orders::begin_finalize(&state.pool, order.id, &csr_der, now, now + LEASE).await? {
        let order = OrderRow { status: "processing".into(), csr_der: Some(csr_der), ..found.order };
        attempt_as(&state, &directory, &context.meta, &order, &account).await?;
    }
    let found = orders::find(&state, &directory, &account, &id).await?;
    Ok(orders::respond_with(&directory, &found, StatusCode::OK))
}

/// One attempt at issuing a `processing` order's certificate, as the `acme_server` job makes it: the order's account
/// read as it stands now. Refusals by policy or quota make the order invalid and are answered to the client.
pub async fn attempt(
    state: &AppState,
    directory: &Directory,
    meta: &RequestMeta,
    order: &OrderRow,
) -> Result<(), AcmeError> {
    let Some(account) = db::acme_server::account_by_id(&state.pool, order.account_id).await? else {
        return Err(AcmeError::Internal(format!("order {} has no account", order.id)));
    };
    attempt_as(state, directory, meta, order, &account).await
}

/// One attempt by `account`, read with the request (finalize) or by the job. `meta`: the finalize request, or the
/// job's.
async fn attempt_as(
    state: &AppState,
    directory: &Directory,
    meta: &RequestMeta,
    order: &OrderRow,
    account: &AccountRow,
) -> Result<(), AcmeError> {
    let now = OffsetDateTime::now_utc();
    if order.expires_at <= now {
        // The issuer stayed down (or the order was refused) for as long as the order lived.
        let refusal = AcmeError::Unavailable("the certificate could not be issued before the order expired".into());
        return Err(refuse(state, order, refusal, now).await);
    }
    let Some(csr_der) = &order.csr_der else {
        return Err(AcmeError::Internal(format!("processing order {} has no CSR", order.id)));
    };
    if let Err(refusal) = usable(state, account).and_then(|()| owner_of(account)) {
        return Err(refuse(state, order, refusal, now).await);
    }
    let owner_id = owner_of(account)?;
    let groups = account.owner_groups.clone().unwrap_or_default();
    let request = match request_of(state, directory, order, csr_der, order.finalize_attempts, &groups) {
        Ok(request) => request,
        Err(refusal) => return Err(refuse(state, order, refusal, now).await),
    };
    let requester = Requester {
        owner_id,
        actor: Actor::person(meta, owner_id),
        renews: order.replaces_certificate_id,
        quota: QuotaUse::Request,
        acme_server: Some(AcmeServerOrder { account: account.id, order: order.id, owner_groups: groups }),
    };
    let outcome = issue_for(state, &requester, request).await;
    let retry_at = |failed: bool| {
        let attempts = u32::try_from(order.finalize_attempts).unwrap_or(0) + u32::from(failed);
        now + time::Duration::seconds(i64::from(5_u32.saturating_mul(1 << attempts.min(6))).min(300))
    };
    match outcome {
        // Issued now: the order was made valid with it. Replayed (an earlier attempt issued and the replica stopped
        // before its answer): the order may still be `processing`.
        Ok(answer) if answer.status == CertStatus::Issued => {
            if answer.replayed {
                db::acme_server_orders::order_valid(&state.pool, order.id, answer.id, OffsetDateTime::now_utc())
                    .await?;
            }
            Ok(())
        }
        // A replayed attempt that failed (its issuer was down): the next attempt is a new request.
        Ok(_) => Ok(db::acme_server_orders::postpone_finalize(&state.pool, order.id, true, retry_at(true)).await?),
        Err(ServerError::Client(AppError::Unavailable { service })) => {
            tracing::warn!(order = %order.id, %service, "ACME finalize postponed: a dependency is unavailable");
            Ok(db::acme_server_orders::postpone_finalize(&state.pool, order.id, true, retry_at(true)).await?)
        }
        // The attempt is still in flight on another replica (or was cut short): ask it again later.
        Err(ServerError::Client(AppError::Conflict { .. })) => {
            Ok(db::acme_server_orders::postpone_finalize(&state.pool, order.id, false, retry_at(false)).await?)
        }
        Err(ServerError::Client(error)) => Err(refuse(state, order, refusal_of(error), now).await),
        // certdesk's own failure (the database went away): the lease runs out and the job tries the same attempt.
        Err(error) => {
            tracing::error!(order = %order.id, error = %error, "ACME finalize failed; the acme_server job retries it");
            Ok(())
        }
    }
}

/// The order is invalid with `refusal` as its problem; answers the refusal (or the database's failure to record it).
async fn refuse(state: &AppState, order: &OrderRow, refusal: AcmeError, now: OffsetDateTime) -> AcmeError {
    let recorded = match state.pool.acquire().await {
        Ok(mut conn) => {
            db::acme_server_orders::invalidate_order(&mut conn, order.id, &refusal.document(), now).await.map(|_| ())
        }
        Err(error) => Err(error),
    };
    match recorded {
        Ok(()) => refusal,
        Err(error) => AcmeError::Database(error),
    }
}

/// The certificate request an order's CSR makes: the order's names (the CSR must carry exactly those), its
/// issuer, and the directory's validity cut to what the policy allows the owner (in `groups`) for this key.
fn request_of(
    state: &AppState,
    directory: &Directory,
    order: &OrderRow,
    csr_der: &[u8],
    attempt: i32,
    groups: &[String],
) -> Result<CheckedRequest, AcmeError> {
    let csr_pem = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", csr_der.to_vec()));
    let input = CertificateRequest {
        issuer_id: directory.issuer_id.clone(),
        common_name: String::new(),
        dns_names: order.identifiers.clone(),
        ip_sans: vec![],
        validity_days: directory.server.validity_days,
        key: KeyChoice::Csr { csr_pem },
        client_auth: false,
        idempotency_key: Some(format!("acme-order:{}:{attempt}", order.id)),
        renewal: None,
    };
    let mut request = check(input, state.config.limits.renewal_floor).map_err(refusal_of)?;
    if let Some(issuer) = state.issuers.get(&directory.issuer_id) {
        let policy_request = PolicyRequest {
            dns_names: &request.dns_names,
            ip_sans: &request.ip_sans,
            validity_days: request.validity_days,
            key_type: request.key_type,
            client_auth: false,
        };
        // No rule allowing the rest: the pipeline's own policy check refuses, saying why.
        if let Some(allowed) = policy::longest_validity(&issuer.config.policy, groups, &policy_request) {
            request.validity_days = request.validity_days.min(allowed);
        }
    }
    Ok(request)
}

/// A refusal of the pipeline as the problem RFC 8555 has for it.
fn refusal_of(error: AppError) -> AcmeError {
    match error {
        AppError::Invalid { field, message } => match field.as_deref() {
            Some("key_type") => AcmeError::BadPublicKey(message),
            // The policy refused the names at finalize (it changed since newOrder, or a rule applies no more).
            Some("dns_names" | "issuer") => AcmeError::RejectedIdentifier { detail: message, subproblems: vec![] },
            // The CSR itself (`csr`), or what it asks for (`validity_days`, `client_auth`).
            _ => AcmeError::BadCsr(message),
        },
        AppError::QuotaExceeded { message, retry_after_secs } => {
            AcmeError::RateLimited { detail: message, retry_after_secs }
        }
        AppError::TooManyRequests { retry_after_secs } => AcmeError::RateLimited {
            detail: format!("too many requests; try again in {retry_after_secs} s"),
            retry_after_secs,
        },
        AppError::NotPermitted { message } | AppError::Conflict { message } => AcmeError::unauthorized(message),
        AppError::Unavailable { service } => AcmeError::Unavailable(format!("{service} is unavailable right now")),
        other => AcmeError::Internal(other.to_string()),
    }
}
