//! The dashboard's tables: what expires soon, and the counts by status and by issuer (each a link to the
//! inventory filtered accordingly).

use leptos::prelude::*;

use crate::model::{ExpiringCertificate, IssuerCounts, IssuerSummary, StatusCount};

/// "in 3 days", "today", "expired 2 days ago".
pub fn days_left_label(days: i64) -> String {
    match days {
        0 => "today".into(),
        1 => "in 1 day".into(),
        days if days > 1 => format!("in {days} days"),
        -1 => "expired 1 day ago".into(),
        days => format!("expired {} days ago", -days),
    }
}

#[component]
pub fn ExpiringSoon(rows: Vec<ExpiringCertificate>, mine: bool) -> impl IntoView {
    if rows.is_empty() {
        let message = if mine {
            "Nothing of yours expires within 30 days. Certificates show up here a month before they expire; \
             turn on automatic renewal when you request one and they renew themselves."
        } else {
            "No certificate expires within 30 days."
        };
        return view! {
            <p class="muted">{message}</p>
            <p><a href="/certificates?sort=expiry">"See every certificate by expiry"</a></p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table>
                <caption class="sr-only">"Certificates expiring within 30 days, soonest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Issuer"</th>
                        <th scope="col">"Expires"</th>
                        {(!mine).then(|| view! { <th scope="col">"Owner"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let urgency = if row.days_left < 7 { "badge revoked" } else { "badge pending" };
                        view! {
                            <tr>
                                <th scope="row"><a href=format!("/certificates/{}", row.id)>{row.common_name}</a></th>
                                <td>{row.issuer_name}</td>
                                <td><time datetime=row.not_after><span class=urgency>{days_left_label(row.days_left)}</span></time></td>
                                {(!mine).then(|| view! { <td>{row.owner_name.clone()}</td> })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <p><a href="/certificates?status=issued&expiring=30&sort=expiry">"All certificates expiring within 30 days"</a></p>
    }
    .into_any()
}

#[component]
pub fn ByStatus(counts: Vec<StatusCount>) -> impl IntoView {
    view! {
        <table class="compact">
            <caption class="sr-only">"Certificates by status"</caption>
            <thead><tr><th scope="col">"Status"</th><th scope="col" class="num">"Certificates"</th></tr></thead>
            <tbody>
                {counts.into_iter().map(|row| view! {
                    <tr>
                        <th scope="row">
                            <a href=format!("/certificates?status={}", row.status.as_str())>{row.status.label()}</a>
                        </th>
                        <td class="num">{row.count}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn ByIssuer(counts: Vec<IssuerCounts>, issuers: Vec<IssuerSummary>) -> impl IntoView {
    if counts.is_empty() {
        return view! { <p class="muted">"No issuer is configured yet. An administrator adds them in certdesk.toml."</p> }
            .into_any();
    }
    view! {
        <table class="compact">
            <caption class="sr-only">"Certificates by issuer"</caption>
            <thead>
                <tr>
                    <th scope="col">"Issuer"</th>
                    <th scope="col" class="num">"Issued"</th>
                    <th scope="col" class="num">"Expiring ≤ 30 days"</th>
                    <th scope="col" class="num">"All"</th>
                </tr>
            </thead>
            <tbody>
                {counts.into_iter().map(|row| {
                    let kind = issuers
                        .iter()
                        .find(|issuer| issuer.id == row.issuer_id)
                        .map(|issuer| issuer.kind.label())
                        .unwrap_or("no longer configured");
                    view! {
                        <tr>
                            <th scope="row">
                                <a href=format!("/certificates?issuer={}", row.issuer_id)>{row.display_name}</a>
                                <span class="muted small">" · "{kind}</span>
                            </th>
                            <td class="num">{row.issued}</td>
                            <td class="num">{row.expiring_within_30_days}</td>
                            <td class="num">{row.total}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
