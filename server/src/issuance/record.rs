//! Recording an issuance's end, shared by every path that finishes one (a request signed at once, an ACME order,
//! a renewal, the reconciler): the issued chain verified up to the pinned root, pending → issued or pending →
//! failed, each with its audit event in one transaction.

use app::AppError;
use app::model::{CertStatus, RequestedCertificate};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::renewal_settings::IntentSettings;
use super::request::search_text;
use crate::audit::{self, Action, Actor, Object};
use crate::bundle;
use crate::db;
use crate::error::ServerError;
use crate::issuers::{Issuer, IssuerError, Signed};
use crate::state::AppState;

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

    pub(crate) fn into_error(self, issuer: &Issuer) -> ServerError {
        let name = issuer.config.display_name.clone();
        match self {
            Self::Issuer(IssuerError::Refused { message, .. }) => {
                ServerError::Client(AppError::invalid("issuer", format!("{name} refused the request: {message}")))
            }
            Self::Issuer(IssuerError::Sealed { .. }) => {
                ServerError::Client(AppError::Unavailable { service: format!("{name} (sealed)") })
            }
            Self::Issuer(IssuerError::Unavailable { .. } | IssuerError::NotConfigured { .. }) => {
                ServerError::Client(AppError::Unavailable { service: name })
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

/// pending → issued with the verified material, and its audit event, in one transaction; with `acme_order`, that
/// order of certdesk's ACME server made valid in it too.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn complete(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    issuer_id: &str,
    dns: &[String],
    material: Material,
    settings: IntentSettings,
    acme_order: Option<Uuid>,
) -> Result<RequestedCertificate, ServerError> {
    let now = OffsetDateTime::now_utc();
    let facts = &material.facts;
    let serial = facts.serial_colon();
    let chain_pem: String = material.intermediates.iter().map(|der| to_pem(der)).collect();
    let facts_json = serde_json::to_value(facts).map_err(|error| ServerError::Internal(error.to_string()))?;
    let mut tx = state.pool.begin().await?;
    let floor = state.config.limits.renewal_floor;
    let on_issue =
        super::renewal_settings::on_issue(&mut tx, id, settings, (facts.not_before, facts.not_after), now, floor)
            .await?;
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
        renew_at: on_issue.renew_at,
    };
    if !db::certificates::mark_issued(&mut tx, id, &issued, now).await? {
        return Err(ServerError::Internal(format!("certificate {id} was no longer pending")));
    }
    let renewed = super::renewal_settings::supersede_renewed(&mut tx, on_issue, now).await?;
    if let Some(order) = acme_order {
        // Not made valid (it expired or was refused meanwhile): the certificate stands, as it would have before.
        db::acme_server_orders::order_valid(&mut *tx, order, id, now).await?;
    }
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
    if let Some(previous) = renewed {
        let renewed = crate::events::IssuanceEvent::Renewed { previous, successor: id, at: now };
        state.issuance_listener.heard(state, renewed).await;
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

fn to_pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}
