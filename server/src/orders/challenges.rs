//! Challenge answers for the challenge `issuers::acme::challenge_choice` picked: putting the answer where
//! the CA looks — HTTP-01 into PostgreSQL, where every replica's responder finds it; DNS-01 as a TXT record
//! through RFC 2136 — and taking every answer down once the order ended, success or not.

use instant_acme::KeyAuthorization;
use time::OffsetDateTime;
use uuid::Uuid;

use super::dns::PublishFailure;
use crate::config::ChallengeKind;
use crate::db;
use crate::issuers::acme::Choice;
use crate::state::AppState;

/// The TTL of a DNS-01 record: validators look once, soon; a short TTL keeps a stale answer from lingering.
const TXT_TTL: u32 = 60;

/// Puts the answer for one challenge where the CA will look, and records it for the take-down.
pub async fn publish(
    state: &AppState,
    certificate_id: Uuid,
    identifier: &str,
    choice: &Choice,
    token: &str,
    key_authorization: &KeyAuthorization,
) -> Result<(), PublishFailure> {
    let now = OffsetDateTime::now_utc();
    match choice.kind {
        ChallengeKind::Http01 => {
            let challenge = db::acme::NewChallenge {
                certificate_id,
                identifier,
                kind: "http-01",
                token: Some(token),
                response: key_authorization.as_str(),
                dns_record: None,
                dns_server: None,
                now,
            };
            db::acme::insert_challenge(&state.pool, &challenge).await?;
            Ok(())
        }
        ChallengeKind::Dns01 => {
            let server = choice.dns_server.as_deref().unwrap_or_default();
            let record = format!("_acme-challenge.{}", identifier.strip_prefix("*.").unwrap_or(identifier));
            let value = key_authorization.dns_value();
            let challenge = db::acme::NewChallenge {
                certificate_id,
                identifier,
                kind: "dns-01",
                token: None,
                response: &value,
                dns_record: Some(&record),
                dns_server: Some(server),
                now,
            };
            // Recorded first: a record published and then forgotten by a crash would never be taken down.
            db::acme::insert_challenge(&state.pool, &challenge).await?;
            let published = super::dns::publish_txt(state, server, &record, &value, TXT_TTL).await;
            if let Err(PublishFailure::Final(_)) = &published {
                db::acme::forget_dns_record(&state.pool, certificate_id, &record, &value, now).await?;
            }
            published
        }
    }
}

/// Takes down a finished order's answers. A DNS record that cannot be removed now stays listed and is retried by
/// the resumer; the order's outcome does not wait for it.
pub async fn take_down(state: &AppState, certificate_id: Uuid) {
    match db::acme::finish_challenges(&state.pool, certificate_id).await {
        Ok(records) => remove_records(state, records).await,
        Err(error) => {
            tracing::warn!(certificate = %certificate_id, error = %error, "could not take down challenge answers")
        }
    }
}

/// Retries the removal of DNS records a failed take-down left behind, at most once a minute per instance (a
/// DNS server that keeps refusing should not fill the log every two seconds).
pub async fn retry_take_downs(state: &AppState) -> Result<(), sqlx::Error> {
    static LAST_TRY: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if now - LAST_TRY.load(std::sync::atomic::Ordering::Relaxed) < 60 {
        return Ok(());
    }
    LAST_TRY.store(now, std::sync::atomic::Ordering::Relaxed);
    let records = db::acme::stale_dns_records(&state.pool, 50).await?;
    remove_records(state, records).await;
    Ok(())
}

async fn remove_records(state: &AppState, records: Vec<db::acme::DnsRecord>) {
    for record in records {
        match super::dns::remove_txt(state, &record.dns_server, &record.dns_record, &record.response).await {
            Ok(()) => {
                if let Err(error) = db::acme::mark_dns_removed(&state.pool, record.id, OffsetDateTime::now_utc()).await
                {
                    tracing::warn!(record = %record.dns_record, error = %error, "removed a TXT record but could not note it");
                }
            }
            Err(detail) => {
                tracing::warn!(record = %record.dns_record, detail = %detail, "TXT record not removed yet; will retry")
            }
        }
    }
}
