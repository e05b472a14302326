//! Server functions of the Machines page: the ACME directories, the ACME accounts (the caller's; everyone's for
//! admins) with their recent orders, and deactivating an account.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::{AcmeAccountsView, AcmeDirectoryView};

#[server(prefix = "/rpc", endpoint = "acme_directories", input = Rpc, output = Rpc)]
pub async fn acme_directories() -> Result<Vec<AcmeDirectoryView>, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.acme_directories(&request).await)
}

#[server(prefix = "/rpc", endpoint = "list_acme_accounts", input = Rpc, output = Rpc)]
pub async fn list_acme_accounts() -> Result<AcmeAccountsView, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.list_acme_accounts(&request).await)
}

#[server(prefix = "/rpc", endpoint = "deactivate_acme_account", input = Rpc, output = Rpc)]
pub async fn deactivate_acme_account(id: uuid::Uuid) -> Result<(), AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.deactivate_acme_account(&request, id).await)
}
