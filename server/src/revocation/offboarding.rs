//! Off-boarding (admins; the admin screen and `POST /api/v1/people/{id}/offboard`): everything one person holds
//! ends, in one transaction: the account disabled, every session ended, every API token and ACME account key
//! revoked, every ACME account deactivated — one audit event per effect — and every certificate they own that can
//! still be revoked queued as a revocation batch, carried out in the background one certificate at a time (`bulk`),
//! so one issuer's failure names itself and stops nothing else. A later sign-in whose groups still grant access
//! enables the account again (see `auth::routes`).
use app::AppError;
use app::model::{OffboardingReport, OwnerRevocationPlan, RevocableCertificate, RevocationReason, Role};
use app::ssr::{Caller, Credential, RequestMeta};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::bulk::{Entry, NewBatch};
use crate::audit::{self, Action, Actor, Object};
use crate::auth::step_up::require_recent_mfa;
use crate::db;
use crate::error::ServerError;
use crate::state::AppState;

fn admins_only(caller: &Caller) -> Result<(), ServerError> {
    if caller.role == Role::Admin { Ok(()) } else { Err(ServerError::Client(AppError::Forbidden)) }
}

/// The person named by `who` (e-mail address or display name) and what they hold, for a confirmation.
pub async fn owner_plan(state: &AppState, caller: &Caller, who: &str) -> Result<OwnerRevocationPlan, ServerError> {
    admins_only(caller)?;
    let who = who.trim();
    if who.is_empty() || who.len() > 200 {
        return Err(ServerError::Client(AppError::invalid("owner", "enter the person's e-mail address or name")));
    }
    let mut people = db::users::find_people(&state.pool, who).await?;
    let person = match people.len() {
        0 => {
            return Err(ServerError::Client(AppError::invalid(
                "owner",
                format!("nobody is called or reachable at `{who}`"),
            )));
        }
        1 => people.remove(0),
        many => {
            return Err(ServerError::Client(AppError::invalid(
                "owner",
                format!("{many} people match `{who}`; use their e-mail address"),
            )));
        }
    };
    let now = OffsetDateTime::now_utc();
    let certificates = db::revocations::revocable_of_owner(&state.pool, person.id, now)
        .await?
        .into_iter()
        .map(|row| RevocableCertificate {
            id: row.id,
            common_name: row.common_name,
            serial: row.serial,
            issuer_id: row.issuer_id,
        })
        .collect();
    let live_tokens = db::api_tokens::list_live(&state.pool, Some(person.id), now).await?.len();
    Ok(OwnerRevocationPlan {
        owner_id: person.id,
        owner_name: person.display_name,
        owner_email: person.email,
        certificates,
        live_tokens: u32::try_from(live_tokens).unwrap_or(u32::MAX),
        disabled: person.disabled_at.is_some(),
    })
}

/// Off-boards `person_id`, revoking their certificates for `reason`. In the browser a step-up action; an admin's
/// read-write API token may do it too (the HR pipeline's path), since it only takes access away.
pub async fn offboard(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    person_id: Uuid,
    reason: RevocationReason,
) -> Result<OffboardingReport, ServerError> {
    admins_only(caller)?;
    let now = OffsetDateTime::now_utc();
    if caller.credential == Credential::Session {
        require_recent_mfa(caller, now, state.config.auth.step_up_max_age).map_err(ServerError::Client)?;
    }
    if person_id == caller.user_id {
        return Err(ServerError::Client(AppError::invalid("person", "you cannot off-board yourself")));
    }
    let Some(person) = db::users::person(&state.pool, person_id).await? else {
        return Err(ServerError::Client(AppError::not_found("person")));
    };
    let actor = Actor::caller(meta, caller);
    // Certificates to queue, read before the transaction.
    let mut entries = Vec::new();
    for row in db::revocations::revocable_of_owner(&state.pool, person_id, now).await? {
        let Some(record) = db::certificates::find_visible(&state.pool, row.id, None).await? else { continue };
        let entry = Entry::of(state, &record)?;
        entries.push((record, entry));
    }
    let mut tx = state.pool.begin().await?;
    // Every row first (the person, their tokens, their machines' keys and accounts, the queued revocations), the
    // audit chain's head last (see `audit::append`).
    let newly_disabled = db::users::disable(&mut tx, person_id, now).await?;
    let tokens = db::api_tokens::revoke_all_of(&mut tx, person_id, now).await?;
    let keys = db::acme_server::revoke_account_keys_of(&mut tx, person_id, now).await?;
    let accounts =
        db::acme_server::deactivate_accounts(&mut tx, db::acme_server::AccountsOf::Owner(person_id), now).await?;
    let batch = NewBatch { id: Uuid::new_v4(), requested_by: caller.user_id, reason, offboarded: Some(person_id), now };
    let queued =
        if entries.is_empty() { None } else { Some(super::bulk::queue_rows(&mut tx, &batch, &entries).await?) };

    let mut events = Vec::new();
    if newly_disabled {
        let details = json!({ "reason": reason.as_str(), "by": "offboarding" });
        for action in [Action::UserDisabled, Action::UserSessionsEnded] {
            events.push(actor.did(action).on(Object::User(person_id)).with(details.clone()));
        }
    }
    let by = json!({ "owner": person_id, "by": "offboarding" });
    events.extend(
        tokens.iter().map(|token| actor.did(Action::ApiTokenRevoked).on(Object::ApiToken(*token)).with(by.clone())),
    );
    // Their machines: ACME account keys revoked and the ACME accounts bound to them deactivated.
    events.extend(
        keys.iter()
            .map(|key| actor.did(Action::AcmeAccountKeyRevoked).on(Object::AcmeAccountKey(*key)).with(by.clone())),
    );
    events.extend(
        accounts.iter().map(|account| {
            actor.did(Action::AcmeAccountDeactivated).on(Object::AcmeAccount(*account)).with(by.clone())
        }),
    );
    for event in &events {
        audit::append(&mut tx, &state.chain_key, event, now).await?;
    }
    // Their certificates: queued in the same transaction, revoked in the background (see `bulk`).
    let queued = match &queued {
        Some(rows) => super::bulk::audit_queued(&mut tx, state, &actor, &batch, &entries, rows).await?,
        None => 0,
    };
    tx.commit().await?;
    if queued > 0 {
        super::worker::spawn(state, actor, batch.id);
    }
    let revocations =
        if entries.is_empty() { None } else { Some(super::bulk::view_of(state, batch.id, reason.as_str()).await?) };
    Ok(OffboardingReport {
        owner_id: person_id,
        owner_name: person.display_name,
        newly_disabled,
        tokens_revoked: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
        revocations,
    })
}
