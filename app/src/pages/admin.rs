//! The administration area.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::empty_state::EmptyState;

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Administration" />
        <h1>"Administration"</h1>
        <EmptyState
            title="Nothing to administer yet"
            message="The revocation screen and the audit log viewer will appear here. The audit chain can already be checked with `certdesk audit verify`."
        />
    }
}
