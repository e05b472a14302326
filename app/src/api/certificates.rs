//! Server functions behind the certificate inventory, its detail page and the request form.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::{
    CertificateDetail, CertificatePage, CertificateQuery, CertificateRequest, RequestOptions, RequestedCertificate,
};

#[server(prefix = "/rpc", endpoint = "list_certificates", input = Rpc, output = Rpc)]
pub async fn list_certificates(query: CertificateQuery) -> Result<CertificatePage, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.list_certificates(&request, query).await)
}

#[server(prefix = "/rpc", endpoint = "certificate_detail", input = Rpc, output = Rpc)]
pub async fn get_certificate(id: uuid::Uuid) -> Result<CertificateDetail, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.certificate_detail(&request, id).await)
}

#[server(prefix = "/rpc", endpoint = "request_options", input = Rpc, output = Rpc)]
pub async fn load_request_options() -> Result<RequestOptions, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.request_options(&request).await)
}

#[server(prefix = "/rpc", endpoint = "request_certificate", input = Rpc, output = Rpc)]
pub async fn request_certificate(input: CertificateRequest) -> Result<RequestedCertificate, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.request_certificate(&request, input).await)
}
