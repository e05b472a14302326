//! Issuing one certificate, exactly once, in five steps: **check** (policy and the CA's own refusals first, so a
//! refused request costs no issuer call; the person's quotas before an RSA key is made), **intent** (the intent row,
//! what the CA holds with it, and its audit event in one transaction, the quotas checked under a lock on the
//! owner), **issue** (the CA signs at once or takes an order it finishes later), **verify** (the chain up to the
//! pinned root) and **record** (`issued` or `failed`, each with its audit event, see `record`). A crash leaves the
//! intent `pending` for the reconciler; an order is driven to its end by the `orders` module, which hears of it
//! through `events`. A repeated idempotency key answers with the first request's certificate.
//!
//! The pipeline knows issuers only through `CertificateAuthority`: it never asks which kind it holds.

use std::time::Instant;

use app::AppError;
use app::model::{CertStatus, RequestedCertificate};
use app::ssr::{Caller, RequestMeta};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::quota::{self, QuotaRefusal, QuotaUse, ThisRequest};
use super::record::{Failure, complete, fail, verified};
use super::renewal_settings::{IntentSettings, intent_columns};
use super::request::{CheckedKey, CheckedRequest, search_text};
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::error::ServerError;
use crate::events::IssuanceEvent;
use crate::issuers::{Issued, Issuer, SigningRequest};
use crate::keys::{self, KeyType};
use crate::policy::{self, Grant, PolicyRequest};
use crate::sealing::{Sealed, private_key_context};
use crate::state::AppState;

/// A person's own request, from the form or the API.
pub async fn issue(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    request: CheckedRequest,
) -> Result<RequestedCertificate, ServerError> {
    let requester = Requester {
        owner_id: caller.user_id,
        actor: Actor::caller(meta, caller),
        renews: None,
        quota: QuotaUse::Request,
        acme_server: None,
    };
    issue_for(state, &requester, request).await
}

/// Whom a certificate is issued to (their groups meet the policy; they own it), who is audited as asking, the
/// certificate it renews, if any, which of the owner's quotas it counts against, and the order of certdesk's ACME
/// server it finalizes, if any.
pub struct Requester {
    pub owner_id: Uuid,
    pub actor: Actor,
    pub renews: Option<Uuid>,
    pub quota: QuotaUse,
    pub acme_server: Option<AcmeServerOrder>,
}

/// An order of certdesk's own ACME server that a request finalizes.
pub struct AcmeServerOrder {
    /// The account it was ordered through, recorded on the certificate.
    pub account: Uuid,
    /// The order: made valid in the transaction that records the certificate issued, so that an issued certificate
    /// never leaves its order `processing`.
    pub order: Uuid,
    /// The owner's groups as read with the account for this request: the policy judges these, not a second read.
    pub owner_groups: Vec<String>,
}

/// The one issuance path: a person's request and a renewal (`renewal`) both come through here.
pub async fn issue_for(
    state: &AppState,
    requester: &Requester,
    mut request: CheckedRequest,
) -> Result<RequestedCertificate, ServerError> {
    let started = Instant::now();
    let Some(issuer) = state.issuers.get(&request.issuer_id) else {
        return Err(client(AppError::invalid("issuer_id", format!("there is no issuer `{}`", request.issuer_id))));
    };
    let now = OffsetDateTime::now_utc();

    // Check.
    let granted = match check(state, requester, issuer, &mut request, now, started).await? {
        Checked::Granted(granted) => granted,
        Checked::Replayed(answer) => return Ok(answer),
    };

    // Intent.
    let id = Uuid::new_v4();
    let key = prepare_key(state, &request, id).await?;
    if let Some(answer) = record_intent(state, requester, issuer, &request, &granted, id, &key, now, started).await? {
        return Ok(answer);
    }

    // Issue.
    let signing = SigningRequest {
        csr_pem: &key.csr_pem,
        common_name: request.subject_common_name(),
        key_family: request.key_type.family(),
        client_auth: request.client_auth,
        validity: std::time::Duration::from_secs(u64::from(request.validity_days) * 86_400),
    };
    let issued = issuer.authority().issue(&signing).await;

    // Verify and record.
    let actor = &requester.actor;
    let outcome = match issued {
        Ok(Issued::Ordered) => {
            // Answered now as pending: the certificate page shows the order's progress.
            state.issuance_listener.heard(state, IssuanceEvent::Ordered { certificate_id: id }).await;
            return Ok(RequestedCertificate {
                id,
                status: CertStatus::Pending,
                common_name: request.common_name.as_str().to_owned(),
                serial: None,
                not_after: None,
                replayed: false,
            });
        }
        Ok(Issued::Signed(signed)) => verified(issuer, signed),
        Err(error) => Err(Failure::Issuer(error)),
    };
    let stored = match outcome {
        Ok(material) => {
            let settings = IntentSettings::Known(intent_columns(&request.renewal, requester.renews).at_issue());
            let order = requester.acme_server.as_ref().map(|acme| acme.order);
            complete(state, actor, id, &request.issuer_id, &names(&request.dns_names), material, settings, order).await
        }
        Err(failure) => {
            fail(state, actor, id, &failure.reason()).await?;
            if let Failure::Issuer(error) = &failure {
                crate::metrics::issuer_error(&request.issuer_id, error);
            }
            crate::metrics::issuance(&request.issuer_id, "failed", started.elapsed());
            return Err(failure.into_error(issuer));
        }
    }?;
    crate::metrics::issuance(&request.issuer_id, "issued", started.elapsed());
    Ok(stored)
}

