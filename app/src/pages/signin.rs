//! Pages shown around sign-in.

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown when the identity provider signed the person in without a second factor.
#[component]
pub fn MfaRequiredPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(403);
    view! {
        <Title text="Multi-factor authentication required" />
        <section class="error-panel" role="alert">
            <h1>"Multi-factor authentication required"</h1>
            <p>
                "Your identity provider signed you in with a password only. certdesk hands out credentials for "
                "production systems, so it only admits sign-ins that include a second factor."
            </p>
            <h2>"How to get in"</h2>
            <ol>
                <li>"Set up a second factor (an authenticator app or a security key) in your company account."</li>
                <li>"If your account already has one, make sure your sign-in actually asked for it."</li>
                <li>"Then sign in again. Your IT or platform team can help if the option is missing."</li>
            </ol>
            <a class="button primary" href="/auth/login">"Sign in again"</a>
        </section>
    }
}
