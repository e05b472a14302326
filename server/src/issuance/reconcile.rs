//! The reconciler: resolves requests left `pending` by a crash between the issuer signing and certdesk recording
//! it. For each, the issuer is asked whether it signed a certificate for the request's key since the request
//! was made: if so the certificate is completed as issued (verified like any other), otherwise the request is
//! marked failed. An issuer that cannot be reached leaves the request pending for the next round. Runs at start
//! and then periodically; nothing is silently lost.

use std::time::Duration;

use time::OffsetDateTime;
use x509_parser::prelude::FromDer;

use super::record::{complete, fail, verified};
use super::renewal_settings::IntentSettings;
use crate::audit::Actor;
use crate::db;
use crate::error::ServerError;
use crate::state::AppState;

/// A request younger than this may still be waiting for its issuer (requests time out after 30 s).
pub const SETTLE_TIME: Duration = Duration::from_secs(120);
const BATCH: i64 = 100;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub completed: usize,
    pub failed: usize,
    pub still_pending: usize,
}

pub async fn reconcile_pending(state: &AppState, now: OffsetDateTime) -> Result<Reconciled, ServerError> {
    let actor = Actor::job("reconciler");
    let mut report = Reconciled::default();
    for intent in db::certificates::pending_before(&state.pool, now - SETTLE_TIME, BATCH).await? {
        let Some(issuer) = state.issuers.get(&intent.issuer_id) else {
            fail(state, &actor, intent.id, "interrupted, and its issuer is no longer configured").await?;
            report.failed += 1;
            continue;
        };
        let Some(public_key) = intent.csr_pem.as_deref().and_then(public_key_of) else {
            fail(state, &actor, intent.id, "interrupted before its CSR was stored").await?;
            report.failed += 1;
            continue;
        };
        let found = issuer.authority().find_signed(&public_key, intent.created_at).await;
        match found {
            Ok(Some(signed)) => match verified(issuer, signed) {
                Ok(material) => {
                    complete(
                        state,
                        &actor,
                        intent.id,
                        &intent.issuer_id,
                        &intent.dns_names,
                        material,
                        IntentSettings::Stored,
                        None,
                    )
                    .await?;
                    report.completed += 1;
                }
                Err(failure) => {
                    fail(state, &actor, intent.id, &failure.reason()).await?;
                    report.failed += 1;
                }
            },
            Ok(None) => {
                let reason = "certdesk stopped before the issuer answered, and the issuer holds no certificate for \
                              this request: request it again";
                fail(state, &actor, intent.id, reason).await?;
                report.failed += 1;
            }
            Err(error) => {
                tracing::warn!(certificate = %intent.id, error = %error, "reconciler: issuer unavailable, will retry");
                report.still_pending += 1;
            }
        }
    }
    if report != Reconciled::default() {
        tracing::info!(?report, "reconciled interrupted certificate requests");
    }
    Ok(report)
}

/// The SubjectPublicKeyInfo of a stored CSR.
fn public_key_of(csr_pem: &str) -> Option<Vec<u8>> {
    let block = pem::parse(csr_pem).ok()?;
    let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(block.contents()).ok()?;
    Some(csr.certification_request_info.subject_pki.raw.to_vec())
}