/// What the check step found: the policy rule that allows the request, or the first request's answer for a
/// repeated idempotency key.
enum Checked {
    Granted(Granted),
    Replayed(RequestedCertificate),
}

struct Granted {
    grant: Grant,
    /// A renewal's validity before the policy shortened it, when it did.
    inherited_validity_days: Option<u32>,
}

/// Policy against the owner's groups (a renewal's validity first shortened to what the policy allows now), the
/// CA's refusals of names it cannot take, a repeated idempotency key, and the owner's quotas. Refusals by policy
/// and quota are audited as denied.
async fn check(
    state: &AppState,
    requester: &Requester,
    issuer: &Issuer,
    request: &mut CheckedRequest,
    now: OffsetDateTime,
    started: Instant,
) -> Result<Checked, ServerError> {
    let groups = match &requester.acme_server {
        Some(acme) => acme.owner_groups.clone(),
        None => db::users::groups(&state.pool, requester.owner_id).await?,
    };
    let inherited_validity = request.validity_days;
    if requester.renews.is_some()
        && let Some(allowed) = policy::longest_validity(&issuer.config.policy, &groups, &policy_request(request))
    {
        // A renewal inherits at most what the owner's policy allows now: a rule shortened since is obeyed, not
        // refused (names, keys or usages no longer allowed are refused below, as for any request).
        request.validity_days = request.validity_days.min(allowed);
    }
    let grant = match policy::evaluate(&issuer.config.policy, &groups, &policy_request(request)) {
        Ok(grant) => grant,
        Err(refusal) => {
            let details =
                json!({ "issuer": request.issuer_id, "names": names_of(request), "reason": refusal.to_string() });
            let entry = requester.actor.did(Action::CertificateDenied).with(details);
            audit::record(&state.pool, &state.chain_key, &entry, now).await?;
            crate::metrics::issuance(&request.issuer_id, "denied", started.elapsed());
            return Err(client(AppError::invalid(refusal.field(), refusal.to_string())));
        }
    };
    if let Some(refusal) = request.dns_names.iter().find_map(|name| issuer.authority().refusal_of_name(name)) {
        return Err(client(AppError::invalid("dns_names", refusal)));
    }
    if let Some(answer) = replay_if_known(state, requester.owner_id, request).await? {
        return Ok(Checked::Replayed(answer));
    }
    // Before an RSA key is made: a person over their quota costs certdesk no second of key generation. Any other key
    // costs less than this query would, so the check under the owner's lock (`record_intent`) is the only one.
    if generates_rsa_key(&request.key) {
        let mut conn = state.pool.acquire().await?;
        if let Some(refusal) = quota::check(
            &mut conn,
            &state.config.limits,
            requester.owner_id,
            requester.quota,
            ThisRequest::NotCounted,
            now,
        )
        .await?
        {
            return Err(refuse(state, &requester.actor, request, refusal, started).await?);
        }
    }
    let inherited_validity_days = (request.validity_days != inherited_validity).then_some(inherited_validity);
    Ok(Checked::Granted(Granted { grant, inherited_validity_days }))
}

fn generates_rsa_key(key: &CheckedKey) -> bool {
    matches!(key, CheckedKey::Generate(KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096))
}

