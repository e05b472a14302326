//! A labelled number on the dashboard.

use leptos::prelude::*;

#[component]
pub fn StatCard(
    label: &'static str,
    value: i64,
    #[prop(optional)] tone: &'static str,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    view! {
        <div class=format!("stat-card {tone}")>
            <span class="stat-value">{value}</span>
            <span class="stat-label">{label}</span>
            {(!hint.is_empty()).then(|| view! { <span class="stat-hint">{hint}</span> })}
        </div>
    }
}
