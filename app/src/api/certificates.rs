//! Server functions behind the certificate inventory.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::CertSummary;

#[server(prefix = "/rpc", endpoint = "list_certificates", input = Json)]
pub async fn list_certificates() -> Result<Vec<CertSummary>, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::backend()?.list_certificates(&request).await
}
