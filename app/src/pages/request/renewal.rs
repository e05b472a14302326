//! The request form's renewal choices: renew automatically (on by default when certdesk makes the key), when
//! (a third of the lifetime left, or a number of days before expiry), and whether to keep the key.

use leptos::prelude::*;

use crate::model::RenewalRequest;

/// The choices as the form holds them.
#[derive(Clone, Copy)]
pub struct RenewalChoice {
    pub auto: RwSignal<bool>,
    /// "share" or "days".
    pub mode: RwSignal<&'static str>,
    pub before_days: RwSignal<String>,
    pub reuse_key: RwSignal<bool>,
}

impl RenewalChoice {
    pub fn new() -> Self {
        Self {
            auto: RwSignal::new(true),
            mode: RwSignal::new("share"),
            before_days: RwSignal::new(String::from("7")),
            reuse_key: RwSignal::new(false),
        }
    }

    /// What is sent; a CSR's certificate keeps its key whatever the box says (the server knows).
    pub fn request(&self) -> RenewalRequest {
        let days = self.mode.get_untracked() == "days";
        RenewalRequest {
            auto: Some(self.auto.get_untracked()),
            remaining_percent: None,
            renew_before_days: days.then(|| self.before_days.get_untracked().trim().parse().unwrap_or(0)),
            reuse_key: self.reuse_key.get_untracked(),
        }
    }
}

#[component]
pub fn RenewalFields(
    choice: RenewalChoice,
    /// "generate" or "csr".
    key_source: RwSignal<&'static str>,
    /// The server's message for `renewal.renew_before_days`, if any.
    error: Signal<Option<String>>,
) -> impl IntoView {
    // The default follows the key: on when certdesk makes it, off for a CSR (until the person says otherwise).
    Effect::new(move |previous: Option<&'static str>| {
        let source = key_source.get();
        if previous.is_some_and(|previous| previous != source) {
            choice.auto.set(source == "generate");
        }
        source
    });
    let RenewalChoice { auto, mode, before_days, reuse_key } = choice;
    view! {
        <fieldset class="field renewal-fields">
            <legend>"Renewal"</legend>
            <label class="choice">
                <input type="checkbox" name="auto_renew" prop:checked=move || auto.get()
                    on:change=move |event| auto.set(event_target_checked(&event)) />
                "Renew automatically before it expires"
            </label>
            <Show when=move || auto.get()>
                <label class="choice">
                    <input type="radio" name="renew_when" value="share" prop:checked=move || mode.get() == "share"
                        on:change=move |_| mode.set("share") />
                    "When a third of its lifetime remains (recommended)"
                </label>
                <label class="choice">
                    <input type="radio" name="renew_when" value="days" prop:checked=move || mode.get() == "days"
                        on:change=move |_| mode.set("days") />
                    "A fixed number of days before it expires"
                </label>
                <Show when=move || mode.get() == "days">
                    <div class="field">
                        <label for="renew-before">"Days before expiry"</label>
                        <input id="renew-before" name="renew_before_days" type="number" min="1" inputmode="numeric"
                            aria-describedby="renew-before-error"
                            aria-invalid=move || error.get().is_some().to_string()
                            prop:value=move || before_days.get()
                            on:input=move |event| before_days.set(event_target_value(&event)) />
                        <span id="renew-before-error" class="field-error" role="alert">{move || error.get()}</span>
                    </div>
                </Show>
                <Show
                    when=move || key_source.get() == "generate"
                    fallback=|| view! {
                        <p class="help">"A certificate from your CSR is renewed by signing the same CSR again (same key)."</p>
                    }
                >
                    <label class="choice">
                        <input type="checkbox" name="reuse_key" prop:checked=move || reuse_key.get()
                            on:change=move |event| reuse_key.set(event_target_checked(&event)) />
                        "Keep the same private key at each renewal (by default every renewal gets a fresh key)"
                    </label>
                </Show>
            </Show>
        </fieldset>
    }
}
