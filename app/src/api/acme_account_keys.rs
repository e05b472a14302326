//! Server functions for a person's ACME account keys (External Account Binding for certdesk's ACME server).

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::{AcmeAccountKeyView, CreatedAcmeAccountKey, NewAcmeAccountKey};

#[server(prefix = "/rpc", endpoint = "list_acme_account_keys", input = Rpc, output = Rpc)]
pub async fn list_acme_account_keys() -> Result<Vec<AcmeAccountKeyView>, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.list_acme_account_keys(&request).await)
}

#[server(prefix = "/rpc", endpoint = "list_everyones_acme_account_keys", input = Rpc, output = Rpc)]
pub async fn list_everyones_acme_account_keys() -> Result<Vec<AcmeAccountKeyView>, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.list_everyones_acme_account_keys(&request).await)
}

#[server(prefix = "/rpc", endpoint = "create_acme_account_key", input = Rpc, output = Rpc)]
pub async fn create_acme_account_key(input: NewAcmeAccountKey) -> Result<CreatedAcmeAccountKey, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.create_acme_account_key(&request, input).await)
}

#[server(prefix = "/rpc", endpoint = "revoke_acme_account_key", input = Rpc, output = Rpc)]
pub async fn revoke_acme_account_key(id: uuid::Uuid) -> Result<(), AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.revoke_acme_account_key(&request, id).await)
}
