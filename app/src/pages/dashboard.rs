//! The dashboard: expiry at a glance. A 90-day timeline of expiries, what expires soon, counts by status and by
//! issuer; of the person's own certificates, or of everyone's for admins and auditors (`?scope=mine` switches).

mod tables;
mod timeline;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::get_dashboard_summary;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::stat_card::StatCard;
use crate::model::{DashboardScope, DashboardSummary};
use tables::{ByIssuer, ByStatus, ExpiringSoon};
use timeline::ExpiryTimeline;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let params = use_query_map();
    let wanted = move || {
        params.with(|params| match params.get("scope").as_deref() {
            Some("mine") => DashboardScope::Mine,
            // Admins and auditors see everything by default; the server narrows it for everyone else.
            _ => DashboardScope::All,
        })
    };
    let refreshes = RwSignal::new(0_u32);
    let summary = Resource::new(move || (wanted(), refreshes.get()), |(scope, _)| get_dashboard_summary(scope));
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

/// Says whose certificates are counted; admins and auditors switch between everyone's and their own.
#[component]
fn ScopeSwitch(scope: DashboardScope, can_see_all: bool) -> impl IntoView {
    if !can_see_all {
        return view! { <p class="scope-note">"Showing " <strong>"your certificates"</strong></p> }.into_any();
    }
    let current = |this: DashboardScope| (scope == this).then_some("page");
    view! {
        <nav class="scope-switch" aria-label="Whose certificates">
            <a href="/" aria-current=current(DashboardScope::All)>"All certificates"</a>
            <a href="/?scope=mine" aria-current=current(DashboardScope::Mine)>"Mine"</a>
        </nav>
        <p class="scope-note">
            "Showing "
            <strong>{if scope == DashboardScope::All { "all certificates, everyone's" } else { "your certificates" }}</strong>
        </p>
    }
    .into_any()
}

#[component]
fn SummaryView(summary: DashboardSummary) -> impl IntoView {
    let mine = summary.scope == DashboardScope::Mine;
    let empty = summary.certificates_total == 0;
    view! {
        <ScopeSwitch scope=summary.scope can_see_all=summary.can_see_all />
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
        <section class="panel" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Expiring in the next 90 days"</h2>
            <ExpiryTimeline weeks=summary.timeline.clone() mine />
        </section>
        <div class="panel-grid">
            <section class="panel" aria-labelledby="expiring-heading">
                <h2 id="expiring-heading">{if mine { "Yours, expiring soon" } else { "Expiring soon" }}</h2>
                <ExpiringSoon rows=summary.expiring_soon.clone() mine />
            </section>
            <section class="panel" aria-labelledby="status-heading">
                <h2 id="status-heading">"By status"</h2>
                <ByStatus counts=summary.by_status.clone() />
            </section>
        </div>
        <section class="panel" aria-labelledby="issuers-heading">
            <h2 id="issuers-heading">"By issuer"</h2>
            <ByIssuer counts=summary.by_issuer.clone() issuers=summary.issuers.clone() />
        </section>
        <p class="muted small">
            {summary.users} " people have signed in · " {summary.audit_events} " audit events recorded"
        </p>
    }
    .into_any()
}
