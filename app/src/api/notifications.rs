//! Server functions for a person's notification settings.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::{NotificationSettingsInput, NotificationSettingsView, SavedNotificationSettings};

#[server(prefix = "/rpc", endpoint = "notification_settings", input = Rpc, output = Rpc)]
pub async fn notification_settings() -> Result<NotificationSettingsView, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.notification_settings(&request).await)
}

#[server(prefix = "/rpc", endpoint = "save_notification_settings", input = Rpc, output = Rpc)]
pub async fn save_notification_settings(
    input: NotificationSettingsInput,
) -> Result<SavedNotificationSettings, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.save_notification_settings(&request, input).await)
}
