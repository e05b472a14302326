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
use super::request::{CheckedKey, CheckedRequest, search_text};
use crate::audit::{self, Action, Actor, Object};
use crate::bundle;
use crate::db;
use crate::error::ServerError;
use crate::issuers::{Issuer, IssuerError, Signed, SigningRequest};
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

/// Why an issuance did not produce a certificate.
pub(crate) enum Failure {
    Issuer(IssuerError),
    BadChain(String),
}

impl Failure {
    pub(crate) fn reason(&self) -> String {
        match self {
            Self::Issuer(error) => error.to_string(),
            Self::BadChain(detail) => format!("the issued chain does not verify: {detail}"),
        }
    }

    fn into_error(self, issuer: &Issuer) -> ServerError {
        let name = issuer.config.display_name.clone();
        match self {
            Self::Issuer(IssuerError::Refused { message, .. }) => {
                client(AppError::invalid("issuer", format!("{name} refused the request: {message}")))
            }
            Self::Issuer(IssuerError::Sealed { .. }) => {
                client(AppError::Unavailable { service: format!("{name} (sealed)") })
            }
            Self::Issuer(IssuerError::Unavailable { .. } | IssuerError::NotConfigured { .. }) => {
                client(AppError::Unavailable { service: name })
            }
            Self::Issuer(IssuerError::BadAnswer { detail, .. }) | Self::BadChain(detail) => {
                ServerError::Internal(detail)
            }
        }
    }
}

/// The issued certificate with a chain that verifies up to a self-signed root (the configured one, if pinned).
pub(crate) struct Material {
    leaf_der: Vec<u8>,
    intermediates: Vec<Vec<u8>>,
    root: Vec<u8>,
    facts: bundle::CertificateFacts,
}

pub(crate) fn verified(issuer: &Issuer, signed: Signed) -> Result<Material, Failure> {
    let Signed { leaf_der, mut chain_der } = signed;
    let pinned = match &issuer.config.kind {
        crate::config::IssuerKindConfig::Vault { root_ca_der, .. } => root_ca_der.clone(),
        crate::config::IssuerKindConfig::Acme(acme) => acme.root_ca_der.clone(),
    };
    let root = match (chain_der.pop(), pinned) {
        (Some(last), Some(pinned)) if last == pinned => pinned,
        // The issuer left the root out of its chain: the pinned root completes it.
        (Some(last), Some(pinned)) => {
            chain_der.push(last);
            pinned
        }
        (Some(last), None) => last,
        (None, _) => return Err(Failure::BadChain("the issuer returned no chain".into())),
    };
    bundle::verify_chain(&leaf_der, &chain_der, &root, OffsetDateTime::now_utc())
        .map_err(|error| Failure::BadChain(error.to_string()))?;
    let facts = bundle::certificate_facts(&leaf_der).map_err(|error| Failure::BadChain(error.to_string()))?;
    Ok(Material { leaf_der, intermediates: chain_der, root, facts })
}

/// pending → issued with the verified material, and its audit event, in one transaction.
pub(crate) async fn complete(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    issuer_id: &str,
    dns: &[String],
    material: Material,
) -> Result<RequestedCertificate, ServerError> {
    let now = OffsetDateTime::now_utc();
    let facts = &material.facts;
    let serial = facts.serial_colon();
    let chain_pem: String = material.intermediates.iter().map(|der| to_pem(der)).collect();
    let facts_json = serde_json::to_value(facts).map_err(|error| ServerError::Internal(error.to_string()))?;
    let issued = db::certificates::Issued {
        serial: &serial,
        not_before: facts.not_before,
        not_after: facts.not_after,
        fingerprint_sha256: &facts.sha256_fingerprint,
        leaf_pem: &to_pem(&material.leaf_der),
        chain_pem: &chain_pem,
        root_pem: &to_pem(&material.root),
        facts: facts_json,
        search_text: &search_text(dns, Some(&serial), Some(&facts.sha256_fingerprint)),
    };
    let mut tx = state.pool.begin().await?;
    if !db::certificates::mark_issued(&mut tx, id, &issued, now).await? {
        return Err(ServerError::Internal(format!("certificate {id} was no longer pending")));
    }
    let floor = state.config.limits.renewal_floor;
    let renewed =
        crate::renewal::settings::on_issued(&mut tx, id, facts.not_before, facts.not_after, now, floor).await?;
    let details = json!({
        "issuer": issuer_id, "serial": serial, "names": dns,
        "not_after": facts.not_after.format(&Rfc3339).unwrap_or_default(),
        "fingerprint_sha256": facts.sha256_fingerprint,
    });
    audit::append(
        &mut tx,
        &state.chain_key,
        &actor.did(Action::CertificateIssued).on(Object::Certificate(id)).with(details),
        now,
    )
    .await?;
    if let Some(previous) = renewed {
        let details = json!({ "renewed_by": id, "serial": serial, "issuer": issuer_id });
        let entry = actor.did(Action::CertificateRenewed).on(Object::Certificate(previous)).with(details);
        audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    }
    tx.commit().await?;
    if let Some(previous) = renewed
        && let Err(error) = crate::notifications::renewal_succeeded(state, previous, id, now).await
    {
        tracing::warn!(certificate = %id, error = %error, "could not record the renewal notice");
    }
    Ok(RequestedCertificate {
        id,
        status: CertStatus::Issued,
        // A certificate without a subject common name (its first name is too long for one) is known by that name.
        common_name: facts.common_name.clone().or_else(|| dns.first().cloned()).unwrap_or_default(),
        serial: Some(serial),
        not_after: facts.not_after.format(&Rfc3339).ok(),
        replayed: false,
    })
}

/// pending → failed with the reason, and its audit event, in one transaction. A request someone else already
/// settled (the reconciler and the request racing, an order driver resuming) changes nothing and is not audited
/// again.
pub async fn fail(state: &AppState, actor: &Actor, id: Uuid, reason: &str) -> Result<(), ServerError> {
    let now = OffsetDateTime::now_utc();
    tracing::warn!(request_id = %actor.request_id(), certificate = %id, reason = %reason, "issuance failed");
    let mut tx = state.pool.begin().await?;
    if db::certificates::mark_failed(&mut tx, id, reason, now).await? {
        let entry = actor.did(Action::CertificateFailed).on(Object::Certificate(id)).with(json!({ "reason": reason }));
        audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    }
    tx.commit().await?;
    Ok(())
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
    let status = crate::inventory::stored_status(&record.status);
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

fn to_pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
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
