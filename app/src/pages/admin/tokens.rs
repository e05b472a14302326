//! Everyone's API tokens that still work, with their owners, for an admin to revoke any of them (a leaked token,
//! a person leaving): revoking takes effect at the token's next use.

use leptos::prelude::*;

use crate::api::{list_everyones_api_tokens, revoke_api_token};
use crate::components::error_panel::ErrorPanel;
use crate::model::OwnedApiTokenView;

#[component]
pub fn EveryonesTokens(
    /// Bumped by each off-boarding (which revokes that person's tokens).
    offboarded: RwSignal<u32>,
) -> impl IntoView {
    let revoke = Action::new(|id: &uuid::Uuid| {
        let id = *id;
        async move { revoke_api_token(id).await }
    });
    let tokens = Resource::new(move || (revoke.version().get(), offboarded.get()), |_| list_everyones_api_tokens());
    view! {
        <section class="panel" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens in use"</h2>
            <p class="help">"Every token that still works, whoever owns it. A revoked token is refused at its next use."</p>
            {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorPanel error /> })}
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="empty" role="status">"No API token is in use."</p> }.into_any()
                        }
                        Ok(list) => view! { <Table list revoke /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Table(
    list: Vec<OwnedApiTokenView>,
    revoke: Action<uuid::Uuid, Result<(), crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <caption class="sr-only">"API tokens in use, with their owners"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Owner"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Scope"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|owned| {
                        let token = owned.token;
                        let id = token.id;
                        let label = format!("Revoke {} of {}", token.name, owned.owner_name);
                        view! {
                            <tr>
                                <td>{owned.owner_name}<br /><span class="muted small">{owned.owner_email.unwrap_or_default()}</span></td>
                                <th scope="row">{token.name}</th>
                                <td>
                                    {token.scope.label()}
                                    {token.private_keys.then(|| view! { " " <span class="badge">"private keys"</span> })}
                                </td>
                                <td><code>{token.prefix}"…"</code></td>
                                <td>{token.expires_at}</td>
                                <td>{token.last_used_at.unwrap_or_else(|| "never".into())}</td>
                                <td>
                                    <button class="button small" type="button" aria-label=label
                                        disabled=move || revoke.pending().get()
                                        on:click=move |_| { revoke.dispatch(id); }>
                                        "Revoke"
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