/// The CSR the issuer signs, and the private key sealed at once when certdesk made it (or re-sealed, when a
/// renewal keeps its predecessor's).
struct PreparedKey {
    csr_pem: String,
    sealed_key: Option<Sealed>,
    source: &'static str,
}

async fn prepare_key(state: &AppState, request: &CheckedRequest, id: Uuid) -> Result<PreparedKey, ServerError> {
    Ok(match &request.key {
        CheckedKey::Generate(key_type) => {
            let Some(sealer) = state.config.encryption.as_ref() else {
                return Err(client(AppError::Unavailable {
                    service: "key storage ([encryption] is not configured)".into(),
                }));
            };
            let key_type = *key_type;
            let key = tokio::task::spawn_blocking(move || keys::generate(key_type))
                .await
                .map_err(|error| ServerError::Internal(format!("key generation task: {error}")))?
                .map_err(|error| ServerError::Internal(format!("key generation: {error}")))?;
            let csr_pem = keys::build_csr(&key, request.subject_common_name(), &request.dns_names, &request.ip_sans)
                .map_err(|error| ServerError::Internal(format!("CSR: {error}")))?;
            let sealed_key = Some(sealer.seal(key.pkcs8_der(), &private_key_context(id))?);
            PreparedKey { csr_pem, sealed_key, source: "server" }
        }
        CheckedKey::Csr(csr) => PreparedKey { csr_pem: csr.pem(), sealed_key: None, source: "csr" },
        CheckedKey::Reuse(reused) => PreparedKey {
            csr_pem: reused.csr_pem.clone(),
            sealed_key: reused.reseal_for(state.config.encryption.as_ref(), id)?,
            source: reused.key_source(),
        },
    })
}

/// The intent row, the renewal settings, what the CA holds with it and `certificate.requested`, in one
/// transaction. Answers the first request's outcome instead when a concurrent double submit got there first.
#[allow(clippy::too_many_arguments)]
async fn record_intent(
    state: &AppState,
    requester: &Requester,
    issuer: &Issuer,
    request: &CheckedRequest,
    granted: &Granted,
    id: Uuid,
    key: &PreparedKey,
    now: OffsetDateTime,
    started: Instant,
) -> Result<Option<RequestedCertificate>, ServerError> {
    let actor = &requester.actor;
    let dns = names(&request.dns_names);
    let ips: Vec<String> = request.ip_sans.iter().map(ToString::to_string).collect();
    let intent = db::certificates::NewIntent {
        id,
        owner_id: requester.owner_id,
        issuer_id: &request.issuer_id,
        common_name: request.common_name.as_str(),
        dns_names: &dns,
        ip_addresses: &ips,
        key_algorithm: request.key_type.label(),
        key_source: key.source,
        sealed_key: key.sealed_key.as_ref(),
        csr_pem: &key.csr_pem,
        client_auth: request.client_auth,
        validity_days: request.validity_days as i32,
        policy_rule: &granted.grant.rule,
        idempotency_key: request.idempotency_key.as_deref(),
        request_hash: &request.fingerprint,
        search_text: &search_text(&dns, None, None),
        automatic_renewal: requester.quota == QuotaUse::AutomaticRenewal,
        renewal: intent_columns(&request.renewal, requester.renews),
        acme_server_account_id: requester.acme_server.as_ref().map(|acme| acme.account),
        now,
    };
    let mut tx = state.pool.begin().await?;
    let inserted =
        db::certificates::insert_intent(&mut tx, &intent).await.map_err(super::renewal_settings::refusal_of_insert)?;
    if !inserted {
        // A concurrent double submit won the insert: answer as its replay.
        drop(tx);
        if let Some(answer) = replay_if_known(state, requester.owner_id, request).await? {
            return Ok(Some(answer));
        }
        return Err(ServerError::Internal("intent insert conflicted without a prior request".into()));
    }
    issuer.authority().hold(&mut tx, id, now).await?;
    if requester.quota != QuotaUse::AutomaticRenewal {
        // After the intent's own rows, so that the owner's concurrent requests wait for each other only for the
        // count, the audit event and the commit: from the lock on, they count and commit one at a time.
        db::quotas::lock_owner(&mut tx, requester.owner_id).await?;
        let (limits, owner) = (&state.config.limits, requester.owner_id);
        if let Some(refusal) = quota::check(&mut tx, limits, owner, requester.quota, ThisRequest::Counted, now).await? {
            drop(tx);
            // A concurrent double submit may have taken the last place: this request is its replay, not refused.
            if let Some(answer) = replay_if_known(state, requester.owner_id, request).await? {
                return Ok(Some(answer));
            }
            return Err(refuse(state, actor, request, refusal, started).await?);
        }
    }
    let mut details = json!({
        "issuer": request.issuer_id, "names": names_of(request), "key": request.key_type.as_str(),
        "key_source": key.source, "validity_days": request.validity_days, "client_auth": request.client_auth,
        "policy_rule": granted.grant.rule, "auto_renew": request.renewal.auto, "renews": requester.renews,
        "inherited_validity_days": granted.inherited_validity_days,
    });
    if let Some(acme) = &requester.acme_server {
        details["acme_account"] = acme.account.to_string().into();
    }
    audit::append(
        &mut tx,
        &state.chain_key,
        &actor.did(Action::CertificateRequested).on(Object::Certificate(id)).with(details),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(None)
}

/// What the policy judges of `request`.
fn policy_request(request: &CheckedRequest) -> PolicyRequest<'_> {
    PolicyRequest {
        dns_names: &request.dns_names,
        ip_sans: &request.ip_sans,
        validity_days: request.validity_days,
        key_type: request.key_type,
        client_auth: request.client_auth,
    }
}

