//! Revoking from a certificate's page: a reason (RFC 5280), a confirmation that names the certificate, progress
//! while the issuer revokes, and the outcome; and the banner a revoked certificate carries.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::{RevocationReason, RevocationResult, RevocationView, reason_label};

pub type RevokeAction = Action<(uuid::Uuid, RevocationReason), Result<RevocationResult, AppError>>;

#[component]
pub fn RevokePanel(
    id: uuid::Uuid,
    common_name: String,
    serial: Option<String>,
    revoke: RevokeAction,
    /// Issued by a public ACME CA, which publishes its revocations itself.
    #[prop(optional)]
    public_ca: bool,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let reason = RwSignal::new(None::<RevocationReason>);
    let reason_missing = RwSignal::new(false);
    let first_choice = NodeRef::<leptos::html::Input>::new();
    // Keyboard users land on the first reason when the confirmation opens.
    Effect::new(move |_| {
        if open.get()
            && let Some(input) = first_choice.get()
        {
            let _ = input.focus();
        }
    });
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        match reason.get_untracked() {
            Some(chosen) => {
                reason_missing.set(false);
                revoke.dispatch((id, chosen));
            }
            None => reason_missing.set(true),
        }
    };
    let serial_text = serial.unwrap_or_else(|| "—".into());
    let name = common_name.clone();
    view! {
        <section class="panel danger-zone" aria-labelledby="revoke-heading">
            <h2 id="revoke-heading">"Revoke"</h2>
            <p class="help">
                {if public_ca {
                    "Revocation is permanent. The CA publishes it in its own CRL and OCSP answers, on its own schedule."
                } else {
                    "Revocation is permanent. Relying parties that check the CRL stop trusting the certificate within a minute."
                }}
            </p>
            <Show when=move || !open.get()>
                <button class="button danger" type="button" aria-controls="revoke-form" aria-expanded="false"
                    on:click=move |_| open.set(true)>
                    "Revoke this certificate…"
                </button>
            </Show>
            <Show when=move || open.get()>
                <form id="revoke-form" class="form" on:submit=on_submit novalidate>
                    <fieldset class="field" aria-describedby="reason-error" aria-invalid=move || reason_missing.get().to_string()>
                        <legend>"Reason"</legend>
                        {RevocationReason::ALL.into_iter().enumerate().map(|(index, choice)| {
                            let input_id = format!("reason-{}", choice.as_str());
                            let hint_id = format!("{input_id}-hint");
                            let label_for = input_id.clone();
                            let described_by = hint_id.clone();
                            let node = (index == 0).then_some(first_choice);
                            view! {
                                <label class="choice" for=label_for>
                                    <input id=input_id type="radio" name="reason" value=choice.as_str()
                                        aria-describedby=described_by node_ref=node.unwrap_or_default()
                                        on:change=move |_| { reason.set(Some(choice)); reason_missing.set(false); } />
                                    <span>{choice.label()}</span>
                                    <span id=hint_id class="help">{choice.hint()}</span>
                                </label>
                            }
                        }).collect_view()}
                        <p id="reason-error" class="field-error" role="alert">
                            {move || reason_missing.get().then_some("Choose why the certificate is revoked.")}
                        </p>
                    </fieldset>
                    <div class="confirm" role="group" aria-label="Confirm revocation">
                        <p>"Revoke " <strong>{name.clone()}</strong> " (serial " <code class="serial">{serial_text.clone()}</code> ")? This cannot be undone."</p>
                        <button class="button danger" type="submit" disabled=move || revoke.pending().get()>
                            {let name = name.clone(); move || if revoke.pending().get() { "Revoking at the issuer…".to_owned() } else { format!("Revoke {name}") }}
                        </button>
                        " "
                        <button class="button" type="button" on:click=move |_| open.set(false)
                            disabled=move || revoke.pending().get()>"Cancel"</button>
                    </div>
                    <p class="muted" role="status">{move || revoke.pending().get().then_some("Asking the issuer to revoke it…")}</p>
                </form>
            </Show>
            {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
        </section>
    }
}

/// The notice at the top of a revoked certificate's page.
#[component]
pub fn RevokedNotice(revocation: RevocationView) -> impl IntoView {
    let when = revocation.revoked_at.replace('T', " ").trim_end_matches('Z').get(..16).unwrap_or_default().to_owned();
    view! {
        <div class="notice revoked" role="status">
            <h2>"Revoked"</h2>
            <p>
                "Revoked on " <time datetime=revocation.revoked_at.clone()>{when} " UTC"</time>
                " by " {revocation.revoked_by.clone()} ". Reason: " <strong>{reason_label(revocation.reason.as_deref())}</strong> "."
            </p>
            <p class="help">"It stays listed and downloadable, but relying parties that check the CRL reject it."</p>
        </div>
    }
}
