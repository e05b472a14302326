//! The certificate request form: issuer, names, validity, key (made by certdesk or the requester's CSR). The
//! issuer's policy for this person drives the choices and the inline validation; the server checks everything
//! again. One idempotency key per form, so a double click issues one certificate.

mod renewal;
mod upload;
mod validate;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::{load_request_options, request_certificate};
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::{CertificateRequest, IssuerOption, KeyChoice, RequestOptions};

/// The form's bound while no rule of the chosen issuer gives one: the longest validity the server accepts in any
/// request. It must equal the server's `policy::MAX_VALIDITY_DAYS`, which the browser build cannot import.
const LONGEST_VALIDITY_DAYS: u32 = 398;

#[component]
pub fn RequestPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| load_request_options());
    view! {
        <Title text="Request a certificate" />
        <h1>"Request a certificate"</h1>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading what you may request…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) if options.issuers.iter().any(|issuer| issuer.can_request) => {
                        view! { <RequestForm options /> }.into_any()
                    }
                    Ok(_) => view! {
                        <EmptyState
                            title="No issuer is open to you"
                            message="No issuance policy covers your groups yet. Ask the platform team to add your group to an issuer's policy."
                        />
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Splits the names box: one per line, commas and spaces also separate.
fn names_of(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|name| !name.is_empty()).map(str::to_owned).collect()
}

