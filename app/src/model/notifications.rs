//! Wire types of notification settings: the channels a person chose and what the settings page sends back.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Longest webhook URL accepted (checked again on the server, with the address policy).
pub const MAX_WEBHOOK_URL: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationSettingsView {
    pub email_enabled: bool,
    /// Where e-mail goes (from the identity provider).
    pub email_address: Option<String>,
    /// Whether this certdesk sends e-mail at all (`[smtp]`).
    pub email_available: bool,
    pub webhook_url: Option<String>,
    /// A signing secret exists (it is never shown again).
    pub webhook_secret_set: bool,
    /// Days before expiry at which notices go out.
    pub thresholds_days: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationSettingsInput {
    pub email_enabled: bool,
    /// Empty: no webhook.
    pub webhook_url: String,
    /// Make a new signing secret (the old one stops working at once).
    pub new_secret: bool,
}

impl NotificationSettingsInput {
    /// What the browser can check by itself; the server also checks the address the URL points at.
    pub fn validate(&self) -> Result<(), AppError> {
        let url = self.webhook_url.trim();
        if url.len() > MAX_WEBHOOK_URL {
            return Err(AppError::invalid("webhook_url", format!("must be at most {MAX_WEBHOOK_URL} characters")));
        }
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            return Err(AppError::invalid("webhook_url", "must be an http:// or https:// URL"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SavedNotificationSettings {
    pub settings: NotificationSettingsView,
    /// A signing secret made by this save: shown once, never stored in the clear.
    pub webhook_secret: Option<String>,
}
