//! The page frame: skip link, header with navigation (collapsible on phones), main area and footer.

use leptos::prelude::*;
use leptos_router::components::A;

use super::role_links::RoleLinks;
use super::user_menu::UserMenu;
use crate::api::get_session;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let menu_open = RwSignal::new(false);
    // One session read for the header's parts (a resource per part would be one more request and more wasm).
    let session = Resource::new(|| (), |_| get_session());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/" aria-label="certdesk home">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "certdesk"
            </a>
            <button
                class="menu-toggle"
                type="button"
                aria-controls="primary-nav"
                aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|open| *open = !*open)
            >
                <span class="sr-only">"Menu"</span>
                <span aria-hidden="true">"☰"</span>
            </button>
            <nav id="primary-nav" aria-label="Primary" class:open=move || menu_open.get()>
                <ul on:click=move |_| menu_open.set(false)>
                    <li><A href="/" exact=true>"Dashboard"</A></li>
                    <li><A href="/certificates">"Certificates"</A></li>
                    <li><A href="/request">"Request"</A></li>
                    <li><A href="/machines">"Machines"</A></li>
                    <RoleLinks session />
                    <li><A href="/settings/tokens">"API tokens"</A></li>
                    <li><A href="/settings/notifications">"Notifications"</A></li>
                </ul>
            </nav>
            <UserMenu session />
        </header>
        <main id="main" tabindex="-1">{children()}</main>
        <footer class="footer">
            <span>"certdesk — self-service TLS certificates"</span>
            <a href="/readyz">"Service status"</a>
        </footer>
    }
}
