//! The certificate inventory as the UI and the API see it: one page of the list (filters, keyset cursor), one
//! certificate's detail with its history, and what a person may request (the request form's options).

use app::AppError;
use app::model::{
    CertStatus, CertSummary, CertificateDetail, CertificatePage, CertificateQuery, HistoryEntry, IssuerOption,
    RequestOptions, RevocationView,
};
use app::ssr::Caller;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::auth::roles::authority_over;
use crate::auth::roles::owner_scope;
use crate::bundle::CertificateFacts;
use crate::db;
use crate::db::certificates::stored_status;
use crate::error::ServerError;
use crate::keys::KeyType;
use crate::revocation::is_revocable;
use crate::state::AppState;

mod cursor;
mod subject_note;

const PAGE_SIZE: i64 = 50;
const MAX_SEARCH: usize = 200;
const MAX_EXPIRY_FILTER_DAYS: u32 = 3650;

pub async fn list(state: &AppState, caller: &Caller, query: CertificateQuery) -> Result<CertificatePage, ServerError> {
    let invalid = |field: &str, message: String| ServerError::Client(AppError::invalid(field, message));
    let search = query.search.trim().to_ascii_lowercase().replace(':', "");
    let owner_search = query.owner.trim().to_ascii_lowercase();
    if search.len() > MAX_SEARCH || owner_search.len() > MAX_SEARCH {
        return Err(invalid("search", format!("at most {MAX_SEARCH} characters")));
    }
    let position = match query.after.as_deref() {
        None | Some("") => cursor::start(query.sort),
        Some(text) => cursor::decode(query.sort, text)
            .ok_or_else(|| invalid("after", "this page link is not valid; start from the first page".into()))?,
    };
    let now = OffsetDateTime::now_utc();
    let days_from_now = |field: &str, days: Option<u32>| match days {
        Some(days) if days > MAX_EXPIRY_FILTER_DAYS => {
            Err(invalid(field, format!("at most {MAX_EXPIRY_FILTER_DAYS} days")))
        }
        Some(days) => Ok(Some(now + time::Duration::days(i64::from(days)))),
        None => Ok(None),
    };
    let expiring_before = days_from_now("expiring_within_days", query.expiring_within_days)?;
    let expiring_from = days_from_now("expiring_after_days", query.expiring_after_days)?;
    if let (Some(from), Some(before)) = (expiring_from, expiring_before)
        && from >= before
    {
        return Err(invalid("expiring_after_days", "must be fewer days than expiring_within_days".into()));
    }
    let owner = owner_scope(caller);
    let filter = db::certificates::ListFilter {
        owner,
        search: &search,
        // Someone who only sees their own certificates has nothing to filter by owner.
        owner_search: if owner.is_none() { &owner_search } else { "" },
        issuer_id: query.issuer_id.as_deref().filter(|id| !id.is_empty()),
        status: query.status.map(CertStatus::as_str),
        expiring_before,
        expiring_from,
        limit: PAGE_SIZE + 1,
    };
    let mut rows = db::certificates::list(&state.pool, &filter, &position).await?;
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|row| cursor::encode(query.sort, row))
    } else {
        None
    };
    let rows = rows
        .into_iter()
        .map(|row| CertSummary {
            id: row.id,
            status: stored_status(&row.status),
            common_name: row.common_name,
            issuer_id: row.issuer_id,
            serial: row.serial,
            not_after: row.not_after.and_then(|time| time.format(&Rfc3339).ok()),
            owner_name: row.owner_name,
            acme_account: row.acme_account,
        })
        .collect();
    let issuers = state.issuers.iter().map(|issuer| issuer.summary()).collect();
    Ok(CertificatePage { rows, next, all_owners: owner.is_none(), issuers })
}

