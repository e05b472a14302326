//! Shows an `AppError` to a person, and sets the response status when rendered on the server.

use leptos::prelude::*;

use crate::error::AppError;

#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(error.status());
    let title = error.title();
    let message = error.to_string();
    let step_up = (error == AppError::StepUpRequired).then(|| {
        let here = leptos_router::hooks::use_location().pathname.get_untracked();
        let href = format!("/auth/login?step_up=1&next={}", encode_path(&here));
        // A server route (the provider's sign-in), not one of the app's: the router must not take it over.
        view! { <a class="button primary" href=href rel="external">"Confirm it's you"</a> }
    });
    view! {
        <section class="error-panel" role="alert">
            <h2>{title}</h2>
            <p>{message}</p>
            {step_up}
            <p class="muted">"HTTP " {error.status()}</p>
        </section>
    }
}

/// Percent-encodes a path for use as a query value (the router only hands out paths, so this stays small).
fn encode_path(path: &str) -> String {
    path.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
