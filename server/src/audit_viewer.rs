//! The audit viewer for admins and auditors: one filtered page of the log (newest first, keyset cursor), one event
//! in full, the chain's state for the banner, and the export of the filtered set as CSV or JSON Lines.

pub mod export;
mod filter;
pub mod routes;

use app::AppError;
use app::model::{AuditEventSummary, AuditEventView, AuditListing, AuditQuery, ChainState, Role};
use app::ssr::{Caller, RequestMeta};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::audit::{Action, ChainStatus};
use crate::db;
use crate::db::audit::ListedEvent;
use crate::error::ServerError;
use crate::state::AppState;

pub use filter::{ParsedQuery, parse_query};

const PAGE_SIZE: i64 = 50;

/// Only admins and auditors read the log; everyone else is refused outright.
pub fn require_viewer(caller: &Caller) -> Result<(), AppError> {
    match caller.role {
        Role::Admin | Role::Auditor => Ok(()),
        Role::User => Err(AppError::Forbidden),
    }
}

fn viewer(meta: &RequestMeta) -> Result<&Caller, ServerError> {
    let caller = meta.caller().map_err(ServerError::Client)?;
    require_viewer(caller).map_err(ServerError::Client)?;
    Ok(caller)
}

pub async fn list(state: &AppState, meta: &RequestMeta, query: AuditQuery) -> Result<AuditListing, ServerError> {
    viewer(meta)?;
    let parsed = parse_query(&query).map_err(ServerError::Client)?;
    let mut rows = db::audit::list_events(&state.pool, &parsed.filter, parsed.before, PAGE_SIZE + 1).await?;
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|row| filter::encode_cursor(row.seq))
    } else {
        None
    };
    let status = state.chain_monitor.status(&state.pool, &state.chain_key).await?;
    Ok(AuditListing { rows: rows.into_iter().map(summary).collect(), next, chain: chain_state(&status) })
}

pub async fn event(state: &AppState, meta: &RequestMeta, seq: i64) -> Result<AuditEventView, ServerError> {
    viewer(meta)?;
    let Some(event) = db::audit::event_by_seq(&state.pool, seq).await? else {
        return Err(ServerError::Client(AppError::not_found("audit event")));
    };
    let action = todays_name(&event.action, &event.outcome);
    Ok(AuditEventView {
        seq: event.seq,
        at: rfc3339(event.occurred_at),
        details: serde_json::to_string_pretty(&event.details).unwrap_or_default(),
        prev_hash: hex::encode(&event.prev_hash),
        hash: hex::encode(&event.hash),
        actor: event.actor,
        actor_name: event.actor_name,
        actor_email: event.actor_email,
        recorded_action: (action != event.action).then_some(event.action),
        action,
        object: event.object,
        outcome: event.outcome,
        request_id: event.request_id,
        client_addr: event.client_addr,
    })
}

/// The banner's words for the monitor's verdict.
pub fn chain_state(status: &ChainStatus) -> ChainState {
    let (verified_through, broken) = match &status.verdict {
        Ok(seq) => (*seq, None),
        Err(chain_break) => (0, Some(chain_break.to_string())),
    };
    ChainState { verified_through, broken, checked_at: rfc3339(status.checked_at) }
}

fn summary(event: ListedEvent) -> AuditEventSummary {
    AuditEventSummary {
        seq: event.seq,
        at: rfc3339(event.occurred_at),
        actor: event.actor,
        actor_name: event.actor_name,
        action: todays_name(&event.action, &event.outcome),
        object: event.object,
        outcome: event.outcome,
    }
}

/// The viewer shows every event under today's action name, whichever version stored it (exports keep the stored
/// name: the chain's hashes cover it).
fn todays_name(stored: &str, outcome: &str) -> String {
    Action::of_stored(stored, outcome).map_or_else(|| stored.to_owned(), |action| action.name().to_owned())
}

pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}
