//! The certificate inventory list.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::list_certificates;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::model::CertSummary;

#[component]
pub fn CertificatesPage() -> impl IntoView {
    let certificates = Resource::new(|| (), |_| list_certificates());
    view! {
        <Title text="Certificates" />
        <div class="page-head">
            <h1>"Certificates"</h1>
            <a class="button primary" href="/request">"Request a certificate"</a>
        </div>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading certificates…"</p> }>
            {move || Suspend::new(async move {
                match certificates.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <EmptyState
                            title="No certificates yet"
                            message="Certificates you request appear here with their status and expiry."
                            action_href="/request"
                            action_label="Request your first certificate"
                        />
                    }.into_any(),
                    Ok(rows) => view! { <CertTable rows /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CertTable(rows: Vec<CertSummary>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <caption class="sr-only">"Your certificates"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Issuer"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Serial"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! {
                        <tr>
                            <th scope="row">{row.common_name}</th>
                            <td>{row.issuer_id}</td>
                            <td><span class=format!("badge {}", row.status.label().to_lowercase())>{row.status.label()}</span></td>
                            <td>{row.not_after.unwrap_or_else(|| "—".into())}</td>
                            <td><code>{row.serial.unwrap_or_else(|| "—".into())}</code></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
