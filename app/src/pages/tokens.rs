//! Personal API tokens: create one (its secret shown once), see them all, revoke any.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{create_api_token, list_api_tokens, revoke_api_token};
use crate::components::data_table::{Column, DataTable};
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::expiry_select::ExpirySelect;
use crate::components::text_field::TextField;
use crate::model::{ApiTokenView, NewApiToken, TokenScope};

#[component]
pub fn TokensPage() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new(TokenScope::Read);
    let days = RwSignal::new(90_u32);
    let private_keys = RwSignal::new(false);
    let touched = RwSignal::new(false);
    let draft = move || NewApiToken {
        name: name.get(),
        scope: scope.get(),
        expires_in_days: days.get(),
        private_keys: private_keys.get(),
    };
    let name_error = Signal::derive(move || match draft().validate() {
        Err(crate::error::AppError::Invalid { field: Some(field), message }) if field == "name" => Some(message),
        _ => None,
    });
    let create = Action::new(|input: &NewApiToken| {
        let input = input.clone();
        async move { create_api_token(input).await }
    });
    let revoke = Action::new(|id: &uuid::Uuid| {
        let id = *id;
        async move { revoke_api_token(id).await }
    });
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_tokens());
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        touched.set(true);
        if draft().validate().is_ok() {
            create.dispatch(draft());
        }
    };
    view! {
        <Title text="API tokens" />
        <h1>"API tokens"</h1>
        <p class="muted">
            "Personal tokens let scripts and CI jobs use the certdesk API ("<code>"/api/v1"</code>") as you, "
            "with your rights and never more. Send one as "<code>"Authorization: Bearer …"</code>"."
        </p>
        <form class="panel form" on:submit=on_submit novalidate>
            <h2>"Create a token"</h2>
            <TextField id="token-name" label="Name" value=name touched error=name_error maxlength=64
                placeholder="e.g. gitlab-deploy-job">
                "Say where the token is used, so you know what breaks if you revoke it."
            </TextField>
            <fieldset class="field">
                <legend>"Scope"</legend>
                {[TokenScope::Read, TokenScope::ReadWrite].into_iter().map(|option| view! {
                    <label class="choice">
                        <input
                            type="radio"
                            name="scope"
                            value=option.as_str()
                            prop:checked=move || scope.get() == option
                            on:change=move |_| scope.set(option)
                        />
                        {option.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            <div class="field">
                <label class="choice">
                    <input
                        type="checkbox"
                        name="private_keys"
                        aria-describedby="token-keys-help"
                        prop:checked=move || private_keys.get()
                        on:change=move |event| private_keys.set(event_target_checked(&event))
                    />
                    "May download private keys"
                </label>
                <span id="token-keys-help" class="help">
                    "Only for a job that installs a key certdesk made for you (PEM key, PKCS#12, Kubernetes Secret). "
                    "Without it the token gets certificates only, whatever its scope."
                </span>
            </div>
            <ExpirySelect id="token-days" days />
            <button class="button primary" type="submit" disabled=move || create.pending().get()>
                {move || if create.pending().get() { "Creating…" } else { "Create token" }}
            </button>
            {move || create.value().get().map(|result| match result {
                Ok(created) => view! {
                    <div class="notice" role="status">
                        <p><strong>"Copy your new token now."</strong>" It will not be shown again."</p>
                        <input class="secret" type="text" readonly aria-label="New API token" value=created.secret />
                    </div>
                }.into_any(),
                Err(error) => view! { <ErrorPanel error /> }.into_any(),
            })}
        </form>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No API tokens yet"
                            message="Create one above when a script or pipeline needs to request or download certificates."
                        />
                    }.into_any(),
                    Ok(list) => view! { <TokenTable list revoke /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TokenTable(
    list: Vec<ApiTokenView>,
    revoke: Action<uuid::Uuid, Result<(), crate::error::AppError>>,
) -> impl IntoView {
    let columns = vec![
        Column::Text("Name"),
        Column::Text("Scope"),
        Column::Text("Token"),
        Column::Text("Expires"),
        Column::Text("Last used"),
        Column::Text("Status"),
        Column::Actions,
    ];
    view! {
        <DataTable caption="Your API tokens" columns>
                    {list.into_iter().map(|token| {
                        let id = token.id;
                        let label = format!("Revoke {}", token.name);
                        view! {
                            <tr>
                                <th scope="row">{token.name.clone()}</th>
                                <td>
                                    {token.scope.label()}
                                    {token.private_keys.then(|| view! { <span class="badge">"private keys"</span> })}
                                </td>
                                <td><code>{token.prefix}"…"</code></td>
                                <td>{token.expires_at}</td>
                                <td>{token.last_used_at.unwrap_or_else(|| "never".into())}</td>
                                <td>
                                    {if token.revoked {
                                        view! { <span class="badge revoked">"Revoked"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge issued">"Active"</span> }.into_any()
                                    }}
                                </td>
                                <td>
                                    {(!token.revoked).then(|| view! {
                                        <button
                                            class="button small"
                                            type="button"
                                            aria-label=label.clone()
                                            on:click=move |_| { revoke.dispatch(id); }
                                        >
                                            "Revoke"
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
        </DataTable>
    }
}
