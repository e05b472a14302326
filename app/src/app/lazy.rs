//! The pages the browser loads on demand (issue 16). Each is a `LazyRoute` whose view, with the code only it uses,
//! `cargo leptos build --split` moves into a wasm chunk of its own: fetched the first time the page is shown after
//! a navigation, or preloaded by the server's `<link rel="preload">` when the page is opened directly (hydration
//! then waits for it, see `crate::hydrate`). The dashboard, the inventory and the sign-in pages are not here: they
//! are what a person opens first, so they stay in the main bundle.
//!
//! The routes load no data of their own before the view: each page's resources are made by its component, as
//! before, so the server renders and the browser hydrates them in the same order.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::pages::{
    AdminPage, AuditEventPage, AuditLogPage, CertificatePage, MachinesPage, NotificationsPage, RequestPage, TokensPage,
};

/// `pub struct $route`, a lazy route showing the component `$page`. The split chunk is named after the route (its
/// snake-case name plus a hash), in the manifest the server preloads from and `bench_size.sh` reads.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident shows $page:ident) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_route: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(
    /// `/certificates/:id`.
    CertificateRoute shows CertificatePage
);
lazy_page!(
    /// `/request`.
    RequestRoute shows RequestPage
);
lazy_page!(
    /// `/admin`: revocation, off-boarding and everyone's API tokens.
    AdminRoute shows AdminPage
);
lazy_page!(
    /// `/admin/audit`.
    AuditLogRoute shows AuditLogPage
);
lazy_page!(
    /// `/admin/audit/:seq`.
    AuditEventRoute shows AuditEventPage
);
lazy_page!(
    /// `/machines`: ACME account keys and the ACME accounts bound to them.
    MachinesRoute shows MachinesPage
);
lazy_page!(
    /// `/settings/tokens`.
    TokensRoute shows TokensPage
);
lazy_page!(
    /// `/settings/notifications`.
    NotificationsRoute shows NotificationsPage
);
