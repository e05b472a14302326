//! The HTML shell and the route table.

mod lazy;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::{Lazy, SsrMode, path};

use crate::components::layout::Layout;
use crate::pages::{CertificatesPage, DashboardPage, MfaRequiredPage, NotFoundPage};
use lazy::{
    AdminRoute, AuditEventRoute, AuditLogRoute, CertificateRoute, MachinesRoute, NotificationsRoute, RequestRoute,
    TokensRoute,
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
                // Here rather than a `<Stylesheet>` in the app: the shell is never hydrated, so the browser's wasm
                // carries no code for it.
                <link rel="stylesheet" id="certdesk" href="/pkg/certdesk.css" />
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
        <Title formatter=|page: String| {
            if page.is_empty() { "certdesk".to_owned() } else { format!("{page} · certdesk") }
        } />
        <Router>
            <Layout>
                // Async SSR for data pages: the whole page waits for its data, so a failure can still set the
                // HTTP status before the first byte is sent. `Lazy` pages are wasm chunks of their own (see lazy).
                // The routes are flat (no nesting, no outlet): the flat router is 14 KB smaller in the gzip'd wasm.
                <FlatRoutes fallback=NotFoundPage>
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/certificates") view=CertificatesPage ssr=SsrMode::Async />
                    <Route path=path!("/certificates/:id") view={Lazy::<CertificateRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/request") view={Lazy::<RequestRoute>::new()} />
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} />
                    <Route path=path!("/admin/audit") view={Lazy::<AuditLogRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit/:seq") view={Lazy::<AuditEventRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/machines") view={Lazy::<MachinesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings/tokens") view={Lazy::<TokensRoute>::new()} ssr=SsrMode::Async />
                    <Route
                        path=path!("/settings/notifications")
                        view={Lazy::<NotificationsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/signin/mfa-required") view=MfaRequiredPage />
                </FlatRoutes>
            </Layout>
        </Router>
    }
}
