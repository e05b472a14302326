//! Notification settings: e-mail on or off, and a webhook with its signing secret (shown once when made).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{notification_settings, save_notification_settings};
use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::{MAX_WEBHOOK_URL, NotificationSettingsInput, NotificationSettingsView, SavedNotificationSettings};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let save = Action::new(|input: &NotificationSettingsInput| {
        let input = input.clone();
        async move { save_notification_settings(input).await }
    });
    let settings = Resource::new(|| (), |_| notification_settings());
    view! {
        <Title text="Notifications" />
        <h1>"Notifications"</h1>
        <p class="muted">
            "certdesk tells you before your certificates expire, when one is revoked, and when a renewal succeeds "
            "or fails. Choose where those notices go."
        </p>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(current) => view! { <SettingsForm current save /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SettingsForm(
    current: NotificationSettingsView,
    save: Action<NotificationSettingsInput, Result<SavedNotificationSettings, AppError>>,
) -> impl IntoView {
    let email_enabled = RwSignal::new(current.email_enabled);
    let webhook_url = RwSignal::new(current.webhook_url.clone().unwrap_or_default());
    let secret_set = RwSignal::new(current.webhook_secret_set);
    let draft = move |new_secret: bool| NotificationSettingsInput {
        email_enabled: email_enabled.get(),
        webhook_url: webhook_url.get(),
        new_secret,
    };
    let server_error = move || match save.value().get() {
        Some(Err(AppError::Invalid { field: Some(field), message })) if field == "webhook_url" => Some(message),
        _ => None,
    };
    let url_error = move || match draft(false).validate() {
        Err(AppError::Invalid { message, .. }) => Some(message),
        _ => server_error(),
    };
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            secret_set.set(saved.settings.webhook_secret_set);
        }
    });
    let submit = move |new_secret: bool| {
        if draft(new_secret).validate().is_ok() {
            save.dispatch(draft(new_secret));
        }
    };
    let thresholds = current.thresholds_days.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    let email_note = match (current.email_available, current.email_address.clone()) {
        (false, _) => "This certdesk does not send e-mail (no SMTP server configured).".to_owned(),
        (true, None) => "Your account has no e-mail address, so no e-mail can be sent.".to_owned(),
        (true, Some(address)) => format!("Notices go to {address}."),
    };
    view! {
        <form
            class="panel form"
            novalidate
            on:submit=move |event: leptos::ev::SubmitEvent| {
                event.prevent_default();
                submit(false);
            }
        >
            <p class="muted">{format!("Expiry notices go out {thresholds} days before a certificate expires.")}</p>
            <fieldset class="field">
                <legend>"E-mail"</legend>
                <label class="choice">
                    <input
                        id="notify-email"
                        type="checkbox"
                        prop:checked=move || email_enabled.get()
                        on:change=move |event| email_enabled.set(event_target_checked(&event))
                    />
                    "Send me notices by e-mail"
                </label>
                <span class="help">{email_note}</span>
            </fieldset>
            <div class="field">
                <label for="webhook-url">"Webhook URL"</label>
                <input
                    id="webhook-url"
                    name="webhook_url"
                    type="url"
                    maxlength=MAX_WEBHOOK_URL.to_string()
                    autocomplete="off"
                    placeholder="https://hooks.example.com/certdesk"
                    aria-describedby="webhook-url-help webhook-url-error"
                    aria-invalid=move || url_error().is_some().to_string()
                    prop:value=move || webhook_url.get()
                    on:input=move |event| webhook_url.set(event_target_value(&event))
                />
                <span id="webhook-url-help" class="help">
                    "certdesk POSTs JSON to it, signed with HMAC-SHA256 in "<code>"X-Certdesk-Signature"</code>
                    " over "<code>"X-Certdesk-Timestamp"</code>", a dot, and the body. Leave empty for no webhook."
                </span>
                <span id="webhook-url-error" class="field-error" role="alert">{url_error}</span>
            </div>
            <div class="actions">
                <button class="button primary" type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                {move || (secret_set.get() && !webhook_url.get().trim().is_empty()).then(|| view! {
                    <button class="button" type="button" on:click=move |_| submit(true)>
                        "New signing secret"
                    </button>
                })}
            </div>
            {move || save.value().get().map(|result| match result {
                Ok(saved) => view! { <Saved saved /> }.into_any(),
                Err(AppError::Invalid { field: Some(_), .. }) => ().into_any(),
                Err(error) => view! { <ErrorPanel error /> }.into_any(),
            })}
        </form>
    }
}

#[component]
fn Saved(saved: SavedNotificationSettings) -> impl IntoView {
    match saved.webhook_secret {
        Some(secret) => view! {
            <div class="notice" role="status">
                <p><strong>"Saved. Copy the webhook's signing secret now."</strong>" It will not be shown again."</p>
                <input class="secret" type="text" readonly aria-label="Webhook signing secret" value=secret />
            </div>
        }
        .into_any(),
        None => view! { <p class="notice" role="status">"Saved."</p> }.into_any(),
    }
}
