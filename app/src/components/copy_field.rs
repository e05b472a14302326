//! A value shown once (a secret, a configuration snippet) with a button that copies it to the clipboard, and a
//! polite live region that says whether it worked, so a screen reader hears the outcome of the click.

use leptos::prelude::*;

/// How long the "Copied" confirmation stays; cleared so that a second copy is announced again.
const CONFIRMATION_MS: u64 = 4000;

#[component]
pub fn CopyField(
    /// The field's label, also what the button copies ("Copy HMAC key").
    #[prop(into)]
    label: String,
    /// The element id of the value (unique on the page).
    #[prop(into)]
    id: String,
    value: String,
    /// A multi-line snippet, shown as preformatted text rather than a one-line field.
    #[prop(optional)]
    multiline: bool,
) -> impl IntoView {
    let status = RwSignal::new(None::<&'static str>);
    let copied = StoredValue::new(value.clone());
    let on_click = move |_| {
        status.set(None);
        let text = copied.get_value();
        leptos::task::spawn_local(async move {
            status.set(Some(if write_clipboard(text).await {
                "Copied to the clipboard."
            } else {
                "Could not copy here: select the text and copy it yourself."
            }));
            set_timeout(move || status.set(None), std::time::Duration::from_millis(CONFIRMATION_MS));
        });
    };
    let status_id = format!("{id}-status");
    let button_label = format!("Copy {label}");
    let value_view = if multiline {
        view! { <pre class="snippet" id=id.clone() tabindex="0" aria-label=label.clone()><code>{value}</code></pre> }
            .into_any()
    } else {
        view! { <input class="secret" id=id.clone() type="text" readonly value=value /> }.into_any()
    };
    view! {
        <div class="copy-field">
            {(!multiline).then(|| view! { <label for=id.clone()>{label.clone()}</label> })}
            <div class="copy-row">
                {value_view}
                <button class="button small" type="button" aria-describedby=status_id.clone() on:click=on_click>
                    <span aria-hidden="true">"Copy"</span>
                    <span class="sr-only">{button_label}</span>
                </button>
            </div>
            <span id=status_id class="copy-status" role="status" aria-live="polite">{move || status.get()}</span>
        </div>
    }
}

/// Writes `text` to the clipboard; `false` where the browser offers no clipboard (a page served over plain HTTP to
/// another host is not a secure context) or refuses.
#[cfg(feature = "hydrate")]
async fn write_clipboard(text: String) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let navigator = window.navigator();
    if !window.is_secure_context() || !js_sys::Reflect::has(&navigator, &"clipboard".into()).unwrap_or(false) {
        return false;
    }
    wasm_bindgen_futures::JsFuture::from(navigator.clipboard().write_text(&text)).await.is_ok()
}

/// The server never handles a click.
#[cfg(not(feature = "hydrate"))]
async fn write_clipboard(_text: String) -> bool {
    false
}
