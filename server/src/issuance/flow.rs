//! Issuing one certificate, exactly once: policy first (no issuer call for a refused request), then the intent row
//! and its audit event in one transaction, then the issuer, then the verified chain and the `issued` state with its
//! audit event in one transaction. A failure marks the intent `failed` with a reason; a crash leaves it `pending`
//! for the reconciler. A repeated idempotency key answers with the first request's certificate. The person's quotas
//! (`quota`) are checked before the key is made and again, under a lock on the owner, in the intent's transaction.

use app::AppError;
use app::model::{CertStatus, RequestedCertificate};
use app::ssr::{Caller, RequestMeta};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::quota::{self, QuotaRefusal, QuotaUse};
use super::record::{Failure, complete, fail, verified};
use super::request::{CheckedKey, CheckedRequest, search_text};
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::error::ServerError;
use crate::issuers::SigningRequest;
use crate::keys;
use crate::policy::{self, PolicyRequest};
use crate::sealing::private_key_context;
use crate::state::AppState;

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
    };
    issue_for(state, &requester, request).await
}

/// Whom a certificate is issued to (their groups meet the policy; they own it), who is audited as asking, the
/// certificate it renews, if any, and which of the owner's quotas it counts against.
pub struct Requester {
    pub owner_id: Uuid,
    pub actor: Actor,
    pub renews: Option<Uuid>,
    pub quota: QuotaUse,
}

