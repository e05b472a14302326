//! The certificate inventory list: search (name, serial, fingerprint), filters (status, issuer, expiring within,
//! owner for admins), three orders (newest, soonest expiry, name), page by page. The filters live in the URL (a plain GET form), so a filtered view can be
//! bookmarked and shared.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::list_certificates;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::model::{CertSort, CertStatus, CertSummary, CertificatePage, CertificateQuery, IssuerSummary};

#[component]
pub fn CertificatesPage() -> impl IntoView {
    let query = query_from_url();
    let page = Resource::new(query, list_certificates);
    let filtered = move || {
        let query = query();
        !query.search.is_empty()
            || !query.owner.is_empty()
            || query.status.is_some()
            || query.issuer_id.is_some()
            || query.expiring_within_days.is_some()
            || query.expiring_after_days.is_some()
            || query.after.is_some()
    };
    view! {
        <Title text="Certificates" />
        <div class="page-head">
            <h1>"Certificates"</h1>
            <a class="button primary" href="/request">"Request a certificate"</a>
        </div>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading certificates…"</p> }>
            {move || Suspend::new(async move {
                let page = page.await;
                let issuers = page.as_ref().map(|page| page.issuers.clone()).unwrap_or_default();
                let results = match page {
                    Ok(page) if page.rows.is_empty() && filtered() => view! {
                        <EmptyState
                            title="No certificate matches"
                            message="Nothing matches these filters. Clear them to see every certificate."
                            action_href="/certificates"
                            action_label="Clear filters"
                        />
                    }.into_any(),
                    Ok(page) if page.rows.is_empty() => view! {
                        <EmptyState
                            title="No certificates yet"
                            message="Certificates you request appear here with their status and expiry."
                            action_href="/request"
                            action_label="Request your first certificate"
                        />
                    }.into_any(),
                    Ok(page) => view! { <CertTable page query=query() /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                };
                view! { <Filters base="/certificates" query=query() issuers /> {results} }
            })}
        </Suspense>
    }
}

/// The inventory query in the page's URL (shared by the list and the admin revocation screen).
pub(crate) fn query_from_url() -> impl Fn() -> CertificateQuery + Copy + Send + Sync + 'static {
    let params = use_query_map();
    move || {
        params.with(|params| CertificateQuery {
            search: params.get("search").unwrap_or_default(),
            issuer_id: params.get("issuer").filter(|issuer| !issuer.is_empty()),
            status: params.get("status").and_then(|wanted| CertStatus::parse(&wanted)),
            expiring_within_days: params.get("expiring").and_then(|days| days.parse().ok()),
            expiring_after_days: params.get("expiring_after").and_then(|days| days.parse().ok()),
            owner: params.get("owner").unwrap_or_default(),
            sort: params
                .get("sort")
                .and_then(|wanted| CertSort::ALL.into_iter().find(|sort| sort.as_str() == wanted))
                .unwrap_or_default(),
            after: params.get("after").filter(|after| !after.is_empty()),
        })
    }
}

