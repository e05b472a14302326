//! The Machines page's side of certdesk's ACME server: the directories a person can point a client at, the ACME
//! accounts bound to people's keys (the caller's own; everyone's for admins) with their recent orders and the
//! certificates they hold, and deactivating an account from the portal (its owner or an admin; anyone else's is
//! "not found"), with its own audit action in the same transaction. The ACME server refuses a deactivated account.

use app::AppError;
use app::model::{AccountKeyRef, AcmeAccountView, AcmeAccountsView, AcmeDirectoryView, AcmeOrderView, Role};
use app::ssr::RequestMeta;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Directory;
use crate::audit::{self, Action, Actor, Object};
use crate::auth::tokens::format_time;
use crate::db;
use crate::error::ServerError;
use crate::state::AppState;

/// Every issuer with the ACME server on, in configuration order.
pub fn directories(state: &AppState, request: &RequestMeta) -> Result<Vec<AcmeDirectoryView>, ServerError> {
    request.caller().map_err(ServerError::Client)?;
    let listed = state.config.issuers.iter().filter(|issuer| issuer.acme_server.is_some()).filter_map(|issuer| {
        let directory = Directory::of(state, &issuer.id).ok()?;
        Some(AcmeDirectoryView {
            issuer_id: issuer.id.clone(),
            display_name: issuer.display_name.clone(),
            directory_url: directory.resource("directory"),
            eab_required: directory.eab_required,
        })
    });
    Ok(listed.collect())
}

/// The caller's accounts, or everyone's for an admin, with their recent orders.
pub async fn accounts(state: &AppState, request: &RequestMeta) -> Result<AcmeAccountsView, ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    let everyone = caller.role == Role::Admin;
    let owner = (!everyone).then_some(caller.user_id);
    let rows = db::acme_machines::accounts(&state.pool, owner, OffsetDateTime::now_utc()).await?;
    let orders = db::acme_machines::recent_orders(&state.pool, owner).await?;
    let accounts = rows
        .into_iter()
        .map(|row| AcmeAccountView {
            id: row.id,
            issuer_id: row.issuer_id,
            status: row.status,
            contact: row.contact,
            created_at: format_time(row.created_at),
            account_key: row.key_name.zip(row.key_key_id).map(|(name, key_id)| AccountKeyRef { name, key_id }),
            owner_name: row.owner_name,
            certificates: u32::try_from(row.certificates).unwrap_or(u32::MAX),
            orders: u32::try_from(row.orders).unwrap_or(u32::MAX),
        })
        .collect();
    let orders = orders
        .into_iter()
        .map(|row| AcmeOrderView {
            id: row.id,
            account_id: row.account_id,
            identifiers: row.identifiers,
            status: row.status,
            created_at: format_time(row.created_at),
            certificate_id: row.certificate_id,
        })
        .collect();
    Ok(AcmeAccountsView { everyone, accounts, orders })
}

/// Deactivates the account (its owner, or an admin: taking access away needs no step-up).
pub async fn deactivate(
    state: &AppState,
    request: &RequestMeta,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<(), ServerError> {
    let caller = request.caller().map_err(ServerError::Client)?;
    let is_admin = caller.role == Role::Admin;
    let owner = match db::acme_machines::account_owner(&state.pool, id).await? {
        Some(owner) if is_admin || owner == Some(caller.user_id) => owner,
        _ => return Err(ServerError::Client(AppError::not_found("ACME account"))),
    };
    let mut tx = state.pool.begin().await?;
    if !db::acme_server::deactivate_account(&mut tx, id, now).await? {
        return Err(ServerError::Client(AppError::invalid("id", "this ACME account is already deactivated")));
    }
    let by = if owner == Some(caller.user_id) { "owner" } else { "admin" };
    let details = json!({ "owner": owner, "by": by });
    let entry = Actor::caller(request, caller)
        .did(Action::AcmeAccountDeactivatedInPortal)
        .on(Object::AcmeAccount(id))
        .with(details);
    audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    tx.commit().await?;
    Ok(())
}
