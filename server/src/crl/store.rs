//! Storing a checked CRL as the one certdesk serves: never an older CRL number, the same bytes only confirmed,
//! and every certificate the new CRL lists that certdesk still showed as valid marked revoked, with audit rows.

use serde_json::json;
use time::OffsetDateTime;

use super::CrlError;
use super::checked::{CheckedCrl, is_newer};
use crate::audit::{self, Action, Actor, ChainKey, Object};
use crate::db;
use crate::db::crls::StoredCrl;
use crate::db::revocations::ListedSerial;

/// What storing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The source still serves the stored CRL.
    Unchanged,
    /// A newer CRL replaced the stored one; `adopted` certificates were found revoked on it.
    Replaced { adopted: usize },
}

/// Stores `crl` under `name`. For an issuer's CRL (`issuer_id`), certificates of that issuer listed on it are
/// marked revoked. All in one transaction, under the stored row's lock.
pub async fn store(
    pool: &sqlx::PgPool,
    key: &ChainKey,
    name: &str,
    issuer_id: Option<&str>,
    crl: &CheckedCrl,
    now: OffsetDateTime,
) -> Result<Stored, CrlError> {
    let mut tx = pool.begin().await?;
    let current = db::crls::lock(&mut tx, name).await?;
    if let Some(current) = &current {
        if current.sha256 == crl.sha256 {
            db::crls::confirm(&mut tx, name, now).await?;
            tx.commit().await?;
            return Ok(Stored::Unchanged);
        }
        if !is_newer(&crl.number, &current.crl_number) {
            return Err(CrlError::NumberNotIncreasing {
                name: name.to_owned(),
                stored: current.crl_number.clone(),
                fetched: crl.number.to_string(),
            });
        }
    }
    let entry_count = i32::try_from(crl.entries.len()).unwrap_or(i32::MAX);
    db::crls::put(
        &mut tx,
        &StoredCrl {
            name: name.to_owned(),
            crl_number: crl.number.to_string(),
            this_update: crl.this_update,
            next_update: crl.next_update,
            entry_count,
            der: crl.der.clone(),
            signer_der: crl.signer_der.clone(),
            sha256: crl.sha256.clone(),
            stored_at: now,
            confirmed_at: now,
        },
    )
    .await?;
    let crl_job = Actor::job("crl");
    let crl_event = crl_job.did(Action::CrlUpdated).on(Object::Crl(name.to_owned())).with(json!({
        "crl_number": crl.number.to_string(),
        "previous_crl_number": current.map(|current| current.crl_number),
        "entries": entry_count,
        "sha256": crl.sha256,
    }));
    // Every row this transaction changes is locked before the audit chain's head (`audit::append`): a revocation
    // in flight holds its certificate's row and then waits for the head, so taking the head first would deadlock.
    let adopted = match issuer_id {
        Some(issuer_id) => {
            let listed: Vec<ListedSerial> = crl
                .entries
                .iter()
                .map(|entry| ListedSerial {
                    serial: entry.serial.clone(),
                    revoked_at: entry.revoked_at,
                    reason: entry.reason.map(str::to_owned),
                })
                .collect();
            db::revocations::adopt_listed(&mut tx, issuer_id, &listed).await?
        }
        None => Vec::new(),
    };
    audit::append(&mut tx, key, &crl_event, now).await?;
    for found in &adopted {
        // Revoked at the issuer but not recorded here: by hand in OpenBao, or certdesk stopped between the issuer's
        // answer and its own record.
        let event = crl_job.did(Action::CertificateRevoked).on(Object::Certificate(found.id)).with(json!({
            "issuer": issuer_id, "serial": found.serial, "source": "crl",
            "crl_number": crl.number.to_string(),
        }));
        audit::append(&mut tx, key, &event, now).await?;
    }
    let adopted = adopted.len();
    tx.commit().await?;
    Ok(Stored::Replaced { adopted })
}
