//! Creating an ACME account key: a name, a lifetime, and optionally the names its accounts may order, each checked
//! as you type by the rules the server enforces. Creation needs a recent second factor, like API tokens: the error
//! panel offers the fresh sign-in.

use leptos::prelude::*;

use crate::components::error_panel::ErrorPanel;
use crate::components::expiry_select::ExpirySelect;
use crate::components::text_field::TextField;
use crate::error::AppError;
use crate::model::{CreatedAcmeAccountKey, NewAcmeAccountKey};

pub type CreateAction = Action<NewAcmeAccountKey, Result<CreatedAcmeAccountKey, AppError>>;

/// The names typed, one per line or separated by spaces or commas; DNS names are case-insensitive.
fn parse_names(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',').filter(|name| !name.is_empty()).map(str::to_lowercase).collect()
}

#[component]
pub fn KeyForm(create: CreateAction) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let names = RwSignal::new(String::new());
    let days = RwSignal::new(90_u32);
    let name_touched = RwSignal::new(false);
    let names_touched = RwSignal::new(false);
    let draft = move || NewAcmeAccountKey {
        name: name.get(),
        expires_in_days: days.get(),
        allowed_names: parse_names(&names.get()),
    };
    // Each field's own error, whatever the fields before it say (the rules stop at the first).
    let error_of = move |wanted: &'static str| {
        Signal::derive(move || {
            let mut probe = draft();
            if wanted != "name" {
                probe.name = "name".into();
            }
            match probe.validate() {
                Err(AppError::Invalid { field: Some(field), message }) if field == wanted => Some(message),
                _ => None,
            }
        })
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        name_touched.set(true);
        names_touched.set(true);
        if draft().validate().is_ok() {
            create.dispatch(draft());
        }
    };
    // A created key clears the form, so a second click cannot make a second key by accident.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            name.set(String::new());
            names.set(String::new());
            name_touched.set(false);
            names_touched.set(false);
        }
    });
    view! {
        <form class="panel form" on:submit=on_submit novalidate aria-labelledby="create-key-heading">
            <h2 id="create-key-heading">"Create an ACME account key"</h2>
            <TextField id="key-name" label="Name" value=name touched=name_touched error=error_of("name")
                maxlength=64 placeholder="e.g. prod-cluster-eu">
                "The cluster or host that uses it: its certificates show “ACME: " <em>"name"</em> "” in the inventory."
            </TextField>
            <TextField id="key-names" label="Restrict to names" label_note="(optional)" rows=3 value=names
                touched=names_touched error=error_of("allowed_names") placeholder="www.example.com\n*.svc.example.com">
                "One per line: exact names, or " <code>"*.suffix"</code> " for every name below a domain. Empty: "
                "whatever your policy lets you request. Either way certdesk checks your policy on every order."
            </TextField>
            <ExpirySelect id="key-days" days />
            <button class="button primary" type="submit" disabled=move || create.pending().get()>
                {move || if create.pending().get() { "Creating…" } else { "Create key" }}
            </button>
            {move || match create.value().get() {
                Some(Err(error)) => Some(view! { <ErrorPanel error /> }),
                _ => None,
            }}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_names;

    #[test]
    fn names_split_on_lines_spaces_and_commas() {
        assert_eq!(
            parse_names(" WWW.example.com,\n*.svc.example.com  b.example.com\n"),
            ["www.example.com", "*.svc.example.com", "b.example.com"]
        );
        assert!(parse_names(" \n, ").is_empty());
    }
}
