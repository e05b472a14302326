//! The signed-in person's name and role, and sign-out (a POST form carrying the session's CSRF token).

use leptos::prelude::*;

use crate::api::SessionResource;

#[component]
pub fn UserMenu(session: SessionResource) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(user)) => view! {
                        <div class="user-menu">
                            <span class="user-name">{user.display_name}</span>
                            <span class="role-badge" title="Your role in certdesk">{user.role.label()}</span>
                            <form method="post" action="/auth/logout">
                                <input type="hidden" name="csrf_token" value=user.csrf_token />
                                <button class="button small" type="submit">"Sign out"</button>
                            </form>
                        </div>
                    }.into_any(),
                    _ => view! { <a class="button small" href="/auth/login">"Sign in"</a> }.into_any(),
                }
            })}
        </Suspense>
    }
}