pub async fn detail(state: &AppState, caller: &Caller, id: Uuid) -> Result<CertificateDetail, ServerError> {
    let Some(record) = db::certificates::find_visible(&state.pool, id, owner_scope(caller)).await? else {
        return Err(ServerError::Client(AppError::not_found("certificate")));
    };
    let facts: Option<CertificateFacts> = record.facts.clone().and_then(|json| serde_json::from_value(json).ok());
    let now = OffsetDateTime::now_utc();
    let (lifetime_used_percent, days_left) = match (record.not_before, record.not_after) {
        (Some(start), Some(end)) if end > start => {
            let used = ((now - start).as_seconds_f64() / (end - start).as_seconds_f64()).clamp(0.0, 1.0);
            (Some((used * 100.0).round() as u8), Some((end - now).whole_days()))
        }
        _ => (None, None),
    };
    let chain = [record.chain_pem.as_deref(), record.root_pem.as_deref()]
        .into_iter()
        .flatten()
        .flat_map(|text| pem::parse_many(text).unwrap_or_default())
        .filter_map(|block| crate::bundle::certificate_facts(block.contents()).ok())
        .map(|facts| facts.subject)
        .collect();
    let history = db::audit::events_for_object(&state.pool, &format!("certificate:{id}"), 50)
        .await?
        .into_iter()
        .map(|event| HistoryEntry {
            at: event.occurred_at.format(&Rfc3339).unwrap_or_default(),
            action: event.action,
            actor: event.actor,
            outcome: event.outcome,
        })
        .collect();
    let status = stored_status(&record.status);
    let revocation = record.revoked_at.map(|revoked_at| RevocationView {
        revoked_at: revoked_at.format(&Rfc3339).unwrap_or_default(),
        reason: record.revocation_reason.clone(),
        revoked_by: record.revoked_by_name.clone().unwrap_or_else(|| "found on the issuer's CRL".to_owned()),
    });
    // A revocation adopted from the CRL may still be given its reason by re-revoking it.
    let revocable = is_revocable(status) || (status == CertStatus::Revoked && record.revoked_by.is_none());
    let can_revoke = revocable && authority_over(caller, record.owner_id).is_some();
    let renewal =
        crate::renewal::view::view(&state.pool, caller, id, record.owner_id, status, record.acme_account.clone())
            .await?;
    let issuer_name = state
        .issuers
        .get(&record.issuer_id)
        .map(|issuer| issuer.config.display_name.clone())
        .unwrap_or_else(|| record.issuer_id.clone());
    Ok(CertificateDetail {
        id: record.id,
        acme_account: record.acme_account.clone(),
        status,
        issuer_name,
        owner_name: record.owner_name,
        dns_names: record.dns_names,
        ip_addresses: record.ip_addresses,
        key_algorithm: record.key_algorithm,
        key_held: record.encrypted_private_key.is_some(),
        key_access: crate::downloads::key_access::key_access(caller, record.owner_id),
        client_auth: record.client_auth,
        serial: record.serial,
        subject: facts.as_ref().map(|facts| facts.subject.clone()),
        common_name_note: facts
            .as_ref()
            .and_then(|facts| subject_note::common_name_note(&record.common_name, facts.common_name.as_deref())),
        issuer_dn: facts.as_ref().map(|facts| facts.issuer.clone()),
        not_before: record.not_before.and_then(|time| time.format(&Rfc3339).ok()),
        not_after: record.not_after.and_then(|time| time.format(&Rfc3339).ok()),
        lifetime_used_percent,
        days_left,
        fingerprint_sha256: record.fingerprint_sha256,
        key_usage: facts.as_ref().map(|facts| facts.key_usage.clone()).unwrap_or_default(),
        extended_key_usage: facts.as_ref().map(|facts| facts.extended_key_usage.clone()).unwrap_or_default(),
        crl_distribution_points: facts.map(|facts| facts.crl_distribution_points).unwrap_or_default(),
        chain,
        policy_rule: record.policy_rule,
        failure: record.failure,
        created_at: record.created_at.format(&Rfc3339).unwrap_or_default(),
        history,
        revocation,
        can_revoke,
        renewal,
        order: db::acme::find_order(&state.pool, id).await?.map(|row| crate::orders::progress_of(&row)),
        common_name: record.common_name,
        issuer_id: record.issuer_id,
    })
}

pub async fn request_options(state: &AppState, caller: &Caller) -> Result<RequestOptions, ServerError> {
    let groups = db::users::groups(&state.pool, caller.user_id).await?;
    let issuers = state
        .issuers
        .iter()
        .map(|issuer| {
            let allowed = crate::policy::allowed_for(&issuer.config.policy, &groups);
            IssuerOption {
                id: issuer.config.id.clone(),
                display_name: issuer.config.display_name.clone(),
                kind: issuer.summary().kind,
                can_request: allowed.can_request(),
                suffixes: allowed.suffixes.iter().map(|name| name.as_str().to_owned()).collect(),
                wildcard_suffixes: allowed.wildcard_suffixes.iter().map(|name| name.as_str().to_owned()).collect(),
                ip_sans: allowed.ip_sans(),
                ip_ranges: allowed.ip_ranges.iter().map(ToString::to_string).collect(),
                client_auth: allowed.client_auth,
                max_validity_days: allowed.max_validity_days,
                key_types: allowed.key_types.iter().map(|key| key.as_str().to_owned()).collect(),
            }
        })
        .collect();
    let key_types = KeyType::ALL.iter().map(|key| (key.as_str().to_owned(), key.label().to_owned())).collect();
    Ok(RequestOptions { issuers, key_types })
}
