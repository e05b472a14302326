//! Off-boarding: find a person by e-mail address or name, see everything they hold (certificates that can still
//! be revoked, live API tokens, the account), confirm with one reason, and end it all in one step: the account
//! disabled and its sessions ended, every token revoked, every certificate queued and revoked in the background —
//! each outcome listed as it arrives.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::batch::{BatchProgress, BatchRun, ReasonSelect, RowState};
use crate::api::{offboard_person, plan_owner_revocation};
use crate::components::error_panel::ErrorPanel;
use crate::model::{OffboardingReport, OwnerRevocationPlan, RevocationReason};
#[component]
pub fn Offboarding(
    /// Bumped after each off-boarding, for the panels that show what it changed.
    offboarded: RwSignal<u32>,
) -> impl IntoView {
    let who = RwSignal::new(String::new());
    let find = Action::new(|who: &String| plan_owner_revocation(who.clone()));
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        find.dispatch(who.get_untracked());
    };
    view! {
        <section class="panel" aria-labelledby="offboarding-heading">
            <h2 id="offboarding-heading">"Off-board a person"</h2>
            <p class="help">"Ends everything they hold: their account and sessions, their API tokens, and every \
                certificate of theirs that is issued and not yet expired. Signing in again works only while their \
                groups still grant access."</p>
            <form class="form inline" on:submit=on_submit>
                <div class="field">
                    <label for="offboard-who">"Person"</label>
                    <input id="offboard-who" type="search" required maxlength="200" autocomplete="off"
                        placeholder="e-mail address or name" prop:value=who
                        on:input=move |event| who.set(event_target_value(&event)) />
                </div>
                <button class="button" type="submit" disabled=move || find.pending().get()>
                    {move || if find.pending().get() { "Looking…" } else { "Find what they hold" }}
                </button>
            </form>
            {move || find.value().get().map(|result| match result {
                Ok(plan) => view! { <Plan plan offboarded /> }.into_any(),
                Err(error) => view! { <ErrorPanel error /> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Plan(plan: OwnerRevocationPlan, offboarded: RwSignal<u32>) -> impl IntoView {
    let count = plan.certificates.len();
    let tokens = plan.live_tokens;
    let who = match &plan.owner_email {
        Some(email) => format!("{} ({email})", plan.owner_name),
        None => plan.owner_name.clone(),
    };
    let reason = RwSignal::new(None::<RevocationReason>);
    let confirmed = RwSignal::new(false);
    let problem = RwSignal::new(None::<&'static str>);
    let owner_id = plan.owner_id;
    let offboard = Action::new(move |reason: &RevocationReason| {
        let reason = *reason;
        async move {
            let report = offboard_person(owner_id, reason).await;
            if report.is_ok() {
                offboarded.update(|count| *count += 1);
            }
            report
        }
    });
    let start = move |event: SubmitEvent| {
        event.prevent_default();
        match (reason.get_untracked(), confirmed.get_untracked()) {
            (None, _) => problem.set(Some("Choose a reason.")),
            (Some(_), false) => problem.set(Some("Tick the confirmation first.")),
            (Some(chosen), true) => {
                problem.set(None);
                offboard.dispatch(chosen);
            }
        }
    };
    let plural = |n: usize, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let summary = format!(
        " holds {} that can be revoked and {}.",
        plural(count, "certificate", "certificates"),
        plural(tokens as usize, "live API token", "live API tokens"),
    );
    let account = if plan.disabled {
        "Their account is already disabled; off-boarding again revokes what they still hold."
    } else {
        "Their account will be disabled and every session of theirs ended at its next request."
    };
    view! {
        <form class="form offboarding-plan" on:submit=start novalidate>
            <p role="status"><strong>{who.clone()}</strong>{summary}</p>
            <p class="help">{account}</p>
            {(count > 0).then(|| view! {
                <ul class="plan">
                    {plan.certificates.into_iter().map(|certificate| view! {
                        <li>
                            <a href=format!("/certificates/{}", certificate.id)>{certificate.common_name}</a>
                            " · " <span class="muted">{certificate.issuer_id}</span>
                            " · " <code class="serial">{certificate.serial.unwrap_or_default()}</code>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <div class="field">
                <label for="offboard-reason">"Reason for revoking their certificates"</label>
                <ReasonSelect id="offboard-reason" reason />
            </div>
            <label class="choice">
                <input type="checkbox" prop:checked=confirmed on:change=move |_| confirmed.update(|value| *value = !*value) />
                {format!("I want to off-board {who}; revocations cannot be undone.")}
            </label>
            <p class="field-error" role="alert">{move || problem.get()}</p>
            <button class="button danger" type="submit" disabled=move || offboard.pending().get()>
                {move || if offboard.pending().get() { "Off-boarding…".to_owned() } else { format!("Off-board {}", plan.owner_name) }}
            </button>
            <p class="muted" role="status" aria-live="polite">
                {move || offboard.pending().get().then(|| "Ending their access and queuing their certificates…".to_owned())}
            </p>
            {move || offboard.value().get().map(|result| match result {
                Ok(report) => view! { <Report report /> }.into_any(),
                Err(error) => view! { <ErrorPanel error /> }.into_any(),
            })}
        </form>
    }
}

/// What off-boarding did, one line per effect and per certificate (followed live while the server revokes them).
#[component]
fn Report(report: OffboardingReport) -> impl IntoView {
    let account =
        if report.newly_disabled { "Account disabled; every session ended." } else { "Account was already disabled." };
    let run = BatchRun::new();
    let certificates: Vec<(uuid::Uuid, String)> = report
        .revocations
        .as_ref()
        .map(|batch| batch.items.iter().map(|item| (item.certificate_id, item.common_name.clone())).collect())
        .unwrap_or_default();
    if let Some(batch) = report.revocations {
        run.follow(batch);
    }
    let failed =
        move || run.states.with(|states| states.values().filter(|state| matches!(state, RowState::Failed(_))).count());
    view! {
        // Not a live region as a whole: the headline and the progress line below each are one.
        <div class="notice offboarding-report">
            <p role="status"><strong>{format!("{} is off-boarded.", report.owner_name)}</strong></p>
            <ul>
                <li class="result ok">{account}</li>
                <li class="result ok">{format!("{} API token(s) revoked.", report.tokens_revoked)}</li>
                {certificates.into_iter().map(|(id, common_name)| view! {
                    <li class=move || run.state_of(id).map_or("result pending", |state| state.class())>
                        <a href=format!("/certificates/{id}")>{common_name}</a>
                        {move || run.state_of(id).map(|state| format!(" — {}", state.label().to_lowercase()))}
                    </li>
                }).collect_view()}
            </ul>
            <BatchProgress run />
            {move || (!run.running.get() && failed() > 0).then(|| view! {
                <p class="field-error">{format!("{} certificate(s) could not be revoked now; off-board again to retry them.", failed())}</p>
            })}
        </div>
    }
}
