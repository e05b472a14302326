//! A labelled text input (or text area) checked as you type: its help and its error are tied to it for screen
//! readers, the error shows once the field was left (or the form submitted), and `aria-invalid` follows it.

use leptos::prelude::*;

#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    /// Set when the field is left; the owner sets it on submit too.
    touched: RwSignal<bool>,
    /// The field's current error, if any (shown only once `touched`).
    #[prop(into)]
    error: Signal<Option<String>>,
    #[prop(optional)] placeholder: &'static str,
    /// Rows of a text area; a one-line input when 0.
    #[prop(optional)]
    rows: u32,
    #[prop(optional)] maxlength: Option<u32>,
    /// Said after the label, muted (e.g. "(optional)").
    #[prop(optional)]
    label_note: &'static str,
    /// The help under the field.
    children: Children,
) -> impl IntoView {
    let help_id = format!("{id}-help");
    let error_id = format!("{id}-error");
    let described_by = format!("{help_id} {error_id}");
    let shown_error = move || error.get().filter(|_| touched.get());
    let invalid = move || shown_error().is_some().to_string();
    let on_input = move |event: leptos::ev::Event| value.set(event_target_value(&event));
    let on_blur = move |_: leptos::ev::FocusEvent| touched.set(true);
    let input = if rows > 0 {
        view! {
            <textarea id=id name=id rows=rows spellcheck="false" autocomplete="off" placeholder=placeholder
                aria-describedby=described_by aria-invalid=invalid prop:value=move || value.get()
                on:input=on_input on:blur=on_blur></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id name=id type="text" autocomplete="off" placeholder=placeholder maxlength=maxlength
                aria-describedby=described_by aria-invalid=invalid prop:value=move || value.get()
                on:input=on_input on:blur=on_blur />
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=id>{label}{(!label_note.is_empty()).then(|| view! { " " <span class="muted">{label_note}</span> })}</label>
            {input}
            <span id=help_id class="help">{children()}</span>
            <span id=error_id class="field-error" role="alert">{shown_error}</span>
        </div>
    }
}
