//! A destructive button that asks first: the button opens an inline question with "confirm" and "cancel", focus
//! moves to the confirmation so keyboard users land where they must decide, and cancelling puts focus back.

use leptos::prelude::*;

#[component]
pub fn ConfirmButton(
    /// The verb on the button and the confirmation ("Revoke").
    verb: &'static str,
    /// What it acts on, for the button's accessible name ("Revoke prod cluster").
    subject: String,
    /// The question, naming the consequences.
    question: String,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let confirm_ref = NodeRef::<leptos::html::Button>::new();
    let opener_ref = NodeRef::<leptos::html::Button>::new();
    // Cancelling gives focus back to the button; confirming does not (the row usually changes under it).
    let refocus_opener = StoredValue::new(false);
    Effect::new(move |_| {
        if open.get() {
            if let Some(button) = confirm_ref.get() {
                let _ = button.focus();
            }
        } else if refocus_opener.get_value()
            && let Some(button) = opener_ref.get()
        {
            refocus_opener.set_value(false);
            let _ = button.focus();
        }
    });
    let label = format!("{verb} {subject}");
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button class="button small" type="button" node_ref=opener_ref aria-label=label.clone() on:click=move |_| open.set(true)>
                    {verb}
                </button>
            }
        >
            <div class="confirm inline" role="group" aria-label=format!("Confirm: {question}")>
                <p>{question.clone()}</p>
                <button class="button small danger" type="button" node_ref=confirm_ref
                    on:click=move |_| { open.set(false); on_confirm.run(()); }>
                    {format!("Yes, {}", verb.to_lowercase())}
                </button>
                " "
                <button class="button small" type="button" on:click=move |_| {
                    refocus_opener.set_value(true);
                    open.set(false);
                }>"Cancel"</button>
            </div>
        </Show>
    }
}
