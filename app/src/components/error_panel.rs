//! Shows an `AppError` to a person, and sets the response status when rendered on the server.

use leptos::prelude::*;

use crate::error::AppError;

#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(error.status());
    let title = error.title();
    let message = error.to_string();
    view! {
        <section class="error-panel" role="alert">
            <h2>{title}</h2>
            <p>{message}</p>
            <p class="muted">"HTTP " {error.status()}</p>
        </section>
    }
}