/// The one issuance path: a person's request and a renewal (`renewal`) both come through here.
pub async fn issue_for(
    state: &AppState,
    requester: &Requester,
    mut request: CheckedRequest,
) -> Result<RequestedCertificate, ServerError> {
    let actor = &requester.actor;
    let Some(issuer) = state.issuers.get(&request.issuer_id) else {
        return Err(client(AppError::invalid("issuer_id", format!("there is no issuer `{}`", request.issuer_id))));
    };
    let now = OffsetDateTime::now_utc();
    let started = std::time::Instant::now();
    let groups = db::users::groups(&state.pool, requester.owner_id).await?;
    let inherited_validity = request.validity_days;
    if requester.renews.is_some()
        && let Some(allowed) = policy::longest_validity(&issuer.config.policy, &groups, &policy_request(&request))
    {
        // A renewal inherits at most what the owner's policy allows now: a rule shortened since is obeyed, not
        // refused (names, keys or usages no longer allowed are refused below, as for any request).
        request.validity_days = request.validity_days.min(allowed);
    }
    let grant = match policy::evaluate(&issuer.config.policy, &groups, &policy_request(&request)) {
        Ok(grant) => grant,
        Err(refusal) => {
            let details =
                json!({ "issuer": request.issuer_id, "names": names_of(&request), "reason": refusal.to_string() });
            let entry = actor.did(Action::CertificateDenied).with(details);
            audit::record(&state.pool, &state.chain_key, &entry, now).await?;
            crate::metrics::issuance(&request.issuer_id, "denied", started.elapsed());
            return Err(client(AppError::invalid(refusal.field(), refusal.to_string())));
        }
    };
    if let Some(acme) = issuer.acme()
        && let Some(refusal) =
            request.dns_names.iter().find_map(|name| crate::acme::challenge_for(&acme.config, name.as_str()).err())
    {
        return Err(client(AppError::invalid("dns_names", refusal)));
    }
    if let Some(answer) = replay_if_known(state, requester.owner_id, &request).await? {
        return Ok(answer);
    }
    // Before the key is made: a person over their quota costs certdesk no key generation.
    let limits = &state.config.limits;
    let mut conn = state.pool.acquire().await?;
    if let Some(refusal) = quota::check(&mut conn, limits, requester.owner_id, requester.quota, now).await? {
        return Err(refuse(state, actor, &request, refusal, started).await?);
    }
    drop(conn);

    // The key (server-generated, sealed at once) and the CSR the issuer will sign.
    let id = Uuid::new_v4();
    let (csr_pem, sealed_key, key_source) = match &request.key {
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
            let csr = keys::build_csr(&key, request.subject_common_name(), &request.dns_names, &request.ip_sans)
                .map_err(|error| ServerError::Internal(format!("CSR: {error}")))?;
            (csr, Some(sealer.seal(key.pkcs8_der(), &private_key_context(id))?), "server")
        }
        CheckedKey::Csr(csr) => (csr.pem(), None, "csr"),
        CheckedKey::Reuse(reused) => {
            (reused.csr_pem.clone(), reused.reseal_for(state.config.encryption.as_ref(), id)?, reused.key_source())
        }
    };
    let dns: Vec<String> = request.dns_names.iter().map(|name| name.as_str().to_owned()).collect();
    let ips: Vec<String> = request.ip_sans.iter().map(ToString::to_string).collect();
    let intent = db::certificates::NewIntent {
        id,
        owner_id: requester.owner_id,
        issuer_id: &request.issuer_id,
        common_name: request.common_name.as_str(),
        dns_names: &dns,
        ip_addresses: &ips,
        key_algorithm: request.key_type.label(),
        key_source,
        sealed_key: sealed_key.as_ref(),
        csr_pem: &csr_pem,
        client_auth: request.client_auth,
        validity_days: request.validity_days as i32,
        policy_rule: &grant.rule,
        idempotency_key: request.idempotency_key.as_deref(),
        request_hash: &request.fingerprint,
        search_text: &search_text(&dns, None, None),
        automatic_renewal: requester.quota == QuotaUse::AutomaticRenewal,
        now,
    };
    let mut tx = state.pool.begin().await?;
    if requester.quota != QuotaUse::AutomaticRenewal {
        // The owner's requests count and insert one at a time from here to the commit.
        db::quotas::lock_owner(&mut tx, requester.owner_id).await?;
        if let Some(refusal) = quota::check(&mut tx, limits, requester.owner_id, requester.quota, now).await? {
            drop(tx);
            // A concurrent double submit may have taken the last place: this request is its replay, not refused.
            if let Some(answer) = replay_if_known(state, requester.owner_id, &request).await? {
                return Ok(answer);
            }
            return Err(refuse(state, actor, &request, refusal, started).await?);
        }
    }
    if !db::certificates::insert_intent(&mut tx, &intent).await? {
        // A concurrent double submit won the insert: answer as its replay.
        drop(tx);
        if let Some(answer) = replay_if_known(state, requester.owner_id, &request).await? {
            return Ok(answer);
        }
        return Err(ServerError::Internal("intent insert conflicted without a prior request".into()));
    }
    crate::renewal::settings::store(&mut tx, id, &request.renewal, requester.renews).await?;
    let details = json!({
        "issuer": request.issuer_id, "names": names_of(&request), "key": request.key_type.as_str(),
        "key_source": key_source, "validity_days": request.validity_days, "client_auth": request.client_auth,
        "policy_rule": grant.rule, "auto_renew": request.renewal.auto, "renews": requester.renews,
        "inherited_validity_days": (request.validity_days != inherited_validity).then_some(inherited_validity),
    });
    audit::append(
        &mut tx,
        &state.chain_key,
        &actor.did(Action::CertificateRequested).on(Object::Certificate(id)).with(details),
        now,
    )
    .await?;
    if let Some(acme) = issuer.acme() {
        // An ACME certificate is an order the CA finishes later: persisted with the intent, driven in the
        // background, answered now as pending (the certificate page shows its progress).
        db::acme::insert_order(&mut tx, id, &request.issuer_id, now, now + acme.config.order_timeout).await?;
        tx.commit().await?;
        crate::acme::start(state, id);
        return Ok(RequestedCertificate {
            id,
            status: CertStatus::Pending,
            common_name: request.common_name.as_str().to_owned(),
            serial: None,
            not_after: None,
            replayed: false,
        });
    }
    tx.commit().await?;

    let signing = SigningRequest {
        csr_pem: &csr_pem,
        common_name: request.subject_common_name(),
        key_family: request.key_type.family(),
        client_auth: request.client_auth,
        validity: std::time::Duration::from_secs(u64::from(request.validity_days) * 86_400),
    };
    let signed = match issuer.authority() {
        Ok(authority) => authority.sign(&signing).await,
        Err(error) => Err(error),
    };
    let stored = match signed.map_err(Failure::Issuer).and_then(|signed| verified(issuer, signed)) {
        Ok(material) => complete(state, actor, id, &request.issuer_id, &dns, material).await,
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
    started: std::time::Instant,
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
    // A pending ACME order is not a request in flight but one waiting for its CA: answer where it stands.
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

fn names_of(request: &CheckedRequest) -> Vec<String> {
    request
        .dns_names
        .iter()
        .map(|name| name.as_str().to_owned())
        .chain(request.ip_sans.iter().map(ToString::to_string))
        .collect()
}

fn client(error: AppError) -> ServerError {
    ServerError::Client(error)
}