/// The filter form: a plain GET form, so the filters live in the URL and work before the page hydrates.
#[component]
pub(crate) fn Filters(base: &'static str, query: CertificateQuery, issuers: Vec<IssuerSummary>) -> impl IntoView {
    view! {
        <form class="filters" method="get" action=base role="search" aria-label="Filter certificates">
            <div class="field">
                <label for="search">"Search"</label>
                <input id="search" name="search" type="search" placeholder="name, serial or fingerprint"
                    value=query.search.clone() />
            </div>
            <div class="field">
                <label for="status">"Status"</label>
                <select id="status" name="status">
                    <option value="">"Any"</option>
                    {CertStatus::ALL.into_iter().map(|status| view! {
                        <option value=status.as_str() selected=query.status == Some(status)>{status.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="expiring">"Expiring within"</label>
                <select id="expiring" name="expiring" aria-describedby="expiring-window">
                    <option value="">"Any time"</option>
                    {expiry_choices(query.expiring_within_days).into_iter().map(|days| view! {
                        <option value=days.to_string() selected=query.expiring_within_days == Some(days)>
                            {format!("{days} days")}
                        </option>
                    }).collect_view()}
                </select>
                // A window from the dashboard's timeline keeps its start while other filters change.
                {query.expiring_after_days.map(|days| {
                    let window = match query.expiring_within_days {
                        Some(until) => format!("Window: days {days}–{until} from today"),
                        None => format!("From day {days} on"),
                    };
                    view! {
                        <input type="hidden" name="expiring_after" value=days.to_string() />
                        <span id="expiring-window" class="help">{window}</span>
                    }
                })}
            </div>
            <div class="field">
                <label for="issuer">"Issuer"</label>
                <select id="issuer" name="issuer">
                    <option value="">"Any"</option>
                    {issuers.into_iter().map(|issuer| {
                        let selected = query.issuer_id.as_deref() == Some(issuer.id.as_str());
                        view! { <option value=issuer.id selected=selected>{issuer.display_name}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="owner">"Owner"</label>
                <input id="owner" name="owner" type="search" placeholder="name or e-mail (admins)" size="16"
                    value=query.owner.clone() />
            </div>
            <div class="field">
                <label for="sort">"Order"</label>
                <select id="sort" name="sort">
                    {CertSort::ALL.into_iter().map(|sort| view! {
                        <option value=sort.as_str() selected=query.sort == sort>{sort.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <button class="button" type="submit">"Apply"</button>
        </form>
    }
}

/// The offered "expiring within" choices, plus the one in the URL when it is another (a timeline window).
fn expiry_choices(current: Option<u32>) -> Vec<u32> {
    let mut choices = vec![7_u32, 30, 90];
    if let Some(days) = current
        && !choices.contains(&days)
    {
        choices.push(days);
        choices.sort_unstable();
    }
    choices
}

/// The link to the page after this one on `base`, keeping the filters.
pub(crate) fn next_href(base: &str, query: &CertificateQuery, next: &str) -> String {
    let mut href = format!("{base}?after={next}");
    if !query.search.is_empty() {
        href.push_str(&format!("&search={}", encode(&query.search)));
    }
    if let Some(status) = query.status {
        href.push_str(&format!("&status={}", status.as_str()));
    }
    if let Some(days) = query.expiring_within_days {
        href.push_str(&format!("&expiring={days}"));
    }
    if let Some(days) = query.expiring_after_days {
        href.push_str(&format!("&expiring_after={days}"));
    }
    if let Some(issuer) = &query.issuer_id {
        href.push_str(&format!("&issuer={}", encode(issuer)));
    }
    if !query.owner.is_empty() {
        href.push_str(&format!("&owner={}", encode(&query.owner)));
    }
    href.push_str(&format!("&sort={}", query.sort.as_str()));
    href
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// "2026-12-28" from an RFC 3339 time.
pub(crate) fn day_of(time: &str) -> String {
    time.get(..10).unwrap_or(time).to_owned()
}

#[component]
fn CertTable(page: CertificatePage, query: CertificateQuery) -> impl IntoView {
    let next = page.next.map(|next| next_href("/certificates", &query, &next));
    let all_owners = page.all_owners;
    view! {
        <div class="table-wrap">
            <table>
                <caption class="sr-only">"Certificates, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Issuer"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Serial"</th>
                        {all_owners.then(|| view! { <th scope="col">"Owner"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {page.rows.into_iter().map(|row: CertSummary| view! {
                        <tr>
                            <th scope="row">
                                <a href=format!("/certificates/{}", row.id)>{row.common_name}</a>
                                {row.acme_account.map(|account| view! {
                                    <span class="source">{format!("ACME: {account}")}</span>
                                })}
                            </th>
                            <td>{row.issuer_id}</td>
                            <td><span class=format!("badge {}", row.status.as_str())>{row.status.label()}</span></td>
                            <td>{row.not_after.as_deref().map(day_of).unwrap_or_else(|| "—".into())}</td>
                            <td><code class="serial">{row.serial.unwrap_or_else(|| "—".into())}</code></td>
                            {all_owners.then(|| view! { <td>{row.owner_name.clone()}</td> })}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {next.map(|href| view! { <p><a class="button" href=href>"Older certificates →"</a></p> })}
    }
}
