//! The navigation's "Audit log" item, shown to admins and auditors only (the page refuses everyone else anyway).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::get_session;
use crate::model::Role;

#[component]
pub fn AuditLink() -> impl IntoView {
    let session = Resource::new(|| (), |_| get_session());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let may_view = matches!(session.await, Ok(Some(user)) if matches!(user.role, Role::Admin | Role::Auditor));
                may_view.then(|| view! { <li><A href="/admin/audit">"Audit log"</A></li> })
            })}
        </Suspense>
    }
}