#[component]
fn RequestForm(options: RequestOptions) -> impl IntoView {
    let issuers: Vec<IssuerOption> = options.issuers.clone();
    let first_open = issuers.iter().find(|issuer| issuer.can_request).map(|issuer| issuer.id.clone());
    let issuer_id = RwSignal::new(first_open.unwrap_or_default());
    let names = RwSignal::new(String::new());
    let ips = RwSignal::new(String::new());
    let validity = RwSignal::new(String::from("30"));
    let key_source = RwSignal::new("generate");
    let key_type = RwSignal::new(String::from("ec-p256"));
    let csr = RwSignal::new(String::new());
    let upload_problem = RwSignal::new(None::<String>);
    let client_auth = RwSignal::new(false);
    let renewal_choice = renewal::RenewalChoice::new();
    let touched = RwSignal::new(false);
    // One key per form: resubmitting the same form (double click, retry after a timeout) is the same request.
    let idempotency_key = StoredValue::new(uuid::Uuid::new_v4().to_string());

    let selected = {
        let issuers = issuers.clone();
        Memo::new(move |_| issuers.iter().find(|issuer| issuer.id == issuer_id.get()).cloned())
    };
    let problems = {
        Memo::new(move |_| {
            selected.get().map(|issuer| {
                validate::check(
                    &issuer,
                    &names_of(&names.get()),
                    &names_of(&ips.get()),
                    &validity.get(),
                    key_source.get(),
                    &key_type.get(),
                    &csr.get(),
                    client_auth.get(),
                )
            })
        })
    };
    let field_error = move |field: &'static str| {
        move || {
            if !touched.get() {
                return None;
            }
            problems.get().and_then(|problems| problems.get(field).cloned())
        }
    };

    let submit = Action::new(|input: &CertificateRequest| {
        let input = input.clone();
        async move { request_certificate(input).await }
    });
    let server_error = move |field: &'static str| {
        move || match submit.value().get() {
            Some(Err(AppError::Invalid { field: Some(name), message })) if name == field => Some(message),
            _ => None,
        }
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(created)) = submit.value().get() {
            navigate(&format!("/certificates/{}", created.id), Default::default());
        }
    });
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        touched.set(true);
        if problems.get_untracked().is_some_and(|problems| !problems.is_empty()) || submit.pending().get_untracked() {
            return;
        }
        let key = if key_source.get_untracked() == "csr" {
            KeyChoice::Csr { csr_pem: csr.get_untracked() }
        } else {
            KeyChoice::Generate { key_type: key_type.get_untracked() }
        };
        submit.dispatch(CertificateRequest {
            issuer_id: issuer_id.get_untracked(),
            common_name: String::new(),
            dns_names: names_of(&names.get_untracked()),
            ip_sans: names_of(&ips.get_untracked()),
            validity_days: validity.get_untracked().trim().parse().unwrap_or(0),
            key,
            client_auth: client_auth.get_untracked(),
            idempotency_key: Some(idempotency_key.get_value()),
            renewal: Some(renewal_choice.request()),
        });
    };

    let hint = move || selected.get().map(|issuer| validate::hint(&issuer)).unwrap_or_default();
    let max_days = move || selected.get().and_then(|issuer| issuer.max_validity_days).unwrap_or(LONGEST_VALIDITY_DAYS);
    let allows_ips = move || selected.get().is_some_and(|issuer| issuer.ip_sans);
    let ip_ranges_hint = move || {
        selected.get().map(|issuer| format!("Allowed ranges: {}.", issuer.ip_ranges.join(", "))).unwrap_or_default()
    };
    let allows_client_auth = move || selected.get().is_some_and(|issuer| issuer.client_auth);
    let key_types = options.key_types.clone();
    let other_error = move || match submit.value().get() {
        Some(Err(AppError::Invalid { field: Some(field), .. }))
            if [
                "dns_names",
                "ip_sans",
                "validity_days",
                "key_type",
                "csr",
                "client_auth",
                "renewal.renew_before_days",
            ]
            .contains(&field.as_str()) =>
        {
            None
        }
        Some(Err(error)) => Some(error),
        _ => None,
    };

    view! {
        <form class="panel form" on:submit=on_submit novalidate aria-describedby="request-help">
            <p id="request-help" class="muted">
                "certdesk checks the names against your issuance policy before anything is sent to the CA."
            </p>
            <div class="field">
                <label for="issuer">"Issuer"</label>
                <select id="issuer" name="issuer" on:change=move |event| issuer_id.set(event_target_value(&event))>
                    {issuers.iter().map(|issuer| {
                        let id = issuer.id.clone();
                        let label = if issuer.can_request {
                            issuer.display_name.clone()
                        } else {
                            format!("{} (not open to you)", issuer.display_name)
                        };
                        view! {
                            <option value=id.clone() disabled=!issuer.can_request selected=move || issuer_id.get() == id>
                                {label}
                            </option>
                        }
                    }).collect_view()}
                </select>
                <span class="help">{hint}</span>
            </div>
            <div class="field">
                <label for="names">"DNS names"</label>
                <textarea
                    id="names"
                    name="names"
                    rows="3"
                    spellcheck="false"
                    autocomplete="off"
                    placeholder="app.cluster.local"
                    aria-describedby="names-help names-error"
                    aria-invalid=move || (field_error("dns_names")().is_some() || server_error("dns_names")().is_some()).to_string()
                    prop:value=move || names.get()
                    on:input=move |event| names.set(event_target_value(&event))
                    on:blur=move |_| touched.set(true)
                ></textarea>
                <span id="names-help" class="help">"One per line. The first is the common name. Upper case, trailing dots and international names are normalised."</span>
                <span id="names-error" class="field-error" role="alert">
                    {move || field_error("dns_names")().or_else(server_error("dns_names"))}
                </span>
            </div>
            <Show when=allows_ips>
                <div class="field">
                    <label for="ips">"IP addresses (optional)"</label>
                    <input id="ips" name="ips" type="text" autocomplete="off" aria-describedby="ips-help ips-error"
                        prop:value=move || ips.get() on:input=move |event| ips.set(event_target_value(&event)) />
                    <span id="ips-help" class="help">{ip_ranges_hint}</span>
                    <span id="ips-error" class="field-error" role="alert">
                        {move || field_error("ip_sans")().or_else(server_error("ip_sans"))}
                    </span>
                </div>
            </Show>
            <div class="field">
                <label for="validity">"Valid for (days)"</label>
                <input id="validity" name="validity" type="number" min="1" max=max_days inputmode="numeric"
                    aria-describedby="validity-help validity-error"
                    aria-invalid=move || field_error("validity_days")().is_some().to_string()
                    prop:value=move || validity.get() on:input=move |event| validity.set(event_target_value(&event)) />
                <span id="validity-help" class="help">{move || format!("At most {} days under your policy.", max_days())}</span>
                <span id="validity-error" class="field-error" role="alert">
                    {move || field_error("validity_days")().or_else(server_error("validity_days"))}
                </span>
            </div>
            <fieldset class="field">
                <legend>"Private key"</legend>
                <label class="choice">
                    <input type="radio" name="key_source" value="generate" prop:checked=move || key_source.get() == "generate"
                        on:change=move |_| key_source.set("generate") />
                    "certdesk makes the key (kept encrypted; download it with the certificate)"
                </label>
                <label class="choice">
                    <input type="radio" name="key_source" value="csr" prop:checked=move || key_source.get() == "csr"
                        on:change=move |_| key_source.set("csr") />
                    "I bring a CSR (the key never leaves my machine)"
                </label>
            </fieldset>
            <Show
                when=move || key_source.get() == "csr"
                fallback=move || {
                    let key_types = key_types.clone();
                    view! {
                        <div class="field">
                            <label for="key-type">"Key type"</label>
                            <select id="key-type" name="key_type" aria-describedby="key-type-error"
                                on:change=move |event| key_type.set(event_target_value(&event))>
                                {key_types.into_iter().map(|(id, label)| {
                                    let value = id.clone();
                                    view! { <option value=id selected=move || key_type.get() == value>{label}</option> }
                                }).collect_view()}
                            </select>
                            <span id="key-type-error" class="field-error" role="alert">
                                {move || field_error("key_type")().or_else(server_error("key_type"))}
                            </span>
                        </div>
                    }
                }
            >
                <div class="field">
                    <label for="csr">"CSR (PEM)"</label>
                    <textarea id="csr" name="csr" rows="8" spellcheck="false" class="secret"
                        placeholder="-----BEGIN CERTIFICATE REQUEST-----"
                        aria-describedby="csr-help csr-error"
                        aria-invalid=move || (field_error("csr")().is_some() || server_error("csr")().is_some()).to_string()
                        prop:value=move || csr.get() on:input=move |event| csr.set(event_target_value(&event))></textarea>
                    <span id="csr-help" class="help">"Its names must be exactly the DNS names above. RSA ≥ 2048, EC P-256/P-384 or Ed25519."</span>
                    <label for="csr-file" class="small">"…or pick the file (PEM or DER):"</label>
                    <input id="csr-file" type="file" accept=".csr,.req,.pem,.der"
                        on:change=move |event| upload::read_into(event, csr, upload_problem) />
                    <span id="csr-error" class="field-error" role="alert">
                        {move || upload_problem.get().or_else(field_error("csr")).or_else(server_error("csr"))}
                    </span>
                </div>
            </Show>
            <Show when=allows_client_auth>
                <label class="choice">
                    <input type="checkbox" name="client_auth" prop:checked=move || client_auth.get()
                        on:change=move |event| client_auth.set(event_target_checked(&event)) />
                    "Also allow client authentication (mTLS clients)"
                </label>
            </Show>
            <renewal::RenewalFields choice=renewal_choice key_source
                error=Signal::derive(server_error("renewal.renew_before_days")) />
            <button class="button primary" type="submit" disabled=move || submit.pending().get()>
                {move || if submit.pending().get() { "Issuing…" } else { "Request certificate" }}
            </button>
            <Show when=move || submit.pending().get()>
                <p class="loading" role="status">"Making the key and asking the CA to sign: this takes a few seconds."</p>
            </Show>
            {move || other_error().map(|error| view! { <ErrorPanel error /> })}
        </form>
    }
}