/// A request over a quota: audited as denied (naming the quota), counted, and answered with the quota's message.
async fn refuse(
    state: &AppState,
    actor: &Actor,
    request: &CheckedRequest,
    refusal: QuotaRefusal,
    started: Instant,
) -> Result<ServerError, ServerError> {
    let details = json!({
        "issuer": request.issuer_id, "names": names_of(request), "reason": refusal.error.to_string(),
        "quota": refusal.quota, "used": refusal.used, "limit": refusal.limit,
    });
    let entry = actor.did(Action::CertificateDenied).with(details);
    audit::record(&state.pool, &state.chain_key, &entry, OffsetDateTime::now_utc()).await?;
    crate::metrics::issuance(&request.issuer_id, "over_quota", started.elapsed());
    Ok(client(refusal.error))
}

/// The first request's outcome when `request`'s idempotency key was used already.
async fn replay_if_known(
    state: &AppState,
    owner_id: Uuid,
    request: &CheckedRequest,
) -> Result<Option<RequestedCertificate>, ServerError> {
    let Some(key) = &request.idempotency_key else { return Ok(None) };
    let Some(prior) = db::certificates::find_by_idempotency_key(&state.pool, owner_id, key).await? else {
        return Ok(None);
    };
    replay(state, owner_id, prior, &request.fingerprint).await.map(Some)
}

/// Answers a repeated idempotency key with the first request's outcome; a different request under the same key
/// is a client mistake.
async fn replay(
    state: &AppState,
    owner_id: Uuid,
    prior: db::certificates::PriorRequest,
    fingerprint: &[u8],
) -> Result<RequestedCertificate, ServerError> {
    if prior.request_hash.as_deref() != Some(fingerprint) {
        return Err(client(AppError::invalid(
            "idempotency_key",
            "this idempotency key was already used for a different request",
        )));
    }
    let Some(record) = db::certificates::find_visible(&state.pool, prior.id, Some(owner_id)).await? else {
        return Err(ServerError::Internal("prior request vanished".into()));
    };
    let status = db::certificates::stored_status(&record.status);
    // A pending order is not a request in flight but one waiting for its CA: answer where it stands.
    if status == CertStatus::Pending && db::acme::find_order(&state.pool, record.id).await?.is_none() {
        return Err(client(AppError::Conflict {
            message: "this request is still being issued; try again shortly".into(),
        }));
    }
    Ok(RequestedCertificate {
        id: record.id,
        status,
        common_name: record.common_name,
        serial: record.serial,
        not_after: record.not_after.and_then(|time| time.format(&Rfc3339).ok()),
        replayed: true,
    })
}

fn names(dns_names: &[crate::names::DnsName]) -> Vec<String> {
    dns_names.iter().map(|name| name.as_str().to_owned()).collect()
}

fn names_of(request: &CheckedRequest) -> Vec<String> {
    names(&request.dns_names).into_iter().chain(request.ip_sans.iter().map(ToString::to_string)).collect()
}

fn client(error: AppError) -> ServerError {
    ServerError::Client(error)
}
