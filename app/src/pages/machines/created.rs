//! A freshly created ACME account key, shown once: its EAB key id and HMAC key with copy buttons, and ready-to-paste
//! configuration for cert-manager, certbot and lego on the directory the person picks.

use leptos::prelude::*;

use super::snippets::{self, SnippetInput};
use crate::components::copy_field::CopyField;
use crate::model::{AcmeDirectoryView, CreatedAcmeAccountKey};

#[component]
pub fn CreatedKey(created: CreatedAcmeAccountKey, directories: Vec<AcmeDirectoryView>) -> impl IntoView {
    let heading = NodeRef::<leptos::html::H2>::new();
    // Screen readers and keyboards land on what must be copied now.
    Effect::new(move |_| {
        if let Some(heading) = heading.get() {
            let _ = heading.focus();
        }
    });
    let chosen = RwSignal::new(0_usize);
    let key = StoredValue::new(created);
    let directories = StoredValue::new(directories);
    let chooser = directories.with_value(|all| {
        (all.len() > 1).then(|| {
            let options = all
                .iter()
                .enumerate()
                .map(|(index, directory)| {
                    view! { <option value=index.to_string()>{directory.display_name.clone()}</option> }
                })
                .collect_view();
            view! {
                <div class="field">
                    <label for="snippet-directory">"Directory"</label>
                    <select id="snippet-directory" on:change=move |event| {
                        chosen.set(event_target_value(&event).parse().unwrap_or(0))
                    }>{options}</select>
                </div>
            }
        })
    });
    let snippets = move || {
        let index = chosen.get();
        directories.with_value(|all| {
            let Some(directory) = all.get(index) else {
                return view! {
                    <p class="muted">
                        "No issuer has certdesk's ACME server enabled yet, so there is no directory to point a client "
                        "at. Ask an administrator to enable it (" <code>"[issuers.acme_server]"</code> ")."
                    </p>
                }
                .into_any();
            };
            key.with_value(|created| {
                let input = SnippetInput {
                    directory_url: &directory.directory_url,
                    issuer_id: &directory.issuer_id,
                    key_name: &created.key.name,
                    key_id: &created.key.key_id,
                    hmac_key: &created.hmac_key,
                    allowed_names: &created.key.allowed_names,
                };
                let (cert_manager, certbot, lego) =
                    (snippets::cert_manager(&input), snippets::certbot(&input), snippets::lego(&input));
                view! {
                    <CopyField label="Directory URL" id="new-key-directory"
                        value=directory.directory_url.clone() />
                    <h3>"cert-manager"</h3>
                    <p class="help">
                        "A Secret with the HMAC key and a ClusterIssuer that binds its ACME account to this key and "
                        "proves names over HTTP-01 through your Gateway (Gateway API HTTPRoute)."
                    </p>
                    <CopyField label="cert-manager configuration" id="snippet-cert-manager"
                        value=cert_manager multiline=true />
                    <h3>"certbot"</h3>
                    <p class="help">"Answers HTTP-01 with its own web server on port 80 (" <code>"--standalone"</code> ")."</p>
                    <CopyField label="certbot command" id="snippet-certbot" value=certbot multiline=true />
                    <h3>"lego"</h3>
                    <p class="help">"Answers HTTP-01 with its own web server on port 80 (" <code>"--http"</code> ")."</p>
                    <CopyField label="lego command" id="snippet-lego" value=lego multiline=true />
                }
                .into_any()
            })
        })
    };
    let (key_id, hmac_key, name) =
        key.with_value(|created| (created.key.key_id.clone(), created.hmac_key.clone(), created.key.name.clone()));
    view! {
        <section class="notice created-key" aria-labelledby="created-key-heading">
            <h2 id="created-key-heading" tabindex="-1" node_ref=heading>
                {format!("Your ACME account key “{name}”")}
            </h2>
            <p><strong>"Copy the key ID and HMAC key now."</strong> " certdesk keeps the HMAC key sealed and will not show it again."</p>
            <CopyField label="EAB key ID" id="new-key-id" value=key_id />
            <CopyField label="HMAC key" id="new-key-hmac" value=hmac_key />
            <h2>"Configure your client"</h2>
            {chooser}
            {snippets}
        </section>
    }
}
