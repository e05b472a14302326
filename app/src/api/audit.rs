//! Server functions behind the audit log viewer (admins and auditors). The export is a plain POST form, not a
//! server function: the browser must receive a file.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::{AuditEventView, AuditListing, AuditQuery};

#[server(prefix = "/rpc", endpoint = "list_audit_events", input = Rpc, output = Rpc)]
pub async fn list_audit_events(query: AuditQuery) -> Result<AuditListing, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.list_audit_events(&request, query).await)
}

#[server(prefix = "/rpc", endpoint = "audit_event", input = Rpc, output = Rpc)]
pub async fn get_audit_event(seq: i64) -> Result<AuditEventView, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.audit_event(&request, seq).await)
}
