//! The page for any path certdesk does not know; answered with HTTP 404.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(404);
    view! {
        <Title text="Page not found" />
        <section class="error-panel" role="alert">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <a class="button primary" href="/">"Go to the dashboard"</a>
        </section>
    }
}
