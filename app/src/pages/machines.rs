//! Machines: what lets cert-manager, certbot and lego get certificates through certdesk's ACME server as the
//! person. Their ACME account keys (create one, its secret and client configuration shown once; list; revoke), the
//! ACME accounts bound to them with their recent orders and certificates (admins: everyone's), and deactivation.

mod accounts;
mod created;
mod key_form;
mod keys;
mod snippets;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    acme_directories, create_acme_account_key, deactivate_acme_account, list_acme_account_keys, list_acme_accounts,
    revoke_acme_account_key,
};
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::model::NewAcmeAccountKey;

#[component]
pub fn MachinesPage() -> impl IntoView {
    let create = Action::new(|input: &NewAcmeAccountKey| {
        let input = input.clone();
        async move { create_acme_account_key(input).await }
    });
    let revoke = Action::new(|id: &uuid::Uuid| {
        let id = *id;
        async move { revoke_acme_account_key(id).await }
    });
    let deactivate = Action::new(|id: &uuid::Uuid| {
        let id = *id;
        async move { deactivate_acme_account(id).await }
    });
    let directories = Resource::new(|| (), |_| acme_directories());
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_acme_account_keys());
    // Revoking a key deactivates its accounts too.
    let accounts =
        Resource::new(move || (revoke.version().get(), deactivate.version().get()), |_| list_acme_accounts());
    view! {
        <Title text="Machines" />
        <h1>"Machines"</h1>
        <p class="muted intro">
            "cert-manager, certbot, lego and other ACME clients get certificates from certdesk as you: give them an "
            "ACME account key. Their certificates are yours — your policy, your expiry notices, in your inventory as "
            "“ACME: " <em>"key name"</em> "” — and revoking the key stops them at once."
        </p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match directories.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="notice warn" role="note">
                            "No issuer has certdesk's ACME server enabled yet: you can create keys, but clients have "
                            "no directory to use until an administrator enables one (" <code>"[issuers.acme_server]"</code> ")."
                        </p>
                    }.into_any(),
                    Ok(list) => view! {
                        <dl class="facts directories" aria-label="ACME directories">
                            {list.into_iter().map(|directory| view! {
                                <div class="fact">
                                    <dt>{directory.display_name}</dt>
                                    <dd>
                                        <code>{directory.directory_url}</code>
                                        {(!directory.eab_required).then(|| view! { <span class="muted">" (also without a key)"</span> })}
                                    </dd>
                                </div>
                            }).collect_view()}
                        </dl>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
        <key_form::KeyForm create />
        {move || create.value().get().and_then(Result::ok).map(|created| view! {
            <Suspense fallback=|| ()>
                {move || {
                    let created = created.clone();
                    Suspend::new(async move {
                        let list = directories.await.unwrap_or_default();
                        view! { <created::CreatedKey created directories=list /> }
                    })
                }}
            </Suspense>
        })}
        <section aria-labelledby="keys-heading">
            <h2 id="keys-heading" class="section-gap">"Your ACME account keys"</h2>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState
                                title="No ACME account keys yet"
                                message="An ACME account key binds the ACME account a machine creates (cert-manager in a cluster, certbot or lego on a host) to you, through External Account Binding. Create one above for each cluster or host, so you can revoke one without touching the others."
                            />
                        }.into_any(),
                        Ok(list) => view! { <keys::KeyTable list revoke /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
            {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
        </section>
        <section aria-labelledby="accounts-heading">
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading ACME accounts…"</p> }>
                {move || Suspend::new(async move {
                    match accounts.await {
                        Ok(data) => {
                            let heading = if data.everyone { "Everyone's ACME accounts" } else { "Your ACME accounts" };
                            let orders = data.orders.clone();
                            let account_list = data.accounts.clone();
                            let body = if data.accounts.is_empty() {
                                view! {
                                    <p class="muted">
                                        "No ACME account yet. A client creates one the first time it uses a key with "
                                        "a directory above; it is listed here with its orders."
                                    </p>
                                }.into_any()
                            } else {
                                view! { <accounts::AccountTable view_data=data deactivate /> }.into_any()
                            };
                            let recent = if orders.is_empty() {
                                view! { <p class="muted">"No orders yet."</p> }.into_any()
                            } else {
                                view! { <accounts::OrderTable orders accounts=account_list /> }.into_any()
                            };
                            view! {
                                <h2 id="accounts-heading" class="section-gap">{heading}</h2>
                                {body}
                                <h2 class="section-gap">"Recent orders"</h2>
                                {recent}
                            }.into_any()
                        }
                        Err(error) => view! {
                            <h2 id="accounts-heading">"ACME accounts"</h2>
                            <ErrorPanel error />
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || deactivate.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
        </section>
    }
}
