//! Each person's channels: e-mail on or off, and a webhook URL with a signing secret certdesk makes, seals at rest
//! and shows once (again only by making a new one).

use app::AppError;
use app::model::{NotificationSettingsInput, NotificationSettingsView, SavedNotificationSettings};
use app::ssr::{Caller, RequestMeta};
use secrecy::ExposeSecret;
use serde_json::json;
use time::OffsetDateTime;

use super::webhook;
use crate::audit::{self, Action, Actor, Object};
use crate::auth::step_up::require_recent_mfa;
use crate::db;
use crate::error::ServerError;
use crate::state::AppState;

pub async fn view(state: &AppState, caller: &Caller) -> Result<NotificationSettingsView, ServerError> {
    let settings = db::notifications::settings_of(&state.pool, caller.user_id).await?;
    Ok(NotificationSettingsView {
        email_enabled: settings.email_enabled,
        email_address: db::notifications::email_of(&state.pool, caller.user_id).await?,
        email_available: state.config.smtp.is_some(),
        webhook_url: settings.webhook_url,
        webhook_secret_set: settings.webhook_secret.is_some(),
        thresholds_days: state.config.notifications.thresholds_days.clone(),
    })
}

pub async fn save(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    input: NotificationSettingsInput,
    now: OffsetDateTime,
) -> Result<SavedNotificationSettings, ServerError> {
    input.validate().map_err(ServerError::Client)?;
    let invalid = |message: String| ServerError::Client(AppError::invalid("webhook_url", message));
    let url = match input.webhook_url.trim() {
        "" => None,
        value => {
            let url = webhook::parse_url(value).map_err(invalid)?;
            webhook::resolve(&url, state.config.notifications.webhook_allow_private).await.map_err(invalid)?;
            Some(url)
        }
    };
    let current = db::notifications::settings_of(&state.pool, caller.user_id).await?;
    // Pointing notices at a new address is how a stolen session would reroute them: a step-up action. Turning the
    // webhook off, or saving the same address again, is not.
    let new_destination = url.as_ref().is_some_and(|url| current.webhook_url.as_deref() != Some(url.as_str()));
    if new_destination {
        require_recent_mfa(caller, now, state.config.auth.step_up_max_age).map_err(ServerError::Client)?;
    }
    let wants_secret = url.is_some() && (input.new_secret || current.webhook_secret.is_none());
    let new_secret = if wants_secret {
        let Some(sealer) = state.config.encryption.as_ref() else {
            return Err(invalid("webhooks need certdesk's [encryption] keys to keep their signing secret".into()));
        };
        let secret = webhook::new_secret();
        let sealed = sealer.seal(secret.expose_secret().as_bytes(), &webhook::secret_context(caller.user_id))?;
        Some((secret, sealed))
    } else {
        None
    };
    let mut tx = state.pool.begin().await?;
    db::notifications::save_settings(
        &mut tx,
        caller.user_id,
        input.email_enabled,
        url.as_ref().map(reqwest::Url::as_str),
        new_secret.as_ref().map(|(_, sealed)| sealed),
        now,
    )
    .await?;
    let entry = Actor::caller(meta, caller)
        .did(Action::NotificationSettingsChanged)
        .on(Object::User(caller.user_id))
        // The host only: a webhook path may carry a token.
        .with(json!({ "email_enabled": input.email_enabled,
                      "webhook_host": url.as_ref().and_then(|url| url.host_str().map(str::to_owned)),
                      "new_signing_secret": new_secret.is_some() }));
    audit::append(&mut tx, &state.chain_key, &entry, now).await?;
    tx.commit().await?;
    Ok(SavedNotificationSettings {
        settings: view(state, caller).await?,
        webhook_secret: new_secret.map(|(secret, _)| secret.expose_secret().to_owned()),
    })
}
