//! The "Expires after" choice of a credential's lifetime (API tokens, ACME account keys), in days.

use leptos::prelude::*;

/// The lifetimes offered, in days.
pub const EXPIRY_CHOICES: [u32; 4] = [30, 90, 180, 365];

#[component]
pub fn ExpirySelect(id: &'static str, days: RwSignal<u32>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>"Expires after"</label>
            <select id=id on:change=move |event| days.set(event_target_value(&event).parse().unwrap_or(90))>
                {EXPIRY_CHOICES.into_iter().map(|option| view! {
                    <option value=option.to_string() selected=move || days.get() == option>
                        {format!("{option} days")}
                    </option>
                }).collect_view()}
            </select>
        </div>
    }
}
