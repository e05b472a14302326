//! The administration area's revocation screen: search every certificate (owner, names, serial, issuer, status,
//! expiry), select many, revoke them with one reason and watch each result arrive; off-boarding — end everything
//! one person holds, after a confirmation with the counts; and everyone's API tokens, each revocable.

mod batch;
mod offboarding;
mod table;
mod tokens;

use leptos::prelude::*;
use leptos_meta::Title;

use super::certificates::{Filters, query_from_url};
use crate::api::{get_session, list_certificates};
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::Role;

#[component]
pub fn AdminPage() -> impl IntoView {
    let query = query_from_url();
    let page = Resource::new(query, list_certificates);
    let session = Resource::new(|| (), |_| get_session());
    // Off-boarding revokes a person's tokens: the token list below re-reads itself when it happens.
    let offboarded = RwSignal::new(0u32);
    view! {
        <Title text="Revocation" />
        <div class="page-head">
            <h1>"Revocation"</h1>
            <a class="button" href="/crl">"Published CRLs"</a>
        </div>
        <offboarding::Offboarding offboarded />
        <tokens::EveryonesTokens offboarded />
        <section class="panel" aria-labelledby="search-heading">
            <h2 id="search-heading">"Find certificates"</h2>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading certificates…"</p> }>
                {move || Suspend::new(async move {
                    let is_admin = matches!(session.await, Ok(Some(session)) if session.role == Role::Admin);
                    let page = if is_admin { page.await } else { Err(AppError::Forbidden) };
                    let issuers = page.as_ref().map(|page| page.issuers.clone()).unwrap_or_default();
                    let results = match page {
                        Ok(page) if page.rows.is_empty() => view! {
                            <EmptyState
                                title="No certificate matches"
                                message="Nothing matches these filters; clear them to see every certificate."
                                action_href="/admin"
                                action_label="Clear filters"
                            />
                        }.into_any(),
                        Ok(page) => view! { <table::RevocationTable page query=query() /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    };
                    view! { <Filters base="/admin" query=query() issuers /> {results} }
                })}
            </Suspense>
        </section>
    }
}
