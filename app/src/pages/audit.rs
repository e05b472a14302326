//! The audit log for admins and auditors: the chain's verification state, filters (actor, action, object, outcome,
//! time range) in the URL through a plain GET form, newest first page by page, each event opening in full, and
//! the filtered set exported as CSV or JSON Lines through a POST form (audited, needs a recent second factor).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::certificates::encode;
use crate::api::{get_audit_event, get_session, list_audit_events};
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::{AuditEventSummary, AuditEventView, AuditListing, AuditOutcome, AuditQuery, ChainState};

const VIEWER: &str = "/admin/audit";

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        params.with(|params| AuditQuery {
            actor: params.get("actor").unwrap_or_default(),
            action: params.get("action").unwrap_or_default(),
            object: params.get("object").unwrap_or_default(),
            outcome: params.get("outcome").unwrap_or_default(),
            from: params.get("from").unwrap_or_default(),
            to: params.get("to").unwrap_or_default(),
            before: params.get("before").filter(|before| !before.is_empty()),
        })
    };
    let listing = Resource::new(query, list_audit_events);
    let session = Resource::new(|| (), |_| get_session());
    view! {
        <Title text="Audit log" />
        <div class="page-head">
            <h1>"Audit log"</h1>
        </div>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                let listing = listing.await;
                let form_token = session.await.ok().flatten().map(|session| session.csrf_token).unwrap_or_default();
                let query = query();
                match listing {
                    // Nothing of the viewer for people who may not use it.
                    Err(error @ (AppError::Forbidden | AppError::Unauthenticated)) => {
                        view! { <ErrorPanel error /> }.into_any()
                    }
                    Err(error) => view! { <Filters query /> <ErrorPanel error /> }.into_any(),
                    Ok(listing) => view! {
                        <ChainBanner chain=listing.chain.clone() />
                        <Filters query=query.clone() />
                        <ExportForm query=query.clone() form_token />
                        <Results listing query />
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// "Verified through event N", or where the chain breaks.
#[component]
fn ChainBanner(chain: ChainState) -> impl IntoView {
    let checked = format!("checked {}", time_of(&chain.checked_at));
    match chain.broken {
        None => view! {
            <p class="chain-banner ok" role="status">
                <span aria-hidden="true">"✓ "</span>
                <strong>{format!("Audit chain verified through event {}", chain.verified_through)}</strong>
                <span class="muted small">{format!(" · {checked}")}</span>
            </p>
        }
        .into_any(),
        Some(message) => view! {
            <div class="chain-banner bad" role="alert">
                <p><span aria-hidden="true">"⚠ "</span><strong>"Audit chain broken: "</strong>{message}</p>
                <p class="muted small">"Events from that point on may have been altered, inserted or deleted. "
                    {checked}</p>
            </div>
        }
        .into_any(),
    }
}

/// The filter form: a plain GET form, so the filters live in the URL and work before the page hydrates.
#[component]
fn Filters(query: AuditQuery) -> impl IntoView {
    view! {
        <form class="filters" method="get" action=VIEWER role="search" aria-label="Filter audit events">
            <div class="field">
                <label for="audit-actor">"Actor"</label>
                <input id="audit-actor" name="actor" type="search" placeholder="name, e-mail or user:…"
                    value=query.actor />
            </div>
            <div class="field">
                // The hint sits in the label so every field keeps one line above its input (the row aligns).
                <label for="audit-action">"Action " <span class="help">"(exact, or prefix.)"</span></label>
                <input id="audit-action" name="action" type="search" placeholder="auth.signed_in or certificate."
                    value=query.action />
            </div>
            <div class="field">
                <label for="audit-object">"Object"</label>
                <input id="audit-object" name="object" type="search" placeholder="certificate:…" value=query.object />
            </div>
            <div class="field">
                <label for="audit-outcome">"Outcome"</label>
                <select id="audit-outcome" name="outcome">
                    <option value="">"Any"</option>
                    {AuditOutcome::ALL.into_iter().map(|outcome| view! {
                        <option value=outcome.as_str() selected=query.outcome == outcome.as_str()>
                            {outcome.label()}
                        </option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="audit-from">"From (UTC)"</label>
                <input id="audit-from" name="from" type="datetime-local" value=query.from />
            </div>
            <div class="field">
                <label for="audit-to">"To (UTC)"</label>
                <input id="audit-to" name="to" type="datetime-local" value=query.to />
            </div>
            <button class="button" type="submit">"Apply"</button>
            <a class="button" href=VIEWER>"Clear"</a>
        </form>
    }
}

/// The export buttons: a POST form with the session's token and the current filters (not the page position).
#[component]
fn ExportForm(query: AuditQuery, form_token: String) -> impl IntoView {
    view! {
        <form class="export" method="post" action="/admin/audit/export" aria-describedby="audit-export-help">
            <input type="hidden" name="csrf_token" value=form_token />
            {query.filter_pairs().into_iter().map(|(name, value)| view! {
                <input type="hidden" name=name value=value />
            }).collect_view()}
            <span class="export-label">"Export the filtered events:"</span>
            <button class="button small" type="submit" name="format" value="csv">"CSV"</button>
            <button class="button small" type="submit" name="format" value="jsonl">"JSON Lines"</button>
            <span id="audit-export-help" class="help">
                "Exports are recorded in this log and need a recent sign-in with your second factor."
            </span>
        </form>
    }
}

#[component]
fn Results(listing: AuditListing, query: AuditQuery) -> impl IntoView {
    if listing.rows.is_empty() {
        return if query.is_filtered() || query.before.is_some() {
            view! {
                <EmptyState
                    title="No event matches"
                    message="Nothing in the audit log matches these filters. Widen them or clear them."
                    action_href=VIEWER
                    action_label="Clear filters"
                />
            }
            .into_any()
        } else {
            view! { <EmptyState title="No events yet" message="Sign-ins, requests and downloads appear here." /> }
                .into_any()
        };
    }
    let next = listing.next.map(|cursor| {
        let mut href = filtered_href(&query);
        href.push(if href.contains('?') { '&' } else { '?' });
        href.push_str(&format!("before={}", encode(&cursor)));
        href
    });
    view! {
        <div class="table-wrap">
            <table class="audit-table">
                <caption class="sr-only">"Audit events, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Object"</th>
                        <th scope="col">"Outcome"</th>
                    </tr>
                </thead>
                <tbody>
                    {listing.rows.into_iter().map(|row| view! { <Row row /> }).collect_view()}
                </tbody>
            </table>
        </div>
        {next.map(|href| view! { <p><a class="button" href=href>"Older events →"</a></p> })}
    }
    .into_any()
}

#[component]
fn Row(row: AuditEventSummary) -> impl IntoView {
    let actor_label = row.actor_name.clone().filter(|name| !name.is_empty()).unwrap_or_else(|| row.actor.clone());
    view! {
        <tr>
            <th scope="row">
                <a href=format!("{VIEWER}/{}", row.seq) aria-label=format!("Event {} details", row.seq)>
                    {format!("#{}", row.seq)}
                </a>
            </th>
            <td><time datetime=row.at.clone()>{time_of(&row.at)}</time></td>
            <td title=row.actor.clone()>{actor_label}</td>
            <td><code>{row.action}</code></td>
            <td class="audit-object">{if row.object.is_empty() { "—".to_owned() } else { row.object }}</td>
            <td><OutcomeBadge outcome=row.outcome /></td>
        </tr>
    }
}

#[component]
fn OutcomeBadge(outcome: String) -> impl IntoView {
    let label = AuditOutcome::parse(&outcome).map_or(outcome.clone(), |outcome| outcome.label().to_owned());
    view! { <span class=format!("badge {outcome}")>{label}</span> }
}

/// The viewer with these filters (no page position).
fn filtered_href(query: &AuditQuery) -> String {
    let pairs: Vec<String> =
        query.filter_pairs().into_iter().map(|(name, value)| format!("{name}={}", encode(&value))).collect();
    if pairs.is_empty() { VIEWER.to_owned() } else { format!("{VIEWER}?{}", pairs.join("&")) }
}

/// "2026-11-28 14:30:05" from an RFC 3339 UTC time.
fn time_of(time: &str) -> String {
    time.replace('T', " ").get(..19).unwrap_or(time).to_owned()
}

/// One event in full: `/admin/audit/:seq`.
#[component]
pub fn AuditEventPage() -> impl IntoView {
    let params = use_params_map();
    let seq = move || params.with(|params| params.get("seq").unwrap_or_default());
    let event = Resource::new(seq, |seq| async move {
        match seq.parse::<i64>() {
            Ok(seq) if seq > 0 => get_audit_event(seq).await,
            _ => Err(AppError::not_found("audit event")),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the event…"</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(event) => view! { <EventDetail event /> }.into_any(),
                    Err(error) => view! { <Title text="Audit event" /><ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventDetail(event: AuditEventView) -> impl IntoView {
    let title = format!("Audit event {}", event.seq);
    let row = |label: &'static str, value: String| view! { <div class="fact"><dt>{label}</dt><dd>{value}</dd></div> };
    let code_row = |label: &'static str, value: String| {
        view! { <div class="fact"><dt>{label}</dt><dd><code class="hash">{value}</code></dd></div> }
    };
    let actor = match (&event.actor_name, &event.actor_email) {
        (Some(name), Some(email)) => format!("{name} <{email}> ({})", event.actor),
        (Some(name), None) => format!("{name} ({})", event.actor),
        _ => event.actor.clone(),
    };
    let dash = |value: String| if value.is_empty() { "—".to_owned() } else { value };
    view! {
        <Title text=title.clone() />
        <p><a href=VIEWER>"← Audit log"</a></p>
        <div class="page-head">
            <h1>{title}</h1>
            <OutcomeBadge outcome=event.outcome.clone() />
        </div>
        <section class="panel" aria-labelledby="event-facts">
            <h2 id="event-facts">"Event"</h2>
            <dl class="facts">
                {row("Time (UTC)", event.at.replace('T', " "))}
                {row("Actor", actor)}
                {code_row("Action", event.action.clone())}
                {event.recorded_action.clone().map(|stored| code_row("Recorded as", stored))}
                {row("Object", dash(event.object.clone()))}
                {row("Outcome", event.outcome.clone())}
                {row("Request id", dash(event.request_id.clone()))}
                {row("Client address", dash(event.client_addr.clone()))}
            </dl>
        </section>
        <section class="panel" aria-labelledby="event-details">
            <h2 id="event-details">"Details"</h2>
            <pre class="json" tabindex="0" aria-label="Details as JSON">{event.details.clone()}</pre>
        </section>
        <section class="panel" aria-labelledby="event-seal">
            <h2 id="event-seal">"Seal"</h2>
            <dl class="facts">
                {code_row("Previous hash", event.prev_hash.clone())}
                {code_row("Hash", event.hash.clone())}
            </dl>
        </section>
    }
}
