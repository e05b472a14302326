//! The dashboard: certificate counts by status, issuers, and what to do when there is nothing yet.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::get_dashboard_summary;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::stat_card::StatCard;
use crate::model::DashboardSummary;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let refreshes = RwSignal::new(0_u32);
    let summary = Resource::new(move || refreshes.get(), |_| get_dashboard_summary());
    let refreshing = RwSignal::new(false);
    view! {
        <Title text="Dashboard" />
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <button
                class="button"
                type="button"
                aria-busy=move || refreshing.get().to_string()
                on:click=move |_| refreshes.update(|count| *count += 1)
            >
                {move || if refreshing.get() { "Refreshing…" } else { "Refresh" }}
            </button>
        </div>
        <Transition set_pending=refreshing fallback=|| view! { <p class="loading" role="status">"Loading your certificates…"</p> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(summary) => view! { <SummaryView summary /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SummaryView(summary: DashboardSummary) -> impl IntoView {
    let empty = summary.certificates_total == 0;
    let issuers = summary.issuers.clone();
    view! {
        <section class="stats" aria-label="Certificates by status">
            <StatCard label="Certificates" value=summary.certificates_total />
            <StatCard label="Issued" value=summary.issued tone="ok" />
            <StatCard
                label="Expiring within 30 days"
                value=summary.expiring_within_30_days
                tone="warn"
                hint="Renew these first"
            />
            <StatCard label="Revoked" value=summary.revoked tone="bad" />
            <StatCard label="Failed requests" value=summary.failed tone="bad" />
        </section>
        {empty.then(|| view! {
            <EmptyState
                title="No certificates yet"
                message="Request a certificate for a name you are allowed to use; it will show up here with its expiry."
                action_href="/request"
                action_label="Request a certificate"
            />
        })}
        <section class="panel" aria-labelledby="issuers-heading">
            <h2 id="issuers-heading">"Issuers"</h2>
            {if issuers.is_empty() {
                view! { <p class="muted">"No issuer is configured yet. An administrator adds them in certdesk.toml."</p> }.into_any()
            } else {
                view! {
                    <ul class="issuer-list">
                        {issuers.into_iter().map(|issuer| view! {
                            <li>
                                <strong>{issuer.display_name}</strong>
                                <span class="muted">" — " {issuer.kind.label()} " · id " <code>{issuer.id}</code></span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <p class="muted small">
            {summary.users} " people have signed in · " {summary.audit_events} " audit events recorded"
        </p>
    }
}
