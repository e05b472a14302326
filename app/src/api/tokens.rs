//! Server functions for personal API tokens.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::{ApiTokenView, CreatedApiToken, NewApiToken, OwnedApiTokenView};

#[server(prefix = "/rpc", endpoint = "list_api_tokens", input = Rpc, output = Rpc)]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenView>, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.list_api_tokens(&request).await)
}

#[server(prefix = "/rpc", endpoint = "create_api_token", input = Rpc, output = Rpc)]
pub async fn create_api_token(input: NewApiToken) -> Result<CreatedApiToken, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.create_api_token(&request, input).await)
}

#[server(prefix = "/rpc", endpoint = "revoke_api_token", input = Rpc, output = Rpc)]
pub async fn revoke_api_token(id: uuid::Uuid) -> Result<(), AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.revoke_api_token(&request, id).await)
}

#[server(prefix = "/rpc", endpoint = "list_everyones_api_tokens", input = Rpc, output = Rpc)]
pub async fn list_everyones_api_tokens() -> Result<Vec<OwnedApiTokenView>, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.list_everyones_api_tokens(&request).await)
}
