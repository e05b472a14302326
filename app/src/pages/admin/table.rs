//! The revocation screen's table: every matching certificate with a checkbox when it can be revoked, one reason
//! for the selection, a confirmation naming how many, and each row's result as the batch runs.

use std::collections::HashSet;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::batch::{BatchProgress, BatchRun, ReasonSelect};
use crate::model::{CertStatus, CertSummary, CertificatePage, CertificateQuery, RevocationReason};
use crate::pages::certificates::{day_of, next_href};

fn revocable(row: &CertSummary) -> bool {
    matches!(row.status, CertStatus::Issued | CertStatus::Superseded)
}

#[component]
pub fn RevocationTable(page: CertificatePage, query: CertificateQuery) -> impl IntoView {
    let next = page.next.as_ref().map(|next| next_href("/admin", &query, next));
    let revocable_ids: Vec<uuid::Uuid> = page.rows.iter().filter(|row| revocable(row)).map(|row| row.id).collect();
    let selected = RwSignal::new(HashSet::<uuid::Uuid>::new());
    let reason = RwSignal::new(None::<RevocationReason>);
    let confirming = RwSignal::new(false);
    let problem = RwSignal::new(None::<&'static str>);
    let run = BatchRun::new();
    let all_ids = StoredValue::new(revocable_ids);
    let all_selected = move || {
        let count = all_ids.with_value(Vec::len);
        count > 0 && selected.with(HashSet::len) == count
    };
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if selected.with(HashSet::is_empty) {
            problem.set(Some("Select at least one certificate."));
        } else if reason.get_untracked().is_none() {
            problem.set(Some("Choose a reason."));
        } else {
            problem.set(None);
            confirming.set(true);
        }
    };
    let confirm = move |_| {
        let Some(chosen) = reason.get_untracked() else { return };
        // In table order, so results fill in from the top.
        let ids: Vec<uuid::Uuid> =
            all_ids.with_value(|ids| ids.iter().copied().filter(|id| selected.with(|set| set.contains(id))).collect());
        confirming.set(false);
        // The run keeps its own list; the selection starts over for the next batch.
        selected.set(HashSet::new());
        run.start(ids, chosen);
    };
    let count = move || selected.with(HashSet::len);
    view! {
        <form class="form batch" on:submit=on_submit novalidate aria-describedby="batch-problem">
            <div class="table-wrap">
                <table>
                    <caption class="sr-only">"Certificates to revoke"</caption>
                    <thead>
                        <tr>
                            <th scope="col">
                                <input type="checkbox" aria-label="Select every revocable certificate on this page"
                                    prop:checked=all_selected
                                    on:change=move |_| {
                                        if all_selected() {
                                            selected.set(HashSet::new());
                                        } else {
                                            selected.set(all_ids.with_value(|ids| ids.iter().copied().collect()));
                                        }
                                    } />
                            </th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Owner"</th>
                            <th scope="col">"Issuer"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Expires"</th>
                            <th scope="col">"Serial"</th>
                            <th scope="col">"Result"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.rows.into_iter().map(|row| {
                            let id = row.id;
                            let can = revocable(&row);
                            let label = format!("Select {}", row.common_name);
                            let status = row.status;
                            view! {
                                <tr>
                                    <td>
                                        {move || {
                                            let still = can && !run.state_of(id).is_some_and(|state| state.is_revoked());
                                            still.then(|| view! {
                                                <input type="checkbox" aria-label=label.clone()
                                                    prop:checked=move || selected.with(|set| set.contains(&id))
                                                    on:change=move |_| selected.update(|set| {
                                                        if !set.remove(&id) { set.insert(id); }
                                                    }) />
                                            })
                                        }}
                                    </td>
                                    <th scope="row"><a href=format!("/certificates/{id}")>{row.common_name.clone()}</a></th>
                                    <td>{row.owner_name.clone()}</td>
                                    <td>{row.issuer_id.clone()}</td>
                                    <td>
                                        {move || {
                                            let shown = if run.state_of(id).is_some_and(|state| state.is_revoked()) { CertStatus::Revoked } else { status };
                                            view! { <span class=format!("badge {}", shown.as_str())>{shown.label()}</span> }
                                        }}
                                    </td>
                                    <td>{row.not_after.as_deref().map(day_of).unwrap_or_else(|| "—".into())}</td>
                                    <td><code class="serial">{row.serial.clone().unwrap_or_else(|| "—".into())}</code></td>
                                    <td>
                                        {move || run.state_of(id).map(|state| view! { <span class=state.class()>{state.label()}</span> })}
                                    </td>
                                </tr>
                            }
                            .into_any()
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div class="batch-controls">
                <div class="field">
                    <label for="batch-reason">"Reason"</label>
                    <ReasonSelect id="batch-reason" reason />
                </div>
                <button class="button danger" type="submit" disabled=move || run.running.get()>
                    {move || format!("Revoke selected ({})", count())}
                </button>
            </div>
            <p id="batch-problem" class="field-error" role="alert">{move || problem.get()}</p>
            <Show when=move || confirming.get()>
                <div class="confirm" role="alertdialog" aria-labelledby="batch-confirm-text">
                    <p id="batch-confirm-text">
                        {move || format!(
                            "Revoke {} certificate{} with the reason “{}”? This cannot be undone.",
                            count(), if count() == 1 { "" } else { "s" },
                            reason.get().map(|reason| reason.label()).unwrap_or_default(),
                        )}
                    </p>
                    <button class="button danger" type="button" on:click=confirm>
                        {move || format!("Revoke {} certificate{}", count(), if count() == 1 { "" } else { "s" })}
                    </button>
                    " "
                    <button class="button" type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            </Show>
            <BatchProgress run />
        </form>
        {next.map(|href| view! { <p><a class="button" href=href>"Older certificates →"</a></p> })}
    }
}
