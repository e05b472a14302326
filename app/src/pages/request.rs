//! The certificate request page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::empty_state::EmptyState;

#[component]
pub fn RequestPage() -> impl IntoView {
    view! {
        <Title text="Request a certificate" />
        <h1>"Request a certificate"</h1>
        <EmptyState
            title="Requests are not open yet"
            message="This certdesk installation does not accept certificate requests yet. Until it does, ask the platform team."
        />
    }
}
