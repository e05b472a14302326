//! The navigation items only some roles can use: "Revocation" for admins, "Audit log" for admins and auditors
//! (their pages refuse everyone else anyway; hiding the links keeps the menu honest).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::SessionResource;
use crate::model::Role;

#[component]
pub fn RoleLinks(session: SessionResource) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let role = session.await.ok().flatten().map(|user| user.role);
                let admin = role == Some(Role::Admin);
                let auditor = matches!(role, Some(Role::Admin | Role::Auditor));
                view! {
                    {admin.then(|| view! { <li><A href="/admin" exact=true>"Revocation"</A></li> })}
                    {auditor.then(|| view! { <li><A href="/admin/audit">"Audit log"</A></li> })}
                }
            })}
        </Suspense>
    }
}
