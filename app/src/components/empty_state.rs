//! A friendly "nothing here yet" block that says what to do next.

use leptos::prelude::*;

#[component]
pub fn EmptyState(
    title: &'static str,
    message: &'static str,
    #[prop(optional)] action_href: Option<&'static str>,
    #[prop(optional)] action_label: Option<&'static str>,
) -> impl IntoView {
    view! {
        <section class="empty-state" aria-label=title>
            <h2>{title}</h2>
            <p>{message}</p>
            {action_href
                .zip(action_label)
                .map(|(href, label)| view! { <a class="button primary" href=href>{label}</a> })}
        </section>
    }
}
