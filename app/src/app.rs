//! The HTML shell and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::layout::Layout;
use crate::pages::{
    AdminPage, AuditEventPage, AuditLogPage, CertificatePage, CertificatesPage, DashboardPage, MfaRequiredPage,
    NotFoundPage, NotificationsPage, RequestPage, TokensPage,
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="certdesk" href="/pkg/certdesk.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "certdesk".to_owned() } else { format!("{page} · certdesk") }
        } />
        <Router>
            <Layout>
                // Async SSR for data pages: the whole page waits for its data, so a failure can still set the
                // HTTP status before the first byte is sent.
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/certificates") view=CertificatesPage ssr=SsrMode::Async />
                    <Route path=path!("/certificates/:id") view=CertificatePage ssr=SsrMode::Async />
                    <Route path=path!("/request") view=RequestPage />
                    <Route path=path!("/admin") view=AdminPage />
                    <Route path=path!("/admin/audit") view=AuditLogPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit/:seq") view=AuditEventPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/tokens") view=TokensPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/notifications") view=NotificationsPage ssr=SsrMode::Async />
                    <Route path=path!("/signin/mfa-required") view=MfaRequiredPage />
                </Routes>
            </Layout>
        </Router>
    }
}
