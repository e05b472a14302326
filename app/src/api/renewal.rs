//! Server function behind "Renew now" on a certificate's page.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::RequestedCertificate;

#[server(prefix = "/rpc", endpoint = "renew_certificate", input = Rpc, output = Rpc)]
pub async fn renew_certificate(id: uuid::Uuid) -> Result<RequestedCertificate, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.renew_certificate(&request, id).await)
}
