//! Renewal on a certificate's page: how and when it renews itself, the last failure, "Renew now" with its
//! progress and a link to the new certificate, and the line of certificates it belongs to.

use leptos::prelude::*;

use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::{CertStatus, CertificateVersion, RenewalView, RequestedCertificate};

/// The page's "renew now" action; its value names the certificate it renewed, so the outcome shows on that
/// certificate's page only (the action outlives navigation to the new certificate).
pub type RenewAction = Action<uuid::Uuid, (uuid::Uuid, Result<RequestedCertificate, AppError>)>;

fn day_and_time(time: &str) -> String {
    super::day_and_time(time)
}

#[component]
pub fn RenewalPanel(id: uuid::Uuid, renewal: RenewalView, renew: RenewAction) -> impl IntoView {
    let settings = if let Some(key) = &renewal.by_machine {
        format!(
            "Renewed by its machine: the ACME client using the key “{key}” orders the next certificate itself, when \
             certdesk's renewal information suggests (a third of its lifetime left)."
        )
    } else if renewal.auto {
        let key = if renewal.reuse_key { "keeping the same key" } else { "with a fresh private key" };
        let around = renewal.renew_at.as_deref().map(|at| format!(", from {}", day_and_time(at))).unwrap_or_default();
        let when = match &renewal.ca_window {
            Some((start, end)) => {
                format!("in the window its CA suggests ({} to {})", day_and_time(start), day_and_time(end))
            }
            None => renewal.when.clone(),
        };
        format!("Renews automatically {when}{around}, {key}.")
    } else {
        "Automatic renewal is off for this certificate.".to_owned()
    };
    let explanation = renewal.ca_window_explanation.clone().map(|url| {
        view! { <p class="help"><a href=url rel="noopener noreferrer" target="_blank">"Why the CA suggests this window"</a></p> }
    });
    let failure = renewal.last_error.clone().map(|error| {
        let next = renewal.retry_at.as_deref().map(|at| format!(" Next try: {}.", day_and_time(at))).unwrap_or_default();
        view! {
            <div class="notice failed" role="alert">
                <p><strong>{format!("Renewal failed ({} attempt{}).", renewal.attempts, if renewal.attempts == 1 { "" } else { "s" })}</strong>
                    " " {error} {next}</p>
                <p class="help">"This certificate stays valid and current until a renewal succeeds."</p>
            </div>
        }
    });
    let done = move || {
        match renew.value().get() {
        // An ACME renewal is an order the CA completes in the background.
        Some((renewed_id, Ok(renewed))) if renewed_id == id && renewed.status == CertStatus::Pending => Some(view! {
            <div class="notice" role="status">
                <p><strong>"Renewal ordered."</strong>" The CA is checking the names; the new certificate replaces "
                    "this one once it is issued."</p>
                <p><a class="button primary" href=format!("/certificates/{}", renewed.id)>"Follow the order"</a></p>
            </div>
        }.into_any()),
        Some((renewed_id, Ok(renewed))) if renewed_id == id => Some(view! {
            <div class="notice" role="status">
                <p><strong>"Renewed."</strong>" The new certificate replaces this one."</p>
                <p><a class="button primary" href=format!("/certificates/{}", renewed.id)>"Open the new certificate"</a></p>
            </div>
        }.into_any()),
        Some((failed_id, Err(error))) if failed_id == id => Some(view! { <ErrorPanel error /> }.into_any()),
        _ => None,
    }
    };
    let can_renew = renewal.can_renew;
    view! {
        <section class="panel" aria-labelledby="renewal-heading">
            <h2 id="renewal-heading">"Renewal"</h2>
            {renewal.superseded_by.map(|next| view! {
                <p class="notice superseded">"Superseded: "
                    <a href=format!("/certificates/{next}")>"the certificate that renewed it"</a>
                    " is the current one."</p>
            })}
            <p>{settings}</p>
            {explanation}
            {failure}
            <Show when=move || can_renew>
                <button class="button" type="button" disabled=move || renew.pending().get()
                    on:click=move |_| { renew.dispatch(id); }>
                    {move || if renew.pending().get() { "Renewing…" } else { "Renew now" }}
                </button>
                <Show when=move || renew.pending().get()>
                    <p class="loading" role="status">"Asking the CA for a new certificate with the same names: a few seconds."</p>
                </Show>
            </Show>
            {done}
            {(!renewal.versions.is_empty()).then(|| view! { <Versions versions=renewal.versions.clone() /> })}
        </section>
    }
    .into_any()
}

#[component]
fn Versions(versions: Vec<CertificateVersion>) -> impl IntoView {
    view! {
        <h3>"Renewal history"</h3>
        <ol class="versions">
            {versions.into_iter().map(|version| {
                let expiry = version.not_after.as_deref().map(|at| format!(" · expires {}", day_and_time(at))).unwrap_or_default();
                let status = version.status;
                let label = match &version.serial {
                    Some(serial) => format!("Serial {serial}"),
                    None if status == CertStatus::Pending => "The renewal, being issued".to_owned(),
                    None => "A renewal that was never issued".to_owned(),
                };
                let name = if version.this_one {
                    view! { <strong>"This certificate"</strong> }.into_any()
                } else {
                    view! { <a href=format!("/certificates/{}", version.id)>{label}</a> }.into_any()
                };
                view! {
                    <li>
                        {name}" "
                        <span class=format!("badge {}", status.as_str())>{status.label()}</span>
                        <span class="muted">{expiry}</span>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}
