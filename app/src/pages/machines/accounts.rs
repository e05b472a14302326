//! The ACME accounts bound to people's keys (the person's own; everyone's, with owners, for admins), each with the
//! certificates it holds and a deactivation that asks first; and the accounts' recent orders with their status and
//! the certificate an order produced.

use std::collections::HashMap;

use leptos::prelude::*;

use super::keys::Day;
use crate::components::confirm_button::ConfirmButton;
use crate::components::data_table::{Column, DataTable};
use crate::error::AppError;
use crate::model::{AcmeAccountView, AcmeAccountsView, AcmeOrderView};

pub type DeactivateAction = Action<uuid::Uuid, Result<(), AppError>>;

/// What a person calls an account: its key's name, else the start of its id.
fn account_label(account: &AcmeAccountView) -> String {
    match &account.account_key {
        Some(key) => key.name.clone(),
        None => format!("account {}", account.id.simple().to_string().get(..8).unwrap_or_default()),
    }
}

#[component]
pub fn AccountTable(view_data: AcmeAccountsView, deactivate: DeactivateAction) -> impl IntoView {
    let everyone = view_data.everyone;
    let mut columns = vec![Column::Text("Account key")];
    if everyone {
        columns.push(Column::Text("Owner"));
    }
    columns.extend([
        Column::Text("Issuer"),
        Column::Text("Contact"),
        Column::Text("Created"),
        Column::Number("Certificates"),
        Column::Number("Orders"),
        Column::Text("Status"),
        Column::Actions,
    ]);
    let caption = if everyone { "Everyone's ACME accounts" } else { "Your ACME accounts" };
    view! {
        <DataTable caption columns class="compact">
                    {view_data.accounts.into_iter().map(|account| {
                        let id = account.id;
                        let label = account_label(&account);
                        let valid = account.is_valid();
                        let owner = account.owner_name.clone().unwrap_or_else(|| "nobody (no key)".into());
                        let question = format!(
                            "Deactivate the {} account of “{label}”? Its client can order nothing more; certificates already issued stay valid.",
                            account.issuer_id
                        );
                        view! {
                            <tr>
                                <th scope="row">
                                    {label.clone()}
                                    {account.account_key.as_ref().map(|key| view! { <br /><code class="key-id">{key.key_id.clone()}</code> })}
                                </th>
                                {everyone.then(|| view! { <td>{owner}</td> })}
                                <td>{account.issuer_id.clone()}</td>
                                <td>
                                    {if account.contact.is_empty() {
                                        view! { <span class="muted">"none"</span> }.into_any()
                                    } else {
                                        account.contact.iter().map(|contact| {
                                            view! { <span class="contact">{contact.strip_prefix("mailto:").unwrap_or(contact).to_owned()}</span> }
                                        }).collect_view().into_any()
                                    }}
                                </td>
                                <td><Day time=account.created_at.clone() /></td>
                                <td class="num">{account.certificates}</td>
                                <td class="num">{account.orders}</td>
                                <td>
                                    {if valid {
                                        view! { <span class="badge issued">"Valid"</span> }
                                    } else {
                                        view! { <span class="badge revoked">"Deactivated"</span> }
                                    }}
                                </td>
                                <td>
                                    {valid.then(|| view! {
                                        <ConfirmButton verb="Deactivate" subject=format!("the {} account of {label}", account.issuer_id)
                                            question on_confirm=Callback::new(move |()| { deactivate.dispatch(id); }) />
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
        </DataTable>
    }
}

/// The badge class of an order's status (RFC 8555 §7.1.6), paired with its text.
fn order_badge(status: &str) -> &'static str {
    match status {
        "valid" => "badge issued",
        "invalid" => "badge failed",
        _ => "badge pending",
    }
}

#[component]
pub fn OrderTable(orders: Vec<AcmeOrderView>, accounts: Vec<AcmeAccountView>) -> impl IntoView {
    let labels: HashMap<uuid::Uuid, String> = accounts
        .iter()
        .map(|account| (account.id, format!("{} · {}", account_label(account), account.issuer_id)))
        .collect();
    let columns = vec![
        Column::Text("Names"),
        Column::Text("Account"),
        Column::Text("Status"),
        Column::Text("Created"),
        Column::Text("Certificate"),
    ];
    view! {
        <DataTable caption="Recent ACME orders" columns class="compact">
                    {orders.into_iter().map(|order| {
                        let account = labels.get(&order.account_id).cloned().unwrap_or_default();
                        view! {
                            <tr>
                                <th scope="row">{order.identifiers.join(", ")}</th>
                                <td>{account}</td>
                                <td><span class=order_badge(&order.status)>{order.status.clone()}</span></td>
                                <td><Day time=order.created_at /></td>
                                <td>
                                    {match order.certificate_id {
                                        Some(id) => view! { <a href=format!("/certificates/{id}")>"View certificate"</a> }.into_any(),
                                        None => view! { <span class="muted">"—"</span> }.into_any(),
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
        </DataTable>
    }
}
