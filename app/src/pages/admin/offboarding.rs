//! Off-boarding: find a person by e-mail address or name, see everything they own that can still be revoked
//! (with the count), confirm, and revoke it all with one reason.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::batch::{BatchProgress, BatchRun, ReasonSelect};
use crate::api::plan_owner_revocation;
use crate::components::error_panel::ErrorPanel;
use crate::model::{OwnerRevocationPlan, RevocationReason};

#[component]
pub fn Offboarding() -> impl IntoView {
    let who = RwSignal::new(String::new());
    let find = Action::new(|who: &String| plan_owner_revocation(who.clone()));
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        find.dispatch(who.get_untracked());
    };
    view! {
        <section class="panel" aria-labelledby="offboarding-heading">
            <h2 id="offboarding-heading">"Revoke everything a person owns"</h2>
            <p class="help">"For off-boarding: every certificate of theirs that is issued and not yet expired."</p>
            <form class="form inline" on:submit=on_submit>
                <div class="field">
                    <label for="offboard-who">"Person"</label>
                    <input id="offboard-who" type="search" required maxlength="200" autocomplete="off"
                        placeholder="e-mail address or name" prop:value=who
                        on:input=move |event| who.set(event_target_value(&event)) />
                </div>
                <button class="button" type="submit" disabled=move || find.pending().get()>
                    {move || if find.pending().get() { "Looking…" } else { "Find their certificates" }}
                </button>
            </form>
            {move || find.value().get().map(|result| match result {
                Ok(plan) => view! { <Plan plan /> }.into_any(),
                Err(error) => view! { <ErrorPanel error /> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Plan(plan: OwnerRevocationPlan) -> impl IntoView {
    let count = plan.certificates.len();
    let who = match &plan.owner_email {
        Some(email) => format!("{} ({email})", plan.owner_name),
        None => plan.owner_name.clone(),
    };
    if count == 0 {
        return view! { <p class="empty" role="status">{format!("{who} owns no certificate that can be revoked.")}</p> }
            .into_any();
    }
    let reason = RwSignal::new(None::<RevocationReason>);
    let confirmed = RwSignal::new(false);
    let problem = RwSignal::new(None::<&'static str>);
    let run = BatchRun::new();
    let ids: Vec<uuid::Uuid> = plan.certificates.iter().map(|certificate| certificate.id).collect();
    let plural = if count == 1 { "" } else { "s" };
    let start = move |event: SubmitEvent| {
        event.prevent_default();
        match (reason.get_untracked(), confirmed.get_untracked()) {
            (None, _) => problem.set(Some("Choose a reason.")),
            (Some(_), false) => problem.set(Some("Tick the confirmation first.")),
            (Some(chosen), true) => {
                problem.set(None);
                run.start(ids.clone(), chosen);
            }
        }
    };
    view! {
        <form class="form offboarding-plan" on:submit=start novalidate>
            <p role="status"><strong>{who.clone()}</strong>{format!(" owns {count} certificate{plural} that can be revoked:")}</p>
            <ul class="plan">
                {plan.certificates.into_iter().map(|certificate| {
                    let id = certificate.id;
                    view! {
                        <li>
                            <a href=format!("/certificates/{id}")>{certificate.common_name}</a>
                            " · " <span class="muted">{certificate.issuer_id}</span>
                            " · " <code class="serial">{certificate.serial.unwrap_or_default()}</code>
                            " " {move || run.state_of(id).map(|state| view! { <span class=state.class()>{state.label()}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <div class="field">
                <label for="offboard-reason">"Reason"</label>
                <ReasonSelect id="offboard-reason" reason />
            </div>
            <label class="choice">
                <input type="checkbox" prop:checked=confirmed on:change=move |_| confirmed.update(|value| *value = !*value) />
                {format!("I want to revoke all {count} certificate{plural} of {who}; this cannot be undone.")}
            </label>
            <p class="field-error" role="alert">{move || problem.get()}</p>
            <button class="button danger" type="submit" disabled=move || run.running.get()>
                {format!("Revoke all {count} certificate{plural}")}
            </button>
            <BatchProgress run />
        </form>
    }
    .into_any()
}
