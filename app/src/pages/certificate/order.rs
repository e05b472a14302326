//! The live progress of a public certificate's ACME order: placed with the CA, each name's proof of control
//! (HTTP-01 or DNS-01) as the CA checks it, then the certificate. The page re-reads the certificate every second
//! while the order runs; this panel is a polite live region, so screen readers hear each step once.

use leptos::prelude::*;

use crate::model::{AuthorizationProgress, OrderProgress};

#[component]
pub fn OrderPanel(order: OrderProgress) -> impl IntoView {
    let running = order.is_running();
    let issued = order.state == "valid";
    let finalizing = matches!(order.state.as_str(), "ready" | "processing") || issued;
    let names_done = order.authorizations.iter().filter(|authorization| authorization.status == "valid").count();
    let names_total = order.authorizations.len();
    let ended_badly = matches!(order.state.as_str(), "invalid" | "failed");
    let placed = (order.placed, ended_badly && !order.placed);
    let names = (
        names_total > 0 && names_done == names_total,
        order.authorizations.iter().any(|authorization| authorization.status == "invalid"),
    );
    let certificate = (issued, ended_badly);
    let retrying = order.retrying.clone().map(|detail| {
        let when = order.next_attempt_at.as_deref().map(super::day_and_time).unwrap_or_default();
        view! {
            <p class="order-retry" role="status">
                "Waiting to try again"{if when.is_empty() { String::new() } else { format!(" at {when}") }}": "{detail}
            </p>
        }
    });
    view! {
        <section class="panel order" aria-labelledby="order-heading">
            <h2 id="order-heading">"Order progress"</h2>
            <p class="help">
                {if running {
                    "The CA is checking that you control these names. This page updates by itself."
                } else if issued {
                    "The CA issued the certificate."
                } else {
                    "The order ended without a certificate."
                }}
            </p>
            <ol class="order-steps" aria-live="polite">
                <li class=step_class(placed)>
                    <span class="step-mark" aria-hidden="true">{mark(placed)}</span>
                    {if order.placed { "Order placed with the CA" } else { "Placing the order with the CA…" }}
                </li>
                <li class=step_class(names)>
                    <span class="step-mark" aria-hidden="true">{mark(names)}</span>
                    {format!("Proving control of the names: {names_done} of {names_total} done")}
                    <ul class="order-names">
                        {order.authorizations.into_iter().map(|authorization| view! { <NameProgress authorization /> }).collect_view()}
                    </ul>
                </li>
                <li class=step_class(certificate)>
                    <span class="step-mark" aria-hidden="true">{mark(certificate)}</span>
                    {if issued { "Certificate issued" } else if finalizing { "The CA is signing the certificate…" } else { "Certificate" }}
                </li>
            </ol>
            {retrying}
            <Show when=move || running>
                <progress class="order-progress" aria-label="Order in progress"></progress>
            </Show>
        </section>
    }
}

#[component]
fn NameProgress(authorization: AuthorizationProgress) -> impl IntoView {
    let status = match authorization.status.as_str() {
        "valid" => "proven",
        "invalid" => "failed",
        "processing" => "the CA is checking",
        "pending" => "preparing the answer",
        other => other,
    }
    .to_owned();
    let failed = authorization.status == "invalid";
    view! {
        <li class=if failed { "order-name failed" } else { "order-name" }>
            <code>{authorization.identifier}</code>" · "{authorization.challenge}" · "<strong>{status}</strong>
            {authorization.detail.map(|detail| view! { <p class="order-detail">"The CA saw: "{detail}</p> })}
        </li>
    }
}

/// A step as (done, failed).
fn step_class(step: (bool, bool)) -> &'static str {
    match step {
        (true, _) => "order-step done",
        (false, true) => "order-step failed",
        (false, false) => "order-step",
    }
}

/// A text mark, so the state does not rest on colour alone.
fn mark(step: (bool, bool)) -> &'static str {
    match step {
        (true, _) => "✓",
        (false, true) => "✗",
        (false, false) => "…",
    }
}
