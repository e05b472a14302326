//! The person's ACME account keys: what each may order, when it was used, how many accounts it binds, and a revoke
//! that asks first (revoking also deactivates the key's accounts).

use leptos::prelude::*;

use crate::components::confirm_button::ConfirmButton;
use crate::components::data_table::{Column, DataTable};
use crate::error::AppError;
use crate::model::AcmeAccountKeyView;
use crate::pages::certificates::day_of;

pub type RevokeAction = Action<uuid::Uuid, Result<(), AppError>>;

/// Now as the server writes times ("2026-12-04 10:00 UTC"), which sort as text.
pub fn now_text() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", now.year(), u8::from(now.month()), now.day(), now.hour(), now.minute())
}

/// What revoking does to the key's accounts, said before it is done.
fn revoke_consequence(accounts: u32) -> String {
    match accounts {
        0 => "No ACME account uses it yet; none can be made with it afterwards.".to_owned(),
        1 => "Its ACME account is deactivated and can order nothing more.".to_owned(),
        many => format!("Its {many} ACME accounts are deactivated and can order nothing more."),
    }
}

/// A time as its day; the minute is in the tooltip.
#[component]
pub fn Day(time: String) -> impl IntoView {
    view! { <span class="nowrap" title=time.clone()>{day_of(&time)}</span> }
}

#[component]
pub fn KeyTable(list: Vec<AcmeAccountKeyView>, revoke: RevokeAction) -> impl IntoView {
    let now = now_text();
    let columns = vec![
        Column::Text("Name and key ID"),
        Column::Text("Restricted to"),
        Column::Text("Created"),
        Column::Text("Expires"),
        Column::Text("Last used"),
        Column::Number("Accounts"),
        Column::Text("Status"),
        Column::Actions,
    ];
    view! {
        <DataTable caption="Your ACME account keys" columns class="compact">
                    {list.into_iter().map(|key| {
                        let id = key.id;
                        let expired = key.expires_at.as_str() <= now.as_str();
                        let (class, status) = match (key.revoked, expired) {
                            (true, _) => ("badge revoked", "Revoked"),
                            (false, true) => ("badge superseded", "Expired"),
                            (false, false) => ("badge issued", "Active"),
                        };
                        let restricted = if key.allowed_names.is_empty() {
                            view! { <span class="muted">"Your policy"</span> }.into_any()
                        } else {
                            view! {
                                <ul class="name-list">
                                    {key.allowed_names.iter().map(|name| view! { <li><code>{name.clone()}</code></li> }).collect_view()}
                                </ul>
                            }.into_any()
                        };
                        let question = format!("Revoke “{}”? {}", key.name, revoke_consequence(key.accounts));
                        view! {
                            <tr>
                                <th scope="row">{key.name.clone()}<br /><code class="key-id">{key.key_id}</code></th>
                                <td>{restricted}</td>
                                <td><Day time=key.created_at /></td>
                                <td><Day time=key.expires_at /></td>
                                <td>
                                    {match key.last_used_at {
                                        Some(time) => view! { <Day time /> }.into_any(),
                                        None => view! { <span class="muted">"never"</span> }.into_any(),
                                    }}
                                </td>
                                <td class="num">{key.accounts}</td>
                                <td><span class=class>{status}</span></td>
                                <td>
                                    {(!key.revoked).then(|| view! {
                                        <ConfirmButton verb="Revoke" subject=key.name.clone() question
                                            on_confirm=Callback::new(move |()| { revoke.dispatch(id); }) />
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
        </DataTable>
    }
}
