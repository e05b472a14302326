//! One certificate, in the spirit of `kubectl view-cert`: names, validity with a lifetime bar, serial,
//! fingerprint, key, usages, the chain to the root, status, owner, history; and its downloads. Certificate
//! formats are plain links; formats carrying the private key are POST forms (a password for PKCS#12), never links.
//! Owners and admins can revoke it from here.

mod order;
mod renewal;
mod revoke;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{get_certificate, get_session, renew_certificate, revoke_certificate};
use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::{CertStatus, CertificateDetail, KeyAccess, RevocationReason};
use order::OrderPanel;
use renewal::{RenewAction, RenewalPanel};
use revoke::{RevokeAction, RevokePanel, RevokedNotice};

#[component]
pub fn CertificatePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|params| params.get("id").unwrap_or_default());
    let revoke: RevokeAction =
        Action::new(|(id, reason): &(uuid::Uuid, RevocationReason)| revoke_certificate(*id, *reason));
    let renew: RenewAction = Action::new(|id: &uuid::Uuid| {
        let id = *id;
        async move { (id, renew_certificate(id).await) }
    });
    // A finished revocation or renewal reloads the page's data, which then shows the new state.
    let detail = Resource::new(
        move || (id(), revoke.version().get(), renew.version().get()),
        |(id, _, _)| async move {
            match uuid::Uuid::parse_str(&id) {
                Ok(id) => get_certificate(id).await,
                // Same answer as someone else's certificate.
                Err(_) => Err(AppError::not_found("certificate")),
            }
        },
    );
    let session = Resource::new(|| (), |_| get_session());
    // While an ACME order runs, re-read the certificate every second: the progress panel follows the CA, and the
    // page turns into the issued certificate (or the failure) by itself.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                let running = detail
                    .get_untracked()
                    .and_then(Result::ok)
                    .and_then(|detail| detail.order)
                    .is_some_and(|order| order.is_running());
                if running {
                    detail.refetch();
                }
            },
            std::time::Duration::from_secs(1),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        // A transition keeps the page on screen while a poll re-reads it.
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the certificate…"</p> }>
            {move || Suspend::new(async move {
                let form_token = session.await.ok().flatten().map(|session| session.csrf_token).unwrap_or_default();
                match detail.await {
                    Ok(detail) => view! { <Detail detail form_token revoke renew /> }.into_any(),
                    Err(error) => view! { <Title text="Certificate" /><ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn day_and_time(time: &str) -> String {
    time.replace('T', " ").trim_end_matches('Z').get(..16).unwrap_or(time).to_owned() + " UTC"
}

#[component]
fn Detail(detail: CertificateDetail, form_token: String, revoke: RevokeAction, renew: RenewAction) -> impl IntoView {
    let title = detail.common_name.clone();
    let status_class = format!("badge {}", detail.status.as_str());
    let has_certificate = matches!(detail.status, CertStatus::Issued | CertStatus::Revoked | CertStatus::Superseded);
    let lifetime = detail.lifetime_used_percent.map(|used| {
        let left = detail.days_left.unwrap_or_default();
        let label = if left >= 0 { format!("{left} days left") } else { format!("expired {} days ago", -left) };
        // A native meter: accessible by itself and styled without inline styles (the CSP forbids them). Below
        // `low` the browser shows it as fine, above `high` as critical.
        view! {
            <div class="lifetime">
                <meter class="lifetime-bar" min="0" max="100" low="66" high="90" optimum="0" value=used.to_string()
                    aria-label="Lifetime used" aria-valuetext=format!("{used}% of the lifetime used, {label}")>
                    {format!("{used}%")}
                </meter>
                <span class="lifetime-label">{label.clone()}</span>
            </div>
        }
    });
    let row = |label: &'static str, value: String| view! { <div class="fact"><dt>{label}</dt><dd>{value}</dd></div> };
    let names = detail.dns_names.iter().chain(detail.ip_addresses.iter()).cloned().collect::<Vec<_>>().join(", ");
    let id = detail.id;
    let facts = view! {
        <section class="panel">
            <h2>"Certificate"</h2>
            <dl class="facts">
                {row("Names", names)}
                {row("Issuer", detail.issuer_name.clone())}
                {row("Owner", detail.owner_name.clone())}
                {row("Source", match &detail.acme_account {
                    Some(account) => format!("ACME: {account} (ordered by a machine through certdesk's ACME server)"),
                    None => "Requested in certdesk".to_owned(),
                })}
                {row("Valid from", detail.not_before.as_deref().map(day_and_time).unwrap_or_else(|| "—".into()))}
                {row("Valid until", detail.not_after.as_deref().map(day_and_time).unwrap_or_else(|| "—".into()))}
                {row("Serial", detail.serial.clone().unwrap_or_else(|| "—".into()))}
                {row("SHA-256 fingerprint", detail.fingerprint_sha256.clone().unwrap_or_else(|| "—".into()))}
                {row("Key", format!("{}{}", detail.key_algorithm, if detail.key_held { " (made by certdesk, stored encrypted)" } else { " (your CSR; certdesk never had the key)" }))}
                {row("Key usage", detail.key_usage.join(", "))}
                {row("Extended key usage", detail.extended_key_usage.join(", "))}
                {row("Subject", detail.subject.clone().filter(|subject| !subject.is_empty()).unwrap_or_else(|| "—".into()))}
                {row("CRL", if detail.crl_distribution_points.is_empty() {
                    "— (the certificate names none)".to_owned()
                } else {
                    detail.crl_distribution_points.join(", ")
                })}
                {row("Policy rule", detail.policy_rule.clone().unwrap_or_else(|| "—".into()))}
            </dl>
            {detail.common_name_note.clone().map(|note| view! { <p class="help subject-note">{note}</p> })}
        </section>
    }
    .into_any();
    view! {
        <Title text=title.clone() />
        <div class="page-head">
            <h1>{title}</h1>
            <span class=status_class>{detail.status.label()}</span>
        </div>
        {detail.failure.clone().map(|failure| view! {
            <div class="error-panel" role="alert"><h2>"This request failed"</h2><p>{failure}</p>
            <p><a class="button primary" href="/request">"Request it again"</a></p></div>
        })}
        // Type-erased: the page's view type is otherwise deep enough to exhaust the compiler's query depth.
        {detail.revocation.clone().map(|revocation| view! { <RevokedNotice revocation /> }.into_any())}
        {detail.order.clone().map(|order| view! { <OrderPanel order /> }.into_any())}
        {lifetime.map(IntoAny::into_any)}
        {facts}
        <section class="panel">
            <h2>"Chain"</h2>
            <ol class="chain">
                <li><strong>{detail.subject.clone().filter(|subject| !subject.is_empty()).unwrap_or_else(|| detail.common_name.clone())}</strong></li>
                {detail.chain.iter().map(|subject| view! { <li>{subject.clone()}</li> }).collect_view()}
            </ol>
        </section>
        <Show when=move || has_certificate>
            <Downloads id key_held=detail.key_held key_access=detail.key_access owner=detail.owner_name.clone()
                form_token=form_token.clone() />
        </Show>
        {has_certificate.then(|| view! { <RenewalPanel id renewal=detail.renewal.clone() renew /> }.into_any())}
        {detail.can_revoke.then(|| view! {
            <RevokePanel id common_name=detail.common_name.clone() serial=detail.serial.clone() revoke
                public_ca=detail.order.is_some() />
        }.into_any())}
        <section class="panel">
            <h2>"History"</h2>
            <ul class="history">
                {detail.history.iter().map(|entry| view! {
                    <li><time datetime=entry.at.clone()>{day_and_time(&entry.at)}</time>" · "{entry.action.clone()}
                        " · "{entry.outcome.clone()}" · "<span class="muted">{entry.actor.clone()}</span></li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Downloads(
    id: uuid::Uuid,
    key_held: bool,
    key_access: KeyAccess,
    owner: String,
    form_token: String,
) -> impl IntoView {
    let link = |format: &'static str, label: &'static str| {
        view! { <li><a class="button" href=format!("/certificates/{id}/download?format={format}") download>{label}</a></li> }
    };
    let key_section = match (key_held, key_access) {
        (false, _) => None,
        (true, KeyAccess::Owner) => Some(view! { <KeyDownloadForm id form_token on_behalf_of=None /> }.into_any()),
        (true, KeyAccess::OnBehalf) => {
            Some(view! { <KeyDownloadForm id form_token on_behalf_of=Some(owner) /> }.into_any())
        }
        (true, KeyAccess::Denied) => Some(
            view! {
                <p class="help key-note">"The private key is held by certdesk and only its owner can download it."</p>
            }
            .into_any(),
        ),
    };
    view! {
        <section class="panel">
            <h2>"Download"</h2>
            <ul class="downloads">
                {link("fullchain-pem", "Full chain (PEM)")}
                {link("leaf-pem", "Certificate (PEM)")}
                {link("chain-pem", "Intermediates (PEM)")}
                {link("ca-bundle-pem", "CA bundle (PEM)")}
            </ul>
            {key_section}
        </section>
    }
}

/// The formats that carry the private key, posted with the session's token; for an admin exporting someone
/// else's key (`on_behalf_of` the owner) with a required reason, after a fresh second factor.
#[component]
fn KeyDownloadForm(id: uuid::Uuid, form_token: String, on_behalf_of: Option<String>) -> impl IntoView {
    let on_behalf = on_behalf_of.is_some();
    let (heading, help) = match &on_behalf_of {
        None => {
            ("With the private key".to_owned(), "Every download of the key is recorded in the audit log.".to_owned())
        }
        Some(owner) => (
            format!("Export the private key on behalf of {owner}"),
            format!(
                "This key belongs to {owner}. As an admin you may export it for them: say why, confirm it's you with \
                 your second factor, and the export is recorded in the audit log with your reason."
            ),
        ),
    };
    view! {
        <form class="form" method="post" action=format!("/certificates/{id}/download")>
            <h3>{heading}</h3>
            <p class="help">{help}</p>
            <input type="hidden" name="csrf_token" value=form_token />
            {on_behalf.then(|| view! {
                <div class="field">
                    <label for="on-behalf-reason">"Reason (recorded in the audit log)"</label>
                    <textarea id="on-behalf-reason" name="reason" required maxlength="500" rows="2"
                        aria-describedby="on-behalf-help"></textarea>
                    <span id="on-behalf-help" class="help">"For example the ticket asking for it; at most 500 characters."</span>
                </div>
            })}
            <fieldset class="field">
                <legend>"Format"</legend>
                <label class="choice"><input type="radio" name="format" value="pkcs12" checked />"PKCS#12 (.p12, for Java, Windows, browsers)"</label>
                <label class="choice"><input type="radio" name="format" value="kubernetes-secret" />"Kubernetes Secret (kubernetes.io/tls, with ca.crt)"</label>
                <label class="choice"><input type="radio" name="format" value="key-pem" />"Private key (PEM, PKCS#8)"</label>
            </fieldset>
            <div class="field">
                <label for="p12-password">"PKCS#12 password"</label>
                <input id="p12-password" name="password" type="password" minlength="8" autocomplete="new-password"
                    aria-describedby="p12-help" />
                <span id="p12-help" class="help">"At least 8 characters; needed for PKCS#12 only."</span>
            </div>
            <div class="field">
                <label for="secret-namespace">"Kubernetes namespace (optional)"</label>
                <input id="secret-namespace" name="namespace" type="text" autocomplete="off" />
            </div>
            <button class="button primary" type="submit">{if on_behalf { "Export on their behalf" } else { "Download" }}</button>
        </form>
    }
}
